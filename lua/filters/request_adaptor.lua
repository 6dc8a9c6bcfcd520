-- RequestAdaptor: edits the request of its namespace — method, path, headers, body, host,
-- gzip — statically or from a template (which wins over the static fields).
local C = require "easegress.c"
local builder = require "easegress.builder"
local adaptor = require "easegress.adaptor"
local re = require "easegress.re"

local M = {
  kind = "RequestAdaptor",
  results = { "decompressFailed", "compressFailed" },
  schema = {
    method = { type = "string" },
    path = { type = "table" },
    header = { type = "table" },
    body = { type = "string" },
    host = { type = "string" },
    compress = { type = "string" },
    decompress = { type = "string" },
    sign = { type = "table" },
    template = { type = "string" },
    leftDelim = { type = "string" },
    rightDelim = { type = "string" },
  },
}

local METHODS = { GET = true, HEAD = true, POST = true, PUT = true, PATCH = true, DELETE = true,
                  CONNECT = true, OPTIONS = true, TRACE = true }

local function check_path(p, what)
  if p == nil then return end
  if type(p) ~= "table" then error(what .. ": must be a map", 0) end
  for _, f in ipairs({ "addPrefix", "trimPrefix" }) do
    local v = p[f]
    if v ~= nil and (type(v) ~= "string" or (v ~= "" and v:sub(1, 1) ~= "/")) then
      error(what .. "." .. f .. ": must start with /", 0)
    end
  end
  local rr = p.regexpReplace
  if rr ~= nil then
    if type(rr) ~= "table" or type(rr.regexp) ~= "string" then
      error(what .. ".regexpReplace: needs regexp and replace", 0)
    end
    local ok, err = re.find("", rr.regexp)
    if ok == nil and err then error(what .. ".regexpReplace.regexp: " .. err, 0) end
  end
end

function M.new(spec)
  if spec.sign ~= nil then error("sign: request signing is not implemented yet", 0) end
  check_path(spec.path, "path")
  adaptor.check_header_spec(spec.header, "header")
  adaptor.check_codecs(spec)
  if spec.method ~= nil and spec.method ~= "" and not METHODS[spec.method] then
    error("method: invalid method " .. spec.method .. " (GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS or TRACE)", 0)
  end
  return setmetatable({ spec = spec, tpl = builder.compile(spec, spec.name) }, { __index = M })
end

-- Easegress's order: replace, else addPrefix, else trimPrefix, else regexpReplace.
-- A regexp that does not compile (from a template) leaves the path alone, as in Easegress.
local function adapt_path(p, path)
  if type(p) ~= "table" then return path end
  local replace = builder.scalar(builder.field(p, "replace"), "path.replace")
  if replace and replace ~= "" then return replace end
  local add = builder.scalar(builder.field(p, "addPrefix"), "path.addPrefix")
  if add and add ~= "" then return add .. path end
  local trim = builder.scalar(builder.field(p, "trimPrefix"), "path.trimPrefix")
  if trim and trim ~= "" then
    if path:sub(1, #trim) == trim then return path:sub(#trim + 1) end
    return path
  end
  local rr = builder.field(p, "regexpReplace")
  if rr ~= nil then
    if type(rr) ~= "table" then error("path.regexpReplace: must be a map", 0) end
    local pattern = builder.scalar(builder.field(rr, "regexp"), "path.regexpReplace.regexp")
    local repl = builder.scalar(builder.field(rr, "replace"), "path.regexpReplace.replace") or ""
    local new, err = re.gsub(path, pattern or "", repl)
    if not new then
      eg.log.warn("RequestAdaptor: path.regexpReplace: " .. tostring(err))
      return path
    end
    return new
  end
  return path
end

local function fail(ctx, why)
  eg.log.warn("RequestAdaptor: " .. why)
  ctx:respond(500, "500 Internal Server Error\n")
  return "buildErr"
end

-- A template's value, or the static one when the template leaves it out or empty
-- (Easegress: the template's field wins when it is not empty).
local function pick(out, name, static)
  local v = builder.field(out, name)
  if v == nil or v == "" then return static end
  return v
end

function M:handle(ctx)
  local spec = self.spec
  local method, path, header, body, host = spec.method, spec.path, spec.header, spec.body, spec.host
  if self.tpl then
    local out, err = builder.render_yaml(self.tpl, ctx)
    if not out then return fail(ctx, err) end
    if type(out) ~= "table" then return fail(ctx, "the template must produce a map") end
    local ok, terr = pcall(function()
      method = builder.scalar(pick(out, "method", method), "method")
      path = pick(out, "path", path)
      if type(path) ~= "table" and path ~= nil then error("path: must be a map", 0) end
      local h = builder.field(out, "header")
      if h ~= nil then header = adaptor.header_from_template(h) end
      body = builder.scalar(pick(out, "body", body), "body")
      host = builder.scalar(pick(out, "host", host), "host")
      if method and not method:match("^[%w!#$%%&'*+.^_`|~-]+$") then
        error("method: invalid method " .. method, 0)
      end
    end)
    if not ok then return fail(ctx, terr) end
  end
  -- Easegress's order: method, path, header, body, host, then compress or decompress.
  local req = ctx.req
  if method and method ~= "" then req:set_method(method:upper()) end
  if path then
    local ok, new = pcall(adapt_path, path, req:path())
    if not ok then return fail(ctx, new) end
    if new == "" then new = "/" end
    req:set_path(new)
  end
  adaptor.apply_header_spec(req, header)
  if body ~= nil and body ~= "" then adaptor.set_body(req, tostring(body)) end
  if host and host ~= "" then C.req_set(ctx._x, ctx._ns, "host", host) end
  if spec.compress == "gzip" and adaptor.compress(req) then return "compressFailed" end
  if spec.decompress == "gzip" and adaptor.decompress(req) then return "decompressFailed" end
end

return M
