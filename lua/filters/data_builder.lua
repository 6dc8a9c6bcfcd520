-- DataBuilder: renders a template to a YAML value stored as .data.<dataKey> for the
-- templates of later filters.
local builder = require "easegress.builder"
local template_data = require "easegress.template_data"

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

-- The output is read as Go's yaml.v2 reads it into interface{}: integers are Go ints
-- ({{.data.k.n}} of 1000000 prints 1000000; eq with an int works), nothing or null is nil.
function M:handle(ctx)
  local text, err = builder.render_text(self.tpl, ctx)
  local value
  if text then
    local yerr
    value, yerr = template_data.decode_yaml(text)
    if yerr then err = "the template's output is not valid YAML: " .. yerr end
  end
  if err then
    eg.log.warn("DataBuilder: " .. err)
    ctx:respond(500, "500 Internal Server Error\n")
    return "buildErr"
  end
  builder.data(ctx)[self.spec.dataKey] = value
end

return M
