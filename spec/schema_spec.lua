-- easegress.schema: spec checks of Lua filters, and the fields a schema does not name.
local schema = require "easegress.schema"

describe("easegress.schema", function()
  local s = {
    method = { type = "string" },
    path = { type = "table" },
    template = { type = "string", default = "" },
  }

  it("names the top-level fields the schema does not know, sorted", function()
    local spec = { name = "ra", kind = "RequestAdaptor", version = "", createdAt = "x",
                   metod = "GET", path = { signer = {} }, Headers = {} }
    local checked = assert(schema.check(s, spec))
    assert.same({ "Headers", "metod" }, schema.unknown(s, checked))
  end)

  it("knows a field written in another letter case once check has renamed it", function()
    local checked = assert(schema.check(s, { Method = "GET", TEMPLATE = "x" }))
    assert.same({}, schema.unknown(s, checked))
    assert.equals("GET", checked.method)
  end)

  it("reports nothing without a schema", function()
    assert.same({}, schema.unknown(nil, { anything = 1 }))
  end)

  it("still refuses a field of the wrong type", function()
    local ok, err = schema.check(s, { method = 3 })
    assert.is_nil(ok)
    assert.equals("method: expected string, got number", err)
  end)
end)
