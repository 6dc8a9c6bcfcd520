-- The template engine of the easegress-sdk rock (easegress.template), under plain busted or
-- inside the runtime: Go's text/template with sprig and Easegress's functions.
local template = require "easegress.template"

local function render(text, data)
  local tpl, err = template.compile(text, { name = "t" })
  if not tpl then return nil, err end
  return tpl:render(data)
end

local function has_bit_library()
  return (pcall(require, "bit")) or (pcall(require, "bit32"))
end

describe("easegress.template (SDK)", function()
  it("renders fields, pipes, if and range as Go does", function()
    local data = { name = "bob", items = { "a", "b" }, n = 1000000, admin = false }
    assert.are.equal("Hi BOB: 0=a 1=b; user; 1e+06",
      render('Hi {{.name | upper}}:{{range $i, $x := .items}} {{$i}}={{$x}}{{end}};'
        .. ' {{if .admin}}admin{{else}}user{{end}}; {{.n}}', data))
  end)

  it("prints <no value> for a missing key", function()
    assert.are.equal("<no value>", render("{{.nope}}", {}))
  end)

  it("writes toJson with sorted keys and Go's escaping", function()
    assert.are.equal('{"a":1,"b":"\\u003cx\\u003e"}', render("{{toJson .}}", { b = "<x>", a = 1 }))
  end)

  it("has sprig's and Easegress's functions", function()
    assert.are.equal("d|a,b|3.5|X-Rss-Url", render(
      '{{.missing | default "d"}}|{{join "," (list "a" "b")}}|{{addf 1 2.5}}|{{header .h "x-rss-url"}}',
      { h = { ["X-Rss-Url"] = { "X-Rss-Url" } } }))
    assert.are.equal("aGVsbG8=", render('{{b64enc "hello"}}', {}))
  end)

  it("hashes with a bit library (LuaJIT's bit, Lua 5.2's bit32, or lua-bitop on Lua 5.1)", function()
    local out, err = render('{{sha256sum "hello"}}', {})
    if has_bit_library() then
      assert.is_nil(err)
      assert.are.equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", out)
    else
      assert.is_nil(out)
      assert.matches("no bit library", err)
    end
  end)

  it("reports an unknown function and a syntax error at compile time with line and column", function()
    local tpl, err = template.compile("a\n  {{ .x | nope }}", { name = "body" })
    assert.is_nil(tpl)
    assert.are.equal('body:2:10: function "nope" not defined', err)
    tpl, err = template.compile("{{ .x ", { name = "body" })
    assert.is_nil(tpl)
    assert.are.equal("body:1:0: unclosed action", err)
  end)

  it("compiles once and renders many times", function()
    local tpl = assert(template.compile("{{.x}}", { name = "t" }))
    assert.are.equal("1", tpl:render({ x = "1" }))
    assert.are.equal("2", tpl:render({ x = "2" }))
  end)
end)
