-- eg.shared: shared dictionaries (the C store is unit-tested in tests/unit/test_shared_dict.c;
-- these specs cover the Lua face and a pipeline's view of it).
local shared = require "easegress.shared"
local testing = require "easegress.testing"

describe("eg.shared", function()
  local d = shared.default
  before_each(function() d:flush_all() end)

  describe("lookup", function()
    it("is eg.shared", function()
      assert.are.equal(shared, eg.shared)
    end)

    it("has the built-in default dictionary of 10000 entries", function()
      assert.is_not_nil(d)
      assert.are.equal(10000, d:capacity())
      assert.are.equal("default", d:name())
      assert.are.equal("shared dict default", tostring(d))
      assert.are.equal(d, shared["default"])
    end)

    it("answers nil for an undeclared name", function()
      assert.is_nil(shared.nope)
      assert.is_nil(shared["no-such-dict"])
      assert.is_nil(shared[1])
    end)

    it("is read-only", function()
      assert.has_error(function() shared.mine = {} end)
    end)

    it("hides the methods table", function()
      assert.are.equal("shared dict", getmetatable(d))
    end)
  end)

  describe("get and set", function()
    it("keeps strings, numbers and booleans", function()
      assert.is_true(d:set("s", "text"))
      assert.is_true(d:set("n", 42.5))
      assert.is_true(d:set("t", true))
      assert.is_true(d:set("f", false))
      assert.are.equal("text", d:get("s"))
      assert.are.equal(42.5, d:get("n"))
      assert.is_true(d:get("t"))
      assert.is_false(d:get("f"))
      assert.is_nil(d:get("missing"))
    end)

    it("keeps binary strings and big values", function()
      local bin = "a\0b\255"
      d:set(bin, bin)
      assert.are.equal(bin, d:get(bin))
      local big = string.rep("0123456789", 100000)
      d:set("big", big)
      assert.are.equal(big, d:get("big"))
      d:set("empty", "")
      assert.are.equal("", d:get("empty"))
    end)

    it("replaces a value of any type, and deletes on nil", function()
      d:set("k", "one")
      d:set("k", 2)
      assert.are.equal(2, d:get("k"))
      d:set("k", nil)
      assert.is_nil(d:get("k"))
      assert.are.equal(0, d:count())
    end)

    it("refuses empty keys and values it cannot store", function()
      assert.are.same({ nil, "empty key" }, { d:get("") })
      assert.are.same({ nil, "empty key" }, { d:set("", 1) })
      assert.are.same({ nil, "key too long" }, { d:set(string.rep("k", 65536), 1) })
      assert.has_error(function() d:set("k", {}) end)
      assert.has_error(function() d:set("k", 1, -1) end)
      assert.has_error(function() d.get("k") end)
    end)
  end)

  describe("add", function()
    it("stores only a new key", function()
      assert.is_true(d:add("a", 1))
      assert.are.same({ nil, "exists" }, { d:add("a", 2) })
      assert.are.equal(1, d:get("a"))
    end)
  end)

  describe("incr", function()
    it("adds to a number", function()
      d:set("n", 10)
      assert.are.equal(11, d:incr("n", 1))
      assert.are.equal(8.5, d:incr("n", -2.5))
    end)

    it("creates a missing key from init", function()
      assert.are.same({ nil, "not found" }, { d:incr("c", 1) })
      assert.are.equal(1, d:incr("c", 1, 0))
      assert.are.equal(2, d:incr("c", 1, 0))
      assert.are.equal(105, d:incr("other", 5, 100))
    end)

    it("refuses a value that is not a number", function()
      d:set("s", "10")
      assert.are.same({ nil, "not a number" }, { d:incr("s", 1) })
      assert.has_error(function() d:incr("s", "x") end)
    end)
  end)

  describe("delete, keys, count", function()
    it("deletes and tells whether the key was there", function()
      d:set("x", 1)
      assert.is_true(d:delete("x"))
      assert.is_false(d:delete("x"))
    end)

    it("lists keys up to a maximum", function()
      for i = 1, 5 do d:set("key" .. i, i) end
      local keys = d:keys()
      table.sort(keys)
      assert.are.same({ "key1", "key2", "key3", "key4", "key5" }, keys)
      assert.are.equal(2, #d:keys(2))
      assert.are.equal(5, #d:keys(0))
      assert.are.equal(5, d:count())
    end)

    it("evicts the least recently used entries beyond its capacity", function()
      for i = 1, 12000 do d:set("e" .. i, i) end
      assert.are.equal(10000, d:count())
      assert.are.equal(12000, d:get("e12000"))
      assert.is_nil(d:get("e1"))
    end)
  end)

  describe("ttl", function()
    it("reports the time left, 0 for no expiry", function()
      d:set("forever", 1)
      assert.are.equal(0, d:ttl("forever"))
      d:set("soon", 1, 10)
      local left = d:ttl("soon")
      assert.is_true(left > 9 and left <= 10)
      assert.are.same({ nil, "not found" }, { d:ttl("missing") })
    end)

    it("hides expired entries", function()
      d:set("t", "v", 0.05)
      assert.is_true(d:incr("c", 1, 0, 0.05) == 1)
      assert.are.equal("v", d:get("t"))
      eg.sleep(80)
      assert.is_nil(d:get("t"))
      assert.are.same({ nil, "not found" }, { d:incr("c", 1) })
      assert.are.equal(0, d:count())
      assert.is_true(d:add("t", "again"))
    end)

    it("keeps an existing key's ttl on incr", function()
      d:set("c", 1, 0.05)
      d:incr("c", 1, 0, 100)
      assert.is_true(d:ttl("c") <= 0.05)
    end)
  end)

  describe("from a pipeline", function()
    local yaml = table.concat({
      "name: shared-counter",
      "kind: Pipeline",
      "filters:",
      "  - name: count",
      "    kind: Lua",
      "    code: |",
      "      local hits = eg.shared.default",
      '      local n = hits:incr("pipeline-hits", 1, 0)',
      "      ctx.resp:set_status(200)",
      '      ctx.resp:set_header("X-Count", tostring(n))',
      "",
    }, "\n")

    it("is shared across requests", function()
      local first = assert(testing.run_pipeline(yaml, { path = "/" }))
      local second = assert(testing.run_pipeline(yaml, { path = "/" }))
      assert.are.equal("1", first.headers["X-Count"])
      assert.are.equal("2", second.headers["X-Count"])
      assert.are.equal(2, d:get("pipeline-hits"))
    end)
  end)
end)
