-- easegress.template.fmt: Go's fmt (Sprint, Sprintln, Sprintf) and strconv float and quote
-- formatting over the values of easegress.template.value.
local value = require "easegress.template.value"
local utf8 = require "easegress.template.utf8"

local M = {}

local type, tostring = type, tostring
local format, byte, sub, rep, char = string.format, string.byte, string.sub, string.rep, string.char
local concat = table.concat
local floor, huge = math.floor, math.huge
local kind, NULL = value.kind, value.null
local decode, isprint = utf8.decode, utf8.isprint

---------------------------------------------------------------------------------------------
-- Floats (strconv.FormatFloat)

local efmt = {}
for p = 0, 16 do efmt[p] = "%." .. p .. "e" end

-- Shortest decimal digits that read back as x (x > 0, finite): digits, decimal point
-- position (x = 0.DIGITS * 10^dp).
local function shortest(x)
  local s
  for p = 0, 16 do
    s = format(efmt[p], x)
    if tonumber(s) == x then break end
  end
  local m, e = s:match("^([%d%.]+)e([-+]%d+)$")
  local digs = m:gsub("%.", ""):gsub("0+$", "")
  if digs == "" then digs = "0" end
  return digs, tonumber(e) + 1
end
M.shortest = shortest

local function fmt_e(neg, digs, dp, prec, ech)
  local nd = #digs
  local out = { neg and "-" or "", nd > 0 and sub(digs, 1, 1) or "0" }
  if prec > 0 then
    out[#out + 1] = "."
    local frac = sub(digs, 2, 1 + prec)
    out[#out + 1] = frac .. rep("0", prec - #frac)
  end
  local exp = (nd == 0 or digs == "0") and 0 or dp - 1
  local sign = "+"
  if exp < 0 then sign, exp = "-", -exp end
  out[#out + 1] = ech .. sign .. (exp < 10 and "0" .. exp or tostring(exp))
  return concat(out)
end

local function fmt_f(neg, digs, dp, prec)
  local nd = #digs
  local out = { neg and "-" or "" }
  if dp > 0 then
    local int = sub(digs, 1, dp)
    out[#out + 1] = int .. rep("0", dp - #int)
  else
    out[#out + 1] = "0"
  end
  if prec > 0 then
    out[#out + 1] = "."
    for i = 1, prec do
      local j = dp + i
      out[#out + 1] = (j >= 1 and j <= nd) and sub(digs, j, j) or "0"
    end
  end
  return concat(out)
end

-- strconv.FormatFloat(x, verb, prec, 64) for verb e, E, f, F, g, G; prec -1 is shortest.
local function format_float(x, verb, prec)
  if x ~= x then return "NaN" end
  if x == huge then return "+Inf" end
  if x == -huge then return "-Inf" end
  if prec and prec >= 0 then
    if verb == "F" then verb = "f" end
    return format("%." .. prec .. verb, x)
  end
  local neg = x < 0 or (x == 0 and 1 / x < 0)
  local digs, dp
  if x == 0 then digs, dp = "", 0 else digs, dp = shortest(neg and -x or x) end
  local nd = #digs
  if verb == "e" or verb == "E" then
    return fmt_e(neg, digs, dp, nd > 0 and nd - 1 or 0, verb)
  elseif verb == "f" or verb == "F" then
    return fmt_f(neg, digs, dp, nd - dp > 0 and nd - dp or 0)
  end
  local exp = dp - 1
  if nd > 0 and (exp < -4 or exp >= 6) then
    return fmt_e(neg, digs, dp, nd - 1, verb == "G" and "E" or "e")
  end
  return fmt_f(neg, digs, dp, nd - dp > 0 and nd - dp or 0)
end
M.format_float = format_float

-- The %v form of a float64 ("3", "1.5", "1e+21").
local function float_v(x)
  local a = x < 0 and -x or x
  if a >= 1e-4 and a < 1e6 then
    -- 15 digits that read back are the shortest digits, and %g then prints no exponent
    local s = format("%.15g", x)
    if tonumber(s) == x then return s end
  end
  return format_float(x, "g", -1)
end
M.float = float_v

-- encoding/json's form of a float64: no exponent between 1e-6 and 1e21.
function M.json_float(x)
  if x ~= x or x == huge or x == -huge then return nil end
  local a = x < 0 and -x or x
  if a == 0 then return (1 / x < 0) and "-0" or "0" end
  if a < 1e-6 or a >= 1e21 then
    local s = format_float(x, "e", -1)
    return (s:gsub("e%-0(%d)$", "e-%1"))
  end
  if a < 2 ^ 53 and x == floor(x) then return format("%d", x) end
  if a >= 1e-4 and a < 1e15 then
    local s = format("%.15g", x)
    if tonumber(s) == x then return s end
  end
  return format_float(x, "f", -1)
end

---------------------------------------------------------------------------------------------
-- Integers and strings

local function int_string(n)
  if n == floor(n) and n > -2 ^ 63 and n < 2 ^ 63 then return format("%d", n) end
  return format_float(n, "f", -1)
end
M.int = int_string

local digits36 = "0123456789abcdefghijklmnopqrstuvwxyz"
local function to_base(n, base, upper)
  if n == 0 then return "0" end
  local out = {}
  while n > 0 do
    local d = n % base
    out[#out + 1] = sub(digits36, d + 1, d + 1)
    n = (n - d) / base
  end
  local s = string.reverse(concat(out))
  return upper and s:upper() or s
end

-- strconv.Quote (ascii: QuoteToASCII).
local function quote(s, ascii)
  local out, n = { '"' }, 1
  local i, len = 1, #s
  while i <= len do
    local c = byte(s, i)
    local r, w = c, 1
    if c >= 0x80 then r, w = decode(s, i) end
    local piece
    if w == 1 and r == 0xFFFD then
      piece = format("\\x%02x", c)
    elseif r == 34 then piece = '\\"'
    elseif r == 92 then piece = "\\\\"
    elseif r < 0x80 and isprint(r) then piece = char(r)
    elseif r >= 0x80 and isprint(r) and not ascii then piece = sub(s, i, i + w - 1)
    elseif r == 7 then piece = "\\a"
    elseif r == 8 then piece = "\\b"
    elseif r == 12 then piece = "\\f"
    elseif r == 10 then piece = "\\n"
    elseif r == 13 then piece = "\\r"
    elseif r == 9 then piece = "\\t"
    elseif r == 11 then piece = "\\v"
    elseif r < 0x20 or r == 0x7F then piece = format("\\x%02x", r)
    elseif r < 0x10000 then piece = format("\\u%04x", r)
    else piece = format("\\U%08x", r) end
    n = n + 1
    out[n] = piece
    i = i + w
  end
  out[n + 1] = '"'
  return concat(out)
end
M.quote = quote

local function quote_rune(r)
  if r == 39 then return "'\\''" end
  if r == 34 then return "'\"'" end
  local q = quote(utf8.encode(r))
  return "'" .. sub(q, 2, -2) .. "'"
end

---------------------------------------------------------------------------------------------
-- Values

local print_value

local function pad(f, s)
  local w = f.wid
  if not w then return s end
  local n = utf8.len(s)
  if n >= w then return s end
  if f.minus then return s .. rep(" ", w - n) end
  return rep(" ", w - n) .. s
end

-- Pads a number: zeros go after the sign when the 0 flag is set.
local function pad_num(f, s)
  local w = f.wid
  if not w or #s >= w then return s end
  if f.minus then return s .. rep(" ", w - #s) end
  if f.zero and not s:find("[IN]") then
    local sign = s:match("^[-+ ]") or ""
    return sign .. rep("0", w - #s) .. sub(s, #sign + 1)
  end
  return rep(" ", w - #s) .. s
end

local function bad_verb(out, v, verb)
  out[#out + 1] = "%!" .. verb .. "("
  if v == nil or v == NULL then
    out[#out + 1] = "<nil>"
  else
    out[#out + 1] = value.typename(v) .. "="
    print_value(out, v, "v", { }, 0)
  end
  out[#out + 1] = ")"
end

local function fmt_integer(out, n, verb, f)
  local neg = n < 0
  local a = neg and -n or n
  local s
  if verb == "d" or verb == "v" then s = int_string(a)
  elseif verb == "b" then s = to_base(a, 2)
  elseif verb == "o" or verb == "O" then s = to_base(a, 8)
  elseif verb == "x" then s = to_base(a, 16)
  elseif verb == "X" then s = to_base(a, 16, true)
  elseif verb == "c" then out[#out + 1] = pad(f, utf8.encode(n)) return
  elseif verb == "q" then out[#out + 1] = pad(f, quote_rune(n)) return
  elseif verb == "U" then
    s = format("U+%04X", n)
    if f.sharp and isprint(n) then s = s .. " '" .. utf8.encode(n) .. "'" end
    out[#out + 1] = pad(f, s)
    return
  else
    return bad_verb(out, value.int(n), verb)
  end
  if f.prec then
    if f.prec == 0 and a == 0 then s = "" end
    if #s < f.prec then s = rep("0", f.prec - #s) .. s end
  end
  if f.sharp then
    if verb == "b" then s = "0b" .. s
    elseif verb == "o" and sub(s, 1, 1) ~= "0" then s = "0" .. s
    elseif verb == "x" then s = "0x" .. s
    elseif verb == "X" then s = "0X" .. s end
  end
  if verb == "O" then s = "0o" .. s end
  if neg then s = "-" .. s elseif f.plus then s = "+" .. s elseif f.space then s = " " .. s end
  if f.prec then
    local save = f.zero
    f.zero = false
    out[#out + 1] = pad_num(f, s)
    f.zero = save
  else
    out[#out + 1] = pad_num(f, s)
  end
end

local function fmt_float(out, x, verb, f)
  local s
  if verb == "v" then s = f.prec and format_float(x, "g", f.prec) or float_v(x)
  elseif verb == "e" or verb == "E" or verb == "f" or verb == "F" then
    s = format_float(x, verb, f.prec or 6)
  elseif verb == "g" or verb == "G" then s = format_float(x, verb, f.prec or -1)
  elseif (verb == "x" or verb == "X") and x == x and x ~= huge and x ~= -huge then
    -- hexadecimal mantissa, binary exponent of at least two digits
    s = (f.prec and format("%." .. f.prec .. "a", x) or format("%a", x)):gsub("p([-+])(%d)$", "p%10%2")
    if verb == "X" then s = s:upper() end
  else
    return bad_verb(out, x, verb)
  end
  if f.plus and sub(s, 1, 1) ~= "-" and sub(s, 1, 1) ~= "+" then s = "+" .. s
  elseif f.space and sub(s, 1, 1) ~= "-" then s = " " .. s end
  if s == "+Inf" and not f.plus then s = "+Inf" end
  out[#out + 1] = pad_num(f, s)
end

local function truncate(s, prec)
  if not prec then return s end
  local i, n, len = 1, 0, #s
  while i <= len and n < prec do
    local _, w = decode(s, i)
    i = i + w
    n = n + 1
  end
  return sub(s, 1, i - 1)
end

local function fmt_string(out, s, verb, f)
  if verb == "v" or verb == "s" then
    if f.sharpv then out[#out + 1] = quote(s) return end
    out[#out + 1] = pad(f, truncate(s, f.prec))
  elseif verb == "q" then
    s = truncate(s, f.prec)
    if f.sharp and not s:find("[`%c\128-\255]") then
      out[#out + 1] = pad(f, "`" .. s .. "`")
    else
      out[#out + 1] = pad(f, quote(s, f.plus))
    end
  elseif verb == "x" or verb == "X" then
    local len = #s
    if f.prec and f.prec < len then len = f.prec end
    local parts = {}
    local hf = verb == "x" and "%02x" or "%02X"
    for i = 1, len do
      local h = format(hf, byte(s, i))
      if f.sharp and (f.space or i == 1) then h = (verb == "x" and "0x" or "0X") .. h end
      parts[i] = h
    end
    out[#out + 1] = pad(f, concat(parts, f.space and " " or ""))
  else
    bad_verb(out, s, verb)
  end
end

function print_value(out, v, verb, f, depth)
  local k = kind(v)
  if k == "string" then return fmt_string(out, v, verb, f) end
  if k == "float" then return fmt_float(out, v, verb, f) end
  if k == "int" then return fmt_integer(out, v.i, verb, f) end
  if k == "bool" then
    if verb == "t" or verb == "v" then out[#out + 1] = pad(f, v and "true" or "false") return end
    return bad_verb(out, v, verb)
  end
  if k == "nil" then
    if depth > 0 then
      out[#out + 1] = f.sharpv and "interface {}(nil)" or "<nil>"
      return
    end
    if verb == "v" or verb == "T" then out[#out + 1] = pad(f, "<nil>") return end
    return bad_verb(out, v, verb)
  end
  if k == "time" then
    local s = v:String()
    if verb == "v" or verb == "s" then
      out[#out + 1] = pad(f, f.sharpv and "time.Time{" .. quote(s) .. "}" or s)
    elseif verb == "q" then out[#out + 1] = pad(f, quote(s))
    else bad_verb(out, v, verb) end
    return
  end
  if k == "slice" then
    if f.sharpv then
      out[#out + 1] = "[]interface {}{"
      for i = 1, #v do
        if i > 1 then out[#out + 1] = ", " end
        print_value(out, v[i], verb, f, depth + 1)
      end
      out[#out + 1] = "}"
      return
    end
    if verb == "s" or verb == "q" or verb == "x" or verb == "X" or verb == "d" or verb == "v"
      or verb == "f" or verb == "e" or verb == "g" or verb == "t" or verb == "b" or verb == "o"
      or verb == "c" or verb == "F" or verb == "E" or verb == "G" or verb == "U" or verb == "O" then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = " " end
        print_value(out, v[i], verb, f, depth + 1)
      end
      out[#out + 1] = "]"
      return
    end
    return bad_verb(out, v, verb)
  end
  if k == "map" then
    local keys, n = value.sorted_keys(v)
    if f.sharpv then
      out[#out + 1] = "map[string]interface {}{"
      for i = 1, n do
        if i > 1 then out[#out + 1] = ", " end
        print_value(out, keys[i], verb, f, depth + 1)
        out[#out + 1] = ":"
        print_value(out, v[keys[i]], verb, f, depth + 1)
      end
      out[#out + 1] = "}"
      return
    end
    out[#out + 1] = "map["
    for i = 1, n do
      if i > 1 then out[#out + 1] = " " end
      local key = keys[i]
      print_value(out, key, verb, f, depth + 1)
      out[#out + 1] = ":"
      print_value(out, v[key], verb, f, depth + 1)
    end
    out[#out + 1] = "]"
    return
  end
  -- functions and foreign values
  out[#out + 1] = pad(f, "0x" .. (tostring(v):match("0x(%x+)") or "0"))
end

local vflags = {}

-- fmt.Sprint(...) over n values.
function M.sprint(args, n)
  local out = {}
  local prev_string = false
  for i = 1, n do
    local v = args[i]
    local is_string = type(v) == "string"
    if i > 1 and not is_string and not prev_string then out[#out + 1] = " " end
    if is_string then out[#out + 1] = v else print_value(out, v, "v", vflags, 0) end
    prev_string = is_string
  end
  return concat(out)
end

-- fmt.Sprintln(...).
function M.sprintln(args, n)
  local out = {}
  for i = 1, n do
    if i > 1 then out[#out + 1] = " " end
    local v = args[i]
    if type(v) == "string" then out[#out + 1] = v else print_value(out, v, "v", vflags, 0) end
  end
  out[#out + 1] = "\n"
  return concat(out)
end

-- The %v form of one value.
function M.tostring(v)
  if type(v) == "string" then return v end
  local out = {}
  print_value(out, v, "v", vflags, 0)
  return concat(out)
end

-- A format string parsed into literal text and directives, cached.
local parsed_cache, parsed_count = {}, 0

-- An explicit argument index "[n]" at i: returns the index (or false when bad) and the next i.
local function parse_index(fs, i, len)
  if sub(fs, i, i) ~= "[" then return nil, i end
  local close = fs:find("]", i, true)
  local num = close and tonumber(sub(fs, i + 1, close - 1))
  if not num or num < 1 or num ~= floor(num) then return false, close and close + 1 or len + 1 end
  return num, close + 1
end

local function parse_format(fs)
  local items = {}
  local i, len = 1, #fs
  while i <= len do
    local j = fs:find("%", i, true)
    if not j then
      items[#items + 1] = sub(fs, i)
      break
    end
    if j > i then items[#items + 1] = sub(fs, i, j - 1) end
    i = j + 1
    local d = {}
    while i <= len do
      local c = sub(fs, i, i)
      if c == "#" then d.sharp = true
      elseif c == "0" then d.zero = true
      elseif c == "+" then d.plus = true
      elseif c == "-" then d.minus = true
      elseif c == " " then d.space = true
      else break end
      i = i + 1
    end
    d.idx1, i = parse_index(fs, i, len)
    if sub(fs, i, i) == "*" then
      d.wid_star = true
      i = i + 1
    else
      local w = fs:match("^%d+", i)
      if w then d.wid = tonumber(w); i = i + #w end
    end
    if sub(fs, i, i) == "." then
      i = i + 1
      d.idx2, i = parse_index(fs, i, len)
      if sub(fs, i, i) == "*" then
        d.prec_star = true
        i = i + 1
      else
        local p = fs:match("^%d+", i)
        d.prec = tonumber(p) or 0
        if p then i = i + #p end
      end
    end
    d.idx3, i = parse_index(fs, i, len)
    if i > len then
      d.noverb = true
    else
      local _, w = decode(fs, i)
      d.verb = sub(fs, i, i + w - 1)
      i = i + w
    end
    items[#items + 1] = d
    if d.noverb then break end
  end
  return items
end

local flag_names = { "sharp", "zero", "plus", "minus", "space", "wid", "prec" }

-- fmt.Sprintf(fmtstr, args[1..n]).
function M.sprintf(fs, args, n)
  local items = parsed_cache[fs]
  if not items then
    items = parse_format(fs)
    if parsed_count >= 512 then parsed_cache, parsed_count = {}, 0 end
    parsed_cache[fs] = items
    parsed_count = parsed_count + 1
  end
  local out = {}
  local argnum = 1
  local reordered = false
  for k = 1, #items do
    local d = items[k]
    if type(d) == "string" then
      out[#out + 1] = d
    else
      local f = {}
      for _, name in ipairs(flag_names) do f[name] = d[name] end
      local badindex = false
      if d.idx1 ~= nil then
        reordered = true
        if d.idx1 then argnum = d.idx1 else badindex = true end
      end
      if d.wid_star then
        local a = args[argnum]
        argnum = argnum + 1
        local w = value.is_int(a) and a.i or nil
        if not w then out[#out + 1] = "%!(BADWIDTH)" else
          if w < 0 then f.minus, w = true, -w end
          f.wid = w
        end
      end
      if d.idx2 ~= nil then
        reordered = true
        if d.idx2 then argnum = d.idx2 else badindex = true end
      end
      if d.prec_star then
        local a = args[argnum]
        argnum = argnum + 1
        local p = value.is_int(a) and a.i or nil
        if not p then out[#out + 1] = "%!(BADPREC)" elseif p >= 0 then f.prec = p end
      end
      if d.idx3 ~= nil then
        reordered = true
        if d.idx3 then argnum = d.idx3 else badindex = true end
      end
      local verb = d.verb
      if d.noverb then
        out[#out + 1] = "%!(NOVERB)"
      elseif verb == "%" then
        out[#out + 1] = "%"
      elseif badindex then
        out[#out + 1] = "%!" .. verb .. "(BADINDEX)"
      elseif argnum > n then
        out[#out + 1] = "%!" .. verb .. "(MISSING)"
      else
        local v = args[argnum]
        argnum = argnum + 1
        if v == NULL then v = nil end
        if verb == "T" then
          out[#out + 1] = pad(f, value.typename(v))
        elseif verb == "v" and f.sharp then
          f.sharp, f.sharpv = false, true
          print_value(out, v, "v", f, 0)
        elseif verb == "w" then
          print_value(out, v, "v", f, 0)
        else
          if f.minus then f.zero = false end
          print_value(out, v, verb, f, 0)
        end
      end
    end
  end
  if not reordered and argnum <= n then
    out[#out + 1] = "%!(EXTRA "
    for k = argnum, n do
      if k > argnum then out[#out + 1] = ", " end
      local v = args[k]
      if v == nil or v == NULL then out[#out + 1] = "<nil>" else
        out[#out + 1] = value.typename(v) .. "="
        print_value(out, v, "v", vflags, 0)
      end
    end
    out[#out + 1] = ")"
  end
  return concat(out)
end

return M
