-- easegress.fake_ctx against the runtime's ctx: the same filter code, run once on a real
-- request (an inline Lua filter in a Pipeline, through easegress.testing.run_pipeline) and
-- once on a fake ctx made from the same request, must see and do the same things.
-- Runtime only (it runs a Pipeline): make spec. sdk-spec/fake_ctx_spec.lua tests the fake alone.
local testing = require "easegress.testing"
local fake = require "easegress.fake_ctx"
local cjson = require "cjson"

-- The body of handle(self, ctx): records what it sees, answers with the record.
local PROBE = [[
local obs = {}
local function put(k, v) obs[#obs + 1] = k .. "=" .. tostring(v) end
local function dump(t)
  local ks, out = {}, {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  for _, k in ipairs(ks) do out[#out + 1] = k .. ":" .. t[k] end
  return table.concat(out, "|")
end
local function try(k, f) put(k, (pcall(f))) end
local req, resp = ctx.req, ctx.resp
put("method", req:method()) put("path", req:path()) put("raw_query", req:raw_query())
put("query y", req:query("y")) put("query z", req:query("z")) put("query w", req:query("w"))
put("host", req:host()) put("scheme", req:scheme()) put("proto", req:proto())
put("client_ip", req:client_ip()) put("body", req:body())
put("json", type(req:json())) put("json.k", (req:json() or {}).k)
put("accept", req:header("accept")) put("cookie sid", req:cookie("sid")) put("cookie theme", req:cookie("theme"))
req:add_header("Accept", "e/f") put("headers", dump(req:headers()))
req:add_header("ACCEPT", "g/h") put("accept+", req:header("accept"))
req:set_header("accept", 1) put("set", dump(req:headers()))
req:del_header("COOKIE") put("del", dump(req:headers()))
try("bad name", function() req:set_header("Bad Name", "v") end)
try("crlf", function() req:set_header("X-A", "a\r\nB: 1") end)
try("path no slash", function() req:set_path("x") end)
try("path space", function() req:set_path("/a b") end)
try("path ?", function() req:set_path("/a?b") end)
try("method lower", function() req:set_method("get") end)
try("query space", function() req:set_query("a b") end)
try("status 99", function() resp:set_status(99) end)
try("respond 1000", function() ctx:respond(1000) end)
req:set_method("PATCH") req:set_path("/new") req:set_query("q=1") req:set_body("b=2")
put("edited", table.concat({ req:method(), req:path(), req:raw_query(), req:body() }, " "))
req:set_query(nil) req:set_body(nil)
put("cleared", tostring(req:raw_query()) .. " [" .. req:body() .. "]")
put("status0", resp:status()) put("rbody0", resp:body()) put("rheaders0", dump(resp:headers()))
resp:set_header("X-B", "1") resp:add_header("X-B", "2") resp:add_header("x-b", "3")
put("x-b", resp:header("X-B")) resp:set_body("hello")
put("status1", resp:status()) put("rbody1", resp:body())
resp:set_status(202) resp:del_header("X-B") put("status2", resp:status()) put("rheaders2", dump(resp:headers()))
put("respond", ctx:respond(201, "made", "application/json"))
put("status3", resp:status()) put("rbody3", resp:body()) put("rheaders3", dump(resp:headers()))
ctx:respond(204) put("rheaders4", dump(resp:headers())) put("rbody4", "[" .. resp:body() .. "]")
ctx.vars.v = "shared"
local other = ctx:namespace("other")
put("ns vars", other.vars.v)
put("ns method", other.req:method()) put("ns path", other.req:path()) put("ns host", other.req:host())
put("ns scheme", other.req:scheme()) put("ns body", "[" .. other.req:body() .. "]")
put("ns headers", dump(other.req:headers())) put("ns status", other.resp:status())
other.req:set_method("POST") other:respond(200, "ok")
put("ns again", ctx:namespace("other").req:method() .. " " .. ctx:namespace("other").resp:body())
put("own status", resp:status())
return ctx:respond(200, table.concat(obs, "\n"))
]]

local REQUEST = {
  method = "PUT", path = "/a/b", query = "x=1&y=a%20b&z=c+d", host = "api.local",
  body = '{"k":"v"}', client_ip = "10.1.2.3",
  headers = { Accept = "a/b, c/d", Cookie = "sid=42; theme=dark " },
}

describe("easegress.fake_ctx against the runtime's ctx", function()
  it("sees and does what the real ctx does", function()
    local pipeline = cjson.encode({ name = "fake-vs-real", kind = "Pipeline",
                                    filters = { { name = "probe", kind = "Lua", code = PROBE } } })
    local real = assert(testing.run_pipeline(pipeline, REQUEST))
    assert.are.equal(200, real.status)

    local ctx = fake.new(REQUEST)
    local handle = assert(loadstring("local self, ctx = ... " .. PROBE))
    assert.are.equal("responded", handle(nil, ctx))
    local want, got = {}, {}
    for line in real.body:gmatch("[^\n]+") do want[#want + 1] = line end
    for line in ctx.resp:body():gmatch("[^\n]+") do got[#got + 1] = line end
    assert.are.same(want, got)
  end)

  it("headers() merges one header's values whatever the spelling of its name", function()
    local code = 'local h = ctx.req:headers()\n' ..
      'local n = 0 for _ in pairs(h) do n = n + 1 end\n' ..
      'local k, v = next(h)\n' ..
      'return ctx:respond(200, n .. " " .. v)'
    local yaml = "name: p\nkind: Pipeline\nfilters:\n  - name: f\n    kind: Lua\n    code: |\n"
    for line in (code .. "\n"):gmatch("([^\n]*)\n") do yaml = yaml .. "      " .. line .. "\n" end
    -- two lines whose names differ only in case: one entry, both values
    local real = assert(testing.run_pipeline(yaml, { headers = { ["X-Dup"] = "a", ["x-dup"] = "b" } }))
    assert.is_truthy(real.body == "1 a, b" or real.body == "1 b, a", real.body)
    local ctx = fake.new({ headers = { ["X-Dup"] = "a" } })
    local h = ctx.req:headers()
    assert.are.equal("a", h["X-Dup"])
  end)
end)
