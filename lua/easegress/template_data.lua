-- easegress.template_data: the data root Easegress's templates see, built lazily from the
-- request's namespaces (reference/easegress-spec.md §5):
--   .requests.<ns> .responses.<ns> .req (= .requests.DEFAULT) .resp .data .namespace
-- A request has Method, URL (Path, RawQuery, Scheme, Host), Host, Header (a Go
-- map[string][]string with canonical keys), RemoteAddr, RequestURI, Proto, ContentLength,
-- Body, RawBody, JSONBody, YAMLBody; a response StatusCode, Header, Body, JSONBody, YAMLBody.
-- Only what a template touches is computed; reading a streamed body waits (yields).
local C = require "easegress.c"
local template = require "easegress.template"

local M = {}

-- Go's textproto.CanonicalMIMEHeaderKey: "x-rss-url" -> "X-Rss-Url".
function M.canonical_key(name)
  if name:find("[^%w%-]") then return name end
  return (name:lower():gsub("^%l", string.upper):gsub("%-%l", string.upper))
end

local function header_map(list)
  local map = {}
  for _, pair in ipairs(list) do
    local key = M.canonical_key(pair[1])
    local values = map[key]
    if not values then
      values = {}
      map[key] = values
    end
    values[#values + 1] = pair[2]
  end
  return map
end

-- JSON as Easegress's templates see it (numbers are float64, null is JSON null).
local function decode_json(text)
  local ok, value = pcall(template.json_decode, text)
  if ok then return value end
  return nil
end

-- YAML as Easegress's templates see it (Go's yaml.v2 into interface{}): integers are Go
-- ints, so {{.n}} of 1000000 prints 1000000 and {{eq .n 1}} compares ints. Nil on error.
local function go_ints(v, depth)
  local t = type(v)
  if t == "number" then
    if v == math.floor(v) and v > -2^53 and v < 2^53 then return template.int(v) end
    return v
  end
  if t == "table" and depth < 200 then
    for k, x in pairs(v) do v[k] = go_ints(x, depth + 1) end
  end
  return v
end

function M.decode_yaml(text)
  if text == nil or text:match("^%s*$") then return nil end
  local value, err = C.yaml_decode(text)
  if err then return nil, err end
  return go_ints(value, 0)
end

-- Go's url.URL.setPath: Path is the unescaped path, RawPath the original when escaping
-- Path back (url.PathEscape rules) would not give it again.
local function path_escape(p)
  return (p:gsub("[^%w%-_.~$&+,/:;=@]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function set_path(raw)
  if not raw then return nil, "" end
  if not raw:find("%", 1, true) then return raw, "" end
  if raw:find("%%%X") or raw:find("%%%x%X") or raw:find("%%$") or raw:find("%%%x$") then
    return raw, "" -- not valid escaping: Go would have refused the request; keep it as is
  end
  local path = raw:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  if path_escape(path) == raw then return path, "" end
  return path, raw
end

local function lazy(fields)
  return setmetatable({}, {
    __index = function(t, key)
      local make = fields[key]
      if not make then return nil end
      local v = make()
      rawset(t, key, v)
      return v
    end,
  })
end

local function request_object(x, ns, name)
  local function get(f) return C.req_get(x, ns, f) end
  local obj
  obj = lazy({
    Method = function() return get("method") end,
    Host = function() return get("host") end,
    Proto = function() return get("proto") end,
    RemoteAddr = function() return get("client_ip") end,
    RequestURI = function()
      local q = get("query")
      return (get("path") or "/") .. (q and ("?" .. q) or "")
    end,
    URL = function()
      local path, raw_path = set_path(get("path"))
      return { Path = path, RawPath = raw_path, RawQuery = get("query") or "", Scheme = get("scheme"),
               Host = get("host") }
    end,
    Header = function() return header_map(C.header_list(x, ns, false)) end,
    Body = function() return get("body") end,
    RawBody = function() return get("body") end,
    ContentLength = function() return template.int(#get("body")) end,
    JSONBody = function() return decode_json(obj.Body) end,
    YAMLBody = function() return (M.decode_yaml(obj.Body)) end,
  })
  obj._namespace = name
  return obj
end

local function response_object(x, ns)
  local view = require("easegress.ctx").new(x, ns).resp
  local obj
  obj = lazy({
    StatusCode = function() return template.int(C.resp_status(x, ns)) end,
    Header = function() return header_map(C.header_list(x, ns, true)) end,
    Body = function() return view:body() or "" end,
    RawBody = function() return obj.Body end,
    JSONBody = function() return decode_json(obj.Body) end,
    YAMLBody = function() return (M.decode_yaml(obj.Body)) end,
  })
  return obj
end

-- The data root for exchange `x`, rendering in namespace `current_ns` (a name).
-- `extra_data` (a table, may be nil) holds DataBuilder outputs by key.
function M.root(x, current_ns, extra_data)
  local names = C.namespaces(x)
  local requests, responses = {}, {}
  for name, index in pairs(names) do
    -- as in Easegress, only namespaces that have a request (built, copied or the client's)
    if C.req_get(x, index, "method") ~= nil then requests[name] = request_object(x, index, name) end
    if C.resp_status(x, index) ~= 0 then
      responses[name] = response_object(x, index)
    end
  end
  local data = {}
  local pipeline_data = C.pipeline_data(x)
  if pipeline_data then data.PIPELINE = decode_json(pipeline_data) end
  for k, v in pairs(extra_data or {}) do data[k] = v end
  return {
    requests = requests,
    responses = responses,
    req = requests.DEFAULT,
    resp = responses.DEFAULT,
    data = data,
    namespace = current_ns,
  }
end

return M
