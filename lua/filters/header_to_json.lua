-- HeaderToJSON: copies request headers into the JSON request body (Easegress's
-- HeaderToJSON filter, pkg/filters/headertojson). docs/filters/HeaderToJSON.md
--
--   headerMap:
--     - header: X-User-Id        the request header
--       json: userId             the JSON field it becomes
--
-- Headers that are absent or empty are skipped; if none is left the body is not touched.
-- An empty body becomes an object of the fields; an object body gets the fields (replacing
-- fields of the same name); an array body of objects gets them in each object. Any other
-- body gives "jsonEncodeDecodeErr" and is left as it was.
local json = require "easegress.template.json" -- Go's encoding/json output (sorted keys, ...)
local value = require "easegress.template.value"

local NULL = eg.json.null

local M = {
  kind = "HeaderToJSON",
  results = { "jsonEncodeDecodeErr", "bodyReadErr" },
  schema = {
    headerMap = { type = "array", required = true },
  },
}

local function fail(path, msg) error(path .. ": " .. msg, 0) end

function M.new(spec)
  -- Later entries for the same header (in any case) replace earlier ones, as in Easegress.
  local by_header, order = {}, {}
  for i, item in ipairs(spec.headerMap) do
    local path = "headerMap[" .. (i - 1) .. "]"
    if type(item) ~= "table" or #item > 0 then fail(path, "expected an object with header and json") end
    for _, field in ipairs({ "header", "json" }) do
      local v = item[field]
      if v == nil or v == NULL then fail(path .. "." .. field, "required") end
      if type(v) ~= "string" then fail(path .. "." .. field, "expected string, got " .. type(v)) end
    end
    local key = item.header:lower()
    if not by_header[key] then order[#order + 1] = key end
    by_header[key] = item.json
  end
  table.sort(order)
  local map = {}
  for i, key in ipairs(order) do map[i] = { header = key, json = by_header[key] } end
  return setmetatable({ spec = spec, map = map }, { __index = M })
end

-- The first value of each header (Go's Header.Get), by lower-case name.
local function first_values(ctx)
  local first = {}
  for _, h in ipairs(ctx.req:header_lines()) do
    local key = h[1]:lower()
    if first[key] == nil then first[key] = h[2] end
  end
  return first
end

local function merge(into, fields)
  for k, v in pairs(fields) do into[k] = v end
  return into
end

-- The new body, or nil for a body that is not a JSON object or array of objects.
local function new_body(body, fields)
  local c = body:match("^[ \t\r\n]*(.)")
  if c ~= "{" and c ~= "[" then return nil end
  local decoded = json.decode(body)
  if decoded == nil then return nil end
  if c == "{" then
    if value.kind(decoded) ~= "map" then return nil end
    return merge(decoded, fields)
  end
  if value.kind(decoded) ~= "slice" then return nil end
  for i = 1, #decoded do
    -- Easegress decodes into []map[string]interface{}: anything but objects fails there
    -- (null elements panic; here they fail too).
    if value.kind(decoded[i]) ~= "map" then return nil end
    merge(decoded[i], fields)
  end
  return decoded
end

function M:handle(ctx)
  local first = first_values(ctx)
  local fields, any = {}, false
  for _, m in ipairs(self.map) do
    local v = first[m.header]
    if v and v ~= "" then
      fields[m.json] = v
      any = true
    end
  end
  if not any then return "" end

  local body = ctx.req:body()
  local result
  if body == "" then
    result = fields
  else
    result = new_body(body, fields)
    if result == nil then return "jsonEncodeDecodeErr" end
  end
  local text = json.encode(result)
  if not text then return "jsonEncodeDecodeErr" end
  ctx.req:set_body(text)
  return ""
end

return M
