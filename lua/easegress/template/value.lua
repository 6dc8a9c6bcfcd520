-- easegress.template.value: how the Go values a template sees are represented in Lua.
--
--   Go                          Lua
--   untyped nil / missing key   nil
--   nil inside a JSON document  value.null (cjson.null when lua-cjson is present)
--   string, bool                string, boolean
--   float64 (every JSON number) number
--   int, int64                  value.int(n): a boxed integer, so that it prints as an
--                               integer (%v of float64 1e6 is "1e+06", of int 1e6 "1000000")
--   []interface{}               table with consecutive keys 1..n; value.array_mt marks one
--                               that may be empty (an unmarked empty table is a map)
--   map[string]interface{}      any other table (keys are strings)
--   time.Time                   value.time(...) (see easegress.template.time)
--   methods of the data root    a function stored in a field: called as fn(receiver, args...),
--                               returning value[, err]
local M = {}

local type, getmetatable, setmetatable, pairs = type, getmetatable, setmetatable, pairs
local floor = math.floor

local has_cjson, cjson = pcall(require, "cjson")
M.null = has_cjson and cjson.null or setmetatable({}, { __tostring = function() return "null" end })
local NULL = M.null

M.array_mt = { __name = "go.slice" }
local ArrayMT = M.array_mt

local IntMT = { __name = "go.int" }
IntMT.__tostring = function(v) return string.format("%d", v.i) end
M.int_mt = IntMT

M.time_mt = { __name = "go.time" }
local TimeMT = M.time_mt

-- Small integers are shared: range indexes and lengths are boxed often.
local small = {}
for i = -16, 1024 do small[i] = setmetatable({ i = i }, IntMT) end

-- A Go int holding n (truncated toward zero, like a Go conversion).
function M.int(n)
  if n ~= floor(n) then
    if n ~= n then n = 0 elseif n > 0 then n = floor(n) else n = -floor(-n) end
  end
  local s = small[n]
  if s then return s end
  return setmetatable({ i = n }, IntMT)
end

function M.is_int(v) return type(v) == "table" and getmetatable(v) == IntMT end

-- A new Go slice holding the given Lua array (nils must already be value.null).
function M.array(t) return setmetatable(t or {}, ArrayMT) end

-- The Go kind of a value: "nil", "bool", "int", "float", "string", "slice", "map", "time",
-- "func" or "other".
local function kind(v)
  local t = type(v)
  if t == "string" then return "string" end
  if t == "table" then
    local mt = getmetatable(v)
    if mt == IntMT then return "int" end
    if mt == ArrayMT then return "slice" end
    if mt == TimeMT then return "time" end
    if v[1] ~= nil then return "slice" end
    return "map"
  end
  if t == "number" then return "float" end
  if t == "boolean" then return "bool" end
  if v == nil or v == NULL then return "nil" end
  if t == "function" then return "func" end
  return "other"
end
M.kind = kind

local typenames = {
  ["nil"] = "<nil>", bool = "bool", int = "int", float = "float64", string = "string",
  slice = "[]interface {}", map = "map[string]interface {}", time = "time.Time",
  func = "func()", other = "interface {}",
}
-- Go's %T of a value.
function M.typename(v) return typenames[kind(v)] end

-- Go's reflect Kind names (sprig kindOf).
local kindnames = {
  ["nil"] = "invalid", bool = "bool", int = "int", float = "float64", string = "string",
  slice = "slice", map = "map", time = "struct", func = "func", other = "interface",
}
function M.kindname(v) return kindnames[kind(v)] end

-- Length of a slice (Go len).
function M.len(v) return #v end

-- Go truth (text/template isTrue): false, 0, nil, empty string/slice/map are false.
function M.truth(v)
  if v == nil or v == false or v == NULL then return false end
  local t = type(v)
  if t == "boolean" then return v end
  if t == "string" then return v ~= "" end
  if t == "number" then return v ~= 0 end
  if t == "table" then
    local mt = getmetatable(v)
    if mt == IntMT then return v.i ~= 0 end
    if mt == TimeMT then return true end
    if v[1] ~= nil then return true end
    if mt == ArrayMT then return false end
    if mt and mt.__index then return true end -- an object with computed fields
    return next(v) ~= nil
  end
  return true
end

-- The number inside an int or float64, or nil.
function M.tonumber(v)
  local t = type(v)
  if t == "number" then return v end
  if t == "table" and getmetatable(v) == IntMT then return v.i end
  return nil
end

-- Sorted keys of a map (Go sorts map keys when printing and ranging).
function M.sorted_keys(m)
  local ks, n = {}, 0
  for k in pairs(m) do
    n = n + 1
    ks[n] = k
  end
  if n > 1 then
    table.sort(ks, function(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return ta < tb end
      return a < b
    end)
  end
  return ks, n
end

return M
