-- Specs for examples/filters/add_header.lua. Run them with
--   bin/easegress-server --filter-dir examples/filters --busted examples/filters/spec
local testing = require "easegress.testing"

-- AddHeader, then an inline Lua filter that answers with the header the backend would get.
local pipeline = [[
name: add-header-spec
kind: Pipeline
filters:
  - name: add
    kind: AddHeader
    header: X-Added
    value: yes-please
  - name: echo
    kind: Lua
    code: |
      return ctx:respond(200, tostring(ctx.req:header("X-Added")))
]]

describe("AddHeader", function()
  it("sets the configured request header", function()
    local res = assert(testing.run_pipeline(pipeline, { path = "/" }))
    assert.are.equal(200, res.status)
    assert.are.equal("yes-please", res.body)
    assert.are.same({ "add=", "echo=responded" }, testing.steps(res))
  end)

  it("answers 403 with the result blocked when X-Block is sent", function()
    local res = assert(testing.run_pipeline(pipeline, { headers = { ["X-Block"] = "1" } }))
    assert.are.equal(403, res.status)
    assert.are.equal("blocked", res.result)
    assert.are.same({ "add=blocked" }, testing.steps(res))
  end)

  it("rejects a spec without the required header field", function()
    local res, err = testing.run_pipeline([[
name: bad
kind: Pipeline
filters:
  - name: add
    kind: AddHeader
]])
    assert.is_nil(res)
    assert.matches("header: required", err)
  end)
end)
