-- Flow semantics of a Pipeline (reference/easegress-spec.md §1.3), through the real builder
-- and flow runner, in-process.
local testing = require "easegress.testing"

-- A pipeline of inline Lua filters; `filters` is a list of { name, code, results }.
local function pipeline(flow, filters)
  local lines = { "name: spec-pipeline", "kind: Pipeline" }
  if flow then
    lines[#lines + 1] = "flow:"
    for _, node in ipairs(flow) do
      lines[#lines + 1] = "  - filter: " .. node.filter
      if node.alias then lines[#lines + 1] = "    alias: " .. node.alias end
      if node.namespace then lines[#lines + 1] = "    namespace: " .. node.namespace end
      if node.jumpIf then
        lines[#lines + 1] = "    jumpIf:"
        for k, v in pairs(node.jumpIf) do
          lines[#lines + 1] = string.format("      %q: %s", k, v)
        end
      end
    end
  end
  lines[#lines + 1] = "filters:"
  for _, f in ipairs(filters) do
    lines[#lines + 1] = "  - name: " .. f.name
    lines[#lines + 1] = "    kind: Lua"
    if f.results then
      lines[#lines + 1] = "    results: [" .. table.concat(f.results, ", ") .. "]"
    end
    lines[#lines + 1] = "    code: |"
    for line in (f.code .. "\n"):gmatch("([^\n]*)\n") do
      lines[#lines + 1] = "      " .. line
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

-- A filter that appends its name to X-Steps and returns `result`.
local function step(name, result, results)
  local code = string.format(
    'ctx.resp:set_status(200)\nctx.resp:set_header("X-Steps", (ctx.resp:header("X-Steps") or "") .. "%s,")', name)
  if result then code = code .. string.format('\nreturn %q', result) end
  return { name = name, code = code, results = results }
end

describe("pipeline flow", function()
  it("runs filters in definition order without a flow", function()
    local res = assert(testing.run_pipeline(pipeline(nil, { step("a"), step("b"), step("c") })))
    assert.are.equal("a,b,c,", res.headers["X-Steps"])
    assert.are.same({ "a=", "b=", "c=" }, testing.steps(res))
  end)

  it("follows the flow order, not the definition order", function()
    local res = assert(testing.run_pipeline(pipeline(
      { { filter = "c" }, { filter = "a" } }, { step("a"), step("b"), step("c") })))
    assert.are.equal("c,a,", res.headers["X-Steps"])
  end)

  it("jumps forward on a mapped result", function()
    local res = assert(testing.run_pipeline(pipeline(
      { { filter = "a", jumpIf = { skip = "c" } }, { filter = "b" }, { filter = "c" } },
      { step("a", "skip", { "skip" }), step("b"), step("c") })))
    assert.are.equal("a,c,", res.headers["X-Steps"])
    assert.are.same({ "a=skip", "c=" }, testing.steps(res))
  end)

  it("stops at END", function()
    local res = assert(testing.run_pipeline(pipeline(
      { { filter = "a" }, { filter = "END" }, { filter = "b" } }, { step("a"), step("b") })))
    assert.are.equal("a,", res.headers["X-Steps"])
  end)

  it("jumps to END on a mapped result", function()
    local res = assert(testing.run_pipeline(pipeline(
      { { filter = "a", jumpIf = { done = "END" } }, { filter = "b" } },
      { step("a", "done", { "done" }), step("b") })))
    assert.are.equal("a,", res.headers["X-Steps"])
    assert.are.equal("done", res.result)
  end)

  it("stops on an unmapped non-empty result", function()
    local res = assert(testing.run_pipeline(pipeline(
      { { filter = "a" }, { filter = "b" } }, { step("a", "oops", { "oops" }), step("b") })))
    assert.are.equal("a,", res.headers["X-Steps"])
    assert.are.equal("oops", res.result)
  end)

  it("routes the empty result through jumpIf", function()
    local res = assert(testing.run_pipeline(pipeline(
      { { filter = "a", jumpIf = { [""] = "c" } }, { filter = "b" }, { filter = "c" } },
      { step("a"), step("b"), step("c") })))
    assert.are.equal("a,c,", res.headers["X-Steps"])
  end)

  it("runs one filter twice under an alias", function()
    local res = assert(testing.run_pipeline(pipeline(
      { { filter = "a" }, { filter = "b" }, { filter = "a", alias = "a2" } }, { step("a"), step("b") })))
    assert.are.equal("a,b,a,", res.headers["X-Steps"])
    assert.are.same({ "a=", "b=", "a2=" }, testing.steps(res))
  end)

  it("gives each namespace its own request and response", function()
    local res = assert(testing.run_pipeline(pipeline(
      { { filter = "build", namespace = "other" }, { filter = "read" } },
      {
        { name = "build", code = 'ctx.req:set_header("X-Ns", "other")\nctx.resp:set_status(201)' },
        { name = "read", code = table.concat({
          'local other = ctx:namespace("other")',
          'ctx:respond(200, (other.req:header("X-Ns") or "none") .. " " .. other.resp:status() ..',
          '  " " .. tostring(ctx.req:header("X-Ns")))',
          'return ""' }, "\n") },
      })))
    assert.are.equal(200, res.status)
    assert.are.equal("other 201 nil", res.body)
  end)

  it("answers 500 when a filter raises, and keeps working", function()
    local yaml = pipeline(nil, { { name = "boom", code = 'error("kaboom")' }, step("after") })
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(500, res.status)
    assert.is_nil(res.headers["X-Steps"])
    local again = assert(testing.run_pipeline(pipeline(nil, { step("ok") })))
    assert.are.equal("ok,", again.headers["X-Steps"])
  end)

  it("keeps ctx.vars across the filters of a request", function()
    local res = assert(testing.run_pipeline(pipeline(nil, {
      { name = "set", code = 'ctx.vars.n = 41' },
      { name = "use", code = 'ctx:respond(200, tostring(ctx.vars.n + 1))\nreturn ""' },
    })))
    assert.are.equal("42", res.body)
  end)

  it("waits in eg.sleep without losing the request", function()
    local res = assert(testing.run_pipeline(pipeline(nil, {
      { name = "nap", code = 'local t = eg.time.monotonic_ms()\neg.sleep(20)\nctx.vars.slept = eg.time.monotonic_ms() - t' },
      { name = "say", code = 'ctx:respond(200, ctx.vars.slept >= 19 and "slept" or "early")\nreturn ""' },
    })))
    assert.are.equal("slept", res.body)
  end)
end)

describe("pipeline validation", function()
  it("rejects a jumpIf on a result the filter does not declare", function()
    local res, err = testing.run_pipeline(pipeline(
      { { filter = "a", jumpIf = { nope = "END" } } }, { step("a") }))
    assert.is_nil(res)
    assert.matches('has no result "nope"', err)
  end)

  it("rejects a backward jump", function()
    local res, err = testing.run_pipeline(pipeline(
      { { filter = "a" }, { filter = "b", jumpIf = { back = "a" } } }, { step("a"), step("b", nil, { "back" }) }))
    assert.is_nil(res)
    assert.matches("not END or an alias after this filter", err)
  end)

  it("rejects a flow naming an undefined filter", function()
    local res, err = testing.run_pipeline(pipeline({ { filter = "ghost" } }, { step("a") }))
    assert.is_nil(res)
    assert.matches('filter "ghost" is not defined', err)
  end)

  it("rejects duplicate aliases", function()
    local res, err = testing.run_pipeline(pipeline({ { filter = "a" }, { filter = "a" } }, { step("a") }))
    assert.is_nil(res)
    assert.matches("duplicate alias", err)
  end)

  it("rejects duplicate filter names", function()
    local res, err = testing.run_pipeline(pipeline(nil, { step("a"), step("a") }))
    assert.is_nil(res)
    assert.matches("duplicate filter name", err)
  end)

  it("rejects Lua that does not compile, with its line", function()
    local res, err = testing.run_pipeline(pipeline(nil, { { name = "bad", code = "local x = \nif then" } }))
    assert.is_nil(res)
    assert.matches("bad:2:", err)
  end)
end)

describe("Proxy results", function()
  it("gives serverError and 502 when the backend refuses", function()
    local yaml = [[
name: spec-proxy
kind: Pipeline
flow:
  - filter: proxy
    jumpIf: { serverError: fallback }
  - filter: END
  - filter: fallback
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: http://127.0.0.1:1
  - name: fallback
    kind: Lua
    code: |
      ctx.resp:set_header("X-Fallback", ctx.resp:status())
]]
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(502, res.status)
    assert.are.equal("502", res.headers["X-Fallback"])
    assert.are.same({ "proxy=serverError", "fallback=" }, testing.steps(res))
  end)
end)
