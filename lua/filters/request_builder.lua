-- RequestBuilder: builds the request of its namespace from a template (or copies the
-- request of `sourceNamespace`), for a Proxy in the same namespace to send.
local C = require "easegress.c"
local builder = require "easegress.builder"

local M = {
  kind = "RequestBuilder",
  results = { "buildErr" },
  schema = builder.builder_schema(),
}

local METHODS = { GET = true, HEAD = true, POST = true, PUT = true, PATCH = true, DELETE = true,
                  CONNECT = true, OPTIONS = true, TRACE = true }

function M.new(spec)
  builder.check_source(spec)
  return setmetatable({ spec = spec, tpl = builder.compile(spec, spec.name) }, { __index = M })
end

-- "http://host:port/path?q" or "/path?q" -> host (or nil), path, query (or nil)
local function split_url(url)
  local host, rest = url:match("^%a[%w+.-]*://([^/?#]*)(.*)$")
  if not host then rest = url end
  local path, query = rest:match("^([^?#]*)%??([^#]*)")
  if path == "" then path = "/" end
  return host, path, query ~= "" and query or nil
end

local function fail(ctx, why)
  eg.log.warn("RequestBuilder: " .. why)
  ctx:respond(500, "500 Internal Server Error\n")
  return "buildErr"
end

function M:handle(ctx)
  if self.spec.sourceNamespace then
    -- Easegress: a namespace without a request (or the active one) leaves things as they are
    local from = C.namespaces(ctx._x)[self.spec.sourceNamespace]
    if from == nil or from == ctx._ns or C.req_get(ctx._x, from, "method") == nil then return end
    C.copy(ctx._x, from, ctx._ns, "req")
    return
  end
  local out, err = builder.render_yaml(self.tpl, ctx)
  if not out then return fail(ctx, err) end
  if type(out) ~= "table" then return fail(ctx, "the template must produce a map") end
  -- Read the whole output first: a malformed one leaves the request as it was.
  local method, url, headers, body
  local ok, terr = pcall(function()
    method = builder.scalar(builder.field(out, "method"), "method") or ""
    url = builder.scalar(builder.field(out, "url"), "url") or ""
    headers = builder.headers(builder.field(out, "headers"))
    body = builder.scalar(builder.field(out, "body"), "body")
  end)
  if not ok then return fail(ctx, terr) end
  method = method == "" and "GET" or method:upper()
  if not METHODS[method] then return fail(ctx, "invalid method " .. method) end
  local host, path, query = split_url(url == "" and "/" or url)
  if path:sub(1, 1) ~= "/" then
    return fail(ctx, "the url must be absolute (http://host/path) or start with /: " .. url)
  end
  if path:find("[%s%c]") or (query and query:find("[%s%c]")) then
    return fail(ctx, "the url must be escaped (no spaces or control characters): " .. url)
  end
  -- Easegress: body wins over formData, which is not implemented here yet.
  if (body == nil or body == "") and builder.field(out, "formData") ~= nil then
    return fail(ctx, "formData is not implemented yet")
  end
  C.req_reset(ctx._x, ctx._ns)
  local req = ctx.req
  req:set_method(method)
  req:set_path(path)
  req:set_query(query)
  if host and host ~= "" then C.req_set(ctx._x, ctx._ns, "host", host) end
  builder.apply_headers(function(n, v) req:set_header(n, v) end,
    function(n, v) req:add_header(n, v) end, headers)
  if body ~= nil then req:set_body(body) end
end

return M
