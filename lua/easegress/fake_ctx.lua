-- easegress.fake_ctx: a ctx of the filter contract backed by plain Lua tables, for specs of a
-- filter's own logic. It needs nothing from easegress.c, so it runs under plain busted (Lua
-- 5.1 to 5.4, from the easegress-sdk rock) and inside the runtime (easegress-server --busted).
--
--   local fake = require "easegress.fake_ctx"
--   local ctx = fake.new{ method = "POST", path = "/users", query = "page=2", host = "api.local",
--                         headers = { ["X-Token"] = "abc", Accept = { "a/b", "c/d" } },
--                         body = "{}", client_ip = "10.0.0.1" }
--   local f = assert(fake.filter(require "my_filter", { header = "X-Added" }))
--   local result = f:handle(ctx)
--   ctx.resp:status(), ctx.resp:headers(), ctx.resp:body()   -- what the filter answered
--   fake.request_of(ctx)                                      -- the request as it goes on
--
-- The methods, defaults and checks are those of easegress.ctx over a real request (the
-- runtime's spec/fake_ctx_spec.lua compares the two): header names are case-insensitive and
-- several values of one header read back joined by ", " (headers() too, under the first
-- spelling; the runtime's headers() keeps differently spelled names apart);
-- set_header/add_header refuse a name that is not a token and a value with CR or LF;
-- set_path/set_method/set_query refuse what could not go into a request line; statuses
-- must be 100..999. ctx.resp:status() is 0 until something sets a response, as in the
-- runtime. What a fake cannot give: eg.http, eg.sleep, eg.shared and the other C-backed
-- eg.* functions, a streamed backend body, and a Pipeline around the filter (for those, run
-- the spec with easegress-server --busted and easegress.testing.run_pipeline).
local httputil = require "easegress.httputil"
local M = {}

local function lower(s) return string.lower(s) end

-- Header lists: { { name, value }, ... } in the order set, as the C side keeps them.
local function hget(list, name)
  name = lower(tostring(name))
  local out
  for _, h in ipairs(list) do
    if lower(h[1]) == name then out = out and (out .. ", " .. h[2]) or h[2] end
  end
  return out
end

local function hall(list)
  local out, spelled = {}, {}
  for _, h in ipairs(list) do
    local key = lower(h[1])
    local name = spelled[key]
    if name then
      out[name] = out[name] .. ", " .. h[2]
    else
      spelled[key] = h[1]
      out[h[1]] = h[2]
    end
  end
  return out
end

local function hdel(list, name)
  name = lower(name)
  local j = 0
  for i = 1, #list do
    local h = list[i]
    list[i] = nil
    if lower(h[1]) ~= name then
      j = j + 1
      list[j] = h
    end
  end
end

local function valid_token(s)
  return #s > 0 and not s:find("[%z\1-\32:\127-\255]")
end

local function str_arg(v, what)
  if type(v) == "number" then return tostring(v) end
  if type(v) ~= "string" then error(string.format("bad argument (%s): string expected, got %s", what, type(v)), 3) end
  return v
end

local function hop(list, op, name, value)
  name = str_arg(name, "header name")
  if not valid_token(name) then error(string.format("invalid header name %q", name), 3) end
  if op == "del" then return hdel(list, name) end
  value = str_arg(value, "header value")
  if value:find("[\r\n]") then error("header value of " .. name .. " contains CR or LF", 3) end
  if op == "set" then hdel(list, name) end
  list[#list + 1] = { name, value }
end

-- headers = { Name = "v" | { "v1", "v2" } } (or a list of { name, value } pairs) -> list
local function header_list(headers)
  local list = {}
  if headers == nil then return list end
  if headers[1] ~= nil then
    for _, h in ipairs(headers) do list[#list + 1] = { tostring(h[1]), tostring(h[2]) } end
    return list
  end
  local names = {}
  for name in pairs(headers) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local v = headers[name]
    if type(v) == "table" then
      for _, one in ipairs(v) do list[#list + 1] = { name, tostring(one) } end
    else
      list[#list + 1] = { name, tostring(v) }
    end
  end
  return list
end

-- What may go into a request line (the runtime's check).
local function valid_request_part(field, v)
  if field == "method" then return #v > 0 and not v:find("[^A-Z_%-]") end
  if field == "path" and v:sub(1, 1) ~= "/" then return false end
  if v:find("[%z\1-\32#\127]") then return false end
  if field == "path" and v:find("?", 1, true) then return false end
  return true
end

local function check_status(code)
  local n = tonumber(code)
  if not n then error("bad argument (status): number expected, got " .. type(code), 3) end
  n = n >= 0 and math.floor(n) or math.ceil(n)
  if n < 100 or n > 999 then error("invalid status " .. n, 3) end
  return n
end

---------------------------------------------------------------------------------------------
-- ctx.req

local Request = {}
Request.__index = Request

function Request:method() return self._r.method end
function Request:path() return self._r.path end
function Request:raw_query() return self._r.query end
function Request:host() return self._r.host end
function Request:scheme() return self._r.scheme or "http" end
function Request:proto() return self._r.proto end
function Request:client_ip() return self._r.client_ip end
function Request:header(name) return hget(self._r.headers, name) end
function Request:headers() return hall(self._r.headers) end
function Request:set_header(name, value) hop(self._r.headers, "set", name, tostring(value)) end
function Request:add_header(name, value) hop(self._r.headers, "add", name, tostring(value)) end
function Request:del_header(name) hop(self._r.headers, "del", name) end
function Request:body() return self._r.body or "" end

local function req_set(r, field, v)
  if v ~= nil then
    v = str_arg(v, field)
    if not valid_request_part(field, v) then
      error(string.format("invalid request %s %q (escape spaces and control characters)", field, v), 3)
    end
  elseif field == "method" or field == "path" then
    error("cannot set request field " .. field, 3)
  end
  r[field] = v
end

function Request:set_body(body)
  if body ~= nil then body = str_arg(body, "body") end
  self._r.body = body
end
function Request:set_path(path) req_set(self._r, "path", path) end
function Request:set_method(method) req_set(self._r, "method", method) end
function Request:set_query(query) req_set(self._r, "query", query) end

local json_decode = (function()
  local ok, cjson = pcall(require, "cjson.safe")
  if ok then return cjson.decode end
  return function(s)
    local ok2, json = pcall(require, "easegress.template.json")
    if not ok2 then return nil, "no JSON decoder (install lua-cjson)" end
    return json.decode(s)
  end
end)()

function Request:json() return json_decode(self:body()) end

-- First value of a query parameter (decoded), or nil.
function Request:query(name) return httputil.query_value(self:raw_query(), name) end

function Request:cookie(name) return httputil.cookie_value(self:header("Cookie"), name) end

---------------------------------------------------------------------------------------------
-- ctx.resp

local Response = {}
Response.__index = Response

-- Setting a body drops the framing headers of the old one, as the runtime does.
local function set_body(s, status, content_type, body)
  s.status = status
  s.body = body
  hdel(s.headers, "Content-Length")
  hdel(s.headers, "Transfer-Encoding")
  hdel(s.headers, "Content-Encoding")
  if content_type then hop(s.headers, "set", "Content-Type", content_type) end
end

function Response:status() return self._s.status end
function Response:set_status(code) self._s.status = check_status(code) end
function Response:header(name) return hget(self._s.headers, name) end
function Response:headers() return hall(self._s.headers) end
function Response:set_header(name, value) hop(self._s.headers, "set", name, tostring(value)) end
function Response:add_header(name, value) hop(self._s.headers, "add", name, tostring(value)) end
function Response:del_header(name) hop(self._s.headers, "del", name) end
function Response:set_body(body)
  body = str_arg(body, "body")
  set_body(self._s, self._s.status ~= 0 and self._s.status or 200, nil, body)
end
function Response:body() return self._s.body or "" end

---------------------------------------------------------------------------------------------
-- ctx

local Ctx = {}
Ctx.__index = Ctx

local function empty_namespace()
  return { req = { headers = {}, scheme = "http", proto = "HTTP/1.1", client_ip = "" },
           resp = { status = 0, headers = {} } }
end

local function view(state, name)
  local ns = state.namespaces[name]
  if not ns then
    ns = empty_namespace()
    state.namespaces[name] = ns
  end
  return setmetatable({
    _state = state, _name = name, vars = state.vars,
    req = setmetatable({ _r = ns.req }, Request),
    resp = setmetatable({ _s = ns.resp }, Response),
  }, Ctx)
end

-- The same view of another namespace (created empty if new); ctx.vars is shared.
function Ctx:namespace(name)
  return view(self._state, str_arg(name, "namespace"))
end

-- A RadixTree route's {name} values (opts.path_params), read-only, as in the runtime.
function Ctx:path_param(name) return self._state.path_params[name] end
function Ctx:path_params()
  local out = {}
  for k, v in pairs(self._state.path_params) do out[k] = v end
  return out
end

-- Custom data (opts.custom_data = { kind = { id = item } }), copied as the runtime decodes it.
local function copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = copy(x) end
  return out
end
function Ctx:custom_data(kind, id)
  local k = self._state.custom_data[tostring(kind)]
  return k and copy(k[tostring(id)]) or nil
end
function Ctx:custom_data_version() return self._state.custom_data_version end

-- The trace ids given to new() (opts.trace_id, opts.span_id, opts.trace_sampled), else nil.
function Ctx:trace_id() return self._state.trace_id end
function Ctx:span_id() return self._state.span_id end
function Ctx:trace_sampled() return self._state.trace_sampled end

-- Set the whole response; returns the result "responded".
function Ctx:respond(status, body, content_type)
  status = check_status(status)
  body = body ~= nil and str_arg(body, "body") or ""
  if content_type ~= nil then content_type = str_arg(content_type, "content type") end
  if content_type == nil and body ~= "" then content_type = "text/plain; charset=utf-8" end
  set_body(self.resp._s, status, content_type, body ~= "" and body or nil)
  return "responded"
end

---------------------------------------------------------------------------------------------
-- The module

-- A ctx for one request, in the namespace "DEFAULT" (or opts.namespace). opts: method
-- ("GET"), path ("/"), query (the raw query string, nil), host ("localhost"), scheme
-- ("http"), proto ("HTTP/1.1"), headers ({ Name = "v" | { "v1", "v2" } } or a list of
-- { name, value }), body (""), client_ip ("127.0.0.1"), path_params ({ name = value }, what
-- ctx:path_param reads), custom_data ({ kind = { id = item } }, what ctx:custom_data reads),
-- trace_id / span_id / trace_sampled (what ctx:trace_id() ... return; nil), and
-- resp = { status, headers, body } for a response already there (as a Proxy before the filter
-- would leave it).
function M.new(opts)
  opts = opts or {}
  local state = { namespaces = {}, vars = {}, path_params = {}, custom_data = opts.custom_data or {},
                  custom_data_version = 1, trace_id = opts.trace_id, span_id = opts.span_id }
  if opts.trace_id then state.trace_sampled = opts.trace_sampled ~= false end
  for k, v in pairs(opts.path_params or {}) do state.path_params[k] = tostring(v) end
  local name = opts.namespace or "DEFAULT"
  local ns = empty_namespace()
  state.namespaces[name] = ns
  local r = ns.req
  r.method = opts.method or "GET"
  r.path = opts.path or "/"
  r.query = opts.query
  r.host = opts.host or "localhost"
  r.scheme = opts.scheme or "http"
  r.proto = opts.proto or "HTTP/1.1"
  r.client_ip = opts.client_ip or "127.0.0.1"
  r.body = opts.body
  r.headers = header_list(opts.headers)
  if opts.resp then
    ns.resp.status = opts.resp.status or 200
    ns.resp.headers = header_list(opts.resp.headers)
    ns.resp.body = opts.resp.body
  end
  return view(state, name)
end

local function ns_of(ctx_or_view)
  local c = ctx_or_view
  if getmetatable(c) == Ctx then return c._state.namespaces[c._name] end
  if getmetatable(c) == Request then return { req = c._r } end
  if getmetatable(c) == Response then return { resp = c._s } end
  error("not a fake ctx: " .. tostring(c), 3)
end

local function copy_list(list)
  local out = {}
  for i, h in ipairs(list) do out[i] = { h[1], h[2] } end
  return out
end

-- The request of ctx (or of a ctx.req), as the next filter or the backend would get it:
-- { method, path, query, host, scheme, proto, client_ip, body, headers = { Name = "v1, v2" },
--   header_list = { { name, value }, ... } in order }. A copy: editing it changes nothing.
function M.request_of(c)
  local r = assert(ns_of(c).req, "request_of: a ctx or a ctx.req")
  return {
    method = r.method, path = r.path, query = r.query, host = r.host, scheme = r.scheme or "http",
    proto = r.proto, client_ip = r.client_ip, body = r.body or "",
    headers = hall(r.headers), header_list = copy_list(r.headers),
  }
end

-- The response of ctx (or of a ctx.resp): { status, body, headers, header_list }, a copy.
function M.response_of(c)
  local s = assert(ns_of(c).resp, "response_of: a ctx or a ctx.resp")
  return { status = s.status, body = s.body or "", headers = hall(s.headers), header_list = copy_list(s.headers) }
end

-- A filter instance as the runtime makes one: the spec checked against mod.schema (defaults
-- filled in), then mod.new(spec), or { spec = spec } over mod when it has no new().
-- Returns the instance, or nil and the schema error ("field: reason").
function M.filter(mod, spec)
  local checked, why = require("easegress.schema").check(mod.schema, spec or {})
  if not checked then return nil, why end
  local inst
  if mod.new then
    inst = mod.new(checked)
    if type(inst) ~= "table" then error("new() must return a table", 2) end
    if not inst.handle then setmetatable(inst, { __index = mod }) end
  else
    inst = setmetatable({ spec = checked }, { __index = mod })
  end
  return inst
end

return M
