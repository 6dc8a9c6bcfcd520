-- ResultBuilder: a template that renders to the filter's result ("" or result0..result9),
-- so a flow can branch on anything templates can see.
local C = require "easegress.c"
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

-- The output is read as YAML into a Go string, as Easegress does: surrounding blanks,
-- quotes and comments go ('result1', "result1", result1 # why); null or nothing is "";
-- a map or a list is buildErr.
function M:handle(ctx)
  local text, err = builder.render_text(self.tpl, ctx)
  local value
  if text and not text:match("^%s*$") then
    local yerr
    value, yerr = C.yaml_decode(text)
    if yerr then err = "the template's output is not valid YAML: " .. yerr end
  end
  if not err and type(value) == "table" then err = "the template must produce a string, not a map or list" end
  if err then
    eg.log.warn("ResultBuilder: " .. err)
    ctx:respond(500, "500 Internal Server Error\n")
    return "buildErr"
  end
  local result = builder.scalar(value, "result") or ""
  if result == "" then return nil end
  if result:match("^result%d$") then return result end
  return "unknown"
end

return M
