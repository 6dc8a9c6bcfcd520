-- easegress.template.utf8: UTF-8 decoding as Go does it (an invalid byte is U+FFFD, width 1).
local M = {}

local byte, char = string.byte, string.char
local floor = math.floor

M.RuneError = 0xFFFD

-- The rune at byte i of s and its width in bytes; (nil, 0) at the end of s.
function M.decode(s, i)
  local c = byte(s, i)
  if not c then return nil, 0 end
  if c < 0x80 then return c, 1 end
  local n, min, r
  if c >= 0xC2 and c <= 0xDF then n, r, min = 1, c - 0xC0, 0x80
  elseif c >= 0xE0 and c <= 0xEF then n, r, min = 2, c - 0xE0, 0x800
  elseif c >= 0xF0 and c <= 0xF4 then n, r, min = 3, c - 0xF0, 0x10000
  else return 0xFFFD, 1 end
  for k = 1, n do
    local cc = byte(s, i + k)
    if not cc or cc < 0x80 or cc > 0xBF then return 0xFFFD, 1 end
    r = r * 64 + (cc - 0x80)
  end
  if r < min or r > 0x10FFFF or (r >= 0xD800 and r <= 0xDFFF) then return 0xFFFD, 1 end
  return r, n + 1
end

-- The UTF-8 encoding of rune r (invalid runes encode U+FFFD).
function M.encode(r)
  if r < 0 or r > 0x10FFFF or (r >= 0xD800 and r <= 0xDFFF) then r = 0xFFFD end
  if r < 0x80 then return char(r) end
  if r < 0x800 then return char(0xC0 + floor(r / 64), 0x80 + r % 64) end
  if r < 0x10000 then
    return char(0xE0 + floor(r / 4096), 0x80 + floor(r / 64) % 64, 0x80 + r % 64)
  end
  return char(0xF0 + floor(r / 262144), 0x80 + floor(r / 4096) % 64,
    0x80 + floor(r / 64) % 64, 0x80 + r % 64)
end

-- Number of runes in s.
function M.len(s)
  local n, i, len = 0, 1, #s
  local decode = M.decode
  while i <= len do
    local c = byte(s, i)
    if c < 0x80 then i = i + 1 else
      local _, w = decode(s, i)
      i = i + w
    end
    n = n + 1
  end
  return n
end

-- Whether Go's unicode.IsPrint holds, approximately: ASCII printable, and every other
-- assigned rune except the C1 controls, spaces other than U+0020, line/paragraph
-- separators and the common format characters.
function M.isprint(r)
  if r < 0x80 then return r >= 0x20 and r < 0x7F end
  if r < 0xA0 then return false end
  if r == 0xA0 or r == 0xAD or r == 0x1680 or r == 0x180E then return false end
  if r >= 0x2000 and r <= 0x200F then return false end
  if r >= 0x2028 and r <= 0x202F then return false end
  if r >= 0x205F and r <= 0x206F then return false end
  if r == 0x3000 or r == 0xFEFF then return false end
  if r >= 0xFFF9 and r <= 0xFFFB then return false end
  if r >= 0xE000 and r <= 0xF8FF then return false end -- private use
  if r == 0xFFFE or r == 0xFFFF then return false end
  return true
end

return M
