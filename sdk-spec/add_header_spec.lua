-- examples/filters/add_header.lua (kind AddHeader) tested with the fake ctx of the
-- easegress-sdk rock: its schema, the header it sets, and the 403 it answers when blocked.
local fake = require "easegress.fake_ctx"

-- The filter file, found from this spec's own path (so any working directory will do).
local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
local AddHeader = dofile(here .. "/../examples/filters/add_header.lua")

describe("AddHeader with a fake ctx", function()
  it("sets the configured header and lets the request go on", function()
    local f = assert(fake.filter(AddHeader, { header = "X-Added", value = "yes" }))
    local ctx = fake.new{ method = "POST", path = "/users", headers = { ["X-Added"] = "client's" } }
    assert.is_nil(f:handle(ctx))
    local req = fake.request_of(ctx)
    assert.are.equal("yes", req.headers["X-Added"])
    assert.are.equal("POST", req.method)
    assert.are.equal(0, ctx.resp:status()) -- no response yet
  end)

  it("takes value's default from the schema", function()
    local f = assert(fake.filter(AddHeader, { header = "X-Added" }))
    local ctx = fake.new{}
    f:handle(ctx)
    assert.are.equal("on", ctx.req:header("x-added"))
  end)

  it("answers 403 with the result blocked when the block header is sent (any case)", function()
    local f = assert(fake.filter(AddHeader, { header = "X-Added" }))
    local ctx = fake.new{ headers = { ["x-block"] = "1" } }
    assert.are.equal("blocked", f:handle(ctx))
    assert.are.equal(403, ctx.resp:status())
    assert.are.equal("blocked: X-Block is set\n", ctx.resp:body())
    assert.are.equal("text/plain; charset=utf-8", ctx.resp:headers()["Content-Type"])
    assert.is_nil(ctx.req:header("X-Added"))
  end)

  it("is refused without its required header field", function()
    local f, err = fake.filter(AddHeader, {})
    assert.is_nil(f)
    assert.are.equal("header: required", err)
  end)
end)
