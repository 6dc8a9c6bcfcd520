-- Validator (lua/filters/validator.lua): the headers method; the others refused for now.
local testing = require "easegress.testing"

local function pipeline(fields)
  return "name: val\nkind: Pipeline\nfilters:\n  - name: validator\n    kind: Validator\n" ..
    fields:gsub("[^\n]+", "    %0") .. "\n" ..
    '  - name: next\n    kind: Lua\n    code: ctx:respond(200, "passed")\n'
end

local function run(fields, headers)
  return assert(testing.run_pipeline(pipeline(fields), { headers = headers or {} }))
end

local HEADERS = [[
headers:
  X-Version: { values: [v1, v2] }
  X-Token: { regexp: "^[0-9a-f]{4}$" }
  X-Either: { values: [yes], regexp: "^ok" }]]

local GOOD = { ["X-Version"] = "v2", ["X-Token"] = "beef", ["X-Either"] = "yes" }

local function with(changes)
  local h = {}
  for k, v in pairs(GOOD) do h[k] = v end
  for k, v in pairs(changes) do
    if v == false then h[k] = nil else h[k] = v end
  end
  return h
end

describe("Validator", function()
  it("lets a request with valid headers through", function()
    local res = run(HEADERS, GOOD)
    assert.are.equal(200, res.status)
    assert.are.equal("passed", res.body)
    assert.are.same({ "validator=", "next=" }, testing.steps(res))
  end)

  it("answers 400 invalid when a value is not allowed", function()
    local res = run(HEADERS, with { ["X-Version"] = "v3" })
    assert.are.equal(400, res.status)
    assert.are.equal("", res.body)
    assert.are.equal("invalid", res.result)
    assert.are.same({ "validator=invalid" }, testing.steps(res))
  end)

  it("answers 400 when a header is missing", function()
    assert.are.equal(400, run(HEADERS, with { ["X-Token"] = false }).status)
  end)

  it("applies the regexp (found anywhere unless anchored)", function()
    assert.are.equal(400, run(HEADERS, with { ["X-Token"] = "beefy" }).status)
    assert.are.equal(200, run(HEADERS, with { ["X-Either"] = "okay" }).status)
    assert.are.equal(400, run(HEADERS, with { ["X-Either"] = "not ok" }).status)
    assert.are.equal(200, run("headers:\n  X-A: { regexp: b }", { ["X-A"] = "abc" }).status)
  end)

  it("accepts a regexp that matches the empty string", function()
    assert.are.equal(200, run("headers:\n  X-A: { regexp: '^$' }", { ["X-A"] = "" }).status)
    assert.are.equal(400, run("headers:\n  X-A: { regexp: '^$' }", { ["X-A"] = "a" }).status)
  end)

  it("matches header names in any case", function()
    assert.are.equal(200, run(HEADERS, with { ["X-Version"] = false, ["x-version"] = "v1" }).status)
  end)

  it("accepts a header with one valid line among several", function()
    local res = run("headers:\n  X-A: { values: [good] }", { ["X-A"] = "bad", ["x-a"] = "good" })
    assert.are.equal(200, res.status)
  end)

  it("allows an empty value when values lists it", function()
    assert.are.equal(200, run('headers:\n  X-A: { values: [""] }', { ["X-A"] = "" }).status)
    assert.are.equal(400, run('headers:\n  X-A: { values: [""] }').status)
  end)

  it("an empty headers map checks nothing", function()
    assert.are.equal(200, run("headers: {}").status)
  end)

  it("keeps the body of a response already there", function()
    local yaml = "name: val\nkind: Pipeline\nfilters:\n" ..
      '  - name: pre\n    kind: Lua\n    code: ctx:respond(200, "earlier")\n' ..
      "  - name: validator\n    kind: Validator\n    headers:\n      X-A: { values: [a] }\n"
    local res = assert(testing.run_pipeline(yaml, {}))
    assert.are.equal(400, res.status)
    assert.are.equal("earlier", res.body)
  end)

  describe("spec checks", function()
    local function err_of(fields) return testing.build_error(pipeline(fields)) end

    it("needs a validation", function()
      assert.matches("none of the validations are defined", err_of("unrelated: 1"))
    end)

    it("refuses the methods not implemented yet, by name", function()
      assert.matches("jwt: the jwt method of Validator is not implemented yet",
        err_of("jwt: { algorithm: HS256, secret: 3132 }"))
      assert.matches("basicAuth: .*not implemented yet",
        err_of("headers: {}\nbasicAuth: { mode: FILE, userFile: /etc/htpasswd }"))
      assert.matches("oauth2: .*not implemented yet", err_of("oauth2: {}"))
      assert.matches("signature: .*not implemented yet", err_of("signature: {}"))
    end)

    it("needs values or regexp", function()
      assert.matches("headers%.X%-A: neither values nor regexp is specified", err_of("headers:\n  X-A: {}"))
      assert.matches("headers%.X%-A: neither values nor regexp is specified", err_of("headers:\n  X-A: { values: [] }"))
      assert.matches("headers%.X%-A: neither values nor regexp is specified", err_of("headers:\n  X-A: ~"))
    end)

    it("checks values and regexp", function()
      assert.matches("headers%.X%-A%.values: items must be unique", err_of("headers:\n  X-A: { values: [a, a] }"))
      assert.matches("headers%.X%-A%.values%[1%]: expected string", err_of("headers:\n  X-A: { values: [a, [b]] }"))
      assert.matches("headers%.X%-A%.regexp: invalid regular expression", err_of("headers:\n  X-A: { regexp: '[' }"))
      assert.matches("headers: expected", err_of("headers: [a]"))
    end)
  end)
end)
