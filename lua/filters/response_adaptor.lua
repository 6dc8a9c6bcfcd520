-- ResponseAdaptor: edits the response of its namespace — headers, body, gzip — statically
-- or from a template (which wins over the static fields).
local builder = require "easegress.builder"
local adaptor = require "easegress.adaptor"

local M = {
  kind = "ResponseAdaptor",
  results = { "responseNotFound", "compressFailed", "decompressFailed" },
  schema = {
    header = { type = "table" },
    body = { type = "string" },
    compress = { type = "string" },
    decompress = { type = "string" },
    template = { type = "string" },
    leftDelim = { type = "string" },
    rightDelim = { type = "string" },
  },
}

function M.new(spec)
  adaptor.check_header_spec(spec.header, "header")
  adaptor.check_codecs(spec)
  return setmetatable({ spec = spec, tpl = builder.compile(spec, spec.name) }, { __index = M })
end

function M:handle(ctx)
  local resp = ctx.resp
  if resp:status() == 0 then return "responseNotFound" end
  local spec = self.spec
  local header, body = spec.header, spec.body
  if self.tpl then
    local out, err = builder.render_yaml(self.tpl, ctx)
    if not out then
      eg.log.warn("ResponseAdaptor: " .. err)
      return ctx:respond(500, "500 Internal Server Error\n")
    end
    header = builder.field(out, "header") or header
    body = builder.field(out, "body") or body
  end
  -- Easegress's order: header, body, then compress or decompress.
  adaptor.apply_header_spec(resp, header)
  if body ~= nil and body ~= "" then adaptor.set_body(resp, tostring(body)) end
  if spec.compress == "gzip" and adaptor.compress(resp) then return "compressFailed" end
  if spec.decompress == "gzip" and adaptor.decompress(resp) then return "decompressFailed" end
end

return M
