-- ResultBuilder: a template that renders to the filter's result ("" or result0..result9),
-- so a flow can branch on anything templates can see.
local builder = require "easegress.builder"

local RESULTS = { "buildErr", "unknown" }
for i = 0, 9 do RESULTS[#RESULTS + 1] = "result" .. i end

local M = {
  kind = "ResultBuilder",
  results = RESULTS,
  schema = {
    template = { type = "string", required = true },
    leftDelim = { type = "string" },
    rightDelim = { type = "string" },
  },
}

function M.new(spec)
  return setmetatable({ spec = spec, tpl = builder.compile(spec, spec.name) }, { __index = M })
end

function M:handle(ctx)
  local text, err = builder.render_text(self.tpl, ctx)
  if not text then
    eg.log.warn("ResultBuilder: " .. err)
    ctx:respond(500, "500 Internal Server Error\n")
    return "buildErr"
  end
  text = text:match("^%s*(.-)%s*$")
  if text == "" then return nil end
  if text:match("^result%d$") then return text end
  return "unknown"
end

return M
