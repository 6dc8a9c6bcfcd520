-- RedirectorV2 (lua/filters/redirector_v2.lua): Gateway API HTTPRequestRedirectFilter.
local testing = require "easegress.testing"

local function pipeline(fields)
  return "name: redir2\nkind: Pipeline\nfilters:\n  - name: redirect\n    kind: RedirectorV2\n" ..
    fields:gsub("[^\n]+", "    %0") .. "\n" ..
    '  - name: next\n    kind: Lua\n    code: ctx:respond(200, "next")\n'
end

local REQ = { host = "example.com:8080", path = "/users/42", query = "tab=1" }

local function run(fields, req)
  return assert(testing.run_pipeline(pipeline(fields), req or REQ))
end

local function location(fields, req)
  local res = run(fields, req)
  if res.result ~= "redirected" then return nil, res end
  return res.headers.Location, res
end

describe("RedirectorV2", function()
  it("redirects to another scheme with 302 Found by default", function()
    local loc, res = location("scheme: https")
    assert.are.equal("https://example.com/users/42?tab=1", loc) -- the scheme's own port
    assert.are.equal(302, res.status)
    assert.are.equal("Found", res.body)
    assert.are.same({ "redirect=redirected" }, testing.steps(res))
  end)

  it("redirects to another host", function()
    assert.are.equal("http://new.example/users/42?tab=1", location("hostname: new.example"))
    assert.are.equal("http://new.example:8443/users/42?tab=1", location("hostname: new.example:8443"))
    assert.are.equal("https://new.example/users/42?tab=1", location("scheme: https\nhostname: new.example"))
  end)

  it("sets the port, leaving out the scheme's default one", function()
    assert.are.equal("http://example.com:9000/users/42?tab=1", location("port: 9000"))
    assert.are.equal("http://example.com/users/42?tab=1", location("port: 80"))
    assert.are.equal("https://example.com/users/42?tab=1", location("scheme: https\nport: 443"))
    assert.are.equal("https://example.com:8443/users/42?tab=1", location("scheme: https\nport: 8443"))
    assert.are.equal("http://new.example:9000/users/42?tab=1", location("hostname: new.example:1\nport: 9000"))
    assert.are.equal("http://[::1]:9000/users/42", location("port: 9000",
      { host = "[::1]:8080", path = "/users/42" }))
  end)

  it("replaces the full path, keeping the query, relative without scheme or host", function()
    local loc, res = location("path:\n  type: ReplaceFullPath\n  replaceFullPath: /full-path\nstatusCode: 301")
    assert.are.equal("/full-path?tab=1", loc)
    assert.are.equal(301, res.status)
    assert.are.equal("Moved Permanently", res.body)
  end)

  it("goes on when the URL would not change", function()
    local loc, res = location("path:\n  type: ReplaceFullPath\n  replaceFullPath: /users/42")
    assert.is_nil(loc)
    assert.are.equal("next", res.body)
    assert.are.same({ "redirect=", "next=" }, testing.steps(res))
  end)

  it("replaces the prefix given in pathPrefix", function()
    local fields = "pathPrefix: /users\npath:\n  type: ReplacePrefixMatch\n  replacePrefixMatch: /account"
    assert.are.equal("/account/42?tab=1", location(fields))
    local loc, res = location(fields, { path = "/other/42" })
    assert.is_nil(loc)
    assert.are.equal("next", res.body)
    assert.are.equal("https://example.com/account/42?tab=1", location("scheme: https\n" .. fields))
  end)

  it("leaves the path alone for ReplacePrefixMatch without pathPrefix", function()
    local fields = "path:\n  type: ReplacePrefixMatch\n  replacePrefixMatch: /account"
    assert.is_nil((location(fields)))
    assert.are.equal("https://example.com/users/42?tab=1", location("scheme: https\n" .. fields))
  end)

  it("escapes a new path and keeps the request's escapes otherwise", function()
    assert.are.equal("/a%20b%3Fc", location("path:\n  type: ReplaceFullPath\n  replaceFullPath: /a b?c",
      { path = "/x" }))
    assert.are.equal("http://h/x%2Fy%20z", location("hostname: h", { path = "/x%2Fy%20z" }))
    local fields = "pathPrefix: /a b\npath:\n  type: ReplacePrefixMatch\n  replacePrefixMatch: /c"
    assert.are.equal("/c/d%20e", location(fields, { path = "/a%20b/d%20e" }))
  end)

  it("keeps an empty query's ?", function()
    assert.are.equal("http://h/p?", location("hostname: h", { path = "/p", query = "" }))
    assert.are.equal("http://h/p", location("hostname: h", { path = "/p" }))
  end)

  describe("spec checks", function()
    local function err_of(fields) return testing.build_error(pipeline(fields)) end

    it("checks scheme, hostname, port and statusCode", function()
      assert.matches("scheme: invalid scheme", err_of("scheme: ftp"))
      assert.matches("hostname: invalid hostname", err_of("hostname: 'a/b'"))
      assert.matches("port: invalid port", err_of("port: 0"))
      assert.matches("port: invalid port", err_of("port: 65536"))
      assert.matches("statusCode: invalid status code", err_of("statusCode: 300"))
      assert.matches("statusCode: invalid status code", err_of("statusCode: 200"))
    end)

    it("checks path", function()
      assert.matches("path%.type: invalid path type", err_of("path: { type: Other }"))
      assert.matches("path%.type: invalid path type", err_of("path: {}"))
      assert.matches("replaceFullPath can't be empty", err_of("path: { type: ReplaceFullPath }"))
      assert.matches("replacePrefixMatch can't be empty", err_of("path: { type: ReplacePrefixMatch }"))
      assert.matches("pathPrefix: must start with /",
        err_of("pathPrefix: x\npath: { type: ReplacePrefixMatch, replacePrefixMatch: /a }"))
    end)
  end)
end)
