-- The filter schema validator of the easegress-sdk rock (easegress.schema): the check the
-- runtime makes when a Pipeline using the filter is submitted.
local schema = require "easegress.schema"

local S = {
  header = { type = "string", required = true },
  value  = { type = "string", default = "on" },
  limit  = { type = "integer" },
  mode   = { type = "string", enum = { "fast", "safe" } },
  hosts  = { type = "array" },
}

describe("easegress.schema (SDK)", function()
  it("fills defaults and keeps what was given", function()
    assert.are.same({ header = "X-A", value = "on", limit = 3 }, schema.check(S, { header = "X-A", limit = 3 }))
  end)

  it("refuses a missing required field", function()
    local spec, err = schema.check(S, { value = "x" })
    assert.is_nil(spec)
    assert.are.equal("header: required", err)
  end)

  local function why(spec) return select(2, schema.check(S, spec)) end

  it("refuses wrong types: integer, array", function()
    assert.are.equal("limit: expected integer, got number", why({ header = "h", limit = 1.5 }))
    assert.are.equal("hosts: expected array, got table", why({ header = "h", hosts = { a = 1 } }))
    assert.are.equal("header: expected string, got number", why({ header = 1 }))
  end)

  it("refuses a value outside enum", function()
    assert.are.equal("mode: slow is not one of the allowed values", why({ header = "h", mode = "slow" }))
  end)

  it("accepts anything without a schema", function()
    assert.are.same({ x = 1 }, schema.check(nil, { x = 1 }))
  end)
end)

describe("easegress.duration (SDK)", function()
  local duration = require "easegress.duration"
  it("parses Go durations to milliseconds", function()
    assert.are.equal(90000, duration.parse("1m30s"))
    assert.are.equal(1.5, duration.parse("1.5ms"))
    assert.are.same({ nil, 'time: unknown unit "d" in duration "1d"' }, { duration.parse("1d") })
  end)
end)
