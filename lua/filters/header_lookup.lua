-- HeaderLookup: sets request headers from a custom data item chosen by a request header
-- (Easegress's HeaderLookup filter, pkg/filters/headerlookup). docs/filters/HeaderLookup.md
--
--   headerKey: X-Api-Key          the request header holding the item's id
--   etcdPrefix: credentials/      the custom data kind (Easegress: the etcd key prefix
--                                 /custom-data/credentials/, i.e. that kind's items)
--   pathRegExp: "^/api/([a-z]+)"  optional: the id becomes "<header value>-<group 1>"
--   headerSetters:
--     - etcdKey: userId           a field of the item
--       headerKey: X-User-Id      the request header it sets
--
-- Items come from the snapshot the request runs on (ctx:custom_data), so an update through
-- the admin API is seen by the next request; decoded items are cached per instance until
-- the custom data changes.
local re = eg.re

local M = {
  kind = "HeaderLookup",
  results = {},
  schema = {
    headerKey = { type = "string", required = true },
    etcdPrefix = { type = "string", required = true },
    pathRegExp = { type = "string", default = "" },
    headerSetters = { type = "array", required = true },
  },
}

local CACHE_MAX = 1024
local NULL = eg.json.null

local function fail(path, msg) error(path .. ": " .. msg, 0) end

function M.new(spec)
  if spec.headerKey == "" then fail("headerKey", "headerKey is required") end
  -- Easegress reads /custom-data/<etcdPrefix><id>: the kind is the prefix without slashes.
  local kind = spec.etcdPrefix:gsub("^/+", ""):gsub("/+$", "")
  if kind == "" then fail("etcdPrefix", "etcdPrefix is required (the custom data kind)") end
  if kind:find("/", 1, true) then
    fail("etcdPrefix", "\"" .. spec.etcdPrefix .. "\" names no custom data kind (a kind has no '/')")
  end
  if #spec.headerSetters < 1 then fail("headerSetters", "at least one headerSetter is required") end
  local setters = {}
  for i, hs in ipairs(spec.headerSetters) do
    local path = "headerSetters[" .. (i - 1) .. "]"
    if type(hs) ~= "table" then fail(path, "expected an object with etcdKey and headerKey") end
    for _, field in ipairs({ "etcdKey", "headerKey" }) do
      local v = hs[field]
      if v == nil or v == NULL or v == "" then fail(path .. "." .. field, "required") end
      if type(v) ~= "string" then fail(path .. "." .. field, "expected string, got " .. type(v)) end
    end
    setters[i] = { field = hs.etcdKey, header = hs.headerKey }
  end
  if spec.pathRegExp ~= "" then
    local from, err = re.find("", spec.pathRegExp)
    if from == nil and err then fail("pathRegExp", "invalid regular expression: " .. err) end
  end
  return setmetatable({ spec = spec, kind = kind, setters = setters, cache = {}, cached = 0,
                        version = nil }, { __index = M })
end

local function unhex(h) return string.char(tonumber(h, 16)) end

-- The first value of a request header (Go's Header.Get), or "".
local function first_value(req, name)
  name = name:lower()
  for _, h in ipairs(req:header_lines()) do
    if h[1]:lower() == name then return h[2] end
  end
  return ""
end

-- The headers an item gives: { header = value } for the setters whose field is a string
-- (numbers and booleans as their text; objects and arrays are skipped).
function M:headers_of(item)
  local out = {}
  for _, s in ipairs(self.setters) do
    local v = item[s.field]
    local t = type(v)
    if t == "string" then
      out[s.header] = v
    elseif t == "number" then
      out[s.header] = (v == math.floor(v) and v >= -2^53 and v <= 2^53) and string.format("%d", v) or tostring(v)
    elseif t == "boolean" then
      out[s.header] = tostring(v)
    end
  end
  return out
end

function M:lookup(ctx, id)
  local version = ctx:custom_data_version()
  if version ~= self.version or self.cached >= CACHE_MAX then
    self.cache, self.cached, self.version = {}, 0, version
  end
  local hit = self.cache[id]
  if hit ~= nil then return hit or nil end
  local item = ctx:custom_data(self.kind, id)
  local headers = type(item) == "table" and self:headers_of(item) or false
  self.cache[id] = headers
  self.cached = self.cached + 1
  return headers or nil
end

function M:handle(ctx)
  local value = first_value(ctx.req, self.spec.headerKey)
  if value == "" then
    eg.log.warn("HeaderLookup " .. tostring(self.spec.name) .. ": request does not have header '"
      .. self.spec.headerKey .. "'")
    return ""
  end
  if self.spec.pathRegExp ~= "" then
    local path = ctx.req:path():gsub("%%(%x%x)", unhex)
    local m = re.match(path, self.spec.pathRegExp)
    if m and m[1] then value = value .. "-" .. m[1] end
  end
  local headers = self:lookup(ctx, value)
  if not headers then
    eg.log.warn("HeaderLookup " .. tostring(self.spec.name) .. ": no custom data " .. self.kind .. "/" .. value)
    return ""
  end
  for name, v in pairs(headers) do ctx.req:set_header(name, v) end
  return ""
end

return M
