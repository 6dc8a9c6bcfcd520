-- easegress.template.funcs: the functions of Easegress's template dialect — Go's text/template
-- builtins, sprig (slim-sprig v2.20.0, plus the later sprig functions some Easegress examples
-- use, such as get and fromJson) and Easegress's own extra functions.
--
-- Each function has a Go signature written as parameter codes, checked at call time as Go's
-- reflection does:  a = interface{} (anything), v = reflect.Value (anything), s = string,
-- i = int, f = float64, b = bool, m = map[string]interface{} (or nil), t = time.Time;
-- "...x" is a variadic tail. A function raises an error (a string) for Go's panics and
-- returned errors; the engine reports it as "error calling NAME: message".
local value = require "easegress.template.value"
local gofmt = require "easegress.template.fmt"
local json = require "easegress.template.json"
local regexp = require "easegress.template.regexp"
local gotime = require "easegress.template.time"
local hash = require "easegress.template.hash"
local utf8 = require "easegress.template.utf8"

local M = {}

local type, pairs, ipairs, tostring, tonumber, error, select = type, pairs, ipairs, tostring, tonumber, error, select
local getmetatable = getmetatable
local format, sub, byte, char, rep = string.format, string.sub, string.byte, string.char, string.rep
local find, gsub = string.find, string.gsub
local concat, sort = table.concat, table.sort
local floor, huge, fmod = math.floor, math.huge, math.fmod
local kind, NULL = value.kind, value.null
local mkint, array, truth = value.int, value.array, value.truth

local NILDEREF = "runtime error: invalid memory address or nil pointer dereference"

---------------------------------------------------------------------------------------------
-- Registry

local registry = {}
M.registry = registry

local typenames = {
  s = "string", i = "int", f = "float64", b = "bool", m = "map[string]interface {}", t = "time.Time",
}
M.param_typenames = typenames

local function def(names, sig, fn)
  local params, variadic = {}, nil
  for code in sig:gmatch("%S+") do
    if sub(code, 1, 3) == "..." then variadic = sub(code, 4) else params[#params + 1] = code end
  end
  for name in names:gmatch("%S+") do
    registry[name] = { name = name, fn = fn, params = params, variadic = variadic }
  end
end

-- Is v acceptable for a parameter of type code? Returns nil or the error message.
local function check_type(code, v)
  local k = kind(v)
  if code == "s" then
    if k == "string" then return nil end
  elseif code == "i" then
    if k == "int" then return nil end
  elseif code == "f" then
    if k == "float" then return nil end
  elseif code == "b" then
    if k == "bool" then return nil end
  elseif code == "m" then
    if k == "map" or v == nil or v == NULL then return nil end
  elseif code == "t" then
    if k == "time" then return nil end
  else
    return nil
  end
  if v == nil or v == NULL then return "invalid value; expected " .. typenames[code] end
  return "wrong type for value; expected " .. typenames[code] .. "; got " .. value.typename(v)
end
M.check_type = check_type

---------------------------------------------------------------------------------------------
-- Helpers shared by the functions

local function isnil(v) return v == nil or v == NULL end

-- sprig strval: the string form of any value.
local function strval(v)
  if type(v) == "string" then return v end
  return gofmt.tostring(v)
end
M.strval = strval

-- Go's reflect Kind name, as sprig's panics print it.
local function kindname(v)
  if isnil(v) then error(NILDEREF, 0) end
  return value.kindname(v)
end

local function list_of(v, what)
  local k = kind(v)
  if k == "slice" then return v end
  if isnil(v) then error(NILDEREF, 0) end
  error(format(what, value.kindname(v)), 0)
end

local function copy_list(v, from, to)
  local out = {}
  local n = 0
  for i = from or 1, to or #v do
    n = n + 1
    out[n] = v[i]
  end
  return array(out)
end

-- sprig toInt64 (v2.20): strings in base 10, floats truncated, bools 1/0, else 0.
local function to_int64(v)
  local k = kind(v)
  if k == "int" then return v.i end
  if k == "float" then
    if v ~= v then return -2 ^ 63 end
    if v >= 0 then return floor(v) end
    return -floor(-v)
  end
  if k == "string" then
    if not v:match("^[+-]?%d+$") then return 0 end
    local n = tonumber(v)
    if not n or n >= 2 ^ 63 or n < -2 ^ 63 then return 0 end
    return n
  end
  if k == "bool" then return v and 1 or 0 end
  return 0
end
M.to_int64 = to_int64

-- Go strconv.ParseFloat syntax (decimal, inf, nan).
local function parse_float(s)
  local t = s:lower()
  local sign, body = t:match("^([+-]?)(.*)$")
  if body == "inf" or body == "infinity" then return sign == "-" and -huge or huge end
  if body == "nan" then return 0 / 0 end
  if not s:match("^[+-]?%d*%.?%d*[eE]?[+-]?%d*$") or not s:match("%d") then return nil end
  if s:match("[eE]$") or s:match("[eE][+-]$") then return nil end
  return tonumber(s)
end

-- sprig toFloat64 (v2.20).
local function to_float64(v)
  local k = kind(v)
  if k == "float" then return v end
  if k == "int" then return v.i end
  if k == "string" then return parse_float(v) or 0 end
  if k == "bool" then return v and 1 or 0 end
  return 0
end

-- Easegress toFloat64: numbers and numeric strings; anything else panics.
local function eg_float(v)
  local k = kind(v)
  if k == "float" then return v end
  if k == "int" then return v.i end
  if k == "string" then
    local f = parse_float(v)
    if not f then error(format("strconv.ParseFloat: parsing %s: invalid syntax", gofmt.quote(v)), 0) end
    return f
  end
  error("cannot convert " .. (isnil(v) and "<nil>" or gofmt.tostring(v)) .. " to float64", 0)
end

-- sprig empty.
local function empty(v)
  local k = kind(v)
  if k == "nil" then return true end
  if k == "string" then return v == "" end
  if k == "float" then return v == 0 end
  if k == "int" then return v.i == 0 end
  if k == "bool" then return not v end
  if k == "slice" then return #v == 0 end
  if k == "map" then
    local mt = getmetatable(v)
    if mt and mt.__index then return false end
    return next(v) == nil
  end
  return false
end

-- reflect.DeepEqual over template values.
local function deep_equal(a, b)
  if a == NULL then a = nil end
  if b == NULL then b = nil end
  local ka, kb = kind(a), kind(b)
  if ka ~= kb then return false end
  if ka == "int" then return a.i == b.i end
  if ka == "slice" then
    if #a ~= #b then return false end
    for i = 1, #a do if not deep_equal(a[i], b[i]) then return false end end
    return true
  end
  if ka == "map" then
    for k, v in pairs(a) do if b[k] == nil or not deep_equal(v, b[k]) then return false end end
    for k in pairs(b) do if a[k] == nil then return false end end
    return true
  end
  if ka == "time" then return a.sec == b.sec and a.nsec == b.nsec end
  return a == b
end

-- sprig strslice: a []string from a slice (nils dropped) or a scalar.
local function strslice(v)
  local k = kind(v)
  if k == "slice" then
    local out, n = {}, 0
    for i = 1, #v do
      local e = v[i]
      if not isnil(e) then
        n = n + 1
        out[n] = strval(e)
      end
    end
    return array(out)
  end
  if isnil(v) then return array({}) end
  return array({ strval(v) })
end

local function go_split(s, sep, n)
  n = n or -1
  if n == 0 then return {} end
  local out = {}
  if sep == "" then
    local i, len = 1, #s
    while i <= len do
      if n > 0 and #out == n - 1 then out[#out + 1] = sub(s, i) return out end
      local _, w = utf8.decode(s, i)
      out[#out + 1] = sub(s, i, i + w - 1)
      i = i + w
    end
    return out
  end
  local i = 1
  while true do
    if n > 0 and #out == n - 1 then break end
    local a, b = find(s, sep, i, true)
    if not a then break end
    out[#out + 1] = sub(s, i, a - 1)
    i = b + 1
  end
  out[#out + 1] = sub(s, i)
  return out
end

-- strings.Replace(s, old, new, -1).
local function go_replace(s, old, new)
  if old == "" then
    local out = { new }
    local i, len = 1, #s
    while i <= len do
      local _, w = utf8.decode(s, i)
      out[#out + 1] = sub(s, i, i + w - 1)
      out[#out + 1] = new
      i = i + w
    end
    return concat(out)
  end
  local out = {}
  local i = 1
  while true do
    local a, b = find(s, old, i, true)
    if not a then break end
    out[#out + 1] = sub(s, i, a - 1)
    out[#out + 1] = new
    i = b + 1
  end
  out[#out + 1] = sub(s, i)
  return concat(out)
end
M.go_replace = go_replace

-- Simple case mappings beyond ASCII: Latin-1, Greek, Cyrillic.
local function map_case(s, upper)
  if not find(s, "[\128-\255]") then return upper and s:upper() or s:lower() end
  local out = {}
  local i, len = 1, #s
  while i <= len do
    local r, w = utf8.decode(s, i)
    local piece
    if w == 1 and r ~= 0xFFFD then
      piece = upper and char(r):upper() or char(r):lower()
    else
      local m = r
      if upper then
        if (r >= 0xE0 and r <= 0xFE and r ~= 0xF7) or (r >= 0x3B1 and r <= 0x3C9 and r ~= 0x3C2)
          or (r >= 0x430 and r <= 0x44F) then m = r - 32
        elseif r >= 0x450 and r <= 0x45F then m = r - 80
        elseif r == 0xFF then m = 0x178 end
      else
        if (r >= 0xC0 and r <= 0xDE and r ~= 0xD7) or (r >= 0x391 and r <= 0x3A9)
          or (r >= 0x410 and r <= 0x42F) then m = r + 32
        elseif r >= 0x400 and r <= 0x40F then m = r + 80
        elseif r == 0x178 then m = 0xFF end
      end
      piece = (m == r or (w == 1)) and sub(s, i, i + w - 1) or utf8.encode(m)
    end
    out[#out + 1] = piece
    i = i + w
  end
  return concat(out)
end

local function is_space_rune(r)
  return r == 32 or (r >= 9 and r <= 13) or r == 0x85 or r == 0xA0 or r == 0x1680
    or (r >= 0x2000 and r <= 0x200A) or r == 0x2028 or r == 0x2029 or r == 0x202F
    or r == 0x205F or r == 0x3000
end

-- strings.TrimFunc with a rune predicate.
local function trim_func(s, pred, left, right)
  local i, j = 1, #s
  if left ~= false then
    while i <= j do
      local r, w = utf8.decode(s, i)
      if not pred(r) then break end
      i = i + w
    end
  end
  if right ~= false then
    while j >= i do
      -- step back to the start of the last rune
      local k = j
      while k > i and byte(s, k) >= 0x80 and byte(s, k) < 0xC0 do k = k - 1 end
      local r, w = utf8.decode(s, k)
      if k + w - 1 ~= j then r = 0xFFFD; k = j end
      if not pred(r) then break end
      j = k - 1
    end
  end
  return sub(s, i, j)
end

local function cutset_pred(cutset)
  local set = {}
  local i = 1
  while i <= #cutset do
    local r, w = utf8.decode(cutset, i)
    set[r] = true
    i = i + w
  end
  return function(r) return set[r] == true end
end

-- strings.Title: upper-case the first letter of each word.
local function title(s)
  local out = {}
  local prev_sep = true
  local i, len = 1, #s
  while i <= len do
    local r, w = utf8.decode(s, i)
    local piece = sub(s, i, i + w - 1)
    local letter_or_digit = (r >= 48 and r <= 57) or (r >= 65 and r <= 90) or (r >= 97 and r <= 122)
      or r == 95 or (r >= 0x80 and not is_space_rune(r))
    if prev_sep and letter_or_digit then piece = map_case(piece, true) end
    out[#out + 1] = piece
    prev_sep = not letter_or_digit
    i = i + w
  end
  return concat(out)
end

-- url.QueryEscape.
local function query_escape(s)
  return (gsub(s, "[^%w%-_%.~ ]", function(c) return format("%%%02X", byte(c)) end):gsub(" ", "+"))
end
M.query_escape = query_escape

-- url.QueryUnescape: the string, or raises Go's error.
local function query_unescape(s)
  for esc in s:gmatch("%%..?") do
    if not esc:match("^%%%x%x$") then error(format("invalid URL escape %s", gofmt.quote(esc)), 0) end
  end
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- template.HTMLEscapeString.
local html_escapes = {
  ["<"] = "&lt;", [">"] = "&gt;", ["&"] = "&amp;", ["'"] = "&#39;", ['"'] = "&#34;", ["\0"] = "\239\191\189",
}
local function html_escape(s) return (gsub(s, "[<>&'\"%z]", html_escapes)) end

-- template.JSEscapeString.
local function js_escape(s)
  local out = {}
  local i, len = 1, #s
  while i <= len do
    local c = byte(s, i)
    if c == 92 then out[#out + 1] = "\\\\"
    elseif c == 39 then out[#out + 1] = "\\'"
    elseif c == 34 then out[#out + 1] = '\\"'
    elseif c == 60 then out[#out + 1] = "\\u003C"
    elseif c == 62 then out[#out + 1] = "\\u003E"
    elseif c == 38 then out[#out + 1] = "\\u0026"
    elseif c == 61 then out[#out + 1] = "\\u003D"
    elseif c < 32 then out[#out + 1] = format("\\u%04X", c)
    elseif c < 0x80 then out[#out + 1] = char(c)
    else
      local r, w = utf8.decode(s, i)
      if utf8.isprint(r) then out[#out + 1] = sub(s, i, i + w - 1)
      else out[#out + 1] = format("\\u%04X", r) end
      i = i + w - 1
    end
    i = i + 1
  end
  return concat(out)
end

-- text/template evalArgs: the single string argument, or fmt.Sprint of the arguments with
-- nil printed as <no value>.
local function eval_args(n, ...)
  if n == 1 then
    local a = ...
    if type(a) == "string" then return a end
  end
  local args = { ... }
  for i = 1, n do if isnil(args[i]) then args[i] = "<no value>" end end
  return gofmt.sprint(args, n)
end

-- net.SplitHostPort: host, port or nil, err.
local function split_host_port(hp)
  local host, port
  if sub(hp, 1, 1) == "[" then
    host, port = hp:match("^%[([^%]]*)%]:([^:]*)$")
    if not host then
      if hp:match("^%[[^%]]*%]$") then return nil, "missing port in address" end
      return nil, "missing ']' in address"
    end
  else
    local colon = hp:match("^.*():")
    if not colon then return nil, "missing port in address" end
    host, port = sub(hp, 1, colon - 1), sub(hp, colon + 1)
    if find(host, ":", 1, true) then return nil, "too many colons in address" end
  end
  return host, port
end

-- path.Clean.
local function path_clean(p)
  if p == "" then return "." end
  local rooted = sub(p, 1, 1) == "/"
  local parts = {}
  for seg in p:gmatch("[^/]+") do
    if seg == ".." then
      if #parts > 0 and parts[#parts] ~= ".." then parts[#parts] = nil
      elseif not rooted then parts[#parts + 1] = ".." end
    elseif seg ~= "." then
      parts[#parts + 1] = seg
    end
  end
  local out = concat(parts, "/")
  if rooted then out = "/" .. out end
  if out == "" then return "." end
  return out
end

local function path_base(p)
  if p == "" then return "." end
  p = p:gsub("/+$", "")
  if p == "" then return "/" end
  return p:match("([^/]*)$")
end

local function path_dir(p)
  local dir = p:match("^(.*/)") or ""
  return path_clean(dir)
end

local function path_ext(p)
  for i = #p, 1, -1 do
    local c = sub(p, i, i)
    if c == "/" then break end
    if c == "." then return sub(p, i) end
  end
  return ""
end

-- os.Expand with a mapping function.
local function expand_env(s)
  return (gsub(s, "%$(%b{})", function(b)
    return os.getenv(sub(b, 2, -2)) or ""
  end):gsub("%$([%a_][%w_]*)", function(name) return os.getenv(name) or "" end))
end

local function random_string(count, alphabet)
  if count < 0 then error(format("Requested random string length %d is less than 0.", count), 0) end
  local bytes = hash.random_bytes(count)
  local out = {}
  for i = 1, count do
    local k = byte(bytes, i) % #alphabet + 1
    out[i] = sub(alphabet, k, k)
  end
  return concat(out)
end

local function must_compile(expr)
  local re, err = regexp.compile(expr)
  if not re then
    local q = (not find(expr, "[`%c]")) and "`" .. expr .. "`" or gofmt.quote(expr)
    error("regexp: Compile(" .. q .. "): " .. err, 0)
  end
  return re
end

local function must_re(expr)
  local re, err = regexp.compile(expr)
  if not re then error(err, 0) end
  return re
end

local function strings_of(list)
  local out = {}
  for i, s in ipairs(list) do out[i] = s end
  return array(out)
end

-- The first value of a Go http.Header (map[string][]string) for a key, canonicalised.
local function canonical_key(k)
  if find(k, "[^%w%-!#%$%%&'%*%+%.%^_`|~]") then return k end
  return (k:lower():gsub("^%l", string.upper):gsub("%-%l", string.upper))
end
M.canonical_key = canonical_key

local function header_get(h, key)
  if isnil(h) then return "" end
  if kind(h) ~= "map" then
    error("wrong type for value; expected http.Header; got " .. value.typename(h), 0)
  end
  local v = h[canonical_key(key)]
  if v == nil then
    local lk = key:lower()
    for k, vv in pairs(h) do
      if type(k) == "string" and k:lower() == lk then v = vv break end
    end
  end
  if v == nil or v == NULL then return "" end
  if type(v) == "string" then return v end
  if kind(v) == "slice" then
    local first = v[1]
    if first == nil or first == NULL then return "" end
    return strval(first)
  end
  return ""
end

---------------------------------------------------------------------------------------------
-- Go text/template builtins

-- and/or are compiled inline (they short-circuit); the entries here only declare them.
def("and or", "v ...v", function(...) return (...) end)
registry["and"].special = "and"
registry["or"].special = "or"

def("not", "v", function(v) return not truth(v) end)

def("len", "v", function(v)
  local k = kind(v)
  if k == "string" or k == "slice" then return mkint(#v) end
  if k == "map" then
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    return mkint(n)
  end
  if isnil(v) then error("len of untyped nil", 0) end
  error("len of type " .. value.typename(v), 0)
end)

local function index_arg(ix, cap)
  local k = kind(ix)
  if k ~= "int" then
    if isnil(ix) then error("cannot index slice/array with nil", 0) end
    error("cannot index slice/array with type " .. value.typename(ix), 0)
  end
  local x = ix.i
  if x < 0 or x > cap then error(format("index out of range: %d", x), 0) end
  return x
end

def("index", "v ...v", function(item, ...)
  if isnil(item) then error("index of untyped nil", 0) end
  local v = item
  for i = 1, select("#", ...) do
    local ix = select(i, ...)
    if v == NULL then error("index of nil pointer", 0) end
    local k = kind(v)
    if k == "slice" or k == "string" then
      local x = index_arg(ix, #v)
      if x >= #v then error(format("reflect: %s index out of range", k), 0) end
      if k == "string" then v = mkint(byte(v, x + 1)) else v = v[x + 1] end
    elseif k == "map" then
      if ix == NULL then ix = nil end
      if type(ix) ~= "string" then
        if ix == nil then error("value is nil; should be of type string", 0) end
        error("value has type " .. value.typename(ix) .. "; should be string", 0)
      end
      v = v[ix]
    else
      if v == nil then error("index of untyped nil", 0) end
      error("can't index item of type " .. value.typename(v), 0)
    end
  end
  return v
end)
-- sprig's slice overrides the builtin; strings are sliced as the Go builtin does.
def("slice", "a ...a", function(list, ...)
  local n = select("#", ...)
  local k = kind(list)
  if k == "string" then
    if n > 2 then error("cannot 3-index slice a string", 0) end
    local len = #list
    local i, j = 0, len
    if n >= 1 then i = index_arg(select(1, ...), len) end
    if n >= 2 then j = index_arg(select(2, ...), len) end
    if i > j then error(format("invalid slice index: %d > %d", i, j), 0) end
    return sub(list, i + 1, j)
  end
  if k ~= "slice" then
    if isnil(list) then error(NILDEREF, 0) end
    error("list should be type of slice or array but " .. value.kindname(list), 0)
  end
  local l = #list
  if l == 0 then return nil end
  local start, stop = 0, l
  if n > 0 then start = to_int64((select(1, ...))) end
  if n >= 2 then stop = to_int64((select(2, ...))) end
  if start < 0 or stop < start or stop > l then
    error(format("runtime error: slice bounds out of range [%d:%d] with capacity %d", start, stop, l), 0)
  end
  return copy_list(list, start + 1, stop)
end)

def("print", "...a", function(...) return gofmt.sprint({ ... }, select("#", ...)) end)
def("println", "...a", function(...) return gofmt.sprintln({ ... }, select("#", ...)) end)
def("printf", "s ...a", function(f, ...) return gofmt.sprintf(f, { ... }, select("#", ...)) end)
def("html", "...a", function(...) return html_escape(eval_args(select("#", ...), ...)) end)
def("js", "...a", function(...) return js_escape(eval_args(select("#", ...), ...)) end)
def("urlquery", "...a", function(...) return query_escape(eval_args(select("#", ...), ...)) end)

local function basic(v)
  local k = kind(v)
  if k == "int" then return "num", v.i end
  if k == "float" then return "num", v end
  if k == "string" or k == "bool" then return k, v end
  if k == "nil" then return "nil", nil end
  return "other", v
end

local function eq2(a, b)
  local ka, va = basic(a)
  local kb, vb = basic(b)
  if ka ~= kb then
    if ka == "nil" or kb == "nil" then return false end
    error("incompatible types for comparison", 0)
  end
  if ka == "nil" then return true end
  if ka == "other" then
    if kind(a) == "time" and kind(b) == "time" then return a.sec == b.sec and a.nsec == b.nsec end
    error(format("non-comparable type %s: %s", gofmt.tostring(b), value.typename(b)), 0)
  end
  return va == vb
end

def("eq", "v ...v", function(a, ...)
  local n = select("#", ...)
  if n == 0 then error("missing argument for comparison", 0) end
  for i = 1, n do
    if eq2(a, (select(i, ...))) then return true end
  end
  return false
end)
def("ne", "v v", function(a, b) return not eq2(a, b) end)

local function lt2(a, b)
  local ka, va = basic(a)
  local kb, vb = basic(b)
  if ka == "nil" or ka == "other" or kb == "nil" or kb == "other" then error("invalid type for comparison", 0) end
  if ka ~= kb then error("incompatible types for comparison", 0) end
  if ka == "bool" then error("invalid type for comparison", 0) end
  return va < vb
end
def("lt", "v v", lt2)
def("le", "v v", function(a, b) return lt2(a, b) or eq2(a, b) end)
def("gt", "v v", function(a, b) return not (lt2(a, b) or eq2(a, b)) end)
def("ge", "v v", function(a, b) return not lt2(a, b) end)

def("call", "v ...v", function(fn, ...)
  if isnil(fn) then error("call of nil", 0) end
  if type(fn) ~= "function" then error("non-function of type " .. value.typename(fn), 0) end
  local v, err = fn(...)
  if err ~= nil and err ~= NULL then error(tostring(err), 0) end
  return v
end)

---------------------------------------------------------------------------------------------
-- sprig: dates

local function to_time(v)
  local k = kind(v)
  if k == "time" then return v end
  if k == "int" then return gotime.unix(v.i) end
  return gotime.now()
end

local function date_in_zone(layout, date, zone)
  local t = to_time(date)
  local z = gotime.load_zone(zone) or gotime.load_zone("UTC")
  return t:In(z):Format(layout)
end

def("date", "s a", function(layout, date) return date_in_zone(layout, date, "Local") end)
def("dateInZone date_in_zone", "s a s", date_in_zone)
def("htmlDate", "a", function(date) return date_in_zone("2006-01-02", date, "Local") end)
def("htmlDateInZone", "a s", function(date, zone) return date_in_zone("2006-01-02", date, zone) end)
def("now", "", function() return gotime.now() end)
def("dateModify date_modify", "s t", function(d, t)
  local ns = gotime.parse_duration(d)
  if not ns then return t end
  return t:Add(ns)
end)
def("mustDateModify must_date_modify", "s t", function(d, t)
  local ns, err = gotime.parse_duration(d)
  if not ns then error(err, 0) end
  return t:Add(ns)
end)
def("ago", "a", function(date)
  local t = to_time(date)
  local now = gotime.now()
  local secs = now.sec - t.sec + (now.nsec - t.nsec) / 1e9
  return gotime.duration_string(floor(secs + 0.5) * 1e9)
end)
def("toDate", "s s", function(layout, s)
  local ok, t = pcall(gotime.parse, layout, s)
  if ok then return t end
  return gotime.zero()
end)
def("mustToDate", "s s", function(layout, s)
  local ok, t = pcall(gotime.parse, layout, s)
  if ok then return t end
  error(t, 0)
end)
def("unixEpoch", "t", function(t) return format("%d", t.sec) end)
def("duration", "a", function(sec)
  local n = 0
  if type(sec) == "string" then n = to_int64(sec) elseif kind(sec) == "int" then n = sec.i end
  return gotime.duration_string(n * 1e9)
end)
def("durationRound", "a", function(d)
  local ns = 0
  local k = kind(d)
  if k == "string" then ns = gotime.parse_duration(d) or 0
  elseif k == "int" then ns = d.i
  elseif k == "time" then
    local now = gotime.now()
    ns = (now.sec - d.sec) * 1e9 + (now.nsec - d.nsec)
  end
  local u = ns < 0 and -ns or ns
  local hour = 3600e9
  local units = {
    { 24 * 365 * hour, "y" }, { 24 * 30 * hour, "mo" }, { 24 * hour, "d" }, { hour, "h" }, { 60e9, "m" }, { 1e9, "s" },
  }
  for _, unit in ipairs(units) do
    if u > unit[1] then return format("%d", floor(u / unit[1])) .. unit[2] end
  end
  return "0s"
end)

---------------------------------------------------------------------------------------------
-- sprig: strings

def("hello", "", function() return "Hello!" end)
def("trim", "s", function(s) return trim_func(s, is_space_rune) end)
def("upper", "s", function(s) return map_case(s, true) end)
def("lower", "s", function(s) return map_case(s, false) end)
def("title", "s", title)
def("untitle", "s", function(s)
  if s == "" then return s end
  return map_case(sub(s, 1, 1), false) .. sub(s, 2)
end)
def("substr", "i i s", function(start, stop, s)
  local a, b, len = start.i, stop.i, #s
  if a < 0 then
    if b < 0 or b > len then
      error(format("runtime error: slice bounds out of range [:%d] with length %d", b, len), 0)
    end
    return sub(s, 1, b)
  end
  if b < 0 or b > len then
    if a > len then error(format("runtime error: slice bounds out of range [%d:%d]", a, len), 0) end
    return sub(s, a + 1)
  end
  if a > b then error(format("runtime error: slice bounds out of range [%d:%d]", a, b), 0) end
  return sub(s, a + 1, b)
end)
def("trunc", "i s", function(c, s)
  c = c.i
  if #s <= c then return s end
  if c < 0 then error(format("runtime error: slice bounds out of range [:%d]", c), 0) end
  return sub(s, 1, c)
end)
def("repeat", "i s", function(count, s)
  if count.i < 0 then error("strings: negative Repeat count", 0) end
  return rep(s, count.i)
end)
def("trimAll trimall", "s s", function(cut, s) return trim_func(s, cutset_pred(cut)) end)
def("trimSuffix", "s s", function(suffix, s)
  if suffix ~= "" and sub(s, -#suffix) == suffix then return sub(s, 1, #s - #suffix) end
  return s
end)
def("trimPrefix", "s s", function(prefix, s)
  if sub(s, 1, #prefix) == prefix then return sub(s, #prefix + 1) end
  return s
end)
def("nospace", "s", function(s)
  local out = {}
  local i = 1
  while i <= #s do
    local r, w = utf8.decode(s, i)
    if not is_space_rune(r) then out[#out + 1] = sub(s, i, i + w - 1) end
    i = i + w
  end
  return concat(out)
end)
def("initials", "s", function(s)
  local out = {}
  for word in s:gmatch("%S+") do
    local _, w = utf8.decode(word, 1)
    out[#out + 1] = sub(word, 1, w)
  end
  return concat(out)
end)
local ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def("randAlphaNum", "i", function(n) return random_string(n.i, ALPHA .. "0123456789") end)
def("randAlpha", "i", function(n) return random_string(n.i, ALPHA) end)
def("randNumeric", "i", function(n) return random_string(n.i, "0123456789") end)
def("randAscii", "i", function(n)
  local chars = {}
  for c = 32, 126 do chars[#chars + 1] = char(c) end
  return random_string(n.i, concat(chars))
end)
def("swapcase", "s", function(s)
  return (s:gsub("%a", function(c) return c:match("%l") and c:upper() or c:lower() end))
end)
def("shuffle", "s", function(s)
  local runes = {}
  local i = 1
  while i <= #s do
    local _, w = utf8.decode(s, i)
    runes[#runes + 1] = sub(s, i, i + w - 1)
    i = i + w
  end
  local bytes = hash.random_bytes(#runes)
  for k = #runes, 2, -1 do
    local j = byte(bytes, k) % k + 1
    runes[k], runes[j] = runes[j], runes[k]
  end
  return concat(runes)
end)

local function words(s)
  -- split camelCase, snake_case, kebab-case and spaces into lower-case words
  local out = {}
  s = s:gsub("(%l)(%u)", "%1 %2"):gsub("(%u)(%u%l)", "%1 %2"):gsub("(%d)(%a)", "%1 %2"):gsub("(%a)(%d)", "%1 %2")
  for w in s:gmatch("[^%s_%-%.]+") do out[#out + 1] = w:lower() end
  return out
end
def("snakecase", "s", function(s) return concat(words(s), "_") end)
def("kebabcase", "s", function(s) return concat(words(s), "-") end)
def("camelcase", "s", function(s)
  local out = {}
  for part in s:gmatch("[^_]+") do out[#out + 1] = part:sub(1, 1):upper() .. part:sub(2) end
  return concat(out)
end)

local function wrap(s, limit, sep, long_words)
  if limit < 1 then limit = 1 end
  local out = {}
  for line in (s .. "\n"):gmatch("([^\n]*)\n") do
    local cur = ""
    for word in line:gmatch("%S+") do
      while long_words and #word > limit do
        if cur ~= "" then out[#out + 1] = cur; cur = "" end
        out[#out + 1] = sub(word, 1, limit)
        word = sub(word, limit + 1)
      end
      if cur == "" then cur = word
      elseif #cur + 1 + #word <= limit then cur = cur .. " " .. word
      else
        out[#out + 1] = cur
        cur = word
      end
    end
    out[#out + 1] = cur
  end
  return concat(out, sep)
end
def("wrap", "i s", function(l, s) return wrap(s, l.i, "\n", false) end)
def("wrapWith", "i s s", function(l, sep, s) return wrap(s, l.i, sep, true) end)

def("abbrev", "i s", function(width, s)
  width = width.i
  if width < 4 or #s <= width then return s end
  return sub(s, 1, width - 3) .. "..."
end)
def("abbrevboth", "i i s", function(left, right, s)
  left, right = left.i, right.i
  if right < 4 or (left > 0 and right < 7) then return s end
  if #s <= right then return s end
  if left > #s then left = #s end
  if #s - left < right - 3 then left = #s - (right - 3) end
  if left <= 4 then return sub(s, 1, right - 3) .. "..." end
  if right < 7 then return s end
  if left + right - 3 < #s then
    local rest = sub(s, left + 1)
    local abbr = #rest <= right - 3 and rest or sub(rest, 1, right - 6) .. "..."
    return "..." .. abbr
  end
  return "..." .. sub(s, #s - (right - 3) + 1)
end)

def("contains", "s s", function(substr, s) return find(s, substr, 1, true) ~= nil end)
def("hasPrefix", "s s", function(prefix, s) return sub(s, 1, #prefix) == prefix end)
def("hasSuffix", "s s", function(suffix, s) return suffix == "" or sub(s, -#suffix) == suffix end)
def("quote", "...a", function(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if not isnil(v) then out[#out + 1] = gofmt.quote(strval(v)) end
  end
  return concat(out, " ")
end)
def("squote", "...a", function(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if not isnil(v) then out[#out + 1] = "'" .. gofmt.tostring(v) .. "'" end
  end
  return concat(out, " ")
end)
def("cat", "...a", function(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if not isnil(v) then out[#out + 1] = gofmt.tostring(v) end
  end
  return concat(out, " ")
end)
local function indent(n, s)
  local pad = rep(" ", n)
  return pad .. go_replace(s, "\n", "\n" .. pad)
end
def("indent", "i s", function(n, s) return indent(n.i, s) end)
def("nindent", "i s", function(n, s) return "\n" .. indent(n.i, s) end)
def("replace", "s s s", function(old, new, s) return go_replace(s, old, new) end)
def("plural", "s s i", function(one, many, count) return count.i == 1 and one or many end)
def("sha1sum", "s", function(s) return assert(hash.sha1_hex(s)) end)
def("sha256sum", "s", function(s) return assert(hash.sha256_hex(s)) end)
def("adler32sum", "s", function(s) return format("%d", hash.adler32(s)) end)
def("toString", "a", function(v) return strval(v) end)
def("atoi", "s", function(s)
  if not s:match("^[+-]?%d+$") then return mkint(0) end
  local n = tonumber(s)
  if n >= 2 ^ 63 or n < -2 ^ 63 then return mkint(0) end
  return mkint(n)
end)
def("int64 int", "a", function(v) return mkint(to_int64(v)) end)
def("float64", "a", function(v) return to_float64(v) end)
def("toDecimal", "a", function(v)
  local s = strval(v)
  if not s:match("^[0-7]+$") then return mkint(0) end
  return mkint(tonumber(s, 8))
end)

local function split_map(parts)
  local res = {}
  for i, p in ipairs(parts) do res["_" .. (i - 1)] = p end
  return res
end
def("split", "s s", function(sep, s) return split_map(go_split(s, sep)) end)
def("splitList", "s s", function(sep, s) return strings_of(go_split(s, sep)) end)
def("splitn", "s i s", function(sep, n, s) return split_map(go_split(s, sep, n.i)) end)
def("toStrings", "a", strslice)

local function until_step(start, stop, step)
  local out = {}
  if stop < start then
    if step >= 0 then return array(out) end
    local i = start
    while i > stop do out[#out + 1] = mkint(i); i = i + step end
    return array(out)
  end
  if step <= 0 then return array(out) end
  local i = start
  while i < stop do out[#out + 1] = mkint(i); i = i + step end
  return array(out)
end
def("until", "i", function(count)
  local n = count.i
  return until_step(0, n, n < 0 and -1 or 1)
end)
def("untilStep", "i i i", function(a, b, c) return until_step(a.i, b.i, c.i) end)
def("seq", "...i", function(...)
  local params = { ... }
  local n = #params
  local parts = {}
  local function run(start, step, stop)
    if step == 0 then return end
    if step > 0 then
      for i = start, stop, step do parts[#parts + 1] = format("%d", i) end
    else
      for i = start, stop, step do parts[#parts + 1] = format("%d", i) end
    end
  end
  if n == 0 then return "" end
  if n == 1 then
    local e = params[1].i
    run(1, e >= 1 and 1 or -1, e)
  elseif n == 2 then
    local s, e = params[1].i, params[2].i
    run(s, e >= s and 1 or -1, e)
  elseif n == 3 then
    local s, st, e = params[1].i, params[2].i, params[3].i
    if (e < s and st < 0) or (e > s and st > 0) or e == s then run(s, st == 0 and 1 or st, e) end
  else
    return ""
  end
  return concat(parts, " ")
end)

---------------------------------------------------------------------------------------------
-- sprig: numbers

def("add1", "a", function(v) return mkint(to_int64(v) + 1) end)
def("add", "...a", function(...)
  local sum = 0
  for i = 1, select("#", ...) do sum = sum + to_int64((select(i, ...))) end
  return mkint(sum)
end)
def("sub", "a a", function(a, b) return mkint(to_int64(a) - to_int64(b)) end)
local function idiv(a, b)
  if b == 0 then error("runtime error: integer divide by zero", 0) end
  local q = a / b
  if q >= 0 then return floor(q) end
  return -floor(-q)
end
def("div", "a a", function(a, b) return mkint(idiv(to_int64(a), to_int64(b))) end)
def("mod", "a a", function(a, b)
  local y = to_int64(b)
  if y == 0 then error("runtime error: integer divide by zero", 0) end
  return mkint(fmod(to_int64(a), y))
end)
def("mul", "a ...a", function(a, ...)
  local p = to_int64(a)
  for i = 1, select("#", ...) do p = p * to_int64((select(i, ...))) end
  return mkint(p)
end)
def("randInt", "i i", function(lo, hi)
  if hi.i <= lo.i then error("invalid argument to Intn", 0) end
  return mkint(lo.i + math.random(0, hi.i - lo.i - 1))
end)
def("max biggest", "a ...a", function(a, ...)
  local m = to_int64(a)
  for i = 1, select("#", ...) do
    local b = to_int64((select(i, ...)))
    if b > m then m = b end
  end
  return mkint(m)
end)
def("min", "a ...a", function(a, ...)
  local m = to_int64(a)
  for i = 1, select("#", ...) do
    local b = to_int64((select(i, ...)))
    if b < m then m = b end
  end
  return mkint(m)
end)
def("maxf", "a ...a", function(a, ...)
  local m = to_float64(a)
  for i = 1, select("#", ...) do m = math.max(m, to_float64((select(i, ...)))) end
  return m
end)
def("minf", "a ...a", function(a, ...)
  local m = to_float64(a)
  for i = 1, select("#", ...) do m = math.min(m, to_float64((select(i, ...)))) end
  return m
end)
def("ceil", "a", function(v) return math.ceil(to_float64(v)) end)
def("floor", "a", function(v) return floor(to_float64(v)) end)
def("round", "a i ...f", function(v, places, round_on)
  round_on = round_on or 0.5
  local pow = 10 ^ places.i
  local digit = pow * to_float64(v)
  local _, frac = math.modf(digit)
  local r
  if frac >= round_on then r = math.ceil(digit) else r = floor(digit) end
  return r / pow
end)

---------------------------------------------------------------------------------------------
-- sprig: lists and dicts

def("join", "s a", function(sep, v) return concat(strslice(v), sep) end)
def("sortAlpha", "a", function(v)
  if kind(v) == "slice" then
    local s = strslice(v)
    sort(s)
    return s
  end
  return array({ strval(v) })
end)

local function nil_to_null(v) if v == nil then return NULL end return v end

def("list tuple", "...a", function(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = nil_to_null((select(i, ...))) end
  return array(out)
end)
def("dict", "...a", function(...)
  local d = {}
  local n = select("#", ...)
  for i = 1, n, 2 do
    local key = strval((select(i, ...)))
    if i + 1 > n then d[key] = "" else d[key] = nil_to_null((select(i + 1, ...))) end
  end
  return d
end)
def("get", "m s", function(d, key)
  local v = d and d ~= NULL and d[key]
  if v == nil then return "" end
  return v
end)
def("set", "m s a", function(d, key, v)
  if isnil(d) then error("assignment to entry in nil map", 0) end
  d[key] = nil_to_null(v)
  return d
end)
def("unset", "m s", function(d, key)
  if not isnil(d) then d[key] = nil end
  return d
end)
def("hasKey", "m s", function(d, key) return not isnil(d) and d[key] ~= nil end)
def("pluck", "s ...m", function(key, ...)
  local out = {}
  for i = 1, select("#", ...) do
    local d = select(i, ...)
    if not isnil(d) and d[key] ~= nil then out[#out + 1] = d[key] end
  end
  return array(out)
end)
def("keys", "...m", function(...)
  local out = {}
  for i = 1, select("#", ...) do
    local d = select(i, ...)
    if not isnil(d) then
      local ks = value.sorted_keys(d)
      for _, k in ipairs(ks) do out[#out + 1] = k end
    end
  end
  if select("#", ...) > 1 then sort(out) end
  return array(out)
end)
def("pick", "m ...s", function(d, ...)
  local res = {}
  for i = 1, select("#", ...) do
    local k = select(i, ...)
    if not isnil(d) and d[k] ~= nil then res[k] = d[k] end
  end
  return res
end)
def("omit", "m ...s", function(d, ...)
  local drop = {}
  for i = 1, select("#", ...) do drop[(select(i, ...))] = true end
  local res = {}
  if not isnil(d) then
    for k, v in pairs(d) do if not drop[k] then res[k] = v end end
  end
  return res
end)

-- mergo: fill dst's missing (or empty) keys from src, recursively; overwrite: src wins when
-- its value is not empty.
local function mergo(dst, src, overwrite)
  for k, sv in pairs(src) do
    local dv = dst[k]
    if kind(dv) == "map" and kind(sv) == "map" then
      mergo(dv, sv, overwrite)
    elseif dv == nil or (overwrite and not empty(sv)) or (not overwrite and empty(dv)) then
      dst[k] = sv
    end
  end
end
def("merge", "m ...m", function(dst, ...)
  for i = 1, select("#", ...) do
    local src = select(i, ...)
    if not isnil(src) and not isnil(dst) then mergo(dst, src, false) end
  end
  return dst
end)
def("mergeOverwrite", "m ...m", function(dst, ...)
  for i = 1, select("#", ...) do
    local src = select(i, ...)
    if not isnil(src) and not isnil(dst) then mergo(dst, src, true) end
  end
  return dst
end)
def("values", "m", function(d)
  local out = {}
  if not isnil(d) then
    local ks = value.sorted_keys(d)
    for i, k in ipairs(ks) do out[i] = d[k] end
  end
  return array(out)
end)
def("dig", "...a", function(...)
  local n = select("#", ...)
  if n < 3 then error("dig needs at least three arguments", 0) end
  local d = select(n, ...)
  local default = select(n - 1, ...)
  for i = 1, n - 2 do
    local key = select(i, ...)
    if kind(d) ~= "map" then return default end
    local v = d[key]
    if v == nil then return default end
    d = v
  end
  return d
end)

local function push(list, v, what)
  list = list_of(list, what)
  local out = copy_list(list)
  out[#out + 1] = nil_to_null(v)
  return out
end
def("append push", "a a", function(list, v) return push(list, v, "Cannot push on type %s") end)
def("mustAppend mustPush", "a a", function(list, v) return push(list, v, "Cannot push on type %s") end)
local function prepend(list, v)
  list = list_of(list, "Cannot prepend on type %s")
  local out = { nil_to_null(v) }
  for i = 1, #list do out[i + 1] = list[i] end
  return array(out)
end
def("prepend mustPrepend", "a a", prepend)
local function first(list)
  list = list_of(list, "Cannot find first on type %s")
  return list[1]
end
def("first mustFirst", "a", first)
def("last mustLast", "a", function(list)
  list = list_of(list, "Cannot find last on type %s")
  return list[#list]
end)
def("rest mustRest", "a", function(list)
  list = list_of(list, "Cannot find rest on type %s")
  return copy_list(list, 2)
end)
def("initial mustInitial", "a", function(list)
  list = list_of(list, "Cannot find initial on type %s")
  return copy_list(list, 1, #list - 1)
end)
def("reverse mustReverse", "a", function(list)
  list = list_of(list, "Cannot find reverse on type %s")
  local out = {}
  for i = #list, 1, -1 do out[#out + 1] = list[i] end
  return array(out)
end)
def("compact mustCompact", "a", function(list)
  list = list_of(list, "Cannot compact on type %s")
  local out = {}
  for i = 1, #list do if not empty(list[i]) then out[#out + 1] = list[i] end end
  return array(out)
end)
local function in_list(list, v)
  for i = 1, #list do if deep_equal(list[i], v) then return true end end
  return false
end
def("uniq mustUniq", "a", function(list)
  list = list_of(list, "Cannot find uniq on type %s")
  local out = array({})
  for i = 1, #list do if not in_list(out, list[i]) then out[#out + 1] = list[i] end end
  return out
end)
def("without mustWithout", "a ...a", function(list, ...)
  list = list_of(list, "Cannot find without on type %s")
  local omit = { ... }
  for i = 1, select("#", ...) do if omit[i] == nil then omit[i] = NULL end end
  local out = {}
  for i = 1, #list do if not in_list(omit, list[i]) then out[#out + 1] = list[i] end end
  return array(out)
end)
def("has mustHas", "a a", function(needle, haystack)
  if isnil(haystack) then return false end
  if kind(haystack) ~= "slice" then error("Cannot find has on type " .. kindname(haystack), 0) end
  return in_list(haystack, needle)
end)
def("mustSlice", "a ...a", registry.slice.fn)
def("concat", "...a", function(...)
  local out = {}
  for i = 1, select("#", ...) do
    local l = select(i, ...)
    if kind(l) ~= "slice" then error("Cannot concat type " .. kindname(l) .. " as list", 0) end
    for j = 1, #l do out[#out + 1] = l[j] end
  end
  return array(out)
end)
def("chunk mustChunk", "i a", function(size, list)
  list = list_of(list, "Cannot chunk type %s")
  size = size.i
  local out = {}
  if size < 1 then return array(out) end
  for i = 1, #list, size do out[#out + 1] = copy_list(list, i, math.min(i + size - 1, #list)) end
  return array(out)
end)

---------------------------------------------------------------------------------------------
-- sprig: defaults, JSON, reflection

def("default", "a ...a", function(d, ...)
  local n = select("#", ...)
  if n == 0 then return d end
  local given = ...
  if empty(given) then return d end
  return given
end)
def("empty", "a", empty)
def("coalesce", "...a", function(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if not empty(v) then return v end
  end
  return nil
end)
def("all", "...a", function(...)
  for i = 1, select("#", ...) do if empty((select(i, ...))) then return false end end
  return true
end)
def("any", "...a", function(...)
  for i = 1, select("#", ...) do if not empty((select(i, ...))) then return true end end
  return false
end)
def("ternary", "a a b", function(vt, vf, c) if c then return vt end return vf end)
def("deepEqual", "a a", deep_equal)
def("toJson", "a", function(v) return json.encode(v) or "" end)
def("toPrettyJson", "a", function(v) return json.encode(v, true) or "" end)
local function raw_json(v, pretty)
  local s, err = json.encode(v, pretty)
  if not s then return nil, err end
  return (s:gsub("\\u003c", "<"):gsub("\\u003e", ">"):gsub("\\u0026", "&"))
end
def("toRawJson", "a", function(v) return raw_json(v) or "" end)
def("mustToJson", "a", function(v) return assert(json.encode(v)) end)
def("mustToPrettyJson", "a", function(v) return assert(json.encode(v, true)) end)
def("mustToRawJson", "a", function(v)
  local s, err = raw_json(v)
  if not s then error(err, 0) end
  return s
end)
def("fromJson", "s", function(s)
  local v = json.decode(s)
  if v == NULL then return nil end
  return v
end)
def("mustFromJson", "s", function(s)
  local v, err = json.decode(s)
  if v == nil then error(err, 0) end
  if v == NULL then return nil end
  return v
end)
def("typeOf", "a", function(v) return value.typename(v) end)
def("typeIs", "s a", function(t, v) return t == value.typename(v) end)
def("typeIsLike", "s a", function(t, v)
  local name = value.typename(v)
  return t == name or "*" .. t == name
end)
def("kindOf", "a", function(v) return value.kindname(v) end)
def("kindIs", "s a", function(t, v) return t == value.kindname(v) end)

---------------------------------------------------------------------------------------------
-- sprig: OS, paths, encodings, crypto, flow control, regexps, URLs

def("env", "s", function(name) return os.getenv(name) or "" end)
def("expandenv", "s", expand_env)
def("base osBase", "s", path_base)
def("dir osDir", "s", path_dir)
def("clean osClean", "s", path_clean)
def("ext osExt", "s", path_ext)
def("isAbs osIsAbs", "s", function(p) return sub(p, 1, 1) == "/" end)
def("b64enc", "s", hash.b64encode)
def("b64dec", "s", function(s)
  local out, err = hash.b64decode(s)
  return out or err
end)
def("b32enc", "s", hash.b32encode)
def("b32dec", "s", function(s)
  local out, err = hash.b32decode(s)
  return out or err
end)
def("uuidv4", "", function()
  local b = { byte(hash.random_bytes(16), 1, 16) }
  b[7] = b[7] % 16 + 0x40
  b[9] = b[9] % 64 + 0x80
  local hex = {}
  for i = 1, 16 do hex[i] = format("%02x", b[i]) end
  return concat(hex, "", 1, 4) .. "-" .. concat(hex, "", 5, 6) .. "-" .. concat(hex, "", 7, 8) .. "-"
    .. concat(hex, "", 9, 10) .. "-" .. concat(hex, "", 11, 16)
end)
local function unsupported(name)
  return function() error(name .. " is not supported by Easegress-C templates", 0) end
end
for _, name in ipairs({ "genPrivateKey", "derivePassword", "buildCustomCert", "genCA",
  "genSelfSignedCert", "genSignedCert", "semver", "semverCompare", "getHostByName" }) do
  def(name, "...a", unsupported(name))
end
def("fail", "s", function(msg) error(msg, 0) end)

def("regexMatch", "s s", function(expr, s)
  local re = regexp.compile(expr)
  return re ~= nil and re:match(s)
end)
def("mustRegexMatch", "s s", function(expr, s)
  return must_re(expr):match(s)
end)
local function find_all(re, s, n)
  local out = {}
  for i, caps in ipairs(re:find_all(s, n)) do out[i] = sub(s, caps[0], caps[1] - 1) end
  return array(out)
end
def("regexFindAll", "s s i", function(expr, s, n) return find_all(must_compile(expr), s, n.i) end)
def("mustRegexFindAll", "s s i", function(expr, s, n) return find_all(must_re(expr), s, n.i) end)
def("regexFind", "s s", function(expr, s)
  local m = must_compile(expr):find(s)
  return m or ""
end)
def("mustRegexFind", "s s", function(expr, s)
  return must_re(expr):find(s) or ""
end)
def("regexReplaceAll", "s s s", function(expr, s, repl) return must_compile(expr):replace_all(s, repl) end)
def("mustRegexReplaceAll", "s s s", function(expr, s, repl)
  return must_re(expr):replace_all(s, repl)
end)
def("regexReplaceAllLiteral", "s s s", function(expr, s, repl) return must_compile(expr):replace_all(s, repl, true) end)
def("mustRegexReplaceAllLiteral", "s s s", function(expr, s, repl)
  return must_re(expr):replace_all(s, repl, true)
end)
def("regexSplit", "s s i", function(expr, s, n) return strings_of(must_compile(expr):split(s, n.i) or {}) end)
def("mustRegexSplit", "s s i", function(expr, s, n) return strings_of(must_re(expr):split(s, n.i) or {}) end)
def("regexQuoteMeta", "s", regexp.quote_meta)

local function url_unescape_path(s) return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end)) end
def("urlParse", "s", function(s)
  local rest = s
  local frag = ""
  local h = find(rest, "#", 1, true)
  if h then frag = url_unescape_path(sub(rest, h + 1)); rest = sub(rest, 1, h - 1) end
  local query = ""
  local q = find(rest, "?", 1, true)
  if q then query = sub(rest, q + 1); rest = sub(rest, 1, q - 1) end
  local scheme = rest:match("^(%a[%w+.-]*):")
  if scheme then rest = sub(rest, #scheme + 2); scheme = scheme:lower() end
  local userinfo, host, opaque, path = "", "", "", rest
  if sub(rest, 1, 2) == "//" then
    local auth = rest:match("^//([^/]*)")
    path = sub(rest, 3 + #auth)
    local at = auth:match("^.*()@")
    if at then userinfo = sub(auth, 1, at - 1); auth = sub(auth, at + 1) end
    host = auth
  elseif scheme and sub(rest, 1, 1) ~= "/" then
    opaque, path = rest, ""
  end
  local hostname = host:match("^%[(.-)%]") or host:match("^([^:]*)")
  return { scheme = scheme or "", host = host, hostname = hostname, path = url_unescape_path(path),
    query = query, opaque = opaque, fragment = frag, userinfo = userinfo }
end)
def("urlJoin", "m", function(d)
  local g = function(k)
    local v = d and d[k]
    if v == nil or v == NULL then return "" end
    return strval(v)
  end
  local out = {}
  if g("scheme") ~= "" then out[#out + 1] = g("scheme") .. ":" end
  if g("opaque") ~= "" then out[#out + 1] = g("opaque")
  else
    if g("host") ~= "" or g("userinfo") ~= "" then
      out[#out + 1] = "//"
      if g("userinfo") ~= "" then out[#out + 1] = g("userinfo") .. "@" end
      out[#out + 1] = g("host")
    end
    local p = g("path")
    if p ~= "" and sub(p, 1, 1) ~= "/" and g("host") ~= "" then p = "/" .. p end
    out[#out + 1] = p
  end
  if g("query") ~= "" then out[#out + 1] = "?" .. g("query") end
  if g("fragment") ~= "" then out[#out + 1] = "#" .. g("fragment") end
  return concat(out)
end)

---------------------------------------------------------------------------------------------
-- Easegress's extra functions (pkg/filters/builder/extrafuncs.go)

def("addf", "a a", function(a, b) return eg_float(a) + eg_float(b) end)
def("subf", "a a", function(a, b) return eg_float(a) - eg_float(b) end)
def("mulf", "a a", function(a, b) return eg_float(a) * eg_float(b) end)
def("divf", "a a", function(a, b)
  local x, y = eg_float(a), eg_float(b)
  if y == 0 then error("divisor is zero", 0) end
  return x / y
end)

-- Where `log` writes: set by the runtime (template.set_logger); stderr otherwise.
M.logger = nil
def("log", "s s", function(level, msg)
  level = level:lower()
  if level == "debug" or level == "info" or level == "warn" or level == "error" then
    local logger = M.logger
    if not logger then
      local eg = package.loaded["easegress"]
      if type(eg) == "table" and eg.log then
        logger = function(lvl, m) eg.log[lvl](m) end
      end
    end
    if logger then logger(level, msg)
    elseif io and io.stderr then io.stderr:write(level, ": ", msg, "\n") end
  end
  return ""
end)

local function deep_copy(v)
  if kind(v) == "map" then
    local out = {}
    for k, x in pairs(v) do out[k] = deep_copy(x) end
    return out
  end
  return v
end
local function merge_object(a, b)
  for k, v in pairs(b) do
    if kind(a[k]) == "map" and kind(v) == "map" then merge_object(a[k], v)
    else a[k] = deep_copy(v) end
  end
end
def("mergeObject", "...m", function(...)
  local out = {}
  for i = 1, select("#", ...) do
    local obj = select(i, ...)
    if not isnil(obj) then merge_object(out, obj) end
  end
  return out
end)
def("jsonEscape", "s", json.escape)
def("panic", "a", function(v)
  error(isnil(v) and "<nil>" or gofmt.tostring(v), 0)
end)
def("header", "a s", header_get)
def("username", "a", function(req)
  if isnil(req) then error("interface conversion: interface is nil, not builder.BasicAuth", 0) end
  if type(req) == "table" then
    local m = req.BasicAuth
    if type(m) == "function" then
      local user = m(req)
      return user or ""
    end
    local h = req.Header
    if h ~= nil then
      local auth = header_get(h, "Authorization")
      if sub(auth, 1, 6):lower() ~= "basic " then return "" end
      local decoded = hash.b64decode(sub(auth, 7))
      if not decoded then return "" end
      local user = decoded:match("^([^:]*):")
      return user or ""
    end
  end
  error("interface conversion: " .. value.typename(req) .. " is not builder.BasicAuth: missing method BasicAuth", 0)
end)
def("host", "s", function(hp)
  local h = split_host_port(hp)
  return h or ""
end)
def("port", "s", function(hp)
  local h, p = split_host_port(hp)
  return h and p or ""
end)
def("urlQueryUnescape", "s", query_unescape)
def("urlQueryEscape", "s", query_escape)

return M
