-- ResponseBuilder: builds the response of its namespace from a template (or copies the
-- response of `sourceNamespace`).
local C = require "easegress.c"
local builder = require "easegress.builder"

local M = {
  kind = "ResponseBuilder",
  results = { "buildErr" },
  schema = builder.builder_schema(),
}

function M.new(spec)
  builder.check_source(spec)
  return setmetatable({ spec = spec, tpl = builder.compile(spec, spec.name) }, { __index = M })
end

local function fail(ctx, why)
  eg.log.warn("ResponseBuilder: " .. why)
  ctx:respond(500, "500 Internal Server Error\n")
  return "buildErr"
end

function M:handle(ctx)
  if self.spec.sourceNamespace then
    -- Easegress: a namespace without a response (or the active one) leaves things as they are
    local from = C.namespaces(ctx._x)[self.spec.sourceNamespace]
    if from == nil or from == ctx._ns or C.resp_status(ctx._x, from) == 0 then return end
    ctx:namespace(self.spec.sourceNamespace).resp:body() -- a streamed body is read first
    C.copy(ctx._x, from, ctx._ns, "resp")
    return
  end
  local out, err = builder.render_yaml(self.tpl, ctx)
  if not out then return fail(ctx, err) end
  if type(out) ~= "table" then return fail(ctx, "the template must produce a map") end
  -- Read the whole output first: a malformed one leaves the response as it was.
  local status, headers, body
  local ok, terr = pcall(function()
    status = builder.field(out, "statusCode")
    headers = builder.headers(builder.field(out, "headers"))
    body = builder.scalar(builder.field(out, "body"), "body")
  end)
  if not ok then return fail(ctx, terr) end
  status = tonumber(status or 0)
  if status == 0 then status = 200 end -- Easegress: 0 (or none) is 200
  if not status or status < 200 or status > 599 or status ~= math.floor(status) then
    return fail(ctx, "statusCode must be 200..599")
  end
  C.resp_reset(ctx._x, ctx._ns, status)
  local resp = ctx.resp
  builder.apply_headers(function(n, v) resp:set_header(n, v) end,
    function(n, v) resp:add_header(n, v) end, headers)
  resp:set_body(body or "")
end

return M
