-- HeaderToJSON (lua/filters/header_to_json.lua): headers merged into the JSON request body,
-- written as Go's encoding/json writes it.
local testing = require "easegress.testing"

local MAP = [[
headerMap:
  - header: X-User-Id
    json: userId
  - header: x-region
    json: region]]

-- HeaderToJSON, then a filter answering with the request body it now has.
local function pipeline(fields)
  return "name: h2j\nkind: Pipeline\nfilters:\n  - name: h2j\n    kind: HeaderToJSON\n" ..
    fields:gsub("[^\n]+", "    %0") .. "\n" ..
    "  - name: echo\n    kind: Lua\n    code: ctx:respond(200, ctx.req:body())\n"
end

local function run(body, headers, fields)
  return assert(testing.run_pipeline(pipeline(fields or MAP),
    { method = "POST", body = body, headers = headers or { ["X-User-Id"] = "42", ["X-Region"] = "eu" } }))
end

describe("HeaderToJSON", function()
  it("makes an object of the headers for an empty body", function()
    local res = run(nil)
    assert.are.equal('{"region":"eu","userId":"42"}', res.body)
    assert.are.same({ "h2j=", "echo=" }, testing.steps(res))
  end)

  it("adds the fields to an object body, replacing fields of the same name", function()
    local res = run(' {"name":"ann","userId":"old","n":1}')
    assert.are.equal('{"n":1,"name":"ann","region":"eu","userId":"42"}', res.body)
  end)

  it("adds the fields to every object of an array body", function()
    local res = run('[{"a":1},{}]')
    assert.are.equal('[{"a":1,"region":"eu","userId":"42"},{"region":"eu","userId":"42"}]', res.body)
  end)

  it("writes JSON as Go does: [] and {} kept, float64 numbers, HTML-safe strings", function()
    local res = run('{"a":[],"b":{},"n":1.5e3,"big":12345678901234567890,"s":"<&>","u":null}')
    assert.are.equal('{"a":[],"b":{},"big":12345678901234567000,"n":1500,"region":"eu",' ..
      '"s":"\\u003c\\u0026\\u003e","u":null,"userId":"42"}', res.body)
  end)

  it("skips absent and empty headers", function()
    local res = run(nil, { ["X-User-Id"] = "7", ["X-Region"] = "" })
    assert.are.equal('{"userId":"7"}', res.body)
  end)

  it("uses the first line of a header", function()
    local res = run(nil, { ["X-User-Id"] = "1", ["x-user-id"] = "2" })
    assert.matches('^{"userId":"[12]"}$', res.body)
    -- the first line the request has (which one is first depends on the spec's table order)
  end)

  it("leaves the body alone when no mapped header is there", function()
    local res = run("not json", { ["X-Other"] = "1" })
    assert.are.equal("not json", res.body)
    assert.are.same({ "h2j=", "echo=" }, testing.steps(res))
  end)

  for _, body in ipairs({ "not json", '"a string"', "42", "   ", '{"a":', '{"a":1} x', "[1,2]", "[null]", "[[]]" }) do
    it("gives jsonEncodeDecodeErr for the body " .. body, function()
      local res = run(body)
      assert.are.equal("jsonEncodeDecodeErr", res.result)
      assert.are.same({ "h2j=jsonEncodeDecodeErr" }, testing.steps(res))
    end)
  end

  it("lets a later entry for the same header win", function()
    local res = run(nil, { ["X-A"] = "v" }, "headerMap:\n  - { header: X-A, json: first }\n  - { header: x-a, json: second }")
    assert.are.equal('{"second":"v"}', res.body)
  end)

  describe("spec checks", function()
    local function err_of(fields) return testing.build_error(pipeline(fields)) end

    it("needs headerMap with header and json", function()
      assert.matches("headerMap: required", err_of("other: 1"))
      assert.matches("headerMap: expected array", err_of("headerMap: { header: a, json: b }"))
      assert.matches("headerMap%[0%]%.json: required", err_of("headerMap:\n  - header: X-A"))
      assert.matches("headerMap%[1%]%.header: required", err_of("headerMap:\n  - { header: a, json: b }\n  - json: c"))
      assert.matches("headerMap%[0%]%.header: expected string", err_of("headerMap:\n  - { header: [a], json: b }"))
      assert.matches("headerMap%[0%]: expected an object", err_of("headerMap:\n  - a"))
    end)
  end)
end)
