-- easegress.testing: helpers for busted specs run by `easegress-server --busted DIR`.
local C = require "easegress.testing.c"

local M = {}

-- Run a Pipeline (YAML or JSON text) on one request, in-process.
-- request: { method, path, query, host, headers = { name = value }, body, client_ip }
-- Returns { status, headers, body, result, trace } or nil, error.
function M.run_pipeline(yaml, request)
  return C.run_pipeline(yaml, request or {})
end

-- The filters a run went through, as { "alias=result", ... } in order.
function M.steps(res)
  local steps = {}
  for step in (res.trace or ""):gmatch("([^;]+);") do
    steps[#steps + 1] = step
  end
  return steps
end

return M
