-- easegress.schema: checks a filter spec against a Lua filter's `schema` and fills defaults.
--   schema = { field = { type = "string"|"number"|"integer"|"boolean"|"table"|"array",
--                        required = true, default = v, enum = { ... } } }
local M = {}

local function type_ok(want, v)
  if want == "integer" then return type(v) == "number" and v == math.floor(v) end
  if want == "array" then
    if type(v) ~= "table" then return false end
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    return n == #v
  end
  return type(v) == want
end

local null = require("cjson").null

-- Go's encoding/json: a key matches a field in any letter case; the exact spelling wins.
local function normalise_keys(schema, spec)
  for field in pairs(schema) do
    if spec[field] == nil then
      local lower = field:lower()
      for k, v in pairs(spec) do
        if type(k) == "string" and k ~= field and k:lower() == lower and schema[k] == nil then
          spec[field] = v
          spec[k] = nil
          break
        end
      end
    end
  end
end

-- Returns spec (with defaults) or nil, "field: reason". A field given as null counts as
-- absent, as Go decodes null into a zero value.
function M.check(schema, spec)
  if schema == nil then return spec end
  normalise_keys(schema, spec)
  for field, rule in pairs(schema) do
    if spec[field] == null then spec[field] = nil end
    local v = spec[field]
    if v == nil and rule.default ~= nil then
      v = rule.default
      spec[field] = v
    end
    if v == nil then
      if rule.required then return nil, field .. ": required" end
    else
      if rule.type and not type_ok(rule.type, v) then
        return nil, string.format("%s: expected %s, got %s", field, rule.type, type(v))
      end
      if rule.enum then
        local found = false
        for _, allowed in ipairs(rule.enum) do
          if allowed == v then found = true end
        end
        if not found then return nil, string.format("%s: %s is not one of the allowed values", field, tostring(v)) end
      end
    end
  end
  return spec
end

-- Every filter's meta fields (Easegress's supervisor.MetaSpec), known whatever the schema.
local META = { name = true, kind = true, version = true, createdAt = true }

-- The top-level fields of spec that schema does not name, sorted. The caller reports them as
-- unknown fields, as the C decoders do; without a schema nothing is known to be unknown.
function M.unknown(schema, spec)
  local out = {}
  if schema == nil then return out end
  for k in pairs(spec) do
    if type(k) == "string" and schema[k] == nil and not META[k] then
      out[#out + 1] = k
    end
  end
  table.sort(out)
  return out
end

-- A JSON Schema (draft-07) of a filter spec, from the module's declared `schema`: the
-- meta fields name and kind, then each declared field with its type, default and enum.
-- Keys come out sorted so the text is the same on every call.
local JSON_TYPES = { string = "string", number = "number", integer = "integer",
                     boolean = "boolean", table = "object", array = "array" }

function M.json_schema(kind, schema)
  local cjson = require("cjson")
  local props = { name = { type = "string" }, kind = { type = "string", enum = { kind } } }
  local required = { "kind", "name" }
  for field, rule in pairs(schema or {}) do
    local p = {}
    if rule.type then p.type = JSON_TYPES[rule.type] or rule.type end
    if rule.default ~= nil then p.default = rule.default end
    if rule.enum then p.enum = rule.enum end
    props[field] = p
    if rule.required then required[#required + 1] = field end
  end
  table.sort(required)
  local function encode_sorted(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do
      parts[#parts + 1] = cjson.encode(k) .. ":" .. cjson.encode(t[k])
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  local fields = {}
  for k, v in pairs(props) do fields[k] = v end
  local names = {}
  for k in pairs(fields) do names[#names + 1] = k end
  table.sort(names)
  local parts = {}
  for _, k in ipairs(names) do
    parts[#parts + 1] = cjson.encode(k) .. ":" .. encode_sorted(fields[k])
  end
  return '{"$schema":"http://json-schema.org/draft-07/schema#","additionalProperties":true,'
    .. '"properties":{' .. table.concat(parts, ",") .. '},"required":' .. cjson.encode(required)
    .. ',"title":' .. cjson.encode(kind) .. ',"type":"object"}'
end

return M
