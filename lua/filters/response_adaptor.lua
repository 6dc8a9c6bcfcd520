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

local function fail(ctx, why)
  eg.log.warn("ResponseAdaptor: " .. why)
  ctx:respond(500, "500 Internal Server Error\n")
  return "buildErr"
end

function M:handle(ctx)
  local resp = ctx.resp
  if resp:status() == 0 then return "responseNotFound" end
  local spec = self.spec
  local header, body = spec.header, spec.body
  if self.tpl then
    local out, err = builder.render_yaml(self.tpl, ctx)
    if not out then return fail(ctx, err) end
    if type(out) ~= "table" then return fail(ctx, "the template must produce a map") end
    local ok, terr = pcall(function()
      local h = builder.field(out, "header")
      if h ~= nil then header = adaptor.header_from_template(h) end
      -- the template's body wins when it is not empty (Easegress)
      local b = builder.field(out, "body")
      if b ~= nil and b ~= "" then body = builder.scalar(b, "body") end
    end)
    if not ok then return fail(ctx, terr) end
  end
  -- Easegress's order: header, body, then compress or decompress.
  adaptor.apply_header_spec(resp, header)
  if body ~= nil and body ~= "" then adaptor.set_body(resp, tostring(body)) end
  if spec.compress == "gzip" and adaptor.compress(resp) then return "compressFailed" end
  if spec.decompress == "gzip" and adaptor.decompress(resp) then return "decompressFailed" end
end

return M
