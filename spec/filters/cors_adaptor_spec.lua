-- CORSAdaptor (lua/filters/cors_adaptor.lua): rs/cors semantics as Easegress uses them.
local testing = require "easegress.testing"

-- CORSAdaptor (fields as YAML lines), then a filter answering "next" that also copies the
-- joined Vary header into X-Vary (the response table keeps one line per name).
local function pipeline(fields, before)
  return "name: cors\nkind: Pipeline\nflow:\n  - filter: cors\n" ..
    "    jumpIf: { preflighted: END, rejected: END }\n" ..
    (before and "  - filter: before\n" or "") ..
    "  - filter: next\nfilters:\n" ..
    "  - name: cors\n    kind: CORSAdaptor\n" .. (fields or ""):gsub("[^\n]+", "    %0") .. "\n" ..
    (before or "") ..
    "  - name: next\n    kind: Lua\n    code: |\n" ..
    "      if ctx.resp:status() == 0 then ctx:respond(200, \"next\") else ctx.resp:set_body(\"next\") end\n" ..
    "      ctx.resp:set_header(\"X-Vary\", ctx.resp:header(\"Vary\") or \"none\")\n"
end

local function run(fields, req)
  return assert(testing.run_pipeline(pipeline(fields), req or {}))
end

local function preflight(fields, headers)
  headers = headers or {}
  headers.Origin = headers.Origin or "https://app.example.com"
  headers["Access-Control-Request-Method"] = headers["Access-Control-Request-Method"] or "GET"
  return run(fields, { method = "OPTIONS", headers = headers })
end

local PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

describe("CORSAdaptor", function()
  it("lets a request without Origin through untouched", function()
    local res = run(nil, { path = "/x" })
    assert.are.equal(200, res.status)
    assert.are.equal("next", res.body)
    assert.are.equal("none", res.headers["X-Vary"])
    assert.is_nil(res.headers["Access-Control-Allow-Origin"])
    assert.are.same({ "cors=", "next=" }, testing.steps(res))
  end)

  it("allows any origin by default on an actual request", function()
    local res = run(nil, { headers = { Origin = "https://a.example" } })
    assert.are.equal(200, res.status)
    assert.are.equal("next", res.body)
    assert.are.equal("*", res.headers["Access-Control-Allow-Origin"])
    assert.are.equal("Origin", res.headers["X-Vary"])
    assert.is_nil(res.headers["Access-Control-Allow-Credentials"])
    assert.are.same({ "cors=", "next=" }, testing.steps(res))
  end)

  it("answers a preflight with 204 and the allowed method", function()
    local res = preflight(nil)
    assert.are.equal(204, res.status)
    assert.are.equal("", res.body)
    assert.are.equal("*", res.headers["Access-Control-Allow-Origin"])
    assert.are.equal("GET", res.headers["Access-Control-Allow-Methods"])
    assert.are.equal(PREFLIGHT_VARY, res.headers.Vary)
    assert.is_nil(res.headers["Access-Control-Max-Age"])
    assert.are.equal("preflighted", res.result)
    assert.are.same({ "cors=preflighted" }, testing.steps(res))
  end)

  it("preflights a method not allowed without Allow headers", function()
    local res = preflight(nil, { ["Access-Control-Request-Method"] = "PUT" })
    assert.are.equal(204, res.status)
    assert.is_nil(res.headers["Access-Control-Allow-Origin"])
    assert.is_nil(res.headers["Access-Control-Allow-Methods"])
    assert.are.equal(PREFLIGHT_VARY, res.headers.Vary)
    assert.are.equal("preflighted", res.result)
  end)

  it("treats OPTIONS without Access-Control-Request-Method as an actual request", function()
    local res = run(nil, { method = "OPTIONS", headers = { Origin = "https://a.example" } })
    assert.are.equal("*", res.headers["Access-Control-Allow-Origin"])
    assert.are.equal("next", res.body)
  end)

  describe("allowedOrigins", function()
    local FIELDS = "allowedOrigins: [https://app.example.com, 'https://*.example.org']"

    it("echoes an allowed origin (compared in any case)", function()
      local res = run(FIELDS, { headers = { Origin = "https://App.Example.com" } })
      assert.are.equal("https://App.Example.com", res.headers["Access-Control-Allow-Origin"])
      assert.are.equal("Origin", res.headers["X-Vary"])
    end)

    it("matches a wildcard origin", function()
      local res = run(FIELDS, { headers = { Origin = "https://api.eu.example.org" } })
      assert.are.equal("https://api.eu.example.org", res.headers["Access-Control-Allow-Origin"])
      res = run(FIELDS, { headers = { Origin = "https://example.org" } })
      assert.is_nil(res.headers["Access-Control-Allow-Origin"])
    end)

    it("rejects another origin: no Allow-Origin, result rejected", function()
      local res = run(FIELDS, { headers = { Origin = "https://evil.example" } })
      assert.is_nil(res.headers["Access-Control-Allow-Origin"])
      assert.are.equal("Origin", res.headers.Vary)
      assert.are.equal(200, res.status)
      assert.are.equal("", res.body)
      assert.are.equal("rejected", res.result)
      assert.are.same({ "cors=rejected" }, testing.steps(res))
    end)

    it("does not preflight another origin", function()
      local res = preflight(FIELDS, { Origin = "https://evil.example" })
      assert.are.equal(204, res.status)
      assert.is_nil(res.headers["Access-Control-Allow-Origin"])
      assert.are.equal("preflighted", res.result)
    end)

    it("'*' in the list allows all", function()
      local res = run("allowedOrigins: [https://x.example, '*']", { headers = { Origin = "https://y.example" } })
      assert.are.equal("*", res.headers["Access-Control-Allow-Origin"])
    end)
  end)

  describe("allowedMethods", function()
    it("defaults to GET, POST and HEAD for actual requests", function()
      assert.are.equal("*", run(nil, { method = "POST", headers = { Origin = "https://a" } })
        .headers["Access-Control-Allow-Origin"])
      local res = run(nil, { method = "DELETE", headers = { Origin = "https://a" } })
      assert.is_nil(res.headers["Access-Control-Allow-Origin"])
      assert.are.equal("rejected", res.result)
    end)

    it("uses the configured list", function()
      local res = preflight("allowedMethods: [PUT, DELETE]", { ["Access-Control-Request-Method"] = "PUT" })
      assert.are.equal("PUT", res.headers["Access-Control-Allow-Methods"])
      res = preflight("allowedMethods: [PUT, DELETE]", { ["Access-Control-Request-Method"] = "GET" })
      assert.is_nil(res.headers["Access-Control-Allow-Methods"])
      res = run("allowedMethods: [PUT]", { method = "GET", headers = { Origin = "https://a" } })
      assert.are.equal("rejected", res.result)
    end)
  end)

  describe("allowedHeaders", function()
    it("allows the default simple headers and echoes the request's list", function()
      local res = preflight(nil, { ["Access-Control-Request-Headers"] = "content-type,x-requested-with" })
      assert.are.equal("*", res.headers["Access-Control-Allow-Origin"])
      assert.are.equal("content-type,x-requested-with", res.headers["Access-Control-Allow-Headers"])
    end)

    it("refuses a header not in the list", function()
      local res = preflight(nil, { ["Access-Control-Request-Headers"] = "content-type,x-custom" })
      assert.is_nil(res.headers["Access-Control-Allow-Origin"])
      assert.is_nil(res.headers["Access-Control-Allow-Headers"])
    end)

    it("compares names in any case and order", function()
      local res = preflight("allowedHeaders: [X-Custom, Authorization]",
        { ["Access-Control-Request-Headers"] = "X-Custom, authorization" })
      assert.are.equal("X-Custom, authorization", res.headers["Access-Control-Allow-Headers"])
    end)

    it("'*' allows any header", function()
      local res = preflight("allowedHeaders: ['*']", { ["Access-Control-Request-Headers"] = "x-anything" })
      assert.are.equal("x-anything", res.headers["Access-Control-Allow-Headers"])
    end)
  end)

  it("adds credentials, max age and exposed headers", function()
    local fields = "allowedOrigins: [https://a.example]\nallowCredentials: true\nmaxAge: 600\n" ..
      "exposedHeaders: [x-request-id, X-TOTAL-count]"
    local res = preflight(fields, { Origin = "https://a.example" })
    assert.are.equal("https://a.example", res.headers["Access-Control-Allow-Origin"])
    assert.are.equal("true", res.headers["Access-Control-Allow-Credentials"])
    assert.are.equal("600", res.headers["Access-Control-Max-Age"])
    assert.is_nil(res.headers["Access-Control-Expose-Headers"])
    res = run(fields, { headers = { Origin = "https://a.example" } })
    assert.are.equal("true", res.headers["Access-Control-Allow-Credentials"])
    assert.are.equal("X-Request-Id, X-Total-Count", res.headers["Access-Control-Expose-Headers"])
    assert.is_nil(res.headers["Access-Control-Max-Age"])
  end)

  it("sends max age 0 for a negative maxAge", function()
    assert.are.equal("0", preflight("maxAge: -1").headers["Access-Control-Max-Age"])
  end)

  it("adds to a response already there: status kept, Vary appended", function()
    local before = "  - name: before\n    kind: Lua\n    code: |\n" ..
      "      ctx:respond(202, \"early\")\n      ctx.resp:set_header(\"Vary\", \"Accept-Encoding\")\n"
    local yaml = "name: cors\nkind: Pipeline\nflow:\n  - filter: before\n  - filter: cors\n" ..
      "    jumpIf: { preflighted: next }\n" ..
      "  - filter: next\nfilters:\n" .. before ..
      "  - name: cors\n    kind: CORSAdaptor\n" ..
      "  - name: next\n    kind: Lua\n    code: ctx.resp:set_header(\"X-Vary\", ctx.resp:header(\"Vary\"))\n"
    local res = assert(testing.run_pipeline(yaml, { method = "OPTIONS",
      headers = { Origin = "https://a", ["Access-Control-Request-Method"] = "GET" } }))
    assert.are.equal(202, res.status)
    assert.are.equal("early", res.body)
    assert.are.equal("Accept-Encoding, " .. PREFLIGHT_VARY, res.headers["X-Vary"])
    assert.are.equal("*", res.headers["Access-Control-Allow-Origin"])
    assert.are.same({ "before=", "cors=preflighted", "next=" }, testing.steps(res))
  end)

  describe("before a Proxy", function()
    local port, stop
    setup(function() port, stop = testing.start_mirror() end)
    teardown(function() if stop then stop() end end)

    it("keeps the CORS headers on the backend's response", function()
      local yaml = string.format([[
name: cors
kind: Pipeline
flow:
  - filter: cors
    jumpIf: { preflighted: END }
  - filter: proxy
filters:
  - name: cors
    kind: CORSAdaptor
    allowedOrigins: [https://a.example]
    exposedHeaders: [X-Mirror-Port]
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: http://127.0.0.1:%d
]], port)
      local res = assert(testing.run_pipeline(yaml, { path = "/x", headers = { Origin = "https://a.example" } }))
      assert.are.equal(200, res.status)
      assert.matches("URL   : /x", res.body)
      assert.are.equal("https://a.example", res.headers["Access-Control-Allow-Origin"])
      assert.are.equal("X-Mirror-Port", res.headers["Access-Control-Expose-Headers"])
      assert.are.equal(tostring(port), res.headers["X-Mirror-Port"])
    end)
  end)

  describe("spec checks", function()
    local function err_of(fields) return testing.build_error(pipeline(fields)) end

    it("checks the methods", function()
      assert.matches("allowedMethods%[1%]: invalid http method get", err_of("allowedMethods: [GET, get]"))
      assert.matches("allowedMethods: items must be unique", err_of("allowedMethods: [GET, GET]"))
    end)

    it("checks types", function()
      assert.matches("allowedOrigins: expected array", err_of("allowedOrigins: https://a"))
      assert.matches("allowedHeaders%[0%]: expected string", err_of("allowedHeaders: [[a]]"))
      assert.matches("maxAge: expected integer", err_of("maxAge: 1.5"))
      assert.matches("allowCredentials: expected boolean", err_of("allowCredentials: maybe"))
    end)
  end)
end)
