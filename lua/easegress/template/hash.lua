-- easegress.template.hash: SHA-1, SHA-256, Adler-32, base64 and base32 in pure Lua, for the
-- sprig functions sha1sum, sha256sum, adler32sum, b64enc/b64dec, b32enc/b32dec.
local M = {}

local byte, char, format, sub, rep = string.byte, string.char, string.format, string.sub, string.rep
local concat = table.concat
local floor = math.floor

local bitlib = (function()
  local ok, b = pcall(require, "bit")
  if ok then return b end
  ok, b = pcall(require, "bit32")
  if ok then return b end
  return nil
end)()

local M32 = 4294967296
local band, bor, bxor, bnot, rshift, lshift
if bitlib then
  local b_and, b_or, b_xor, b_not = bitlib.band, bitlib.bor, bitlib.bxor, bitlib.bnot
  local b_rs, b_ls = bitlib.rshift, bitlib.lshift
  band = function(a, b) return b_and(a, b) % M32 end
  bor = function(a, b) return b_or(a, b) % M32 end
  bxor = function(a, b, c)
    if c then return b_xor(a, b, c) % M32 end
    return b_xor(a, b) % M32
  end
  bnot = function(a) return b_not(a) % M32 end
  rshift = function(a, n) return b_rs(a, n) % M32 end
  lshift = function(a, n) return b_ls(a, n) % M32 end
end

local function rrot(x, n) return bor(rshift(x, n), lshift(x, 32 - n)) end
local function lrot(x, n) return bor(lshift(x, n), rshift(x, 32 - n)) end

local function be32(s, i)
  local a, b, c, d = byte(s, i, i + 3)
  return ((a * 256 + b) * 256 + c) * 256 + d
end

local function pad64(s)
  local len = #s
  local bits = len * 8
  local padding = 64 - (len + 9) % 64
  if padding == 64 then padding = 0 end
  local lenbytes = {}
  for k = 8, 1, -1 do
    lenbytes[k] = char(bits % 256)
    bits = floor(bits / 256)
  end
  return s .. "\128" .. rep("\0", padding) .. concat(lenbytes)
end

local K256 = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

-- Hex SHA-256 of s.
function M.sha256_hex(s)
  if not bitlib then return nil, "no bit library" end
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  s = pad64(s)
  local w = {}
  for chunk = 1, #s, 64 do
    for k = 0, 15 do w[k] = be32(s, chunk + k * 4) end
    for k = 16, 63 do
      local x, y = w[k - 15], w[k - 2]
      local s0 = bxor(rrot(x, 7), rrot(x, 18), rshift(x, 3))
      local s1 = bxor(rrot(y, 17), rrot(y, 19), rshift(y, 10))
      w[k] = (w[k - 16] + s0 + w[k - 7] + s1) % M32
    end
    local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
    for k = 0, 63 do
      local S1 = bxor(rrot(e, 6), rrot(e, 11), rrot(e, 25))
      local ch = bxor(band(e, f), band(bnot(e), g))
      local t1 = (hh + S1 + ch + K256[k + 1] + w[k]) % M32
      local S0 = bxor(rrot(a, 2), rrot(a, 13), rrot(a, 22))
      local maj = bxor(band(a, b), band(a, c), band(b, c))
      local t2 = (S0 + maj) % M32
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) % M32, c, b, a, (t1 + t2) % M32
    end
    h[1], h[2], h[3], h[4] = (h[1] + a) % M32, (h[2] + b) % M32, (h[3] + c) % M32, (h[4] + d) % M32
    h[5], h[6], h[7], h[8] = (h[5] + e) % M32, (h[6] + f) % M32, (h[7] + g) % M32, (h[8] + hh) % M32
  end
  local out = {}
  for k = 1, 8 do out[k] = format("%08x", h[k]) end
  return concat(out)
end

-- Hex SHA-1 of s.
function M.sha1_hex(s)
  if not bitlib then return nil, "no bit library" end
  local h0, h1, h2, h3, h4 = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
  s = pad64(s)
  local w = {}
  for chunk = 1, #s, 64 do
    for k = 0, 15 do w[k] = be32(s, chunk + k * 4) end
    for k = 16, 79 do w[k] = lrot(bxor(bxor(w[k - 3], w[k - 8]), bxor(w[k - 14], w[k - 16])), 1) end
    local a, b, c, d, e = h0, h1, h2, h3, h4
    for k = 0, 79 do
      local f, kk
      if k < 20 then f, kk = bor(band(b, c), band(bnot(b), d)), 0x5A827999
      elseif k < 40 then f, kk = bxor(b, c, d), 0x6ED9EBA1
      elseif k < 60 then f, kk = bor(bor(band(b, c), band(b, d)), band(c, d)), 0x8F1BBCDC
      else f, kk = bxor(b, c, d), 0xCA62C1D6 end
      local temp = (lrot(a, 5) + f + e + kk + w[k]) % M32
      e, d, c, b, a = d, c, lrot(b, 30), a, temp
    end
    h0, h1, h2, h3, h4 = (h0 + a) % M32, (h1 + b) % M32, (h2 + c) % M32, (h3 + d) % M32, (h4 + e) % M32
  end
  return format("%08x%08x%08x%08x%08x", h0, h1, h2, h3, h4)
end

-- Adler-32 checksum of s (a number).
function M.adler32(s)
  local a, b = 1, 0
  for k = 1, #s do
    a = (a + byte(s, k)) % 65521
    b = (b + a) % 65521
  end
  return b * 65536 + a
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local b64enc, b64dec = {}, {}
for k = 1, 64 do
  b64enc[k - 1] = sub(b64chars, k, k)
  b64dec[byte(b64chars, k)] = k - 1
end

-- base64.StdEncoding.EncodeToString.
function M.b64encode(s)
  local out = {}
  for k = 1, #s, 3 do
    local a, b, c = byte(s, k, k + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2, c3, c4 = floor(n / 262144), floor(n / 4096) % 64, floor(n / 64) % 64, n % 64
    out[#out + 1] = b64enc[c1] .. b64enc[c2] .. (b and b64enc[c3] or "=") .. (c and b64enc[c4] or "=")
  end
  return concat(out)
end

-- base64.StdEncoding.DecodeString: the bytes, or nil, Go's error message. Go skips \r and \n.
function M.b64decode(s)
  s = s:gsub("[\r\n]", "")
  local out = {}
  local len = #s
  local k = 1
  while k <= len do
    local vals, n = {}, 0
    for j = 0, 3 do
      local c = byte(s, k + j)
      if c == nil then
        if j == 0 then break end
        return nil, format("illegal base64 data at input byte %d", len)
      end
      if c == 61 then -- '='
        if j < 2 then return nil, format("illegal base64 data at input byte %d", k + j - 1) end
        if j == 2 and byte(s, k + 3) ~= 61 then
          return nil, format("illegal base64 data at input byte %d", byte(s, k + 3) and k + 2 or len)
        end
        if k + 3 < len then return nil, format("illegal base64 data at input byte %d", k + 3) end
        break
      end
      local v = b64dec[c]
      if not v then return nil, format("illegal base64 data at input byte %d", k + j - 1) end
      n = n + 1
      vals[n] = v
    end
    if n < 2 and n > 0 then return nil, format("illegal base64 data at input byte %d", k + n - 1) end
    local num = (vals[1] or 0) * 262144 + (vals[2] or 0) * 4096 + (vals[3] or 0) * 64 + (vals[4] or 0)
    local b1, b2, b3 = floor(num / 65536), floor(num / 256) % 256, num % 256
    if n == 4 then out[#out + 1] = char(b1, b2, b3)
    elseif n == 3 then out[#out + 1] = char(b1, b2)
    elseif n == 2 then out[#out + 1] = char(b1) end
    k = k + 4
  end
  return concat(out)
end

local b32chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
local b32dec = {}
for k = 1, 32 do b32dec[byte(b32chars, k)] = k - 1 end

-- base32.StdEncoding.EncodeToString.
function M.b32encode(s)
  local out = {}
  for k = 1, #s, 5 do
    local chunk = sub(s, k, k + 4)
    local n = #chunk
    local bytes = { byte(chunk .. "\0\0\0\0", 1, 5) }
    local bits = 0
    for j = 1, 5 do bits = bits * 256 + bytes[j] end
    local chars = {}
    for j = 8, 1, -1 do
      local v = bits % 32
      chars[j] = sub(b32chars, v + 1, v + 1)
      bits = floor(bits / 32)
    end
    local keep = ({ 2, 4, 5, 7, 8 })[n]
    for j = keep + 1, 8 do chars[j] = "=" end
    out[#out + 1] = concat(chars)
  end
  return concat(out)
end

-- base32.StdEncoding.DecodeString.
function M.b32decode(s)
  s = s:gsub("[\r\n]", "")
  if #s % 8 ~= 0 then return nil, format("illegal base32 data at input byte %d", #s - #s % 8) end
  local out = {}
  for k = 1, #s, 8 do
    local bits, n = 0, 0
    for j = 0, 7 do
      local c = byte(s, k + j)
      if c == 61 then
        for r = j, 7 do
          if byte(s, k + r) ~= 61 then return nil, format("illegal base32 data at input byte %d", k + r - 1) end
        end
        break
      end
      local v = b32dec[c]
      if not v then return nil, format("illegal base32 data at input byte %d", k + j - 1) end
      bits = bits * 32 + v
      n = n + 1
    end
    local nbytes = ({ [0] = 0, [2] = 1, [4] = 2, [5] = 3, [7] = 4, [8] = 5 })[n]
    if not nbytes then return nil, format("illegal base32 data at input byte %d", k + n - 1) end
    bits = bits * 32 ^ (8 - n)
    local bytes = {}
    for j = 5, 1, -1 do
      bytes[j] = bits % 256
      bits = floor(bits / 256)
    end
    for j = 1, nbytes do out[#out + 1] = char(bytes[j]) end
  end
  return concat(out)
end

-- n random bytes (from /dev/urandom when it can be read).
local urandom
function M.random_bytes(n)
  if urandom == nil then
    urandom = io and io.open and io.open("/dev/urandom", "rb") or false
  end
  if urandom then
    local s = urandom:read(n)
    if s and #s == n then return s end
  end
  local out = {}
  for k = 1, n do out[k] = char(math.random(0, 255)) end
  return concat(out)
end

return M
