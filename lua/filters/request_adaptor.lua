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

local function check_path(p, what)
  if p == nil then return end
  if type(p) ~= "table" then error(what .. ": must be a map", 0) end
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
  if spec.method ~= nil and not spec.method:match("^%u+$") then error("method: invalid method", 0) end
  return setmetatable({ spec = spec, tpl = builder.compile(spec, spec.name) }, { __index = M })
end

-- Easegress's order: replace, else addPrefix, else trimPrefix, else regexpReplace.
local function adapt_path(p, path)
  if type(p) ~= "table" then return path end
  if p.replace and p.replace ~= "" then return p.replace end
  if p.addPrefix and p.addPrefix ~= "" then return p.addPrefix .. path end
  if p.trimPrefix and p.trimPrefix ~= "" then
    if path:sub(1, #p.trimPrefix) == p.trimPrefix then return path:sub(#p.trimPrefix + 1) end
    return path
  end
  if p.regexpReplace then
    return (re.gsub(path, p.regexpReplace.regexp, p.regexpReplace.replace or ""))
  end
  return path
end

function M:handle(ctx)
  local spec = self.spec
  local method, path, header, body, host = spec.method, spec.path, spec.header, spec.body, spec.host
  if self.tpl then
    local out, err = builder.render_yaml(self.tpl, ctx)
    if not out then
      eg.log.warn("RequestAdaptor: " .. err)
      return ctx:respond(500, "500 Internal Server Error\n")
    end
    method = builder.field(out, "method") or method
    path = builder.field(out, "path") or path
    header = builder.field(out, "header") or header
    body = builder.field(out, "body") or body
    host = builder.field(out, "host") or host
  end
  -- Easegress's order: method, path, header, body, host, then compress or decompress.
  local req = ctx.req
  if method and method ~= "" then req:set_method(method:upper()) end
  if path then
    local new = adapt_path(path, req:path())
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
