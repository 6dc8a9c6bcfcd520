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
      return { Path = get("path"), RawQuery = get("query") or "", Scheme = get("scheme"), Host = get("host") }
    end,
    Header = function() return header_map(C.header_list(x, ns, false)) end,
    Body = function() return get("body") end,
    RawBody = function() return get("body") end,
    ContentLength = function() return template.int(#get("body")) end,
    JSONBody = function() return decode_json(obj.Body) end,
    YAMLBody = function() return decode_json(obj.Body) end,
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
    YAMLBody = function() return decode_json(obj.Body) end,
  })
  return obj
end

-- The data root for exchange `x`, rendering in namespace `current_ns` (a name).
-- `extra_data` (a table, may be nil) holds DataBuilder outputs by key.
function M.root(x, current_ns, extra_data)
  local names = C.namespaces(x)
  local requests, responses = {}, {}
  for name, index in pairs(names) do
    requests[name] = request_object(x, index, name)
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
