-- easegress.testing: helpers for busted specs run by `easegress-server --busted DIR`.
local C = require "easegress.testing.c"
local eg = require "easegress"

local M = {}

-- Run a Pipeline (YAML or JSON text) on one request, in-process.
-- request: { method, path, query, host, headers = { name = value }, body, client_ip }
-- Returns { status, headers, body, result, trace } or nil, error.
function M.run_pipeline(yaml, request)
  return C.run_pipeline(yaml, request or {})
end

-- The error a Pipeline that must not build gives (fails the spec if it builds).
function M.build_error(yaml)
  local res, err = C.run_pipeline(yaml, {})
  assert(res == nil, "the pipeline was accepted")
  return err
end

-- The filters a run went through, as { "alias=result", ... } in order.
function M.steps(res)
  local steps = {}
  for step in (res.trace or ""):gmatch("([^;]+);") do
    steps[#steps + 1] = step
  end
  return steps
end

-- Start the mirror backend (examples/backend/mirror.py) on a port the system picks.
-- Returns the port and a function that stops it. Run specs from the repository root.
function M.start_mirror()
  local log = os.tmpname()
  local p = assert(io.popen(string.format(
    "/usr/bin/python3 examples/backend/mirror.py --ports 0 >%s 2>&1 & echo $!", log)))
  local pid = p:read("*l")
  p:close()
  local function stop()
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.remove(log)
  end
  for _ = 1, 200 do
    local f = io.open(log)
    local text = f and f:read("*a") or ""
    if f then f:close() end
    local port = text:match("listening on http://[%d%.]+:(%d+)")
    if port then return tonumber(port), stop end
    eg.sleep(25)
  end
  stop()
  error("the mirror backend did not start")
end

return M
