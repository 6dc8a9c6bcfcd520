-- eg.http.request from specs and from filters, against the mirror backend the spec starts.
local testing = require "easegress.testing"

local PORT = 39000 + (os.time() % 500)
local mirror_pid

local function start_mirror()
  local p = io.popen(string.format(
    "/usr/bin/python3 examples/backend/mirror.py --ports %d >/dev/null 2>&1 & echo $!", PORT))
  mirror_pid = p:read("*l")
  p:close()
  for _ = 1, 100 do
    local res = eg.http.request{ url = "http://127.0.0.1:" .. PORT .. "/", timeout = 200 }
    if res then return end
    eg.sleep(50)
  end
  error("mirror backend did not start")
end

describe("eg.http.request", function()
  setup(start_mirror)
  teardown(function()
    if mirror_pid then os.execute("kill " .. mirror_pid) end
  end)

  it("calls a backend from a spec and returns status, headers and body", function()
    local res, err = eg.http.request{
      url = "http://127.0.0.1:" .. PORT .. "/hello?x=1", headers = { ["X-A"] = "b" } }
    assert.is_nil(err)
    assert.are.equal(200, res.status)
    assert.matches("URL   : /hello%?x=1", res.body)
    assert.matches("X%-A:%[b%]", res.body)
    assert.are.equal(tostring(PORT), res.headers["x-mirror-port"])
  end)

  it("sends a body with its length", function()
    local res = assert(eg.http.request{
      method = "POST", url = "http://127.0.0.1:" .. PORT .. "/p", body = "ping" })
    assert.matches("Body  : ping", res.body)
    assert.matches("Method: POST", res.body)
  end)

  it("reports a refused connection", function()
    local res, err = eg.http.request{ url = "http://127.0.0.1:1/" }
    assert.is_nil(res)
    assert.are.equal("connection refused", err)
  end)

  it("rejects a url it cannot use", function()
    local res, err = eg.http.request{ url = "ftp://x/" }
    assert.is_nil(res)
    assert.matches("http://", err)
  end)

  it("yields a filter's coroutine and resumes it with the answer", function()
    local yaml = string.format([[
name: http-from-filter
kind: Pipeline
filters:
  - name: call
    kind: Lua
    code: |
      local res, err = eg.http.request{ url = "http://127.0.0.1:%d/inner" }
      if not res then return ctx:respond(502, err) end
      ctx:respond(200, "inner status " .. res.status .. " from " .. res.headers["X-Mirror-Port"])
      return ""
]], PORT)
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(200, res.status)
    assert.are.equal("inner status 200 from " .. PORT, res.body)
  end)
end)
