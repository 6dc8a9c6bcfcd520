-- eg.re: PCRE2 with Go's regexp semantics where they differ from Perl's (expected values of
-- the global operations are what Go's regexp package returns).
local re = require "easegress.re"

describe("eg.re", function()
  it("is eg.re", function()
    assert.are.equal(re, eg.re)
  end)

  describe("match", function()
    it("returns the whole match and the groups", function()
      local m = re.match("key=value; other", "(\\w+)=(\\w+)")
      assert.are.equal("key=value", m[0])
      assert.are.equal("key", m[1])
      assert.are.equal("value", m[2])
      assert.are.equal(2, #m)
    end)

    it("names groups, and marks unset groups false", function()
      local m = re.match("2024-05", "(?<year>\\d{4})-(?<month>\\d\\d)(-(?<day>\\d\\d))?")
      assert.are.equal("2024", m.year)
      assert.are.equal("05", m.month)
      assert.is_false(m.day)
      assert.is_false(m[3])
      assert.are.equal(m[1], m.year)
    end)

    it("returns nil without a match", function()
      assert.is_nil(re.match("abc", "\\d"))
      assert.are.equal(1, select("#", re.match("abc", "\\d")))
    end)

    it("keeps binary subjects and patterns", function()
      local m = re.match("a\0b\0c", "b\\x00(c)")
      assert.are.equal("b\0c", m[0])
      assert.are.equal("c", m[1])
      assert.is_not_nil(re.match("x\0y", "x\0y"))
    end)

    it("anchors $ at the very end, as Go does", function()
      assert.is_nil(re.match("abc\n", "abc$"))
      assert.is_not_nil(re.match("abc", "abc$"))
      assert.is_not_nil(re.match("abc\nxyz", "abc$", "m"))
    end)
  end)

  describe("flags", function()
    it("i: caseless", function()
      assert.is_nil(re.match("HELLO", "hello"))
      assert.are.equal("HELLO", re.match("HELLO", "hello", "i")[0])
    end)

    it("m: ^ and $ at lines", function()
      assert.are.equal("two", re.match("one\ntwo", "^t\\w+", "m")[0])
      assert.is_nil(re.match("one\ntwo", "^t\\w+"))
    end)

    it("s: dot matches newline", function()
      assert.is_nil(re.match("a\nb", "a.b"))
      assert.is_not_nil(re.match("a\nb", "a.b", "s"))
    end)

    it("x: extended", function()
      assert.are.equal("ab", re.match("ab", "a  b  # comment", "x")[0])
    end)

    it("u: UTF-8 characters", function()
      assert.is_nil(re.match("héllo", "^h.llo$"))
      assert.is_not_nil(re.match("héllo", "^h.llo$", "u"))
      assert.are.equal("é", re.match("héllo", "[éè]", "u")[0])
      -- invalid UTF-8 never matches, instead of failing the call
      assert.is_nil(re.match("h\255llo", "^h.llo$", "u"))
      assert.are.equal("ll", re.match("h\255llo", "l+", "u")[0])
    end)

    it("combine, and reject unknown letters", function()
      assert.is_not_nil(re.match("A\nB", "a.b", "is"))
      assert.has_error(function() re.match("a", "a", "g") end)
    end)
  end)

  describe("find", function()
    it("returns 1-based inclusive positions", function()
      assert.are.same({ 3, 4 }, { re.find("hello", "l+") })
      assert.are.same({ 1, 5 }, { re.find("hello", "^.*$") })
      assert.is_nil(re.find("hello", "z"))
    end)

    it("gives an empty match as from > to", function()
      assert.are.same({ 1, 0 }, { re.find("abc", "x*") })
      assert.are.same({ 4, 3 }, { re.find("abc", "$") })
    end)
  end)

  describe("gmatch", function()
    it("iterates over every match", function()
      local found = {}
      for m in re.gmatch("a1b22c333", "\\d+") do found[#found + 1] = m[0] end
      assert.are.same({ "1", "22", "333" }, found)
    end)

    it("gives capture tables", function()
      local pairs_ = {}
      for m in re.gmatch("a=1, b=2", "(?<k>\\w)=(?<v>\\d)") do
        pairs_[#pairs_ + 1] = m.k .. ":" .. m[2]
      end
      assert.are.same({ "a:1", "b:2" }, pairs_)
    end)

    it("skips an empty match right after a match, as Go's FindAll", function()
      local found = {}
      for m in re.gmatch("baaab", "a*") do found[#found + 1] = m[0] end
      assert.are.same({ "", "aaa", "" }, found)
      found = {}
      for m in re.gmatch("abc", "x*") do found[#found + 1] = m[0] end
      assert.are.same({ "", "", "", "" }, found)
    end)

    it("steps over whole UTF-8 characters after an empty match", function()
      local n = 0
      for _ in re.gmatch("éé", "") do n = n + 1 end
      assert.are.equal(3, n)
    end)

    it("keeps iterating when its pattern leaves the cache", function()
      local it = re.gmatch("1 2 3", "(\\d)")
      assert.are.equal("1", it()[1])
      for i = 1, 300 do re.match("x", "x" .. i) end
      assert.are.equal("2", it()[1])
      assert.are.equal("3", it()[1])
      assert.is_nil(it())
      assert.is_nil(it())
    end)
  end)

  describe("sub and gsub", function()
    it("replaces the first or every match, and counts", function()
      assert.are.same({ "x-b-c", 1 }, { re.sub("a-b-c", "[a-z]", "x") })
      assert.are.same({ "x-x-x", 3 }, { re.gsub("a-b-c", "[a-z]", "x") })
      assert.are.same({ "a-b-c", 0 }, { re.gsub("a-b-c", "\\d", "x") })
    end)

    it("expands $n, ${n}, $name, ${name} and $$ as Go's Expand", function()
      assert.are.equal("<key>=<value>", re.gsub("key=value", "(\\w+)", "<$1>"))
      assert.are.equal("value=key", re.sub("key=value", "(\\w+)=(\\w+)", "$2=$1"))
      assert.are.equal("[key]", re.sub("key", "(?<k>\\w+)", "[${k}]"))
      assert.are.equal("[key]", re.sub("key", "(?<k>\\w+)", "[$k]"))
      assert.are.equal("keyx", re.sub("key", "(\\w+)", "${1}x"))
      -- Go reads "$1x" as the group named "1x": there is none, so it expands to nothing
      assert.are.equal("", re.sub("key", "(\\w+)", "$1x"))
      assert.are.equal("$5", re.sub("x", "x", "$$5"))
      assert.are.equal("whole:x", re.sub("x", "x", "whole:$0"))
      -- a $ that starts no name stays literal; an unknown group is empty
      assert.are.equal("$!", re.sub("x", "x", "$!"))
      assert.are.equal("a$", re.sub("x", "x", "a$"))
      assert.are.equal("${1", re.sub("x", "(x)", "${1"))
      assert.are.equal("[]", re.sub("x", "x", "[$7]"))
      assert.are.equal("[]", re.sub("x", "(x)(y)?", "[$2]"))
    end)

    it("calls a function with the captures", function()
      assert.are.same({ "A1-B2", 2 }, { re.gsub("a1-b2", "([a-z])(\\d)", function(m)
        return m[1]:upper() .. m[2]
      end) })
      -- nil or false keeps the match; numbers are strings
      assert.are.equal("a-7", re.gsub("a-b", "[a-z]", function(m)
        if m[0] == "b" then return 7 end
      end))
      assert.has_error(function() re.gsub("a", "a", function() return {} end) end)
    end)

    it("survives a replacement function that churns the pattern cache", function()
      local out = re.gsub("a b c", "(\\w)", function(m)
        for i = 1, 300 do re.match("x", "y" .. i) end
        return re.gsub(m[1], "(\\w)", "<$1>")
      end)
      assert.are.equal("<a> <b> <c>", out)
    end)

    it("does not replace an empty match right after a match, as Go", function()
      assert.are.same({ "XbXcX", 3 }, { re.gsub("baaac", "a*", "X") })
      assert.are.equal("XaXbXcX", re.gsub("abc", "x*", "X"))
      assert.are.equal("-h-é-é-", re.gsub("héé", "", "-"))
      assert.are.equal("Xabc", re.sub("abc", "x*", "X"))
    end)
  end)

  describe("split", function()
    it("splits as Go's Split", function()
      assert.are.same({ "b", "n", "n", "" }, re.split("banana", "a"))
      assert.are.same({ "pi", "a" }, re.split("pizza", "z+"))
      assert.are.same({ "", "b", "b", "c", "cadaaae" }, re.split("abaabaccadaaae", "a*", nil, 5))
      assert.are.same({ "a", "b", "c" }, re.split("a, b ,c", "\\s*,\\s*"))
      assert.are.same({ "a", "b", "c" }, re.split("abc", ""))
      assert.are.same({ "" }, re.split("", ","))
    end)

    it("limits the pieces", function()
      assert.are.same({}, re.split("banana", "a", nil, 0))
      assert.are.same({ "banana" }, re.split("banana", "a", nil, 1))
      assert.are.same({ "b", "nana" }, re.split("banana", "a", nil, 2))
      assert.are.same({ "pizza" }, re.split("pizza", "z+", nil, 1))
    end)
  end)

  describe("errors", function()
    it("reports a bad pattern with its offset", function()
      local res, err = re.match("abc", "a(b")
      assert.is_nil(res)
      assert.matches("invalid regex at offset 3: missing closing parenthesis", err, 1, true)
      for _, fn in ipairs({ re.find, re.gmatch, re.split }) do
        local r, e = fn("abc", "[")
        assert.is_nil(r)
        assert.matches("invalid regex at offset %d+", e)
      end
      local s, e = re.gsub("abc", "*", "x")
      assert.is_nil(s)
      assert.matches("quantifier does not follow a repeatable item", e, 1, true)
    end)

    it("fails fast on catastrophic backtracking", function()
      local start = os.clock()
      local res, err = re.match(string.rep("a", 40) .. "b", "(a+)+$")
      assert.is_nil(res)
      assert.matches("regex match failed", err, 1, true)
      local s, e = re.gsub(string.rep("a", 40) .. "b", "(a|aa)+$", "x")
      assert.is_nil(s)
      assert.matches("regex match failed", e, 1, true)
      assert.has_error(function()
        for _ in re.gmatch(string.rep("a", 40) .. "b", "(a+)+$") do end
      end)
      assert.is_true(os.clock() - start < 1)
    end)

    it("checks its arguments", function()
      assert.has_error(function() re.match(nil, "a") end)
      assert.has_error(function() re.gsub("a", "a", {}) end)
    end)
  end)

  describe("cache", function()
    it("compiles many patterns and reuses them", function()
      for i = 1, 600 do
        assert.are.equal(tostring(i), re.match("n" .. i, "n(" .. i .. ")")[1])
      end
      for i = 1, 600 do
        assert.are.equal(tostring(i), re.match("n" .. i, "n(" .. i .. ")")[1])
      end
      -- the same pattern with other flags is another entry
      assert.is_nil(re.match("ABC", "abc"))
      assert.is_not_nil(re.match("ABC", "abc", "i"))
      assert.is_nil(re.match("ABC", "abc"))
    end)
  end)

  describe("quote", function()
    it("escapes metacharacters as Go's QuoteMeta", function()
      assert.are.equal("1\\.5\\+\\[x\\]\\(\\)\\{\\}\\^\\$\\|\\?\\*\\\\", re.quote("1.5+[x](){}^$|?*\\"))
      assert.is_not_nil(re.match("a.b*", "^" .. re.quote("a.b*") .. "$"))
      assert.is_nil(re.match("axbb", "^" .. re.quote("a.b*") .. "$"))
    end)
  end)
end)
