-- eg.http.request from specs and from filters, against the mirror backend the spec starts.
local testing = require "easegress.testing"

local PORT, stop_mirror

local function start_mirror()
  PORT, stop_mirror = testing.start_mirror()
end

describe("with a mirror backend", function()
setup(start_mirror)
teardown(function()
  if stop_mirror then stop_mirror() end
end)

describe("eg.http.request", function()

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

describe("eg.spawn and eg.wait", function()

  it("runs three waits in parallel, in the time of the slowest", function()
    local yaml = [[
name: spawn
kind: Pipeline
filters:
  - name: fan-out
    kind: Lua
    code: |
      local t0 = eg.time.monotonic_ms()
      local function nap(ms) eg.sleep(ms) return ms end
      local a, b, c = eg.wait(eg.spawn(nap, 100), eg.spawn(nap, 150), eg.spawn(nap, 200))
      local took = eg.time.monotonic_ms() - t0
      ctx:respond(200, string.format("%d %d %d %s", a, b, c, took < 300 and "parallel" or "serial:" .. took))
      return ""
]]
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal("100 150 200 parallel", res.body)
  end)

  it("makes backend calls in parallel tasks", function()
    local yaml = string.format([[
name: spawn-http
kind: Pipeline
filters:
  - name: fan-out
    kind: Lua
    code: |
      local function get(path)
        local res = eg.http.request{ url = "http://127.0.0.1:%d" .. path }
        return res and res.body:match("URL   : (%%S+)")
      end
      local a, b = eg.wait(eg.spawn(get, "/one"), eg.spawn(get, "/two"))
      ctx:respond(200, a .. " " .. b)
      return ""
]], PORT)
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal("/one /two", res.body)
  end)

  it("gives nil for a task that raised", function()
    local yaml = [[
name: spawn-err
kind: Pipeline
filters:
  - name: fan-out
    kind: Lua
    code: |
      local a, b = eg.wait(eg.spawn(function() error("no") end), eg.spawn(function() return 7 end))
      ctx:respond(200, tostring(a) .. " " .. tostring(b))
      return ""
]]
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal("nil 7", res.body)
  end)
end)
end)

describe("Proxy serverMaxBodySize", function()
  local port, stop
  setup(function() port, stop = testing.start_mirror() end)
  teardown(function() stop() end)

  local function pipeline(limit)
    return string.format([[
name: limited
kind: Pipeline
filters:
  - name: proxy
    kind: Proxy
    serverMaxBodySize: %d
    pools:
      - servers:
          - url: http://127.0.0.1:%d
]], limit, port)
  end

  it("answers 500 internalError for a response over the limit", function()
    local res = assert(testing.run_pipeline(pipeline(20)))
    assert.are.equal(500, res.status)
    assert.are.same({ "proxy=internalError" }, testing.steps(res))
  end)

  it("passes a response within the limit, and any with -1", function()
    assert.are.equal(200, assert(testing.run_pipeline(pipeline(100000))).status)
    assert.are.equal(200, assert(testing.run_pipeline(pipeline(-1))).status)
  end)
end)
