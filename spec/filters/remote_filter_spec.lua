-- RemoteFilter (lua/filters/remote_filter.lua) against a small remote service (Python,
-- started by the spec) whose behaviour depends on the path it is called on.
local testing = require "easegress.testing"
local crypto = require "easegress.crypto"

local SERVICE = [=[
import base64, json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def b64(s): return base64.b64encode(s.encode()).decode()

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        ctx = json.loads(raw)
        req = ctx["request"]
        mode = self.path.strip("/")
        if mode == "capture":     # the context we got, as the response body; 205
            ctx["request"]["header"]["X-Content-Type-Seen"] = [self.headers.get("Content-Type", "")]
            ctx["response"] = {"statusCode": 200, "header": {"Content-Type": ["application/json"]},
                               "body": b64(json.dumps(ctx))}
            return self.answer(205, json.dumps(ctx))
        if mode == "modify":      # a changed request, no response
            req["method"] = "PUT"
            req["path"] = "/changed path"
            req["query"] = "a=1&b=2"
            req["header"]["X-Remote"] = ["yes", "twice"]
            req["header"].pop("X-Drop", None)
            req["body"] = b64("new body")
            return self.answer(200, json.dumps({"request": req}))
        if mode == "respond":     # the remote answers the client itself: 205
            ctx["response"] = {"statusCode": 403, "header": {"X-Denied": ["by remote"]},
                               "body": b64("denied\n")}
            return self.answer(205, json.dumps(ctx))
        if mode == "response200": # request unchanged, response set, 200: the flow goes on
            ctx["response"] = {"StatusCode": 201, "Header": {"X-R": ["1"]}, "Body": b64("made")}
            return self.answer(200, json.dumps(ctx))
        if mode == "nullbody":
            req["body"] = None
            return self.answer(200, json.dumps({"request": req}))
        if mode == "error500": return self.answer(500, "{}")
        if mode == "notjson": return self.answer(200, "not json", "text/plain")
        if mode == "norequest": return self.answer(200, json.dumps({"response": ctx["response"]}))
        if mode == "badstatus":
            ctx["response"]["statusCode"] = 99
            return self.answer(200, json.dumps(ctx))
        if mode == "badbase64":
            req["body"] = "***"
            return self.answer(200, json.dumps(ctx))
        if mode == "wrongtype":
            req["method"] = 7
            return self.answer(200, json.dumps(ctx))
        if mode == "huge": return self.answer(200, json.dumps({"request": req, "pad": "x" * 200000}))
        if mode == "slow":
            time.sleep(1)
            return self.answer(200, json.dumps(ctx))
        self.answer(404, "{}")

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print("listening on %d" % srv.server_address[1], flush=True)
srv.serve_forever()
]=]

local function start_service()
  local script, log = os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(SERVICE)
  f:close()
  local p = assert(io.popen(string.format("/usr/bin/python3 %s >%s 2>&1 & echo $!", script, log)))
  local pid = p:read("*l")
  p:close()
  local function stop()
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.remove(script)
    os.remove(log)
  end
  for _ = 1, 200 do
    local lf = io.open(log)
    local text = lf and lf:read("*a") or ""
    if lf then lf:close() end
    local port = text:match("listening on (%d+)")
    if port then return tonumber(port), stop end
    eg.sleep(25)
  end
  stop()
  error("the remote service did not start")
end

local port, stop

-- RemoteFilter on <mode>, then a filter that answers with what the request now is (unless
-- the flow ended: responseAlready and failed are not mapped).
local function pipeline(mode, extra, before)
  return string.format([[
name: remote
kind: Pipeline
filters:
%s  - name: remote
    kind: RemoteFilter
    url: http://127.0.0.1:%d/%s
%s  - name: show
    kind: Lua
    code: |
      local r = ctx.req
      local lines = {}
      for k, v in pairs(r:headers()) do lines[#lines + 1] = k:lower() .. "=" .. v end
      table.sort(lines)
      if ctx.resp:status() == 0 or ctx.resp:status() == 200 then ctx.resp:set_status(200) end
      ctx.resp:set_header("X-Status-Before", ctx.resp:status())
      ctx.resp:set_body(r:method() .. " " .. r:path() .. "?" .. tostring(r:raw_query()) .. "\n" ..
        table.concat(lines, "\n") .. "\n" .. r:body())
]], before or "", port, mode, extra and ("    " .. extra .. "\n") or "")
end

local REQ = {
  method = "POST", path = "/orig%20path/x", query = "q=1", host = "gw.example:8080",
  headers = { ["x-keep"] = "k", ["X-Drop"] = "d", Host = "gw.example:8080" },
  body = "hello", client_ip = "10.1.2.3",
}

local function run(mode, extra, req, before)
  return assert(testing.run_pipeline(pipeline(mode, extra, before), req or REQ))
end

describe("RemoteFilter", function()
  setup(function() port, stop = start_service() end)
  teardown(function() if stop then stop() end end)

  it("sends the request and response as Easegress's context JSON", function()
    local res = run("capture")
    assert.are.equal("responseAlready", res.result)
    assert.are.same({ "remote=responseAlready" }, testing.steps(res))
    assert.are.equal(200, res.status)
    local sent = eg.json.decode(res.body)
    local r = sent.request
    assert.are.equal("10.1.2.3", r.realIP)
    assert.are.equal("POST", r.method)
    assert.are.equal("http", r.scheme)
    assert.are.equal("gw.example:8080", r.host)
    assert.are.equal("/orig path/x", r.path)
    assert.are.equal("q=1", r.query)
    assert.are.equal("", r.fragment)
    assert.are.equal("HTTP/1.1", r.proto)
    assert.are.same({ "k" }, r.header["X-Keep"])
    assert.are.same({ "d" }, r.header["X-Drop"])
    assert.is_nil(r.header.Host)
    assert.are.same({ "application/json" }, r.header["X-Content-Type-Seen"])
    assert.are.equal(crypto.base64_encode("hello"), r.body)
    assert.are.equal(200, sent.response.statusCode)
    assert.are.same({}, sent.response.header)
    assert.are.equal("", sent.response.body)
  end)

  it("sends the response an earlier filter built", function()
    local before = "  - name: pre\n    kind: Lua\n    code: |\n" ..
      "      ctx:respond(202, \"so far\")\n      ctx.resp:add_header(\"X-Multi\", \"a\")\n" ..
      "      ctx.resp:add_header(\"x-multi\", \"b\")\n"
    local res = run("capture", nil, nil, before)
    local sent = eg.json.decode(res.body)
    assert.are.equal(202, sent.response.statusCode)
    assert.are.same({ "a", "b" }, sent.response.header["X-Multi"])
    assert.are.equal(crypto.base64_encode("so far"), sent.response.body)
  end)

  it("applies the request the service returns", function()
    local res = run("modify")
    assert.are.same({ "remote=", "show=" }, testing.steps(res))
    local first, rest = res.body:match("^([^\n]*)\n(.*)$")
    assert.are.equal("PUT /changed%20path?a=1&b=2", first)
    assert.matches("x%-keep=k\n", rest)
    assert.matches("x%-remote=yes, twice\n", rest)
    assert.matches("host=gw.example:8080\n", rest)
    assert.is_nil(rest:find("x-drop", 1, true))
    assert.matches("\nnew body$", rest)
  end)

  it("keeps the request's escapes when the path comes back the same", function()
    local res = run("nullbody")
    local first, rest = res.body:match("^([^\n]*)\n(.*)$")
    assert.are.equal("POST /orig%20path/x?q=1", first)
    assert.matches("\n$", rest) -- a null body is an empty body
  end)

  it("applies a returned response and goes on after a 200 (field names in any case)", function()
    local res = run("response200")
    assert.are.same({ "remote=", "show=" }, testing.steps(res))
    assert.are.equal(201, res.status)
    assert.are.equal("1", res.headers["X-R"])
    assert.are.equal("201", res.headers["X-Status-Before"])
  end)

  it("returns responseAlready when the service answers 205", function()
    local res = run("respond")
    assert.are.equal("responseAlready", res.result)
    assert.are.equal(403, res.status)
    assert.are.equal("denied\n", res.body)
    assert.are.equal("by remote", res.headers["X-Denied"])
  end)

  for mode, why in pairs({
    error500 = "a non-2xx answer", notjson = "an answer that is not JSON",
    norequest = "an answer without request", badstatus = "a response status out of range",
    badbase64 = "a body that is not base64", wrongtype = "a field of the wrong type",
    huge = "an answer over 192 KiB", nosuchmode = "a 404",
  }) do
    it("fails with 503 on " .. why, function()
      local res = run(mode)
      assert.are.equal("failed", res.result)
      assert.are.same({ "remote=failed" }, testing.steps(res))
      assert.are.equal(503, res.status)
    end)
  end

  it("fails when the service cannot be reached", function()
    local yaml = pipeline("x"):gsub("127%.0%.0%.1:%d+", "127.0.0.1:1")
    local res = assert(testing.run_pipeline(yaml, REQ))
    assert.are.equal("failed", res.result)
    assert.are.equal(503, res.status)
  end)

  it("fails after the timeout", function()
    local t = eg.time.monotonic_ms()
    local res = run("slow", "timeout: 100ms")
    assert.are.equal("failed", res.result)
    assert.are.equal(503, res.status)
    assert.is_true(eg.time.monotonic_ms() - t < 900)
  end)

  it("fails on a request body over 64 KiB", function()
    local req = { method = "POST", path = "/", body = string.rep("x", 64 * 1024 + 1) }
    local res = run("capture", nil, req)
    assert.are.equal("failed", res.result)
    req.body = string.rep("x", 64 * 1024)
    assert.are.equal("", run("nullbody", nil, req).result)
  end)

  it("lets a failure be routed by jumpIf", function()
    local yaml = string.format([[
name: remote
kind: Pipeline
flow:
  - filter: remote
    jumpIf: { failed: fallback }
  - filter: END
  - filter: fallback
filters:
  - name: remote
    kind: RemoteFilter
    url: http://127.0.0.1:%d/error500
  - name: fallback
    kind: Fallback
    mockCode: 200
    mockBody: remote down
]], port)
    local res = assert(testing.run_pipeline(yaml, REQ))
    assert.are.equal(200, res.status)
    assert.are.equal("remote down", res.body)
    assert.are.same({ "remote=failed", "fallback=fallback" }, testing.steps(res))
  end)

  describe("spec checks", function()
    local function err_of(fields)
      local res, err = testing.run_pipeline("name: r\nkind: Pipeline\nfilters:\n  - name: remote\n" ..
        "    kind: RemoteFilter\n" .. fields:gsub("[^\n]+", "    %0") .. "\n")
      assert.is_nil(res)
      return err
    end

    it("needs an http url", function()
      assert.matches("url: required", err_of("timeout: 1s"))
      assert.matches("url: https is not supported", err_of("url: https://a.example/"))
      assert.matches("url: must be an absolute http:// URL", err_of("url: 127.0.0.1:8080/x"))
      assert.matches("url: must be an absolute http:// URL", err_of("url: /x"))
    end)

    it("checks the timeout", function()
      assert.matches("timeout: invalid duration", err_of("url: http://a/\ntimeout: '5'"))
      assert.matches("timeout: expected string", err_of("url: http://a/\ntimeout: [1]"))
    end)
  end)
end)
