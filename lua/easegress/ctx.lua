-- easegress.ctx: the ctx of the filter contract, over the C primitives of easegress.c.
local httputil = require "easegress.httputil"
local C = require "easegress.c"

local Request = {}
Request.__index = Request

function Request:method() return C.req_get(self._x, self._ns, "method") end
function Request:path() return C.req_get(self._x, self._ns, "path") end
function Request:raw_query() return C.req_get(self._x, self._ns, "query") end
function Request:host() return C.req_get(self._x, self._ns, "host") end
function Request:scheme() return C.req_get(self._x, self._ns, "scheme") end
function Request:proto() return C.req_get(self._x, self._ns, "proto") end
function Request:client_ip() return C.req_get(self._x, self._ns, "client_ip") end
function Request:header(name) return C.req_header(self._x, self._ns, name) end
function Request:headers() return C.req_headers(self._x, self._ns) end
-- Every header line as { { name, value }, ... } in order (Go's Header.Values per line).
function Request:header_lines() return C.header_list(self._x, self._ns, false) end
function Request:set_header(name, value) C.req_header_op(self._x, self._ns, "set", name, tostring(value)) end
function Request:add_header(name, value) C.req_header_op(self._x, self._ns, "add", name, tostring(value)) end
function Request:del_header(name) C.req_header_op(self._x, self._ns, "del", name) end
function Request:body() return C.req_get(self._x, self._ns, "body") end
function Request:set_body(body) C.req_set(self._x, self._ns, "body", body) end
function Request:set_path(path) C.req_set(self._x, self._ns, "path", path) end
function Request:set_method(method) C.req_set(self._x, self._ns, "method", method) end
function Request:set_query(query) C.req_set(self._x, self._ns, "query", query) end

function Request:json()
  local decoded, err = require("cjson.safe").decode(self:body())
  return decoded, err
end

-- First value of a query parameter (decoded), or nil.
function Request:query(name) return httputil.query_value(self:raw_query(), name) end

function Request:cookie(name) return httputil.cookie_value(self:header("Cookie"), name) end

local Response = {}
Response.__index = Response

function Response:status() return C.resp_status(self._x, self._ns) end
function Response:set_status(code) C.resp_status(self._x, self._ns, code) end
function Response:header(name) return C.resp_header(self._x, self._ns, name) end
function Response:headers() return C.resp_headers(self._x, self._ns) end
function Response:header_lines() return C.header_list(self._x, self._ns, true) end
function Response:set_header(name, value) C.resp_header_op(self._x, self._ns, "set", name, tostring(value)) end
function Response:add_header(name, value) C.resp_header_op(self._x, self._ns, "add", name, tostring(value)) end
function Response:del_header(name) C.resp_header_op(self._x, self._ns, "del", name) end
function Response:set_body(body) C.resp_set_body(self._x, self._ns, body) end

-- The whole body; a streamed one (from a backend) is read first, which yields.
function Response:body()
  local state, body, err = C.resp_read_body(self._x, self._ns)
  if state == "done" then return body, err end
  return coroutine.yield("wait")
end

local Ctx = {}
-- ctx.vars is made on first use: most requests never touch it.
Ctx.__index = function(ctx, key)
  if key == "vars" then
    local vars = {}
    rawset(ctx, "vars", vars)
    return vars
  end
  return Ctx[key]
end

local M = {}

local function view(x, ns)
  return setmetatable({ _x = x, _ns = ns }, Request), setmetatable({ _x = x, _ns = ns }, Response)
end

function M.new(x, ns)
  local ctx = setmetatable({ _x = x, _views = {} }, Ctx)
  ctx:_use(ns)
  return ctx
end

-- A pooled coroutine's ctx starts over for its next request: same tables, new exchange,
-- no vars. (Views are rebound to the new exchange as they are used.)
function Ctx:_reset(x, ns)
  self._x = x
  rawset(self, "vars", nil)
  for _, v in pairs(self._views) do
    v.req._x, v.resp._x = x, x
  end
  self:_use(ns)
end

function Ctx:_use(ns)
  local v = self._views[ns]
  if not v then
    local req, resp = view(self._x, ns)
    v = { req = req, resp = resp }
    self._views[ns] = v
  end
  self._ns = ns
  self.req, self.resp = v.req, v.resp
end

-- The same view of another namespace (created empty if new).
function Ctx:namespace(name)
  local ns = C.namespace(self._x, name)
  local req, resp = view(self._x, ns)
  return setmetatable({ _x = self._x, _ns = ns, req = req, resp = resp, vars = self.vars, _views = self._views }, Ctx)
end

-- The value of a RadixTree route's `{name}` (or "EG_WILDCARD" for a final `*`), or nil;
-- read-only, the same for every namespace. An Ordered route has none.
function Ctx:path_param(name) return C.path_param(self._x, name) end
-- All of them as a new table { name = value }.
function Ctx:path_params() return C.path_params(self._x) end

-- A custom data item (admin API /customdata/{kind}/{id}) as a new table, or nil: what the
-- snapshot this request runs on holds.
function Ctx:custom_data(kind, id)
  local text = C.custom_data(self._x, tostring(kind), tostring(id))
  if text == nil then return nil end
  return (require("cjson.safe").decode(text))
end
-- A number that changes whenever any custom data changes (to key caches on).
function Ctx:custom_data_version() return C.custom_data_version(self._x) end

-- The request's trace (when its HTTPServer has `tracing`): the trace id (32 hex digits), the
-- gateway's server span id (16 hex digits) and whether the trace is sampled; nil otherwise.
function Ctx:trace_id() return (C.trace_ids(self._x)) end
function Ctx:span_id()
  local _, span = C.trace_ids(self._x)
  return span
end
function Ctx:trace_sampled()
  local _, _, sampled = C.trace_ids(self._x)
  return sampled
end

-- Set the whole response; returns the result "responded", which ends the flow unless a
-- jumpIf routes it.
function Ctx:respond(status, body, content_type)
  C.respond(self._x, self._ns, status, body or "", content_type)
  return "responded"
end

return M
