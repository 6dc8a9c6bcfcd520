-- luacheck: max line length 180
-- The template engine (reference/easegress-spec.md §5): Go's text/template syntax, sprig and
-- Easegress's functions, with Go's output rules. Expected outputs are what Easegress (Go 1.23,
-- slim-sprig v2.20.0) prints, except where a case says otherwise.
local template = require "easegress.template"
local json = require "easegress.template.json"

local I = template.int
local NULL = template.null

local function render(text, data, opts)
  local tpl, err = template.compile(text, opts or { name = "t" })
  if not tpl then return nil, err end
  return tpl:render(data)
end

local function check(want, text, data)
  local out, err = render(text, data)
  assert.is_nil(err)
  assert.are.equal(want, out)
end

local function compile_error(want, text)
  local tpl, err = template.compile(text, { name = "t" })
  assert.is_nil(tpl)
  assert.are.equal(want, err)
end

local function exec_error(want, text, data)
  local out, err = render(text, data)
  assert.is_nil(out)
  assert.are.equal(want, err)
end

local function data()
  return {
    name = "bob",
    t = true,
    f = 2.5,
    n = 1000000,
    l = { "a", "b", "c" },
    m = { b = 2, a = 1 },
    a = { b = "x", c = { d = "deep" } },
    z = NULL,
    s = "str",
    empty = template.array({}),
    emptymap = {},
  }
end

describe("template text and actions", function()
  it("copies text and prints a field", function()
    check("plain text", "plain text")
    check("Hello bob!", "Hello {{.name}}!", data())
    check("bob", "{{ .name }}", data())
  end)

  it("trims around {{- and -}} and drops comments", function()
    check("aXb", "a  {{- .x -}}  \n b", { x = "X" })
    check("ab", "a \n {{- /* a comment */ -}} \n b")
    check("a  b", "a {{/* comment\n over lines */}} b")
    check("a-3", "a{{-3}}", {})
  end)

  it("takes other delimiters", function()
    local tpl = assert(template.compile("[[ .name ]] {{x}}", { name = "t", left_delim = "[[", right_delim = "]]" }))
    assert.are.equal("bob {{x}}", tpl:render({ name = "bob" }))
  end)

  it("prints literals as Go does", function()
    check("3", "{{ 3 }}")
    check("-3", "{{ -3 }}")
    check("1.5", "{{1.5}}")
    check("1000", "{{1e3}}")
    check("1e+06", "{{1e6}}")
    check("1000000", "{{1000000}}")
    check("31", "{{0x1F}}")
    check("8", "{{0o10}}")
    check("1000", "{{1_000}}")
    check("97", "{{'a'}}")
    check("10", "{{'\\n'}}")
    check("a\tb\"c\226\152\186", '{{"a\\tb\\"c\\u263a"}}')
    check("raw\\n", "{{`raw\\n`}}")
    check("true false", "{{true}} {{false}}")
  end)

  it("prints values with fmt's %v", function()
    check("map[a:1 b:2]", "{{.m}}", data())
    check("[a b c]", "{{.l}}", data())
    check("[1 map[x:true] <nil> [] map[]]", "{{.v}}",
      { v = { 1, { x = true }, NULL, template.array({}), {} } })
    check("[]", "{{.v}}", { v = json.decode("[]") })
    check("<no value>", "{{.z}}", data())
    check("true", "{{.t}}", data())
  end)

  it("prints float64 like Go's %v and ints as integers", function()
    local cases = {
      { 3, "3" }, { 1.5, "1.5" }, { 1e21, "1e+21" }, { 0.000001, "1e-06" }, { 0.0001, "0.0001" },
      { 123456, "123456" }, { 1234567, "1.234567e+06" }, { -2.5, "-2.5" }, { 100000, "100000" },
      { 1e6, "1e+06" }, { 0.1 + 0.2, "0.30000000000000004" }, { 1 / 0, "+Inf" }, { 0, "0" },
      { 123456789, "1.23456789e+08" },
    }
    for _, c in ipairs(cases) do check(c[2], "{{.v}}", { v = c[1] }) end
    check("1000000", "{{.v}}", { v = I(1000000) })
    check("200", "{{.v}}", { v = 200 })
  end)
end)

describe("template fields and variables", function()
  it("walks fields of maps", function()
    check("x", "{{.a.b}}", data())
    check("deep", "{{.a.c.d}}", data())
    check("x", "{{with .a}}{{.b}}{{end}}", data())
  end)

  it("renders <no value> for a missing key and for fields of a missing value", function()
    check("<no value>", "{{.a.missing}}", data())
    check("<no value>", "{{.missing.deeper.still}}", data())
    check("<no value>", "{{$x := .missing}}{{$x.y}}", data())
    check("<nil>", "{{print .missing}}", data())
    check("<no value>", "{{index .m \"zz\"}}", data())
  end)

  it("fails on a field of a JSON null or of a non-map, as Go does", function()
    exec_error('t:1:2: executing "t" at <.z.b>: nil pointer evaluating interface {}.b', "{{.z.b}}", data())
    exec_error('t:1:2: executing "t" at <.s.x>: can\'t evaluate field x in type string', "{{.s.x}}", data())
    exec_error('t:1:2: executing "t" at <.l.x>: can\'t evaluate field x in type []interface {}', "{{.l.x}}", data())
    -- a null stored in a variable is a plain nil: fields of it are missing
    check("<no value>", "{{$z := .z}}{{$z.b}}", data())
  end)

  it("declares, assigns and scopes variables", function()
    check("12", "{{$x := 1}}{{$x}}{{$x = 2}}{{$x}}")
    check("21", "{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}")
    check("2", "{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}")
    check("bobbobbob", "{{range .l}}{{$.name}}{{end}}", data())
    check("bob", "{{$n := .name}}{{with .a}}{{$n}}{{end}}", data())
    check("1 1", "{{($x := 1)}} {{$x}}")
    compile_error('t:1:2: undefined variable "$y"', "{{$y}}")
    compile_error('t:1:31: undefined variable "$x"', "{{if true}}{{$x := 1}}{{end}}{{$x}}")
    compile_error('t:1:2: undefined variable "$x"', "{{$x = 1}}")
  end)

  it("calls functions stored in the data as methods", function()
    local req = { body = '{"a":1}' }
    req.JSONBody = function(self)
      local v, err = json.decode(self.body)
      return v, err
    end
    req.Greet = function(_, who) return "hi " .. who end
    check("1", "{{.req.JSONBody.a}}", { req = req })
    check("hi you", '{{.req.Greet "you"}}', { req = req })
    check("hi me", '{{"me" | .req.Greet}}', { req = req })
    req.body = "nope"
    local out, err = render("{{.req.JSONBody.a}}", { req = req })
    assert.is_nil(out)
    assert.matches('^t:1:2: executing "t" at <.req.JSONBody.a>: error calling JSONBody: invalid character', err)
  end)

  it("reads lazily computed fields (__index)", function()
    local calls = 0
    local obj = setmetatable({}, { __index = function(_, k)
      calls = calls + 1
      if k == "Body" then return "lazy" end
    end })
    check("lazy", "{{.o.Body}}", { o = obj })
    assert.are.equal(1, calls)
  end)
end)

describe("template pipelines", function()
  it("passes the previous value as the last argument", function()
    check("bob!", '{{.name | printf "%s!"}}', data())
    check("b-a", '{{"a" | printf "%s-%s" "b"}}')
    check("3", '{{(len .l) | printf "%d"}}', data())
    check("B", '{{.l | last | upper}}', { l = { "a", "b" } })
    check("x", "{{(index .arr 0).x}}", { arr = { { x = "x" } } })
    check("deep", "{{(.a).c.d}}", data())
  end)

  it("rejects a literal after a pipe", function()
    compile_error("t:1:8: non executable command in pipeline stage 2", "{{ .x | 3 }}")
  end)
end)

describe("template control structures", function()
  it("if / else if / else with Go truth", function()
    local t = "{{if .v}}y{{else}}n{{end}}"
    for _, v in ipairs({ true, 1, -1, "x", { 1 }, { a = 1 }, I(3), 0.5 }) do check("y", t, { v = v }) end
    for _, v in ipairs({ false, 0, "", template.array({}), {}, NULL, I(0) }) do check("n", t, { v = v }) end
    check("n", t, {})
    local chain = "{{if eq .n 1}}one{{else if eq .n 2}}two{{else}}many{{end}}"
    check("one", chain, { n = I(1) })
    check("two", chain, { n = I(2) })
    check("many", chain, { n = I(3) })
    check("yes", "{{if $x := .name}}{{if $x}}yes{{end}}{{end}}", data())
  end)

  it("range over slices, maps (sorted keys), ints, with else", function()
    check("0=a;1=b;2=c;", "{{range $i, $v := .l}}{{$i}}={{$v}};{{end}}", data())
    check("abc", "{{range .l}}{{.}}{{end}}", data())
    check("abc", "{{range $v := .l}}{{$v}}{{end}}", data())
    check("a=1;b=2;", "{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}", data())
    check("12", "{{range .m}}{{.}}{{end}}", data())
    check("012", "{{range 3}}{{.}}{{end}}")
    check("012", "{{range $i := 3}}{{$i}}{{end}}")
    exec_error("t:1:18: executing \"t\" at <3>: can't use 3 to iterate over more than one variable", "{{range $i, $e := 3}}{{end}}")
    check("none", "{{range .empty}}x{{else}}none{{end}}", data())
    check("none", "{{range .emptymap}}x{{else}}none{{end}}", data())
    check("none", "{{range .missing}}x{{else}}none{{end}}", data())
    check("<nil>;", "{{range .v}}{{print .}};{{end}}", { v = { NULL } })
    exec_error('t:1:8: executing "t" at <.s>: range can\'t iterate over str', "{{range .s}}{{end}}", data())
  end)

  it("break and continue", function()
    local t = '{{range .l}}{{if eq . "b"}}{{continue}}{{end}}{{if eq . "d"}}{{break}}{{end}}{{.}}{{end}}'
    check("ac", t, { l = { "a", "b", "c", "d", "e" } })
    check("0a0b1a1b", '{{range $i, $_ := .o}}{{range .}}{{if eq . "c"}}{{break}}{{end}}{{$i}}{{.}}{{end}}{{end}}',
      { o = { { "a", "b", "c" }, { "a", "b", "c", "d" } } })
    compile_error("t:1:2: {{break}} outside {{range}}", "{{break}}")
    compile_error("t:1:13: {{continue}} outside {{range}}", "{{if true}}{{continue}}{{end}}")
  end)

  it("with / else with / else", function()
    check("x", "{{with .a}}{{.b}}{{else}}none{{end}}", data())
    check("none", "{{with .missing}}{{.b}}{{else}}none{{end}}", data())
    check("x", "{{with $x := .a}}{{$x.b}}{{end}}", data())
    check("x", "{{with .missing}}a{{else with .a}}{{.b}}{{end}}", data())
  end)

  it("define, template and block", function()
    check("[bob]", '{{define "T"}}[{{.}}]{{end}}{{template "T" .name}}', data())
    check("[<no value>]", '{{define "T"}}[{{.}}]{{end}}{{template "T"}}', data())
    check("bob", '{{define "T"}}{{$.name}}{{end}}{{template "T" .}}', data())
    check("default bob", '{{block "B" .}}default {{.name}}{{end}}', data())
    check("3", '{{define "len"}}{{len .}}{{end}}{{template "len" .l}}', data())
    local tpl = assert(template.compile('{{define "a"}}A{{.}}{{end}}main', { name = "t" }))
    assert.are.equal("main", tpl:render(nil))
    assert.are.equal("Ax", tpl:render_template("a", "x"))
  end)

  it("limits template recursion", function()
    exec_error('t:1:16: executing "r" at <{{template "r" .}}>: exceeded maximum template depth (1000)',
      '{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}', {})
  end)

  it("reports a missing template at execution", function()
    exec_error('t:1:2: executing "t" at <{{template "nope"}}>: template "nope" not defined', '{{template "nope"}}', {})
  end)
end)

describe("template builtin functions", function()
  it("and / or return an operand and short-circuit", function()
    check("0", "{{and 1 0}}")
    check("x", '{{or 0 "" "x"}}')
    check("yes", '{{and .t "yes"}}', data())
    check("true", "{{or true (index .l 10)}}", data())
    check("false", "{{and false (index .l 10)}}", data())
    check("bob", "{{.name | or .missing}}", data())
    check("true", "{{not 0}}")
    check("false", '{{not "x"}}')
  end)

  it("compares with eq (several operands), ne, lt, le, gt, ge", function()
    check("true", '{{eq "b" "a" "b"}}')
    check("false", '{{eq "b" "a" "c"}}')
    check("true", "{{ne 1 2}}")
    check("true false true true false", '{{lt 1 2}} {{lt "b" "a"}} {{le 2 2}} {{gt 3 2}} {{ge 1 2}}')
    check("false", '{{eq .missing "x"}}', data())
    check("true", "{{eq .f 2.5}}", data())
    -- Go rejects int against float64; Easegress-C compares the numbers
    check("true", "{{eq .v 200}}", { v = 200 })
    exec_error('t:1:2: executing "t" at <eq "1" 1>: error calling eq: incompatible types for comparison', '{{eq "1" 1}}')
    exec_error('t:1:2: executing "t" at <lt true false>: error calling lt: invalid type for comparison', "{{lt true false}}")
  end)

  it("len and index", function()
    check("3 6 2", '{{len .l}} {{len "h\195\169llo"}} {{len .m}}', data())
    check("b", "{{index .l 1}}", data())
    check("1", '{{index .m "a"}}', data())
    check("deep", '{{index .a "c" "d"}}', data())
    check("y", '{{index .nested 1 "x" 0}}', { nested = { "skip", { x = { "y" } } } })
    check("104", '{{index "hi" 0}}')
    exec_error('t:1:2: executing "t" at <index .l 5>: error calling index: index out of range: 5', "{{index .l 5}}", data())
    exec_error('t:1:2: executing "t" at <index .l .f>: error calling index: cannot index slice/array with type float64',
      "{{index .l .f}}", data())
    exec_error('t:1:2: executing "t" at <len 3>: error calling len: len of type int', "{{len 3}}")
  end)

  it("reports Go's error for the Go text/template test of nested templates", function()
    local text = 'line 1\nline 2\nline 3\n{{template "one" .}}\n{{define "one"}}{{template "two" .}}{{end}}\n'
      .. '{{define "two"}}{{template "three" .}}{{end}}\n{{define "three"}}{{index "hi" $}}{{end}}'
    local tpl = assert(template.compile(text, { name = "top" }))
    local out, err = tpl:render(I(5))
    assert.is_nil(out)
    assert.are.equal('top:7:20: executing "three" at <index "hi" $>: error calling index: index out of range: 5', err)
  end)

  it("slice", function()
    check("el", '{{slice "hello" 1 3}}')
    check("llo", '{{slice "hello" 2}}')
    check("[b c]", "{{slice .l 1}}", data())
    check("[b]", "{{slice .l 1 2}}", data())
  end)

  it("print, println, printf", function()
    check("1 2ab3", '{{print 1 2 "a" "b" 3}}')
    check("1 a\n", '{{println 1 "a"}}')
    check('str|42|2.5|"q"|ff|1.500000|3.14|true|%',
      '{{printf "%s|%d|%v|%q|%x|%f|%.2f|%t|%%" "str" 42 .f "q" 255 1.5 3.14159 true}}', data())
    check("  3.1|ab   |00042|   -7", '{{printf "%5.1f|%-5s|%05d|%5d" 3.14159 "ab" 42 -7}}')
    check("6869 FF 10 101 A U+1F600 1.234568e+03 1e-05", '{{printf "%x %X %o %b %c %U %e %g" "hi" 255 8 5 65 0x1F600 1234.5678 0.00001}}')
    check("[]interface {} float64 int string map[string]interface {} <nil>",
      '{{printf "%T %T %T %T %T %T" .l .f 1 "s" .m nil}}', data())
    check("     abc|", '{{printf "%8.3s|" "abcdef"}}')
    check("map[a:1 b:2] [a b c]", '{{printf "%v %v" .m .l}}', data())
    check('["a" "b" "c"]', '{{printf "%q" .l}}', data())
    check("1e+06 1000000", '{{printf "%v %v" .n 1000000}}', data())
  end)

  it("printf's wrong verbs, missing and extra arguments", function()
    check("%!d(float64=2.5)", '{{printf "%d" .f}}', data())
    check("%!d(string=x)", '{{printf "%d" "x"}}')
    check("1 %!d(MISSING)", '{{printf "%d %d" 1}}')
    check("1%!(EXTRA int=2, string=x)", '{{printf "%d" 1 2 "x"}}')
    check("%!s(<nil>)", '{{printf "%s" .missing}}', data())
    check("%!s(int=3)", '{{printf "%s" 3}}')
  end)

  it("urlquery, html, js", function()
    check("a+b%26c%3Dd%2F%C3%A9", '{{urlquery "a b&c=d/\195\169"}}')
    check("%3Cno+value%3E", "{{urlquery .missing}}", data())
    check("&lt;a href=&#39;x&#39;&gt;&amp;&#34;", [[{{html "<a href='x'>&\""}}]])
    check("1&lt;", '{{html 1 "<"}}')
    check([[it\'s \u003Cb\u003E \"q\" \u003D\u000A]], [[{{js "it's <b> \"q\" =\n"}}]])
  end)
end)

describe("template sprig string functions", function()
  it("trims and changes case", function()
    check("a b", '{{trim "  a b \\n "}}')
    check("5.00", '{{trimAll "$" "$$5.00$"}}')
    check("bar", '{{trimPrefix "foo" "foobar"}}')
    check("foo", '{{trimSuffix "bar" "foobar"}}')
    check("H\195\137LLO", '{{upper "h\195\169llo"}}')
    check("\195\160b", '{{lower "\195\128B"}}')
    check("Hello World-Foo Bar_baz", '{{title "hello world-foo bar_baz"}}')
    check("hELLO", '{{untitle "HELLO"}}')
  end)

  it("replaces, searches and splits", function()
    check("bbnbnb", '{{replace "a" "b" "banana"}}')
    check("xaxbx", '{{replace "" "x" "ab"}}')
    check("true true true false", '{{contains "ell" "hello"}} {{hasPrefix "he" "hello"}} {{hasSuffix "lo" "hello"}} {{contains "z" "hello"}}')
    check("b", '{{$p := split "/" "a/b/c"}}{{$p._1}}')
    check("map[_0:a _1:b/c]", '{{splitn "/" 2 "a/b/c"}}')
    check("[a b]", '{{splitList "," "a,b"}}')
    check("a-b-c", '{{join "-" .l}}', data())
    check("1-a-2.5", '{{join "-" (list 1 "a" nil 2.5)}}')
    check("x", '{{join "," "x"}}')
  end)

  it("quotes, concatenates, indents, repeats, cuts", function()
    check('"a\\"b" "1"', '{{quote "a\\"b" 1}}')
    check("'a' '1'", "{{squote \"a\" 1}}")
    check("a 1 b", '{{cat "a" 1 .missing "b"}}', data())
    check("  a\n  b", '{{indent 2 "a\\nb"}}')
    check("\n  a", '{{nindent 2 "a"}}')
    check("ababab", '{{repeat 3 "ab"}}')
    check("el", '{{substr 1 3 "hello"}}')
    check("hel", '{{trunc 3 "hello"}}')
    check("hello", '{{trunc 10 "hello"}}')
    check("nospace", '{{nospace "no sp ace"}}')
    check("JD", '{{initials "John Doe"}}')
    check("1 items 2 many", '{{plural "one" "items" 2 | printf "1 %s"}} 2 {{plural "one" "many" 3}}')
    check("He...", '{{abbrev 5 "Hello World"}}')
    check("foo_bar_baz", '{{snakecase "FooBarBaz"}}')
  end)

  it("hashes and encodes", function()
    check("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", '{{sha256sum "hello"}}')
    check("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", '{{sha256sum ""}}')
    check("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", '{{sha1sum "hello"}}')
    check("103547413", '{{adler32sum "hello"}}')
    check("aGVsbG8=", '{{b64enc "hello"}}')
    check("hello", '{{b64dec "aGVsbG8="}}')
    check("illegal base64 data at input byte 0", '{{b64dec "!!!!"}}')
    check("NBSWY3DP", '{{b32enc "hello"}}')
    check("hello", '{{b32dec "NBSWY3DP"}}')
    local out = assert(render("{{uuidv4}}", {}))
    assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$", out)
  end)
end)

describe("template sprig defaults, conversions and math", function()
  it("default, empty, coalesce, ternary", function()
    check("d", '{{.missing | default "d"}}', data())
    check("bob", '{{.name | default "d"}}', data())
    check("d d d", '{{default "d" 0}} {{default "d" false}} {{default "d" ""}}')
    check("truetruefalsetruetruefalse", '{{empty .missing}}{{empty 0}}{{empty .l}}{{empty ""}}{{empty .emptymap}}{{empty .m}}', data())
    check("x", '{{coalesce .missing 0 "" "x"}}', data())
    check("y n", '{{ternary "y" "n" true}} {{false | ternary "y" "n"}}')
  end)

  it("int, int64, float64, toString, atoi", function()
    check("42 3 2 -2", '{{int "42"}} {{int 3.9}} {{int64 .f}} {{int -2.7}}', data())
    check("0", '{{int "4x"}}')
    check("1.5", '{{float64 "1.5"}}')
    check("1.5 <nil> 1e+06 true", '{{toString 1.5}} {{toString .missing}} {{toString .n}} {{toString true}}', data())
    check("12", '{{atoi "12"}}')
  end)

  it("integer math", function()
    check("6 3 2 24 3 -3 1 -1 5 2", '{{add 1 2 3}} {{add 1.5 2}} {{sub 5 3}} {{mul 2 3 4}} {{div 7 2}} {{div -7 2}} {{mod 7 3}} {{mod -7 3}} {{max 1 5 3}} {{min 4 2 8}}')
    check("1000001 1000000", "{{add 1000000 1}} {{add .n 0}}", data())
    check("4", "{{add1 3}}")
    check("[0 1 2]", "{{until 3}}")
    exec_error('t:1:2: executing "t" at <div 1 0>: error calling div: runtime error: integer divide by zero', "{{div 1 0}}")
    check("3 2 3.14", "{{ceil 2.1}} {{floor 2.9}} {{round 3.14159 2}}")
  end)
end)

describe("template sprig lists and dicts", function()
  it("list, dict, get, set, hasKey, keys, values", function()
    check("[1 a 2.5]", '{{list 1 "a" 2.5}}')
    check("map[a:1 b:2]", '{{dict "b" 2 "a" 1}}')
    check("1|", '{{$d := dict "a" 1}}{{get $d "a"}}|{{get $d "zz"}}')
    check("3 true false", '{{$d := dict "a" 1}}{{$_ := set $d "c" 3}}{{$d.c}} {{hasKey $d "a"}} {{hasKey $d "b"}}')
    check("[a b c] [1 2 3]", '{{$d := dict "c" 3 "a" 1 "b" 2}}{{keys $d}} {{values $d}}')
    check("map[a:1]", '{{pick (dict "a" 1 "b" 2) "a"}}')
    check("map[b:2]", '{{omit (dict "a" 1 "b" 2) "a"}}')
    check("[1 3]", '{{pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3)}}')
    check("x", '{{dig "a" "b" "def" (dict "a" (dict "b" "x"))}}')
    check("def", '{{dig "a" "z" "def" (dict "a" (dict "b" "x"))}}')
  end)

  it("first, last, rest, initial, append, prepend, reverse, uniq, without, has, compact", function()
    check("ac", "{{first .l}}{{last .l}}", data())
    check("[b c] [a b]", "{{rest .l}} {{initial .l}}", data())
    check("[a b c d] [z a b c]", '{{append .l "d"}} {{prepend .l "z"}}', data())
    check("[c b a]", "{{reverse .l}}", data())
    check("[1 2 a]", '{{uniq (list 1 1 2 "a" "a")}}')
    check("[a c]", '{{without .l "b"}}', data())
    check("true false", '{{has "b" .l}} {{has "z" .l}}', data())
    check("[a 1]", '{{compact (list "a" "" 0 nil 1)}}')
    check("[a b c]", "{{sortAlpha (list \"c\" \"a\" \"b\")}}")
    exec_error('t:1:2: executing "t" at <first "x">: error calling first: Cannot find first on type string', '{{first "x"}}')
  end)
end)

describe("template sprig JSON", function()
  it("toJson sorts keys, escapes HTML characters and prints floats like Go", function()
    local obj = json.decode('{"b":[1,2.5,"x<y&z>"],"a":true,"c":null,"d":1e21,"e":{},"f":[],"g":0.0000001,"h":100000000}')
    check('{"a":true,"b":[1,2.5,"x\\u003cy\\u0026z\\u003e"],"c":null,"d":1e+21,"e":{},"f":[],"g":1e-7,"h":100000000}',
      "{{toJson .}}", obj)
    check("3", "{{toJson 3}}")
    check('"a\\u0026b"', '{{toJson "a&b"}}')
    check("null", "{{toJson .missing}}", {})
    check('{\n  "a": 1,\n  "b": [\n    "x"\n  ],\n  "c": {}\n}', "{{toPrettyJson .}}", { a = 1, b = { "x" }, c = {} })
    check('"a<b"', '{{toRawJson "a<b"}}')
  end)

  it("fromJson", function()
    check("[1 2]", '{{(fromJson "{\\"a\\":[1,2]}").a}}')
    check("[]", '{{toJson (fromJson "[]")}}')
  end)
end)

describe("template sprig dates", function()
  it("formats with Go layouts", function()
    check("2023-11-14T22:13:20Z", '{{dateInZone "2006-01-02T15:04:05Z07:00" 1700000000 "UTC"}}')
    check("Tue Nov 14 22:13:20 2023", '{{dateInZone "Mon Jan _2 15:04:05 2006" 1700000000 "UTC"}}')
    check("November 14, 2023 10:13PM 318 +0000 UTC", '{{dateInZone "January 2, 2006 3:04PM 002 -0700 MST" 1700000000 "UTC"}}')
    check("1704067200", '{{toDate "2006-01-02T15:04:05Z07:00" "2024-01-01T00:00:00Z" | unixEpoch}}')
    check("2024-01-01 02:30:00.5 +0000 UTC",
      '{{(toDate "2006-01-02T15:04:05Z07:00" "2024-01-01T00:00:00.5Z" | dateModify "2h30m").UTC}}')
    check(os.date("%Y"), '{{now | date "2006"}}')
    check("true", '{{gt (now | unixEpoch | atoi) 1700000000}}')
  end)

  it("reads time zones from zoneinfo", function()
    local f = io.open("/usr/share/zoneinfo/Asia/Tokyo", "rb")
    if not f then return end
    f:close()
    check("07:13 JST", '{{dateInZone "15:04 MST" 1700000000 "Asia/Tokyo"}}')
  end)
end)

describe("template sprig regexps (Go RE2 syntax)", function()
  it("matches, finds, replaces, splits", function()
    check("true false", '{{regexMatch "^a.c$" "abc"}} {{regexMatch "^a.c$" "abbc"}}')
    check("123", '{{regexFind "[0-9]+" "ab123cd45"}}')
    check("[123 45]", '{{regexFindAll "[0-9]+" "ab123cd45" -1}}')
    check("[aX aY]", '{{regexFindAll "a." "aXaYaZ" 2}}')
    check("-T-T-", '{{regexReplaceAll "a(x*)b" "-ab-axxb-" "T"}}')
    check("--xx-", '{{regexReplaceAll "a(x*)b" "-ab-axxb-" "$1"}}')
    check("---", '{{regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W"}}')
    check("-W-xxW-", '{{regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W"}}')
    check("-$1-$1-", '{{regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "$1"}}')
    check("SMITH, john", '{{regexReplaceAll "(?i)(?P<first>\\\\w+) (?P<last>\\\\w+)" "john SMITH" "${last}, ${first}"}}')
    check("[ b b c cadaaae]", '{{regexSplit "a*" "abaabaccadaaae" 5}}')
    check("[pi a]", '{{regexSplit "z+" "pizza" -1}}')
    check("x-y", '{{regexReplaceAll "\\\\s+" "x \t y" "-"}}')
    check("true", '{{regexMatch "^[[:alpha:]]+\\\\d{2,3}$" "abc123"}}')
    check("false", '{{regexMatch "(" "x"}}')
    exec_error('t:1:2: executing "t" at <regexFind "(" "x">: error calling regexFind: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`',
      '{{regexFind "(" "x"}}')
  end)

  it("handles Go's leftmost-first alternation, laziness and anchors", function()
    check("a", '{{regexFind "a|ab" "ab"}}')
    check("<b>", '{{regexFind "<.+?>" "<b>x</b>"}}')
    check("<b>x</b>", '{{regexFind "<.+>" "<b>x</b>"}}')
    check("false", '{{regexMatch "^a$" "a\\n"}}')
    check("true", '{{regexMatch "(?m)^b$" "a\\nb\\nc"}}')
    check("\226\152\186", '{{regexFind "." "\226\152\186x"}}')
    check("true", '{{regexMatch "\\\\bfoo\\\\b" "a foo b"}}')
  end)
end)

describe("template more sprig functions", function()
  it("paths, reflection, equality", function()
    check("b.txt /a /b/c .gz true", '{{base "/a/b.txt"}} {{dir "/a/b.txt"}} {{clean "/a/../b//c/"}} {{ext "x.tar.gz"}} {{isAbs "/x"}}')
    check("int float64 []interface {} map true true",
      '{{typeOf 1}} {{typeOf 1.5}} {{typeOf .l}} {{kindOf .m}} {{kindIs "slice" .l}} {{typeIs "string" "x"}}', data())
    check("true false", "{{deepEqual (list 1 2) (list 1 2)}} {{deepEqual 1 1.0}}")
  end)

  it("more list and dict functions", function()
    check("[[1 2] [3]] [1 2 3]", "{{chunk 2 (list 1 2 3)}} {{concat (list 1) (list 2 3)}}")
    check("map[a:1 b:3] map[a:2 b:3]", '{{merge (dict "a" 1) (dict "a" 2 "b" 3)}} {{mergeOverwrite (dict "a" 1) (dict "a" 2 "b" 3)}}')
    check("true false false true", '{{all 1 "a"}} {{all 1 0}} {{any 0 ""}} {{any 0 1}}')
    check("<no value> [] []", "{{first (list)}} {{rest (list)}} {{initial (list)}}")
    check("[0 3 6 9] 1 2 3 5 4 3 2", "{{untilStep 0 10 3}} {{seq 3}} {{seq 5 -1 2}}")
    check("[a b c] [1 a]", '{{toString .l}} {{toStrings (list 1 nil "a")}}', data())
    exec_error('t:1:2: executing "t" at <slice (list 1 2 3) 1 5>: error calling slice: runtime error: slice bounds out of range [1:5] with capacity 3',
      "{{slice (list 1 2 3) 1 5}}")
  end)

  it("more string functions", function()
    check("hELLO HttpServer first-name", '{{swapcase "Hello"}} {{camelcase "http_server"}} {{kebabcase "FirstName"}}')
    check("hello\nworld\nfoo", '{{wrap 5 "hello world foo"}}')
    check("...5678...", '{{abbrevboth 5 10 "1234 5678 9123 4567"}}')
    check("\195\137lan Vital", '{{title "\195\169lan vital"}}')
    check('"x" \'1.5\'', '{{quote .missing "x"}} {{squote 1.5}}', data())
    check("5 4 8 3", "{{randAlpha 5 | len}} {{randNumeric 4 | len}} {{randAlphaNum 8 | len}} {{randAscii 3 | len}}")
    check("a\\.b\\*c bb", '{{regexQuoteMeta "a.b*c"}} {{mustRegexFind "b+" "abbc"}}')
    check("Hello! 0 0 1 1000 0", '{{hello}} {{atoi "x"}} {{int "0x10"}} {{int64 true}} {{float64 "1e3"}} {{float64 "abc"}}')
    check("3 -3 1.24 2.5 -1", "{{round 2.5 0}} {{round -2.5 0}} {{round 1.2345 2 0.4}} {{maxf 1 2.5 -1}} {{minf 1 2.5 -1}}")
    check("illegal base64 data at input byte 7|hell", '{{b64dec "aGVsbG8"}}|{{b64dec "aGVsbA=="}}')
  end)

  it("URLs and the environment", function()
    check("map[fragment:frag host:host.com:8080 hostname:host.com opaque: path:/a b query:x=1 scheme:https userinfo:u:p]",
      '{{urlParse "https://u:p@host.com:8080/a%20b?x=1#frag"}}')
    check("http://h/p?a=1", '{{urlJoin (dict "scheme" "http" "host" "h" "path" "p" "query" "a=1")}}')
    local home = os.getenv("HOME") or ""
    check(home .. " " .. home .. "-" .. home, '{{env "HOME"}} {{expandenv "$HOME-${HOME}"}}')
  end)

  it("times and durations", function()
    check("int int Feb 29", '{{now.Unix | printf "%T"}} {{(now).Year | printf "%T"}} {{(toDate "2006-01-02" "2024-02-29").Format "Jan 2"}}')
    local t = '(toDate "2006-01-02T15:04:05Z07:00" "2024-02-29T10:00:00.123+02:00")'
    check('"2024-02-29T10:00:00.123+02:00"', "{{toJson " .. t .. "}}")
    check("2024-02-29 10:00:00.123 +0200 +0200", "{{" .. t .. "}}")
    check("0001-01-01 00:00:00 +0000 UTC", '{{toDate "2006-01-02" "nope"}}')
    check("2h 1m 1h2m5s", '{{durationRound "2h10m"}} {{durationRound "90s"}} {{duration 3725}}')
    check("false", "{{empty now}}")
  end)
end)

describe("template printf in depth", function()
  it("flags, widths, argument indexes, Go-syntax values", function()
    check('map[string]interface {}{"a":1} [a b] "s"', '{{printf "%#v %+v %#v" .m .l "s"}}', { m = { a = 1 }, l = { "a", "b" } })
    check("  3.14|true    |-ff|6869|68 69", '{{printf "%6.2f|%-8v|%x|%X|% x" 3.14159 true -255 "hi" "hi"}}')
    check("-003.500|+5| 5|\226\152\186|'\226\152\186'|U+263A", '{{printf "%08.3f|%+d|% d|%c|%q|%U" -3.5 5 5 0x263A 0x263A 0x263A}}')
    check("2 1     1|2   |", '{{printf "%[2]d %[1]d" 1 2}} {{printf "%*d|%-*d|" 5 1 4 2}}')
    check("%!s(bool=true) %!t(int=1) h\195\169l", '{{printf "%s" true}} {{printf "%t" 1}} {{printf "%.3s" "h\195\169llo"}}')
    check("    3|0.000000e+00|1.000000E+100|1E-10", '{{printf "%5.1v|%e|%E|%G" 3.14159 0.0 1e100 1e-10}}')
    check("0x1.8p+01 0X1P-02", '{{printf "%x %X" 3.0 0.25}}')
    check("<nil> <nil> <no value> %!s(<nil>)", '{{printf "%v" .z}} {{print .z}} {{.z}} {{printf "%s" nil}}', data())
  end)
end)

describe("template Easegress functions", function()
  it("float math", function()
    check("3.5 3.5 5 0.25 3", '{{addf 1 2.5}} {{subf "5" 1.5}} {{mulf 2 .f}} {{divf 1 4}} {{addf 1 2}}', data())
    exec_error('t:1:2: executing "t" at <divf 1 0>: error calling divf: divisor is zero', "{{divf 1 0}}")
    exec_error('t:1:2: executing "t" at <addf "x" 1>: error calling addf: strconv.ParseFloat: parsing "x": invalid syntax',
      '{{addf "x" 1}}')
  end)

  it("jsonEscape, mergeObject, header", function()
    check('a\\"b\\n\\u003cc\\u003e\\u0026', '{{jsonEscape "a\\"b\\n<c>&"}}')
    check('{"a":1,"b":2,"n":{"x":1,"y":2}}', "{{toJson (mergeObject .o1 .o2)}}",
      { o1 = { a = 1, n = { x = 1 } }, o2 = { b = 2, n = { y = 2 } } })
    local h = { ["X-Rss-Url"] = { "https://x", "https://y" }, ["Content-Type"] = { "text/plain" } }
    check("https://x|text/plain|", '{{header .h "x-rss-url"}}|{{header .h "Content-Type"}}|{{header .h "None"}}', { h = h })
  end)

  it("URL query escaping, username, host, port", function()
    check("a+b%2Fc%3F", '{{urlQueryEscape "a b/c?"}}')
    check("a b/c", '{{urlQueryUnescape "a+b%2Fc"}}')
    exec_error('t:1:2: executing "t" at <urlQueryUnescape "%zz">: error calling urlQueryUnescape: invalid URL escape "%zz"',
      '{{urlQueryUnescape "%zz"}}')
    local req = { Header = { Authorization = { "Basic YWxpY2U6cHc=" } } }
    check("alice", "{{username .req}}", { req = req })
    check("example.com 8080 ::1 80 ", '{{host "example.com:8080"}} {{port "example.com:8080"}} {{host "[::1]:80"}} {{port "[::1]:80"}} {{host "noport"}}')
  end)

  it("log and panic", function()
    local logged = {}
    template.set_logger(function(level, msg) logged[#logged + 1] = level .. ":" .. msg end)
    check("ab", '{{log "info" "hello"}}a{{log "WARN" "w"}}b{{log "other" "x"}}')
    template.set_logger(nil)
    assert.are.same({ "info:hello", "warn:w" }, logged)
    exec_error('t:1:2: executing "t" at <panic "boom">: error calling panic: boom', '{{panic "boom"}}')
  end)
end)

describe("template errors", function()
  it("reports syntax errors and unknown functions at compile time with line and column", function()
    compile_error('t:1:2: function "nope" not defined', "{{nope 1}}")
    compile_error('t:2:10: function "nope" not defined', "a\n  {{ .x | nope }}")
    compile_error("t:1:0: unclosed action", "{{ .x ")
    compile_error("t:1:11: unclosed action", "a {{ .x }} {{ .y")
    compile_error('t:1:3: unexpected "|" in command', "{{ | .x }}")
    compile_error("t:1:5: missing value for if", "{{if }}x{{end}}")
    compile_error("t:1:2: unexpected {{end}}", "{{end}}")
    compile_error("t:1:9: unexpected EOF", "{{if .x}}")
    compile_error("t:1:3: unterminated quoted string", '{{ "abc }}')
    compile_error('t:1:3: bad number syntax: "3x"', "{{ 3x }}")
    compile_error("t:1:6: unexpected right paren U+0029 ')'", "{{ .x ) }}")
    compile_error("t:1:7: unclosed left paren", "{{ (.x }}")
    compile_error("t:1:0: unclosed comment", "{{/* x }}")
    compile_error("t:1:0: comment ends before closing delimiter", "{{/* x */ .y }}")
    compile_error('t:1:3: bad number syntax: "3.x"', "{{ 3.x }}")
    compile_error('t:1:6: unexpected . after term "\\"s\\""', '{{ "s".x }}')
    compile_error('t:1:11: unexpected "}}" in template clause', "{{template }}")
    compile_error("t:1:18: expected end; found {{else}}", "{{if 1}}{{else}}{{else}}{{end}}")
  end)

  it("reports execution errors with the node that failed", function()
    exec_error('t:1:2: executing "t" at <upper>: wrong number of args for upper: want 1 got 0', "{{upper}}")
    exec_error('t:1:8: executing "t" at <.f>: wrong type for value; expected string; got float64', "{{upper .f}}", data())
    exec_error('t:1:8: executing "t" at <3>: expected string; found 3', "{{upper 3}}")
    exec_error('t:1:8: executing "t" at <.missing>: invalid value; expected string', "{{upper .missing}}", data())
    exec_error('t:1:2: executing "t" at <nil>: nil is not a command', "{{nil}}")
    exec_error('t:1:2: executing "t" at <.name>: name is not a method but has arguments', "{{.name 1}}", data())
    exec_error('t:1:2: executing "t" at <"x">: can\'t give argument to non-function "x"', '{{"x" 1}}', data())
    exec_error('t:2:4: executing "t" at <fail "stop">: error calling fail: stop', 'x\nx {{fail "stop"}}')
  end)
end)

describe("template Easegress configurations", function()
  local function root()
    local req = {
      Method = "GET",
      Host = "gw.example.com",
      Header = { ["X-Rss-Url"] = { "https://example.com/feed?a=1&b=2" } },
      Body = "",
    }
    local feed = json.decode([[{"title":"Example Blog","items":[
      {"url":"https://example.com/p1","title":"First post"},
      {"url":"https://example.com/p2","title":"Second \"quoted\""}]}]])
    return {
      req = req,
      requests = { DEFAULT = req },
      responses = {
        rss = { StatusCode = I(200), JSONBody = feed, Header = {} },
        slack = { StatusCode = I(200), Body = "ok" },
      },
      data = {},
      namespace = "slack",
    }
  end

  it("builds the RSS feed request (Workflow cookbook)", function()
    check("url: /feed2json/convert?url=https%3A%2F%2Fexample.com%2Ffeed%3Fa%3D1%26b%3D2\n",
      'url: /feed2json/convert?url={{index (index .requests.DEFAULT.Header "X-Rss-Url") 0 | urlquery}}\n', root())
  end)

  it("builds the Slack message from the feed", function()
    local text = table.concat({
      "method: POST",
      "url: /services/hook",
      "body: |",
      "  {",
      '     "text": "Recent posts - {{.responses.rss.JSONBody.title}}",',
      '     "blocks": [{"type": "section", "text": {"type": "mrkdwn",',
      '       "text": "{{range $index, $item := .responses.rss.JSONBody.items}}- <{{$item.url}}|{{$item.title}}>\\n{{end}}"',
      "     }}]",
      "  }",
      "",
    }, "\n")
    local want = table.concat({
      "method: POST",
      "url: /services/hook",
      "body: |",
      "  {",
      '     "text": "Recent posts - Example Blog",',
      '     "blocks": [{"type": "section", "text": {"type": "mrkdwn",',
      '       "text": "- <https://example.com/p1|First post>\\n- <https://example.com/p2|Second "quoted">\\n"',
      "     }}]",
      "  }",
      "",
    }, "\n")
    check(want, text, root())
  end)

  it("builds the client's response from the Slack status", function()
    local text = "statusCode: {{.responses.slack.StatusCode}}\n"
      .. "body: {{if eq .responses.slack.StatusCode 200}}sent{{else}}failed{{end}}\n"
    local r = root()
    check("statusCode: 200\nbody: sent\n", text, r)
    r.responses.slack.StatusCode = I(500)
    check("statusCode: 500\nbody: failed\n", text, r)
    r.responses.slack.StatusCode = 200 -- a plain Lua number works too
    check("statusCode: 200\nbody: sent\n", text, r)
  end)

  it("adapts a request with .req (RequestAdaptor template)", function()
    check("method: 'GET'\nheader:\n  set:\n    Host: 'gw.example.com'\n",
      "method: '{{ .req.Method }}'\nheader:\n  set:\n    Host: '{{ .req.Host }}'\n", root())
  end)

  it("chooses a result (ResultBuilder) and escapes user text (chat bots)", function()
    local rb = "{{- if .requests.DEFAULT.JSONBody.image}}result1{{else}}result2{{end -}}\n"
    check("result1", rb, { requests = { DEFAULT = { JSONBody = json.decode('{"image":"x.png"}') } } })
    check("result2", rb, { requests = { DEFAULT = { JSONBody = json.decode('{"text":"hi"}') } } })
    local body = table.concat({
      "{{- $msg := or .requests.DEFAULT.JSONBody.message .requests.DEFAULT.JSONBody.channel_post -}}",
      "body: |",
      "  {",
      '    "chat_id": {{$msg.chat.id}},',
      '    "reply_to_message_id": {{$msg.message_id}},',
      '    "text": "{{$msg.text | jsonEscape}}",',
      '    "photo": "{{(last $msg.photo).file_id}}"',
      "  }",
    }, "\n")
    local msg = json.decode([[{"channel_post":{"chat":{"id":123456789},"message_id":42,
      "text":"say \"hi\"\n<now>","photo":[{"file_id":"small"},{"file_id":"big"}]}}]])
    -- JSON numbers are float64: Go prints 123456789 as 1.23456789e+08
    check(table.concat({
      "body: |",
      "  {",
      '    "chat_id": 1.23456789e+08,',
      '    "reply_to_message_id": 42,',
      '    "text": "say \\"hi\\"\\n\\u003cnow\\u003e",',
      '    "photo": "big"',
      "  }",
    }, "\n"), body, { requests = { DEFAULT = { JSONBody = msg } } })
  end)

  it("collects translations with range, get, continue and printf (translation bot)", function()
    local text = table.concat({
      '"text": "{{- range $ns, $resp := $.responses -}}',
      "  {{- if not (get $.data.PIPELINE $ns)}}{{continue}}{{end -}}",
      "  {{- if and $.requests.extract.JSONBody.exclude (eq $resp.JSONBody.SourceLanguageCode $resp.JSONBody.TargetLanguageCode)}}{{continue}}{{end -}}",
      "  {{- $lang := get $.data.PIPELINE $resp.JSONBody.TargetLanguageCode -}}",
      '  {{print $lang.text}}: {{printf "%s\\n" (or $resp.JSONBody.TranslatedText $lang.fallback) | jsonEscape}}',
      '{{- end}}"',
    }, "\n")
    local d = {
      requests = { extract = { JSONBody = json.decode('{"text":"hello","exclude":true}') } },
      responses = {
        extract = { JSONBody = json.decode('{"text":"hello"}') },
        en = { JSONBody = json.decode('{"SourceLanguageCode":"en","TargetLanguageCode":"en","TranslatedText":"hello"}') },
        ja = { JSONBody = json.decode('{"SourceLanguageCode":"en","TargetLanguageCode":"ja","TranslatedText":null}') },
        zh = { JSONBody = json.decode('{"SourceLanguageCode":"en","TargetLanguageCode":"zh","TranslatedText":"ni hao"}') },
      },
      data = { PIPELINE = {
        en = { text = "English", fallback = "(sorry)" },
        ja = { text = "Japanese", fallback = "(no idea)" },
        zh = { text = "Chinese", fallback = "(?)" },
      } },
    }
    check('"text": "Japanese: (no idea)\\nChinese: ni hao\\n"', text, d)
  end)
end)

describe("template compile once, render many", function()
  it("keeps no state between renders", function()
    local tpl = assert(template.compile("{{$x := .v}}{{range .l}}{{$x}}{{.}}{{end}}", { name = "t" }))
    assert.are.equal("1a1b", tpl:render({ v = 1, l = { "a", "b" } }))
    assert.are.equal("2c", tpl:render({ v = 2, l = { "c" } }))
    assert.are.equal("", tpl:render({ v = 3 }))
  end)

  it("takes extra functions", function()
    local tpl = assert(template.compile('{{double 21}} {{greet "x"}}', { name = "t", funcs = {
      double = { sig = "i", fn = function(n) return template.int(n.i * 2) end },
      greet = function(s) return "hi " .. s end,
    } }))
    assert.are.equal("42 hi x", tpl:render({}))
  end)
end)
