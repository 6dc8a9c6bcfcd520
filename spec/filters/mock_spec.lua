-- Mock (lua/filters/mock.lua): rules, first match, headers matchers, delay, spec checks.
local testing = require "easegress.testing"

-- A Pipeline: the Mock filter (its fields as YAML lines) then a Lua filter answering "next".
local function pipeline(mock_yaml)
  local lines = {
    "name: mock-spec", "kind: Pipeline", "filters:",
    "  - name: mock", "    kind: Mock",
  }
  for line in (mock_yaml .. "\n"):gmatch("([^\n]*)\n") do
    lines[#lines + 1] = "    " .. line
  end
  lines[#lines + 1] = "  - name: next"
  lines[#lines + 1] = "    kind: Lua"
  lines[#lines + 1] = '    code: ctx:respond(200, "next")'
  return table.concat(lines, "\n") .. "\n"
end

local function run(mock_yaml, req)
  return assert(testing.run_pipeline(pipeline(mock_yaml), req or {}))
end

local RULES = [[
rules:
  - match: { path: /exact }
    code: 201
    headers: { X-Mock: exact, Content-Type: application/json }
    body: '{"ok":true}'
  - match: { pathPrefix: /pre }
    code: 202
    body: prefix
  - match: { path: "/a b" }
    code: 203
  - match: { pathPrefix: /pre }
    code: 500
]]

describe("Mock", function()
  it("answers the first rule whose path matches exactly", function()
    local res = run(RULES, { path = "/exact" })
    assert.are.equal(201, res.status)
    assert.are.equal('{"ok":true}', res.body)
    assert.are.equal("exact", res.headers["X-Mock"])
    assert.are.equal("application/json", res.headers["Content-Type"])
    assert.are.equal("mocked", res.result)
    assert.are.same({ "mock=mocked" }, testing.steps(res))
  end)

  it("matches a path prefix, first matching rule only", function()
    local res = run(RULES, { path = "/prefix/x" })
    assert.are.equal(202, res.status)
    assert.are.equal("prefix", res.body)
    assert.are.equal("text/plain; charset=utf-8", res.headers["Content-Type"])
  end)

  it("matches the decoded path", function()
    local res = run(RULES, { path = "/a%20b" })
    assert.are.equal(203, res.status)
    assert.are.equal("", res.body)
    assert.is_nil(res.headers["Content-Type"])
  end)

  it("goes on with an empty result when no rule matches", function()
    local res = run(RULES, { path = "/other" })
    assert.are.equal(200, res.status)
    assert.are.equal("next", res.body)
    assert.are.same({ "mock=", "next=" }, testing.steps(res))
  end)

  it("an empty match matches everything", function()
    local res = run("rules:\n  - match: {}\n    code: 418\n    body: teapot", { path = "/anything" })
    assert.are.equal(418, res.status)
    assert.are.equal("teapot", res.body)
  end)

  it("no rules: never mocks", function()
    local res = run("rules: []")
    assert.are.equal("next", res.body)
  end)

  it("replaces the response an earlier filter left", function()
    local yaml = [[
name: mock-spec
kind: Pipeline
filters:
  - name: before
    kind: Lua
    code: |
      ctx:respond(500, "old")
      ctx.resp:set_header("X-Old", "1")
  - name: mock
    kind: Mock
    rules:
      - match: {}
        code: 200
        body: new
]]
    local res = assert(testing.run_pipeline(yaml, {}))
    assert.are.equal(200, res.status)
    assert.are.equal("new", res.body)
    assert.is_nil(res.headers["X-Old"])
  end)

  describe("header matchers", function()
    local ANY = [[
rules:
  - match:
      headers:
        X-Exact: { exact: yes }
        X-Prefix: { prefix: "abc" }
        X-Regex: { regex: "^v[0-9]+$" }
    code: 200
    body: any
]]
    it("matches when any header matches (matchAllHeaders false)", function()
      assert.are.equal("any", run(ANY, { headers = { ["X-Exact"] = "yes" } }).body)
      assert.are.equal("any", run(ANY, { headers = { ["x-prefix"] = "abcdef" } }).body)
      assert.are.equal("any", run(ANY, { headers = { ["X-Regex"] = "v12" } }).body)
      assert.are.equal("next", run(ANY, { headers = { ["X-Regex"] = "v12x", ["X-Exact"] = "no" } }).body)
      assert.are.equal("next", run(ANY).body)
    end)

    local ALL = [[
rules:
  - match:
      matchAllHeaders: true
      headers:
        X-Exact: { exact: yes }
        X-Absent: { empty: true }
    code: 200
    body: all
]]
    it("needs every header with matchAllHeaders", function()
      assert.are.equal("all", run(ALL, { headers = { ["X-Exact"] = "yes" } }).body)
      assert.are.equal("next", run(ALL, { headers = { ["X-Exact"] = "yes", ["X-Absent"] = "" } }).body)
      assert.are.equal("next", run(ALL, { headers = { ["X-Exact"] = "no" } }).body)
    end)

    it("empty matches an absent header only", function()
      local yaml = "rules:\n  - match:\n      headers:\n        X-A: { empty: true }\n    code: 204"
      assert.are.equal(204, run(yaml).status)
      assert.are.equal(200, run(yaml, { headers = { ["X-A"] = "" } }).status)
    end)

    it("looks at each header line on its own", function()
      local yaml = "rules:\n  - match:\n      headers:\n        X-A: { exact: two }\n    code: 204"
      local res = run(yaml, { headers = { ["X-A"] = "one", ["x-a"] = "two" } })
      assert.are.equal(204, res.status)
    end)

    it("accepts a regex that matches the empty string", function()
      local yaml = "rules:\n  - match:\n      headers:\n        X-A: { regex: '^$' }\n    code: 204"
      assert.are.equal(204, run(yaml, { headers = { ["X-A"] = "" } }).status)
      assert.are.equal(200, run(yaml, { headers = { ["X-A"] = "a" } }).status)
    end)

    it("also combines path and headers", function()
      local yaml = "rules:\n  - match:\n      path: /p\n      headers:\n        X-A: { exact: a }\n    code: 204"
      assert.are.equal(204, run(yaml, { path = "/p", headers = { ["X-A"] = "a" } }).status)
      assert.are.equal(200, run(yaml, { path = "/q", headers = { ["X-A"] = "a" } }).status)
      assert.are.equal(200, run(yaml, { path = "/p" }).status)
    end)
  end)

  it("waits the delay before answering", function()
    local t = eg.time.monotonic_ms()
    local res = run("rules:\n  - match: {}\n    code: 200\n    body: slow\n    delay: 30ms")
    assert.are.equal("slow", res.body)
    assert.is_true(eg.time.monotonic_ms() - t >= 29)
  end)

  describe("spec checks", function()
    local function err_of(mock_yaml) return testing.build_error(pipeline(mock_yaml), {}) end

    it("refuses a rule without match or code", function()
      assert.matches("rules%[0%]%.match: required", err_of("rules:\n  - code: 200"))
      assert.matches("rules%[1%]%.code: required", err_of("rules:\n  - match: {}\n    code: 200\n  - match: {}"))
    end)

    it("refuses a bad code", function()
      assert.matches("rules%[0%]%.code: invalid http code", err_of("rules:\n  - match: {}\n    code: 99"))
      assert.matches("rules%[0%]%.code: invalid http code", err_of("rules:\n  - match: {}\n    code: 600"))
      assert.matches("rules%[0%]%.code: expected integer", err_of("rules:\n  - match: {}\n    code: '200'"))
    end)

    it("refuses a bad delay", function()
      assert.matches("rules%[0%]%.delay: invalid duration", err_of("rules:\n  - match: {}\n    code: 200\n    delay: 1d"))
      assert.matches("rules%[0%]%.delay: invalid duration", err_of("rules:\n  - match: {}\n    code: 200\n    delay: '10'"))
    end)

    it("refuses paths that do not start with /", function()
      assert.matches("match%.path: must start with /", err_of("rules:\n  - match: { path: x }\n    code: 200"))
      assert.matches("match%.pathPrefix: must start with /", err_of("rules:\n  - match: { pathPrefix: x }\n    code: 200"))
    end)

    it("refuses bad string matchers", function()
      assert.matches("headers%.X%-A: all patterns are empty",
        err_of("rules:\n  - match: { headers: { X-A: {} } }\n    code: 200"))
      assert.matches("headers%.X%-A: empty is conflict with other patterns",
        err_of("rules:\n  - match: { headers: { X-A: { empty: true, exact: a } } }\n    code: 200"))
      assert.matches("headers%.X%-A%.regex: invalid regular expression",
        err_of("rules:\n  - match: { headers: { X-A: { regex: '(' } } }\n    code: 200"))
    end)

    it("refuses bad response headers", function()
      assert.matches("rules%[0%]%.headers%.X%-A: expected string",
        err_of("rules:\n  - match: {}\n    code: 200\n    headers: { X-A: [1] }"))
      assert.matches("invalid header name",
        err_of("rules:\n  - match: {}\n    code: 200\n    headers: { 'X A': b }"))
    end)

    it("refuses rules that are not a list", function()
      assert.matches("rules: expected array", err_of("rules: { a: 1 }"))
    end)
  end)
end)
