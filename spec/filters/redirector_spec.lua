-- Redirector (lua/filters/redirector.lua): regexp replacement of the uri, path or full URL.
local testing = require "easegress.testing"

local function pipeline(fields)
  return "name: redir\nkind: Pipeline\nfilters:\n  - name: redirector\n    kind: Redirector\n" ..
    fields:gsub("[^\n]+", "    %0") .. "\n" ..
    '  - name: next\n    kind: Lua\n    code: ctx:respond(200, "next")\n'
end

local function run(fields, req)
  return assert(testing.run_pipeline(pipeline(fields), req or {}))
end

describe("Redirector", function()
  it("redirects with 301 by default, matching the request URI", function()
    local res = run('match: "^/users/([0-9]+)"\nreplacement: "http://example.com/display?user=$1"',
      { path = "/users/123" })
    assert.are.equal(301, res.status)
    assert.are.equal("http://example.com/display?user=123", res.headers.Location)
    assert.are.equal("Moved Permanently", res.body)
    assert.are.equal("redirected", res.result)
    assert.are.same({ "redirector=redirected" }, testing.steps(res))
  end)

  it("goes on when the expression does not match", function()
    local res = run('match: "^/users/([0-9]+)"\nreplacement: "/u/$1"', { path = "/other" })
    assert.are.equal(200, res.status)
    assert.are.equal("next", res.body)
    assert.is_nil(res.headers.Location)
    assert.are.same({ "redirector=", "next=" }, testing.steps(res))
  end)

  it("goes on when the replacement gives the same URI", function()
    local res = run('match: "^/same"\nreplacement: "/same"', { path = "/same" })
    assert.are.equal("next", res.body)
  end)

  it("the URI includes the raw query", function()
    local res = run('match: "^(.*)$"\nreplacement: "/prefix$1"\nstatusCode: 302',
      { path = "/path/to/api/", query = "key1=123&key2=456" })
    assert.are.equal(302, res.status)
    assert.are.equal("Found", res.body)
    assert.are.equal("/prefix/path/to/api/?key1=123&key2=456", res.headers.Location)
  end)

  it("matches a path and query in the URI (docs example)", function()
    local res = run('match: "/path/to/(user)\\\\.php\\\\?id=(\\\\d*)"\nreplacement: "/api/$1/$2"',
      { path = "/path/to/user.php", query = "id=123" })
    assert.are.equal("/api/user/123", res.headers.Location)
  end)

  it("matchPart path sees the decoded path only", function()
    local res = run('match: "^/a b/(.*)$"\nmatchPart: path\nreplacement: "/new/$1"',
      { path = "/a%20b/c", query = "q=1" })
    assert.are.equal("/new/c", res.headers.Location)
  end)

  it("matchPart full sees scheme, host and URI (matchPart in any case)", function()
    local res = run('match: "(^.*//)([^/]*)(.*$)"\nmatchPart: FULL\nreplacement: "${1}my.com${3}"',
      { host = "example.com:8080", path = "/path/to/api/", query = "key1=123" })
    assert.are.equal("http://my.com/path/to/api/?key1=123", res.headers.Location)
  end)

  it("replaces every match, with named groups and $$", function()
    local res = run('match: "(?P<w>o)"\nreplacement: "${w}0$$"', { path = "/foo" })
    assert.are.equal("/fo0$o0$", res.headers.Location)
  end)

  it("reads $1x as the group named 1x (empty), as Go does", function()
    local res = run('match: "^/(a)"\nreplacement: "/$1x/${1}x"', { path = "/a" })
    assert.are.equal("//ax", res.headers.Location)
  end)

  it("uses each allowed status code with its text", function()
    for code, text in pairs({ [303] = "See Other", [307] = "Temporary Redirect", [308] = "Permanent Redirect" }) do
      local res = run('match: "^/x"\nreplacement: "/y"\nstatusCode: ' .. code, { path = "/x" })
      assert.are.equal(code, res.status)
      assert.are.equal(text, res.body)
      assert.are.equal("/y", res.headers.Location)
    end
  end)

  it("replaces a response an earlier filter built", function()
    local yaml = "name: redir\nkind: Pipeline\nfilters:\n" ..
      '  - name: pre\n    kind: Lua\n    code: |\n      ctx:respond(200, "x")\n      ctx.resp:set_header("X-Old", "1")\n' ..
      '  - name: redirector\n    kind: Redirector\n    match: "^/x"\n    replacement: "/y"\n'
    local res = assert(testing.run_pipeline(yaml, { path = "/x" }))
    assert.are.equal(301, res.status)
    assert.is_nil(res.headers["X-Old"])
  end)

  describe("spec checks", function()
    local function err_of(fields) return testing.build_error(pipeline(fields)) end

    it("needs match and replacement, not empty", function()
      assert.matches("match: required", err_of('replacement: "/y"'))
      assert.matches("replacement: required", err_of('match: "x"'))
      assert.matches("can't be empty", err_of('match: ""\nreplacement: "/y"'))
    end)

    it("checks the expression, the part and the status code", function()
      assert.matches("match: invalid regular expression", err_of('match: "("\nreplacement: "/y"'))
      assert.matches("matchPart: invalid match part", err_of('match: "x"\nreplacement: "/y"\nmatchPart: host'))
      assert.matches("statusCode: invalid status code", err_of('match: "x"\nreplacement: "/y"\nstatusCode: 300'))
      assert.matches("statusCode: invalid status code", err_of('match: "x"\nreplacement: "/y"\nstatusCode: 200'))
    end)
  end)
end)
