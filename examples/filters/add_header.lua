-- add_header.lua: a Lua filter module, usable as `kind: AddHeader` in any Pipeline once the
-- server is started with `--filter-dir examples/filters`.
--
-- It sets a request header (`header`, `value`) before the request goes on, unless the
-- client sent the header named by `blockHeader`: then it answers 403 itself and returns
-- the result "blocked", which a Pipeline's jumpIf may route on.
local M = {
  kind = "AddHeader",
  -- The results this kind may return; jumpIf keys are checked against this list.
  results = { "blocked" },
  -- Checked when the Pipeline is submitted: types, required fields, defaults.
  schema = {
    header      = { type = "string", required = true },
    value       = { type = "string", default = "on" },
    blockHeader = { type = "string", default = "X-Block" },
  },
}

-- Called with the filter's spec (after the schema check: defaults filled in) once per
-- worker, and once more when the Pipeline is submitted.
function M.new(spec)
  return setmetatable({ spec = spec }, { __index = M })
end

-- Called for every request, inside the request's coroutine.
function M:handle(ctx)
  if ctx.req:header(self.spec.blockHeader) then
    ctx:respond(403, "blocked: " .. self.spec.blockHeader .. " is set\n")
    return "blocked"
  end
  ctx.req:set_header(self.spec.header, self.spec.value)
  -- nil (or "") lets the flow go on to the next filter
end

return M
