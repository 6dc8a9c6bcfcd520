-- RequestAdaptor and ResponseAdaptor (lua/filters/request_adaptor.lua, response_adaptor.lua):
-- static edits and templates, gzip both ways, through whole pipelines; the mirror backend
-- shows what the Proxy sent, the RSS example's feed service answers gzipped JSON.
local testing = require "easegress.testing"
local C = require "easegress.c"

local function pipeline(flow, filters)
  local text = "name: spec-adaptors\nkind: Pipeline\n"
  if flow then text = text .. "flow:\n" .. flow end
  return text .. "filters:\n" .. filters
end

-- A filter `name` of `kind` with its fields given unindented.
local function filter(name, kind, fields)
  return "  - name: " .. name .. "\n    kind: " .. kind .. "\n" .. (fields or ""):gsub("[^\n]+", "    %0") .. "\n"
end

local function proxy(port)
  return string.format("  - name: proxy\n    kind: Proxy\n    pools:\n      - servers:\n          - url: http://127.0.0.1:%d\n", port)
end

local function mirrored(body)
  return {
    method = body:match("\nMethod: ([^\n]*)"),
    url = body:match("\nURL   : ([^\n]*)"),
    header = body:match("\nHeader: ([^\n]*)"),
    body = body:match("\nBody  : (.*)$"),
  }
end

-- A Python service started for the spec; its first output line gives the port(s).
local function start_service(cmd, pattern)
  local log = os.tmpname()
  local p = assert(io.popen(string.format("%s >%s 2>&1 & echo $!", cmd, log)))
  local pid = p:read("*l")
  p:close()
  local function stop()
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.remove(log)
  end
  for _ = 1, 200 do
    local f = io.open(log)
    local text = f and f:read("*a") or ""
    if f then f:close() end
    local port = text:match(pattern)
    if port then return tonumber(port), stop end
    eg.sleep(25)
  end
  stop()
  error("the service did not start: " .. cmd)
end

describe("RequestAdaptor", function()
  local port, stop
  setup(function() port, stop = testing.start_mirror() end)
  teardown(function() if stop then stop() end end)

  -- the adaptor (and any other filters) then the Proxy to the mirror
  local function send(filters, request)
    local res = assert(testing.run_pipeline(pipeline(nil, filters .. proxy(port)), request))
    assert.are.equal(200, res.status, res.body)
    return mirrored(res.body), res
  end

  it("sets the method", function()
    local m = send(filter("ra", "RequestAdaptor", "method: DELETE"), { method = "GET", path = "/x" })
    assert.are.equal("DELETE", m.method)
  end)

  describe("adapts the path", function()
    local function path_after(path_spec, path, query)
      local _, res = send(filter("ra", "RequestAdaptor", "path:\n  " .. path_spec), { path = path, query = query })
      return res.headers["X-Mirror-Raw-URI"]
    end

    it("with replace, keeping the query", function()
      assert.are.equal("/new/place?a=1", path_after("replace: /new/place", "/old", "a=1"))
    end)

    it("with addPrefix", function()
      assert.are.equal("/api/v2/users", path_after("addPrefix: /api/v2", "/users"))
    end)

    it("with trimPrefix, only when the path has the prefix", function()
      assert.are.equal("/users", path_after("trimPrefix: /api", "/api/users"))
      assert.are.equal("/other", path_after("trimPrefix: /api", "/other"))
      assert.are.equal("/", path_after("trimPrefix: /api", "/api"))
    end)

    it("with regexpReplace, expanding $1 and ${name} as Go does", function()
      local spec = [[regexpReplace: {regexp: '^/users/(\w+)/(?P<id>\d+)$', replace: '/u/${id}/$1/${1}x/$1x'}]]
      -- "$1x" is the group named "1x": empty, as in Go's Expand
      assert.are.equal("/u/42/bob/bobx/", path_after(spec, "/users/bob/42"))
      assert.are.equal("/users/bob/nope", path_after(spec, "/users/bob/nope"))
    end)

    it("with regexpReplace, replacing every match", function()
      assert.are.equal("/a_b_c", path_after([[regexpReplace: {regexp: '-', replace: _}]], "/a-b-c"))
    end)

    it("using the first of replace, addPrefix, trimPrefix, regexpReplace", function()
      assert.are.equal("/r", path_after("{replace: /r, addPrefix: /p, trimPrefix: /x}", "/x/y"))
      assert.are.equal("/p/x/y", path_after("{addPrefix: /p, trimPrefix: /x}", "/x/y"))
      assert.are.equal("/y", path_after("{trimPrefix: /x, regexpReplace: {regexp: y, replace: z}}", "/x/y"))
    end)
  end)

  it("deletes, then sets, then adds headers", function()
    local m = send(filter("ra", "RequestAdaptor", [[
header:
  del: [X-Del, X-Set]
  set: {X-Set: s1, X-Add: set}
  add: {X-Add: added, X-Set: s2, X-New: n}]]),
      { headers = { ["X-Del"] = "d", ["X-Set"] = "old", ["X-Keep"] = "k" } })
    assert.not_matches("X-Del", m.header, 1, true)
    assert.matches("X-Set:[s1 s2]", m.header, 1, true)
    assert.matches("X-Add:[set added]", m.header, 1, true)
    assert.matches("X-New:[n]", m.header, 1, true)
    assert.matches("X-Keep:[k]", m.header, 1, true)
  end)

  it("replaces the body (Content-Length follows)", function()
    local m = send(filter("ra", "RequestAdaptor", "body: the new body"), { method = "POST", body = "old" })
    assert.are.equal("the new body", m.body)
    assert.matches("Content-Length:[12]", m.header, 1, true)
  end)

  it("sets the Host the backend sees", function()
    local _, res = send(filter("ra", "RequestAdaptor", "host: api.example.com"), { host = "client.example" })
    assert.are.equal("api.example.com", res.headers["X-Mirror-Host"])
  end)

  it("compresses the body with gzip", function()
    local text = string.rep("compress me ", 40)
    local m = send(filter("ra", "RequestAdaptor", "compress: gzip"), { method = "POST", body = text })
    assert.matches("Content-Encoding:[gzip]", m.header, 1, true)
    local len = tonumber(m.header:match("Content%-Length:%[(%d+)%]"))
    assert.is_true(len < #text)
    assert.are.equal(text, C.gunzip(m.body))
  end)

  it("decompresses what a first adaptor compressed", function()
    local text = string.rep("round trip ", 40)
    local m = send(filter("zip", "RequestAdaptor", "compress: gzip") ..
      filter("look", "Lua", "code: |\n  ctx.req:set_header('X-Zipped', ctx.req:header('Content-Encoding') .. ' ' .. #ctx.req:body())") ..
      filter("unzip", "RequestAdaptor", "decompress: gzip"), { method = "POST", body = text })
    assert.are.equal(text, m.body)
    assert.not_matches("Content-Encoding", m.header, 1, true)
    assert.matches("Content-Length:[" .. #text .. "]", m.header, 1, true)
    local zipped = tonumber(m.header:match("X%-Zipped:%[gzip (%d+)%]"))
    assert.is_true(zipped < #text)
  end)

  it("leaves a body that already has a Content-Encoding alone", function()
    local m = send(filter("ra", "RequestAdaptor", "compress: gzip"),
      { method = "POST", body = "brotli bytes", headers = { ["Content-Encoding"] = "br" } })
    assert.are.equal("brotli bytes", m.body)
    assert.matches("Content-Encoding:[br]", m.header, 1, true)
  end)

  it("does not decompress a body that is not gzip-encoded", function()
    local m = send(filter("ra", "RequestAdaptor", "decompress: gzip"), { method = "POST", body = "plain" })
    assert.are.equal("plain", m.body)
  end)

  it("answers decompressFailed for a broken gzip body", function()
    local res = assert(testing.run_pipeline(pipeline(nil, filter("ra", "RequestAdaptor", "decompress: gzip")),
      { method = "POST", body = "not gzip", headers = { ["Content-Encoding"] = "gzip" } }))
    assert.are.equal("decompressFailed", res.result)
  end)

  it("drops Content-Encoding with a new body", function()
    local m = send(filter("ra", "RequestAdaptor", "body: plain now"),
      { method = "POST", body = "\31\139...", headers = { ["Content-Encoding"] = "gzip" } })
    assert.are.equal("plain now", m.body)
    assert.not_matches("Content-Encoding", m.header, 1, true)
  end)

  describe("with a template", function()
    it("builds method, path, header, body and host from the request", function()
      local m, res = send(filter("ra", "RequestAdaptor", [[
template: |
  method: {{header .req.Header "X-Method"}}
  path:
    addPrefix: /{{.req.URL.RawQuery | splitList "=" | last}}
  header:
    set: {X-Was: '{{.req.Method}} {{.req.URL.Path}}', X-Number: 5}
    del: [X-Method]
  body: '{{.req.JSONBody.message | upper}}'
  host: '{{.req.JSONBody.host}}']]),
        { method = "POST", path = "/items", query = "tenant=acme", headers = { ["X-Method"] = "PUT" },
          body = '{"message": "hello", "host": "acme.example"}' })
      assert.are.equal("PUT", m.method)
      assert.are.equal("/acme/items?tenant=acme", m.url)
      assert.matches("X-Was:[POST /items]", m.header, 1, true)
      assert.matches("X-Number:[5]", m.header, 1, true)
      assert.not_matches("X-Method", m.header, 1, true)
      assert.are.equal("HELLO", m.body)
      assert.are.equal("acme.example", res.headers["X-Mirror-Host"])
    end)

    it("wins over the static fields; an empty or absent template field keeps the static one", function()
      local fields = [[
method: PATCH
path: {replace: /static}
header: {set: {X-Static: s}}
body: static body
host: static.example
template: |
  method: '{{header .req.Header "X-Method"}}'
  body: '{{header .req.Header "X-Body"}}'
  {{- if .req.Header.X_Never}}never{{end}}
  {{- with header .req.Header "X-Path"}}
  path: {replace: '{{.}}'}
  header: {set: {X-Template: t}}
  {{- end}}]]
      -- the template gives nothing: every static field applies
      local m, res = send(filter("ra", "RequestAdaptor", fields), { method = "GET", path = "/in" })
      assert.are.equal("PATCH", m.method)
      assert.are.equal("/static", m.url)
      assert.matches("X-Static:[s]", m.header, 1, true)
      assert.are.equal("static body", m.body)
      assert.are.equal("static.example", res.headers["X-Mirror-Host"])
      -- the template gives everything but host
      m, res = send(filter("ra", "RequestAdaptor", fields), { method = "GET", path = "/in",
        headers = { ["X-Method"] = "PUT", ["X-Body"] = "from template", ["X-Path"] = "/templated" } })
      assert.are.equal("PUT", m.method)
      assert.are.equal("/templated", m.url)
      assert.matches("X-Template:[t]", m.header, 1, true)
      assert.not_matches("X-Static", m.header, 1, true) -- the template's header replaces the static one
      assert.are.equal("from template", m.body)
      assert.are.equal("static.example", res.headers["X-Mirror-Host"])
    end)

    for _, case in ipairs({
      { "a body that is a map", "body: {a: 1}" },
      { "a method that is not a token", "method: 'GE T'" },
      { "header.del that is not a list", "header: {del: X-A}" },
      { "output that is not a map", "just text" },
      { "an execution error", '{{fail "no"}}' },
    }) do
      it("answers buildErr (500) for " .. case[1], function()
        local res = assert(testing.run_pipeline(pipeline(nil,
          filter("ra", "RequestAdaptor", "template: |\n  " .. case[2])), { path = "/p" }))
        assert.are.equal("buildErr", res.result)
        assert.are.equal(500, res.status)
      end)
    end

    it("leaves the path alone when its regexp does not compile", function()
      local m = send(filter("ra", "RequestAdaptor", [[
template: |
  path: {regexpReplace: {regexp: '(', replace: x}}]]), { path = "/keep" })
      assert.are.equal("/keep", m.url)
    end)
  end)

  it("adapts the request of its namespace only", function()
    local yaml = pipeline([[
  - filter: copy
    namespace: x
  - filter: ra
    namespace: x
  - filter: proxy
    namespace: x
  - filter: answer
]], filter("copy", "RequestBuilder", "sourceNamespace: DEFAULT") ..
      filter("ra", "RequestAdaptor", "method: PUT\nheader: {set: {X-In-X: yes}}") .. proxy(port) ..
      filter("answer", "ResponseBuilder", [[
template: |
  headers: {X-Default: ['{{.req.Method}} {{header .req.Header "X-In-X"}}']}
  body: {{.responses.x.Body | toJson}}]]))
    local res = assert(testing.run_pipeline(yaml, { method = "GET", path = "/p" }))
    local m = mirrored(res.body)
    assert.are.equal("PUT", m.method)
    assert.matches("X-In-X:[yes]", m.header, 1, true)
    assert.are.equal("GET ", res.headers["X-Default"])
  end)

  describe("is refused at submit", function()
    local function refused(fields, message)
      local res, err = testing.run_pipeline(pipeline(nil, filter("ra", "RequestAdaptor", fields)))
      assert.is_nil(res, fields)
      assert.matches(message, err, 1, true)
    end

    it("for sign (not implemented)", function()
      refused("sign: {apiProvider: aws4, accessKeyId: a, accessKeySecret: b}", "sign: request signing is not implemented yet")
    end)

    it("for a codec other than gzip, or compress with decompress", function()
      refused("compress: br", "compress: only gzip is supported")
      refused("decompress: deflate", "decompress: only gzip is supported")
      refused("compress: gzip\ndecompress: gzip", "compress and decompress cannot both be set")
      refused("decompress: gzip\nbody: x", "no need to decompress when body is set")
    end)

    it("for a bad regexp, method or prefix", function()
      refused("path: {regexpReplace: {regexp: '(', replace: x}}", "path.regexpReplace.regexp")
      refused("method: FETCH", "method: invalid method FETCH")
      refused("method: get", "method: invalid method get")
      refused("path: {addPrefix: api}", "path.addPrefix: must start with /")
      refused("path: {trimPrefix: api}", "path.trimPrefix: must start with /")
    end)

    it("for a template syntax error", function()
      refused("template: 'method: {{.req.Method'", "template: ra:1:8: unclosed action")
    end)

    it("for a jumpIf on signFailed (Easegress returns it but does not declare it)", function()
      local res, err = testing.run_pipeline(pipeline("  - filter: ra\n    jumpIf: { signFailed: END }\n",
        filter("ra", "RequestAdaptor", "method: GET")))
      assert.is_nil(res)
      assert.matches("signFailed", err, 1, true)
      assert.is_not_nil(testing.run_pipeline(pipeline(
        "  - filter: ra\n    jumpIf: { decompressFailed: END, compressFailed: END }\n",
        filter("ra", "RequestAdaptor", "method: GET"))))
    end)
  end)
end)

describe("ResponseAdaptor", function()
  local port, stop
  setup(function() port, stop = testing.start_mirror() end)
  teardown(function() if stop then stop() end end)

  local function through_proxy(filters, request)
    return assert(testing.run_pipeline(pipeline(nil, proxy(port) .. filters), request))
  end

  it("edits the headers of a Proxy response: delete, then set, then add", function()
    local res = through_proxy(filter("ra", "ResponseAdaptor", [[
header:
  del: [X-Mirror-Conns, Server]
  set: {X-Mirror-Port: hidden, X-Served-By: easegress}
  add: {X-Served-By: c}]]), {})
    assert.are.equal(200, res.status)
    assert.is_nil(res.headers["X-Mirror-Conns"])
    assert.is_nil(res.headers["Server"])
    assert.are.equal("hidden", res.headers["X-Mirror-Port"])
    assert.matches("^Your Request", res.body) -- the body is the backend's
    assert.are.same({ "proxy=", "ra=" }, testing.steps(res))
  end)

  it("keeps both values of a header it set and added", function()
    local res = through_proxy(filter("ra", "ResponseAdaptor", "header: {set: {X-Two: a}, add: {X-Two: b}}") ..
      filter("read", "ResponseAdaptor", [[template: "header: {set: {X-Both: '{{index .resp.Header \"X-Two\" | join \",\"}}'}}"]]))
    assert.are.equal("a,b", res.headers["X-Both"])
  end)

  it("replaces the body of a Proxy response", function()
    local res = through_proxy(filter("ra", "ResponseAdaptor", "body: replaced"), {})
    assert.are.equal(200, res.status)
    assert.are.equal("replaced", res.body)
    assert.are.equal(tostring(port), res.headers["X-Mirror-Port"])
  end)

  it("builds header and body from a template over .resp and .req", function()
    local res = through_proxy(filter("ra", "ResponseAdaptor", [[
header: {set: {X-Static: s}}
template: |
  header:
    set:
      X-Status: '{{.resp.StatusCode}}'
      X-Asked: '{{.req.Method}} {{.req.URL.Path}}'
  body: '{{(splitList "\n" .resp.Body | first) | upper}} from {{header .resp.Header "X-Mirror-Port"}}']]),
      { method = "PUT", path = "/asked" })
    assert.are.equal("200", res.headers["X-Status"])
    assert.are.equal("PUT /asked", res.headers["X-Asked"])
    assert.is_nil(res.headers["X-Static"]) -- the template's header replaces the static one
    assert.are.equal("YOUR REQUEST from " .. port, res.body)
  end)

  it("keeps the static body when the template's body is empty", function()
    local res = through_proxy(filter("ra", "ResponseAdaptor", "body: static\ntemplate: \"body: ''\""), {})
    assert.are.equal("static", res.body)
  end)

  it("answers responseNotFound without a response, changing nothing", function()
    local res = assert(testing.run_pipeline(pipeline(nil,
      filter("ra", "ResponseAdaptor", "header: {set: {X-A: a}}\nbody: b"))))
    assert.are.equal("responseNotFound", res.result)
    assert.are.equal(0, res.status)
    assert.is_nil(res.headers["X-A"])
  end)

  it("answers responseNotFound in a namespace without a response", function()
    local yaml = pipeline("  - filter: proxy\n  - filter: ra\n    namespace: other\n",
      proxy(port) .. filter("ra", "ResponseAdaptor", "body: b"))
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal("responseNotFound", res.result)
    assert.matches("^Your Request", res.body)
  end)

  it("compresses the body, then a second adaptor decompresses it", function()
    local res = through_proxy(filter("zip", "ResponseAdaptor", "compress: gzip") ..
      filter("look", "Lua", "code: |\n  ctx.resp:set_header('X-Zipped', ctx.resp:header('Content-Encoding') .. ' ' .. #ctx.resp:body())") ..
      filter("unzip", "ResponseAdaptor", "decompress: gzip"), { method = "POST", body = string.rep("z", 500) })
    assert.are.equal(string.rep("z", 500), mirrored(res.body).body)
    assert.is_nil(res.headers["Content-Encoding"])
    assert.is_true(tonumber(res.headers["X-Zipped"]:match("^gzip (%d+)$")) < #res.body / 2)
  end)

  it("compresses the body with gzip for the client", function()
    local res = through_proxy(filter("zip", "ResponseAdaptor", "compress: gzip"), { body = "abc" })
    assert.are.equal("gzip", res.headers["Content-Encoding"])
    assert.matches("Body  : abc$", C.gunzip(res.body))
  end)

  it("answers decompressFailed for a broken gzip body", function()
    local res = through_proxy(filter("label", "ResponseAdaptor", "header: {set: {Content-Encoding: gzip}}") ..
      filter("unzip", "ResponseAdaptor", "decompress: gzip"))
    assert.are.equal("decompressFailed", res.result)
  end)

  it("drops Content-Encoding with a new body", function()
    local res = through_proxy(filter("zip", "ResponseAdaptor", "compress: gzip") ..
      filter("ra", "ResponseAdaptor", "body: plain"))
    assert.are.equal("plain", res.body)
    assert.is_nil(res.headers["Content-Encoding"])
  end)

  describe("with a backend that answers gzip", function()
    local feed, stop_feed
    setup(function()
      feed, stop_feed = start_service("/usr/bin/python3 examples/rss-slack/backends.py --feed-port 0 --webhook-port 0",
        "feed on http://127.0.0.1:(%d+)")
    end)
    teardown(function() if stop_feed then stop_feed() end end)

    local function feed_pipeline(adaptors)
      return pipeline(nil, filter("rb", "RequestBuilder",
        "template: 'url: /developers/feed2json/convert?url=https%3A%2F%2Fblog.example'") ..
        string.format("  - name: proxy\n    kind: Proxy\n    pools:\n      - servers:\n          - url: http://127.0.0.1:%d\n", feed) ..
        adaptors)
    end

    it("decompresses the gzipped response", function()
      local res = assert(testing.run_pipeline(feed_pipeline(filter("unzip", "ResponseAdaptor", "decompress: gzip") ..
        filter("read", "ResponseAdaptor", [[
template: |
  header: {set: {X-Title: '{{.resp.JSONBody.title}}', X-Items: '{{len .resp.JSONBody.items}}'}}]]))))
      assert.are.equal(200, res.status)
      assert.is_nil(res.headers["Content-Encoding"])
      assert.are.equal("Posts from https://blog.example", res.headers["X-Title"])
      assert.are.equal("2", res.headers["X-Items"])
      assert.matches('^{"title": "Posts from https://blog.example"', res.body)
    end)

    it("passes the gzipped response on untouched without decompress", function()
      local res = assert(testing.run_pipeline(feed_pipeline("")))
      assert.are.equal("gzip", res.headers["Content-Encoding"])
      assert.matches('"title"', C.gunzip(res.body), 1, true)
    end)
  end)

  describe("is refused at submit", function()
    local function refused(fields, message)
      local res, err = testing.run_pipeline(pipeline(nil, filter("ra", "ResponseAdaptor", fields)))
      assert.is_nil(res, fields)
      assert.matches(message, err, 1, true)
    end

    it("for a codec other than gzip, compress with decompress, body with decompress", function()
      refused("compress: zstd", "compress: only gzip is supported")
      refused("compress: gzip\ndecompress: gzip", "compress and decompress cannot both be set")
      refused("decompress: gzip\nbody: x", "no need to decompress when body is set")
    end)

    it("for a malformed header spec", function()
      refused("header: {del: X-A}", "header.del: must be a list")
      refused("header: {set: [a]}", "header.set")
    end)

    it("for a template with an unknown function", function()
      refused("template: 'body: {{nope}}'", 'function "nope" not defined')
    end)
  end)
end)
