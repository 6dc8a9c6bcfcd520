-- DataBuilder: renders a template to a YAML value stored as .data.<dataKey> for the
-- templates of later filters.
local builder = require "easegress.builder"

local M = {
  kind = "DataBuilder",
  results = { "buildErr" },
  schema = {
    dataKey = { type = "string", required = true },
    template = { type = "string", required = true },
    leftDelim = { type = "string" },
    rightDelim = { type = "string" },
  },
}

function M.new(spec)
  if spec.dataKey == "" then error("dataKey: must not be empty", 0) end
  return setmetatable({ spec = spec, tpl = builder.compile(spec, spec.name) }, { __index = M })
end

function M:handle(ctx)
  local value, err = builder.render_yaml(self.tpl, ctx)
  if err then
    eg.log.warn("DataBuilder: " .. err)
    ctx:respond(500, "500 Internal Server Error\n")
    return "buildErr"
  end
  builder.data(ctx)[self.spec.dataKey] = value
end

return M
