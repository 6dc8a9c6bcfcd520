-- RequestBuilder, ResponseBuilder, DataBuilder, ResultBuilder (lua/filters/*_builder.lua):
-- templates over the data root (.req, .requests.<ns>, .responses.<ns>, .data, .namespace)
-- through whole pipelines, with the mirror backend where a Proxy sends what was built.
local testing = require "easegress.testing"

-- "name: p / kind: Pipeline" + an optional flow + the filters (YAML text, indented by 2).
local function pipeline(flow, filters)
  local text = "name: spec-builders\nkind: Pipeline\n"
  if flow then text = text .. "flow:\n" .. flow end
  return text .. "filters:\n" .. filters
end

-- One filter of `kind` named f, its fields given unindented.
local function one(kind, fields)
  return pipeline(nil, "  - name: f\n    kind: " .. kind .. "\n" .. fields:gsub("[^\n]+", "    %0") .. "\n")
end

local function proxy(name, port)
  return string.format("  - name: %s\n    kind: Proxy\n    pools:\n      - servers:\n          - url: http://127.0.0.1:%d\n",
    name, port)
end

-- The fields of the mirror's body: Method, URL, Header, Body.
local function mirrored(body)
  return {
    method = body:match("\nMethod: ([^\n]*)"),
    url = body:match("\nURL   : ([^\n]*)"),
    header = body:match("\nHeader: ([^\n]*)"),
    body = body:match("\nBody  : (.*)$"),
  }
end

describe("RequestBuilder", function()
  describe("with a backend", function()
    local port, stop
    setup(function() port, stop = testing.start_mirror() end)
    teardown(function() if stop then stop() end end)

    -- build in namespace x, send it there, copy the answer back to DEFAULT
    local function build_and_send(template, request, extra_filters)
      local yaml = pipeline([[
  - filter: build
    namespace: x
  - filter: send
    namespace: x
  - filter: answer
]] .. (extra_filters and "  - filter: after\n" or ""), [[
  - name: build
    kind: RequestBuilder
    template: |
]] .. template:gsub("[^\n]+", "      %0") .. "\n" .. proxy("send", port) .. [[
  - name: answer
    kind: ResponseBuilder
    sourceNamespace: x
]] .. (extra_filters or ""))
      return assert(testing.run_pipeline(yaml, request))
    end

    it("builds method, url, headers and body from the client's request", function()
      local res = build_and_send([[
method: {{.req.Header.X_Nothing | default "put"}}
url: /users/{{.req.JSONBody.name}}?from={{.req.URL.Path | urlquery}}&m={{.req.Method}}
headers:
  X-Trace: [{{index .req.Header "X-Trace" 0}}, second]
  X-Lang: ["{{header .req.Header "accept-language"}}"]
body: |
  {"greeting": "{{.req.JSONBody.greeting | jsonEscape}}", "raw": {{.req.Body | len}}}]],
        { method = "POST", path = "/in", headers = { ["X-Trace"] = "t-1", ["Accept-Language"] = "fr" },
          body = '{"name": "bob", "greeting": "say \\"hi\\""}' })
      assert.are.equal(200, res.status)
      local m = mirrored(res.body)
      assert.are.equal("PUT", m.method)
      assert.are.equal("/users/bob?from=%2Fin&m=POST", m.url)
      assert.matches("X-Trace:[t-1 second]", m.header, 1, true)
      assert.matches("X-Lang:[fr]", m.header, 1, true)
      assert.matches("Content-Length:[38]", m.header, 1, true)
      assert.are.equal('{"greeting": "say \\"hi\\"", "raw": 41}\n', m.body)
      assert.are.same({ "build=", "send=", "answer=" }, testing.steps(res))
    end)

    it("starts from an empty request: GET /, no client header, no body", function()
      local res = build_and_send("{{/* nothing */}}",
        { method = "POST", path = "/in", headers = { ["X-Client"] = "c" }, body = "client body" })
      local m = mirrored(res.body)
      assert.are.equal("GET", m.method)
      assert.are.equal("/", m.url)
      assert.not_matches("X-Client", m.header, 1, true)
      assert.are.equal("", m.body)
    end)

    it("upper-cases the method", function()
      local res = build_and_send("method: delete\nurl: /x", {})
      assert.are.equal("DELETE", mirrored(res.body).method)
    end)

    it("takes path and query of an absolute url, its host as Host; the Proxy still sends to its pool", function()
      local res = build_and_send("url: http://api.example.com:8443/v1/items?b=2&a=1#top", { host = "client.example" })
      local m = mirrored(res.body)
      assert.are.equal("/v1/items?a=1&b=2", m.url)
      assert.are.equal("/v1/items?b=2&a=1", res.headers["X-Mirror-Raw-URI"])
      assert.are.equal("api.example.com:8443", res.headers["X-Mirror-Host"])
      assert.are.equal(tostring(port), res.headers["X-Mirror-Port"])
    end)

    it("keeps an escaped url as it is; templates see URL.Path unescaped", function()
      local res = build_and_send("url: /a%20b/c%2Fd?q={{\"x y&z\" | urlquery}}", {},
        "  - name: after\n    kind: ResponseAdaptor\n    template: |\n" ..
        "      header: {set: {X-Path: '{{.requests.x.URL.Path}}', X-Raw-Path: '{{.requests.x.URL.RawPath}}', X-Query: '{{.requests.x.URL.RawQuery}}'}}\n")
      assert.are.equal("/a%20b/c%2Fd?q=x+y%26z", res.headers["X-Mirror-Raw-URI"])
      assert.are.equal("/a b/c/d", res.headers["X-Path"])
      assert.are.equal("/a%20b/c%2Fd", res.headers["X-Raw-Path"])
      assert.are.equal("q=x+y%26z", res.headers["X-Query"])
    end)

    it("leaves the client's request in DEFAULT as it was", function()
      local res = build_and_send("method: PUT\nurl: /built\nheaders: {X-Built: [yes]}",
        { method = "POST", path = "/client", headers = { ["X-Client"] = "c" }, body = "b" },
        "  - name: after\n    kind: ResponseAdaptor\n    template: |\n" ..
        "      header: {set: {X-Default: '{{.req.Method}} {{.req.URL.Path}} {{header .req.Header \"X-Client\"}} {{header .req.Header \"X-Built\"}} {{.req.Body}}'}}\n")
      assert.are.equal("POST /client c  b", res.headers["X-Default"])
    end)

    it("copies the request of sourceNamespace instead", function()
      local yaml = pipeline([[
  - filter: copy
    namespace: x
  - filter: tweak
    namespace: x
  - filter: send
    namespace: x
  - filter: answer
]], [[
  - name: copy
    kind: RequestBuilder
    sourceNamespace: DEFAULT
  - name: tweak
    kind: RequestAdaptor
    header: {set: {X-Copy: "yes"}}
]] .. proxy("send", port) .. [[
  - name: answer
    kind: ResponseBuilder
    template: |
      statusCode: {{.responses.x.StatusCode}}
      headers: {X-Default-Copy: ['{{header .req.Header "X-Copy"}}']}
      body: {{.responses.x.Body | toJson}}
]])
      local res = assert(testing.run_pipeline(yaml, { method = "PATCH", path = "/orig", query = "k=v",
        headers = { ["X-Client"] = "c" }, body = "the body" }))
      local m = mirrored(res.body)
      assert.are.equal("PATCH", m.method)
      assert.are.equal("/orig?k=v", m.url)
      assert.matches("X-Client:[c]", m.header, 1, true)
      assert.matches("X-Copy:[yes]", m.header, 1, true)
      assert.are.equal("the body", m.body)
      -- a copy: the change made in x is not in DEFAULT (Easegress shares one request)
      assert.are.equal("", res.headers["X-Default-Copy"])
    end)
  end)

  it("with sourceNamespace naming a namespace without a request, changes nothing", function()
    local yaml = pipeline([[
  - filter: copy
  - filter: read
]], [[
  - name: copy
    kind: RequestBuilder
    sourceNamespace: nowhere
  - name: read
    kind: ResponseBuilder
    template: "body: '{{.req.Method}} {{.req.URL.Path}} {{.req.Body}}'"
]])
    local res = assert(testing.run_pipeline(yaml, { method = "POST", path = "/p", body = "b" }))
    assert.are.equal("POST /p b", res.body)
  end)

  it("answers buildErr (500) for an invalid method, and jumpIf can route it", function()
    local yaml = pipeline([[
  - filter: f
    jumpIf: { buildErr: oops }
  - filter: END
  - filter: oops
]], [[
  - name: f
    kind: RequestBuilder
    template: "method: FETCH"
  - name: oops
    kind: ResponseBuilder
    template: "statusCode: 400\nbody: cannot build"
]])
    local res = assert(testing.run_pipeline(yaml))
    assert.are.same({ "f=buildErr", "oops=" }, testing.steps(res))
    assert.are.equal(400, res.status)
    assert.are.equal("cannot build", res.body)
    res = assert(testing.run_pipeline(one("RequestBuilder", "template: 'method: FETCH'")))
    assert.are.equal("buildErr", res.result)
    assert.are.equal(500, res.status)
  end)

  for _, case in ipairs({
    { "a url with a space", "url: /a b" },
    { "a url that is not absolute", "url: example.com/x" },
    { "a body that is a map", "body: {a: 1}" },
    { "headers that are a list", "headers: [a, b]" },
    { "output that is not YAML", "body: [1" },
    { "output that is not a map", "just text" },
    { "an execution error", '{{fail "no"}}' },
    { "formData (not implemented)", "formData: {f: {value: v}}" },
  }) do
    it("answers buildErr for " .. case[1], function()
      local yaml = one("RequestBuilder", "template: |\n  " .. case[2])
      local res = assert(testing.run_pipeline(yaml))
      assert.are.equal("buildErr", res.result)
      assert.are.equal(500, res.status)
    end)
  end

  it("ignores formData when there is a body (Easegress: body wins)", function()
    local yaml = pipeline(nil, [[
  - name: f
    kind: RequestBuilder
    template: "body: b\nformData: {f: {value: v}}"
  - name: read
    kind: ResponseBuilder
    template: "body: '{{.req.Body}}'"
]])
    local res = assert(testing.run_pipeline(yaml, { body = "client" }))
    assert.are.equal("b", res.body)
    assert.are.same({ "f=", "read=" }, testing.steps(res))
  end)

  it("uses leftDelim and rightDelim", function()
    local yaml = pipeline(nil, [=[
  - name: f
    kind: RequestBuilder
    leftDelim: "[["
    rightDelim: "]]"
    template: "url: /[[.req.Method | lower]]?x={{literal}}"
  - name: read
    kind: ResponseBuilder
    template: "body: '{{.req.URL.Path}} {{.req.URL.RawQuery}}'"
]=])
    local res = assert(testing.run_pipeline(yaml, { method = "GET" }))
    assert.are.equal("/get x={{literal}}", res.body)
  end)

  describe("is refused at submit", function()
    local function refused(fields, message)
      local res, err = testing.run_pipeline(one("RequestBuilder", fields))
      assert.is_nil(res)
      assert.matches(message, err, 1, true)
    end

    it("for a template syntax error, with line and column", function()
      refused("template: |\n  url: /\n  method: {{.req.Method\n", "filters[0]: template: f:2:8: unclosed action")
    end)

    it("for an unknown function, with line and column", function()
      refused("template: |\n  url: /\n  method: {{nosuch .req.Method}}\n",
        'filters[0]: template: f:2:10: function "nosuch" not defined')
    end)

    it("for sourceNamespace and template together, or neither", function()
      refused("template: 'url: /'\nsourceNamespace: x", "sourceNamespace and template cannot both be set")
      refused("protocol: http", "one of sourceNamespace or template is required")
    end)

    it("for a protocol other than http", function()
      refused("protocol: grpc\ntemplate: 'url: /'", "protocol: only http is supported")
    end)

    it("for a jumpIf on a result it does not have", function()
      local res, err = testing.run_pipeline(pipeline("  - filter: f\n    jumpIf: { failed: END }\n",
        "  - name: f\n    kind: RequestBuilder\n    template: 'url: /'\n"))
      assert.is_nil(res)
      assert.matches("failed", err, 1, true)
    end)
  end)
end)

describe("ResponseBuilder", function()
  describe("with a backend", function()
    local port, stop
    setup(function() port, stop = testing.start_mirror() end)
    teardown(function() if stop then stop() end end)

    it("builds status, headers and body from .responses of another namespace", function()
      local yaml = pipeline([[
  - filter: build
    namespace: backend
  - filter: send
    namespace: backend
  - filter: answer
]], [[
  - name: build
    kind: RequestBuilder
    template: "method: POST\nurl: /echo\nbody: ping"
]] .. proxy("send", port) .. [[
  - name: answer
    kind: ResponseBuilder
    template: |
      statusCode: {{if eq .responses.backend.StatusCode 200}}202{{else}}502{{end}}
      headers:
        X-Backend-Port: ['{{header .responses.backend.Header "X-Mirror-Port"}}']
        X-Backend-Type: ['{{index .responses.backend.Header "Content-Type" 0}}']
        X-Several: [one, two]
      body: '{{range $line := splitList "\n" .responses.backend.Body}}{{if hasPrefix "Method" $line}}{{$line}}{{end}}{{end}} {{.responses.backend.Body | len}}'
]])
      local res = assert(testing.run_pipeline(yaml, { method = "GET", path = "/client" }))
      assert.are.equal(202, res.status)
      assert.are.equal(tostring(port), res.headers["X-Backend-Port"])
      assert.are.equal("text/plain; charset=utf-8", res.headers["X-Backend-Type"])
      assert.matches("^Method: POST %d+$", res.body)
      assert.is_nil(res.headers["X-Mirror-Port"]) -- a new response, not the backend's
    end)

    it("copies the response of sourceNamespace (a streamed backend answer)", function()
      local yaml = pipeline([[
  - filter: copy
    namespace: x
  - filter: send
    namespace: x
  - filter: answer
]], [[
  - name: copy
    kind: RequestBuilder
    sourceNamespace: DEFAULT
]] .. proxy("send", port) .. [[
  - name: answer
    kind: ResponseBuilder
    sourceNamespace: x
]])
      local res = assert(testing.run_pipeline(yaml, { method = "PUT", path = "/p", body = "hello" }))
      assert.are.equal(200, res.status)
      assert.are.equal(tostring(port), res.headers["X-Mirror-Port"])
      assert.are.equal("hello", mirrored(res.body).body)
    end)
  end)

  it("reads .responses.<ns>.JSONBody and .resp", function()
    local yaml = pipeline([[
  - filter: api
    namespace: api
  - filter: first
  - filter: answer
]], [[
  - name: api
    kind: ResponseBuilder
    template: |
      statusCode: 201
      headers: {Content-Type: [application/json]}
      body: '{"user": {"name": "ann", "roles": ["admin", "dev"]}, "count": 2}'
  - name: first
    kind: ResponseBuilder
    template: "statusCode: 299\nbody: first"
  - name: answer
    kind: ResponseBuilder
    template: |
      statusCode: {{.responses.api.StatusCode}}
      headers:
        Content-Type: ['{{header .responses.api.Header "content-type"}}']
        X-Before: ['{{.resp.StatusCode}} {{.resp.Body}}']
      body: >-
        {{.responses.api.JSONBody.user.name}}
        {{join "," .responses.api.JSONBody.user.roles}}
        {{.responses.api.JSONBody.count}}
        {{.namespace}}
]])
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(201, res.status)
    assert.are.equal("application/json", res.headers["Content-Type"])
    assert.are.equal("299 first", res.headers["X-Before"])
    assert.are.equal("ann admin,dev 2 DEFAULT", res.body)
  end)

  it("defaults to 200, no headers, an empty body", function()
    local res = assert(testing.run_pipeline(one("ResponseBuilder", "template: '{{/* empty */}}'")))
    assert.are.equal(200, res.status)
    assert.are.equal("", res.body)
    assert.are.same({ "f=" }, testing.steps(res))
    res = assert(testing.run_pipeline(one("ResponseBuilder", "template: 'statusCode: 0'")))
    assert.are.equal(200, res.status)
  end)

  it("replaces the response already there", function()
    local yaml = pipeline([[
  - filter: before
    jumpIf: { responded: f }
  - filter: f
]], [[
  - name: before
    kind: Lua
    results: [responded]
    code: |
      ctx.resp:set_header("X-Old", "1")
      return ctx:respond(503, "down")
  - name: f
    kind: ResponseBuilder
    template: "statusCode: 204"
]])
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(204, res.status)
    assert.are.equal("", res.body)
    assert.is_nil(res.headers["X-Old"])
  end)

  for _, code in ipairs({ 199, 600, 1000 }) do
    it("answers buildErr for statusCode " .. code, function()
      local res = assert(testing.run_pipeline(one("ResponseBuilder", "template: 'statusCode: " .. code .. "'")))
      assert.are.equal("buildErr", res.result)
      assert.are.equal(500, res.status)
    end)
  end

  it("answers buildErr for a header value that is a map", function()
    local res = assert(testing.run_pipeline(one("ResponseBuilder", "template: 'headers: {X-A: [{b: 1}]}'")))
    assert.are.equal("buildErr", res.result)
  end)

  it("with sourceNamespace naming a namespace without a response, keeps the response", function()
    local yaml = pipeline(nil, [[
  - name: first
    kind: ResponseBuilder
    template: "statusCode: 201\nbody: kept"
  - name: f
    kind: ResponseBuilder
    sourceNamespace: nowhere
]])
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(201, res.status)
    assert.are.equal("kept", res.body)
  end)

  it(".responses holds the namespaces that have a response, .requests those with a request", function()
    local yaml = pipeline([[
  - filter: a
    namespace: a
  - filter: b
    namespace: b
  - filter: f
]], [[
  - name: a
    kind: ResponseBuilder
    template: "body: a"
  - name: b
    kind: RequestBuilder
    template: "url: /b"
  - name: f
    kind: ResponseBuilder
    template: |
      body: "{{range $k, $v := .responses}}{{$k}},{{end}} {{range $k, $v := .requests}}{{$k}},{{end}}"
]])
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal("a, DEFAULT,b,", res.body)
  end)

  it("is refused at submit for sourceNamespace and template together", function()
    local res, err = testing.run_pipeline(one("ResponseBuilder", "template: 'body: x'\nsourceNamespace: x"))
    assert.is_nil(res)
    assert.matches("sourceNamespace and template cannot both be set", err, 1, true)
  end)
end)

describe("DataBuilder", function()
  it("stores its YAML as .data.<dataKey> for later templates", function()
    local yaml = pipeline(nil, [[
  - name: user
    kind: DataBuilder
    dataKey: user
    template: |
      name: {{.req.JSONBody.name | upper}}
      tags: [{{.req.JSONBody.tag}}, fixed]
      big: 1000000
      ratio: 0.25
  - name: scalar
    kind: DataBuilder
    dataKey: greeting
    template: hello {{.data.user.name}}
  - name: f
    kind: ResponseBuilder
    template: |
      headers:
        X-Kind: ['{{kindOf .data.user}} {{kindOf .data.user.tags}} {{kindOf .data.greeting}}']
      body: "{{.data.greeting}} {{index .data.user.tags 1}} {{.data.user.big}} {{.data.user.ratio}} {{if eq .data.user.big 1000000}}int{{end}}"
]])
    local res = assert(testing.run_pipeline(yaml, { body = '{"name": "ann", "tag": "x"}' }))
    assert.are.equal("hello ANN fixed 1000000 0.25 int", res.body)
    assert.are.equal("map slice string", res.headers["X-Kind"])
  end)

  it("sees the pipeline's data as .data.PIPELINE (JSON numbers are float64, as in Go)", function()
    local yaml = "name: p\nkind: Pipeline\ndata:\n  greeting: hi\n  n: 3\n  big: 1000000\n  lang: {en: English}\n" .. [[
filters:
  - name: f
    kind: ResponseBuilder
    template: |
      body: "{{.data.PIPELINE.greeting}} {{.data.PIPELINE.n}} {{.data.PIPELINE.big}} {{(get .data.PIPELINE.lang "en")}} {{typeOf .data.PIPELINE.n}}"
]]
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal("hi 3 1e+06 English float64", res.body)
  end)

  it("without pipeline data, .data.PIPELINE is missing", function()
    local res = assert(testing.run_pipeline(one("ResponseBuilder",
      "template: 'body: \"{{.data.PIPELINE}} {{.data.PIPELINE.x}} {{hasKey .data \"PIPELINE\"}}\"'")))
    assert.are.equal("<no value> <no value> false", res.body)
  end)

  it("an empty output stores nothing (<no value>)", function()
    local yaml = pipeline(nil, [[
  - name: d
    kind: DataBuilder
    dataKey: d
    template: "{{/* nothing */}}"
  - name: f
    kind: ResponseBuilder
    template: "body: '{{.data.d}}'"
]])
    assert.are.equal("<no value>", assert(testing.run_pipeline(yaml)).body)
  end)

  it("a later DataBuilder with the same key replaces the value; data is per request", function()
    local yaml = pipeline([[
  - filter: d
  - filter: d
    alias: again
  - filter: f
]], [[
  - name: d
    kind: DataBuilder
    dataKey: n
    template: "{{if .data.n}}{{add .data.n 1}}{{else}}1{{end}}"
  - name: f
    kind: ResponseBuilder
    template: "body: '{{.data.n}}'"
]])
    assert.are.equal("2", assert(testing.run_pipeline(yaml)).body)
    assert.are.equal("2", assert(testing.run_pipeline(yaml)).body)
  end)

  it("sees the active namespace as .namespace", function()
    local yaml = pipeline([[
  - filter: d
    namespace: side
  - filter: f
]], [[
  - name: d
    kind: DataBuilder
    dataKey: ns
    template: "{{.namespace}}"
  - name: f
    kind: ResponseBuilder
    template: "body: '{{.data.ns}} {{.namespace}}'"
]])
    assert.are.equal("side DEFAULT", assert(testing.run_pipeline(yaml)).body)
  end)

  it("answers buildErr for output that is not YAML", function()
    local res = assert(testing.run_pipeline(one("DataBuilder", "dataKey: d\ntemplate: 'a: [1'")))
    assert.are.equal("buildErr", res.result)
    assert.are.equal(500, res.status)
  end)

  it("is refused at submit without dataKey or template", function()
    local res, err = testing.run_pipeline(one("DataBuilder", "template: x"))
    assert.is_nil(res)
    assert.matches("dataKey", err, 1, true)
    res, err = testing.run_pipeline(one("DataBuilder", "dataKey: x"))
    assert.is_nil(res)
    assert.matches("template", err, 1, true)
  end)
end)

describe("ResultBuilder", function()
  local ROUTES = { "result0", "result3", "result9" }

  -- a ResultBuilder choosing from the X-Route header, then one ResponseBuilder per result
  local function routing_yaml(template)
    local flow = "  - filter: choose\n    jumpIf: { result0: r0, result3: r3, result9: r9, unknown: other }\n"
    for _, name in ipairs({ "fallthrough", "r0", "r3", "r9" }) do
      flow = flow .. "  - filter: " .. name .. "\n    jumpIf: { '': END }\n"
    end
    flow = flow .. "  - filter: other\n"
    local filters = "  - name: choose\n    kind: ResultBuilder\n    template: |\n" ..
      template:gsub("[^\n]+", "      %0") .. "\n"
    for _, name in ipairs({ "fallthrough", "r0", "r3", "r9", "other" }) do
      filters = filters .. string.format("  - name: %s\n    kind: ResponseBuilder\n    template: 'body: %s'\n", name, name)
    end
    return pipeline(flow, filters)
  end

  it("routes result0..result9 through jumpIf", function()
    local yaml = routing_yaml('{{header .req.Header "X-Route"}}')
    for i, route in ipairs(ROUTES) do
      local res = assert(testing.run_pipeline(yaml, { headers = { ["X-Route"] = route } }))
      assert.are.equal("r" .. route:sub(-1), res.body, route)
      assert.are.same({ "choose=" .. route, "r" .. route:sub(-1) .. "=" }, testing.steps(res), i)
    end
  end)

  it("goes on for an empty result", function()
    local res = assert(testing.run_pipeline(routing_yaml("{{/* nothing */}}")))
    assert.are.equal("fallthrough", res.body)
    assert.are.same({ "choose=", "fallthrough=" }, testing.steps(res))
  end)

  it("gives unknown for anything else", function()
    local yaml = routing_yaml('{{header .req.Header "X-Route"}}')
    for _, route in ipairs({ "result10", "Result1", "yes", "buildErr", "result 1" }) do
      local res = assert(testing.run_pipeline(yaml, { headers = { ["X-Route"] = route } }))
      assert.are.equal("other", res.body, route)
      assert.are.same({ "choose=unknown", "other=" }, testing.steps(res), route)
    end
  end)

  it("reads its output as YAML: blanks, quotes and comments go; null is empty", function()
    for text, want in pairs({
      ["  result3  "] = "r3", ["'result3'"] = "r3", ['"result9"'] = "r9",
      ["result0 # the first"] = "r0", ["~"] = "fallthrough", ["null"] = "fallthrough",
      ["\n\nresult9\n"] = "r9",
    }) do
      local res = assert(testing.run_pipeline(routing_yaml('{{"' .. text:gsub("\n", "\\n"):gsub('"', '\\"') .. '"}}')))
      assert.are.equal(want, res.body, text)
    end
  end)

  it("chooses from the request body (the chat bots' detectMessageType)", function()
    local yaml = routing_yaml(
      "{{- $msg := or .req.JSONBody.message .req.JSONBody.channel_post -}}\n" ..
      "{{- if $msg.text}}result0{{else if $msg.voice}}result3{{else if $msg.photo}}result9{{end -}}")
    local function route(body) return assert(testing.run_pipeline(yaml, { body = body })).body end
    assert.are.equal("r0", route('{"message": {"text": "hi"}}'))
    assert.are.equal("r3", route('{"channel_post": {"voice": {"file_id": "v"}}}'))
    assert.are.equal("r9", route('{"message": {"photo": [{"file_id": "p"}]}}'))
    assert.are.equal("fallthrough", route('{"message": {"sticker": {}}}'))
  end)

  it("answers buildErr for a map, a list or an execution error", function()
    for _, t in ipairs({ "'{a: 1}'", "'[result1]'", "'{{fail \"no\"}}'" }) do
      local res = assert(testing.run_pipeline(one("ResultBuilder", "template: " .. t)))
      assert.are.equal("buildErr", res.result, t)
      assert.are.equal(500, res.status, t)
    end
  end)

  it("declares result0..result9, buildErr and unknown for jumpIf, nothing else", function()
    local function submit(result)
      return testing.run_pipeline(pipeline("  - filter: f\n    jumpIf: { " .. result .. ": END }\n",
        "  - name: f\n    kind: ResultBuilder\n    template: result1\n"))
    end
    for _, r in ipairs({ "result0", "result9", "buildErr", "unknown" }) do
      assert.is_not_nil(submit(r), r)
    end
    local res, err = submit("result10")
    assert.is_nil(res)
    assert.matches("result10", err, 1, true)
  end)
end)
