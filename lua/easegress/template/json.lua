-- easegress.template.json: JSON as Go's encoding/json writes it (sorted map keys, HTML-safe
-- escaping, float64 formatting) and a decoder that keeps the difference between [] and {}.
local value = require "easegress.template.value"
local fmt = require "easegress.template.fmt"
local utf8 = require "easegress.template.utf8"

local M = {}

local type, tonumber, error, setmetatable = type, tonumber, error, setmetatable
local byte, sub, format, rep = string.byte, string.sub, string.format, string.rep
local concat = table.concat
local kind, NULL, ArrayMT = value.kind, value.null, value.array_mt

local short_escapes = {
  [8] = "\\b", [9] = "\\t", [10] = "\\n", [12] = "\\f", [13] = "\\r",
  [34] = '\\"', [92] = "\\\\", [60] = "\\u003c", [62] = "\\u003e", [38] = "\\u0026",
}

-- The JSON string body (no quotes) of s, escaped like Go's json.Marshal.
local function escape(s)
  local len = #s
  local first = 1
  while first <= len do
    local c = byte(s, first)
    if c < 0x20 or c == 34 or c == 92 or c == 60 or c == 62 or c == 38 or c >= 0x80 then break end
    first = first + 1
  end
  if first > len then return s end
  local out, n = {}, 0
  local i, start = first, 1
  while i <= len do
    local c = byte(s, i)
    local piece, w = nil, 1
    if c < 0x20 or c == 34 or c == 92 or c == 60 or c == 62 or c == 38 then
      piece = short_escapes[c] or format("\\u%04x", c)
    elseif c >= 0x80 then
      local r
      r, w = utf8.decode(s, i)
      if r == 0xFFFD and w == 1 then piece = "\\ufffd"
      elseif r == 0x2028 then piece = "\\u2028"
      elseif r == 0x2029 then piece = "\\u2029" end
    end
    if piece then
      if i > start then n = n + 1; out[n] = sub(s, start, i - 1) end
      n = n + 1
      out[n] = piece
      start = i + w
    end
    i = i + w
  end
  if start <= len then n = n + 1; out[n] = sub(s, start) end
  return concat(out)
end
M.escape = escape

local encode_value

local function encode_map(out, v, indent, depth)
  local keys, n = value.sorted_keys(v)
  if n == 0 then out[#out + 1] = "{}" return end
  out[#out + 1] = "{"
  local nl = indent and "\n" .. rep("  ", depth + 1)
  for i = 1, n do
    local k = keys[i]
    if i > 1 then out[#out + 1] = "," end
    if nl then out[#out + 1] = nl end
    out[#out + 1] = '"' .. escape(type(k) == "string" and k or fmt.tostring(k)) .. (indent and '": ' or '":')
    encode_value(out, v[k], indent, depth + 1)
  end
  if nl then out[#out + 1] = "\n" .. rep("  ", depth) end
  out[#out + 1] = "}"
end

function encode_value(out, v, indent, depth)
  if depth > 1000 then error("json: exceeded max depth (a cycle?)", 0) end
  local k = kind(v)
  if k == "string" then out[#out + 1] = '"' .. escape(v) .. '"'
  elseif k == "float" then
    local s = fmt.json_float(v)
    if not s then error("json: unsupported value: " .. fmt.float(v), 0) end
    out[#out + 1] = s
  elseif k == "int" then out[#out + 1] = fmt.int(v.i)
  elseif k == "nil" then out[#out + 1] = "null"
  elseif k == "bool" then out[#out + 1] = v and "true" or "false"
  elseif k == "slice" then
    local n = #v
    if n == 0 then out[#out + 1] = "[]" return end
    out[#out + 1] = "["
    local nl = indent and "\n" .. rep("  ", depth + 1)
    for i = 1, n do
      if i > 1 then out[#out + 1] = "," end
      if nl then out[#out + 1] = nl end
      encode_value(out, v[i], indent, depth + 1)
    end
    if nl then out[#out + 1] = "\n" .. rep("  ", depth) end
    out[#out + 1] = "]"
  elseif k == "map" then encode_map(out, v, indent, depth)
  elseif k == "time" then out[#out + 1] = '"' .. escape(v:Format("2006-01-02T15:04:05.999999999Z07:00")) .. '"'
  else
    error("json: unsupported type: " .. value.typename(v), 0)
  end
end

-- json.Marshal(v) (pretty: json.MarshalIndent(v, "", "  ")). Returns text or nil, err.
function M.encode(v, pretty)
  local out = {}
  local ok, err = pcall(encode_value, out, v, pretty, 0)
  if not ok then return nil, err end
  return concat(out)
end

---------------------------------------------------------------------------------------------
-- Decoding

local escapes = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }

local decode_value

local function skip(s, i)
  local _, e = s:find("^[ \t\r\n]*", i)
  return e + 1
end

local function derr(s, i, what)
  error(format("invalid character %q %s", sub(s, i, i) ~= "" and sub(s, i, i) or "EOF", what), 0)
end

local function decode_string(s, i)
  -- s:sub(i, i) == '"'
  local j = i + 1
  local parts, n = {}, 0
  while true do
    local k = s:find('["\\%c]', j)
    while k and byte(s, k) == 127 do k = s:find('["\\%c]', k + 1) end
    if not k then error("unexpected end of JSON input", 0) end
    local c = byte(s, k)
    if k > j then n = n + 1; parts[n] = sub(s, j, k - 1) end
    if c == 34 then return concat(parts), k + 1 end
    if c ~= 92 then derr(s, k, "in string literal") end
    local e = sub(s, k + 1, k + 1)
    if escapes[e] then
      n = n + 1
      parts[n] = escapes[e]
      j = k + 2
    elseif e == "u" then
      local h = sub(s, k + 2, k + 5)
      if not h:match("^%x%x%x%x$") then derr(s, k + 2, "in \\u hexadecimal character escape") end
      local r = tonumber(h, 16)
      j = k + 6
      if r >= 0xD800 and r <= 0xDBFF then
        local lo = sub(s, j, j + 1) == "\\u" and tonumber(sub(s, j + 2, j + 5), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          r = 0x10000 + (r - 0xD800) * 0x400 + (lo - 0xDC00)
          j = j + 6
        else
          r = 0xFFFD
        end
      elseif r >= 0xDC00 and r <= 0xDFFF then
        r = 0xFFFD
      end
      n = n + 1
      parts[n] = utf8.encode(r)
    else
      derr(s, k + 1, "in string escape code")
    end
  end
end

function decode_value(s, i, depth)
  if depth > 10000 then error("exceeded max depth", 0) end
  i = skip(s, i)
  local c = sub(s, i, i)
  if c == "{" then
    local obj = {}
    i = skip(s, i + 1)
    if sub(s, i, i) == "}" then return obj, i + 1 end
    while true do
      if sub(s, i, i) ~= '"' then derr(s, i, "looking for beginning of object key string") end
      local key
      key, i = decode_string(s, i)
      i = skip(s, i)
      if sub(s, i, i) ~= ":" then derr(s, i, "after object key") end
      local v
      v, i = decode_value(s, i + 1, depth + 1)
      obj[key] = v
      i = skip(s, i)
      local d = sub(s, i, i)
      if d == "}" then return obj, i + 1 end
      if d ~= "," then derr(s, i, "after object key:value pair") end
      i = skip(s, i + 1)
    end
  elseif c == "[" then
    local arr, n = setmetatable({}, ArrayMT), 0
    i = skip(s, i + 1)
    if sub(s, i, i) == "]" then return arr, i + 1 end
    while true do
      local v
      v, i = decode_value(s, i, depth + 1)
      n = n + 1
      arr[n] = v
      i = skip(s, i)
      local d = sub(s, i, i)
      if d == "]" then return arr, i + 1 end
      if d ~= "," then derr(s, i, "after array element") end
      i = i + 1
    end
  elseif c == '"' then
    return decode_string(s, i)
  elseif c == "t" and sub(s, i, i + 3) == "true" then return true, i + 4
  elseif c == "f" and sub(s, i, i + 4) == "false" then return false, i + 5
  elseif c == "n" and sub(s, i, i + 3) == "null" then return NULL, i + 4
  else
    local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    if num and num ~= "" and num ~= "-" then
      local v = tonumber(num)
      if v then return v, i + #num end
    end
    if c == "" then error("unexpected end of JSON input", 0) end
    derr(s, i, "looking for beginning of value")
  end
end

local has_cjson, cjson = pcall(require, "cjson.safe")

-- Decodes JSON like json.Unmarshal into interface{}: objects are maps, arrays are slices
-- (array_mt when empty), numbers float64, null value.null. Returns v or nil, err.
function M.decode(s)
  if type(s) ~= "string" then return nil, "json: not a string" end
  -- lua-cjson is faster but cannot tell an empty array from an empty object.
  if has_cjson and not s:find("%[[ \t\r\n]*%]") then
    -- on an error, the Lua decoder below gives Go's message
    local v = cjson.decode(s)
    if v ~= nil then return v end
  end
  local ok, v, i = pcall(decode_value, s, 1, 0)
  if not ok then return nil, v end
  i = skip(s, i)
  if i <= #s then return nil, format("invalid character %q after top-level value", sub(s, i, i)) end
  return v
end

return M
