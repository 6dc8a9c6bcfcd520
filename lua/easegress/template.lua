-- easegress.template: Easegress's template dialect — Go's text/template with sprig and
-- Easegress's extra functions — compiled once to Lua and rendered many times.
--
--   local template = require "easegress.template"
--   local tpl, err = template.compile(text, { name = "body" })
--   local out, err = tpl:render(data)
--
-- compile() parses the text as Go's parser does and generates one Lua function per template
-- (the main one and each {{define}}/{{block}}). Syntax errors and unknown functions are
-- compile errors, "NAME:LINE:COL: message"; execution errors come back from render() as
-- Go words them: "NAME:LINE:COL: executing "NAME" at <node>: message". COL is the byte
-- offset of the node within its line, as Go prints it.
--
-- Options: name (default "template"), left_delim/right_delim (or leftDelim/rightDelim,
-- default "{{" "}}"), funcs = { name = function(...) or { fn = f, sig = "s ...a" } } to add
-- functions (a plain function takes any arguments and returns value[, err]).
--
-- Values follow easegress.template.value: JSON data as decoded by lua-cjson works directly
-- (numbers are Go float64, so {{.n}} of 1e6 prints 1e+06 as Easegress does); template.int(n)
-- makes a Go int (a status code, a length) and template.array(t) marks an empty slice.
-- A missing map key, and any field of a missing value, renders "<no value>" (Go's default
-- for map[string]interface{}); a field of a JSON null in the middle of a chain is an error
-- ("nil pointer evaluating interface {}.x"), as in Go.
local value = require "easegress.template.value"
local gofmt = require "easegress.template.fmt"
local funcs = require "easegress.template.funcs"
local json = require "easegress.template.json"
local gotime = require "easegress.template.time"

local M = {}

local type, pairs, ipairs, tostring, tonumber, error, select, pcall, xpcall =
  type, pairs, ipairs, tostring, tonumber, error, select, pcall, xpcall
local getmetatable, setmetatable = getmetatable, setmetatable
local format, sub, byte, find, rep = string.format, string.sub, string.byte, string.find, string.rep
local concat = table.concat
local floor = math.floor
local NULL, IntMT, TimeMT, ArrayMT = value.null, value.int_mt, value.time_mt, value.array_mt
local kind, mkint = value.kind, value.int

local load = loadstring or load -- luacheck: ignore
local getinfo = debug.getinfo

-- Whether this Lua has goto (LuaJIT and Lua 5.2+): {{continue}} compiles to one.
local goto_ok = load("goto x; ::x::") ~= nil

M.null = NULL
M.int = value.int
M.array = value.array
M.array_mt = ArrayMT
M.json_encode = json.encode
M.json_decode = json.decode
M.MAX_DEPTH = 1000

---------------------------------------------------------------------------------------------
-- Errors

local CompileErr = {}
local ExecErr = {}

local function line_col(src, pos)
  local line, last_nl = 1, 0
  local i = 1
  while true do
    local nl = find(src, "\n", i, true)
    if not nl or nl >= pos then break end
    line = line + 1
    last_nl = nl
    i = nl + 1
  end
  return line, pos - last_nl - 1
end

local function cerr(pos, msg, ...)
  if select("#", ...) > 0 then msg = format(msg, ...) end
  error(setmetatable({ pos = pos, msg = msg }, CompileErr), 0)
end

-- An execution error; arg is the index of the argument it is about (reported at that node).
local function xerr(msg, arg)
  error(setmetatable({ msg = msg, arg = arg }, ExecErr), 0)
end

---------------------------------------------------------------------------------------------
-- Lexer

local keywords = {
  block = true, ["break"] = true, continue = true, define = true, ["else"] = true, ["end"] = true,
  ["if"] = true, range = true, template = true, with = true,
}

local function is_space(c) return c == 32 or c == 9 or c == 13 or c == 10 end
local function is_alnum(c)
  return c and ((c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) or c == 95 or c >= 0x80)
end

local simple_escapes = { a = "\a", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", v = "\v", ["\\"] = "\\" }

-- Go's strconv.Unquote of a "..." or '...' body (the text between the quotes).
local function unquote(body, quote, pos)
  local out = {}
  local i, len = 1, #body
  local utf8 = require "easegress.template.utf8"
  while i <= len do
    local c = sub(body, i, i)
    if c == "\\" then
      local e = sub(body, i + 1, i + 1)
      if simple_escapes[e] then
        out[#out + 1] = simple_escapes[e]
        i = i + 2
      elseif e == quote then
        out[#out + 1] = e
        i = i + 2
      elseif e == "x" then
        local h = body:match("^%x%x", i + 2)
        if not h then cerr(pos, "invalid syntax") end
        out[#out + 1] = string.char(tonumber(h, 16))
        i = i + 4
      elseif e == "u" or e == "U" then
        local n = e == "u" and 4 or 8
        local h = body:match("^" .. rep("%x", n), i + 2)
        if not h then cerr(pos, "invalid syntax") end
        local r = tonumber(h, 16)
        if r > 0x10FFFF or (r >= 0xD800 and r <= 0xDFFF) then cerr(pos, "invalid syntax") end
        out[#out + 1] = utf8.encode(r)
        i = i + 2 + n
      elseif e:match("[0-7]") then
        local o = body:match("^[0-7][0-7][0-7]", i + 1)
        if not o or tonumber(o, 8) > 255 then cerr(pos, "invalid syntax") end
        out[#out + 1] = string.char(tonumber(o, 8))
        i = i + 4
      else
        cerr(pos, "invalid syntax")
      end
    else
      local j = find(body, "\\", i, true) or len + 1
      out[#out + 1] = sub(body, i, j - 1)
      i = j
    end
  end
  return concat(out)
end

local function scan_number(src, i)
  local j = i
  local function at(k) return sub(src, k, k) end
  if at(j) == "+" or at(j) == "-" then j = j + 1 end
  local digits, base = "[%d_]", 10
  if at(j) == "0" then
    j = j + 1
    local c = at(j)
    if c == "x" or c == "X" then digits, base, j = "[%x_]", 16, j + 1
    elseif c == "o" or c == "O" then digits, base, j = "[0-7_]", 8, j + 1
    elseif c == "b" or c == "B" then digits, base, j = "[01_]", 2, j + 1 end
  end
  while at(j):match(digits) do j = j + 1 end
  if at(j) == "." then
    j = j + 1
    while at(j):match(digits) do j = j + 1 end
  end
  if base == 10 and at(j):match("[eE]") then
    j = j + 1
    if at(j) == "+" or at(j) == "-" then j = j + 1 end
    while at(j):match("[%d_]") do j = j + 1 end
  end
  if base == 16 and at(j):match("[pP]") then
    j = j + 1
    if at(j) == "+" or at(j) == "-" then j = j + 1 end
    while at(j):match("[%d_]") do j = j + 1 end
  end
  if at(j) == "i" then j = j + 1 end
  if is_alnum(byte(src, j)) then
    return nil, sub(src, i, j)
  end
  return sub(src, i, j - 1), j
end

-- Go's parse.NumberNode from its text: { is_int, int, is_float, float, text }.
local function parse_number(text, pos)
  if sub(text, -1) == "i" then cerr(pos, "complex numbers are not supported: %s", text) end
  local t = text:gsub("_", "")
  local sign, body = 1, t
  local c = sub(t, 1, 1)
  if c == "+" or c == "-" then
    body = sub(t, 2)
    if c == "-" then sign = -1 end
  end
  local ival
  if body:match("^0[xX]%x+$") then ival = tonumber(sub(body, 3), 16)
  elseif body:match("^0[oO][0-7]+$") then ival = tonumber(sub(body, 3), 8)
  elseif body:match("^0[bB][01]+$") then ival = tonumber(sub(body, 3), 2)
  elseif body:match("^0[0-7]+$") then ival = tonumber(body, 8)
  elseif body:match("^[1-9]%d*$") or body == "0" then ival = tonumber(body, 10)
  elseif body:match("^0%d+$") then cerr(pos, "illegal number syntax: %s", gofmt.quote(text)) end
  if ival then
    if ival > 2 ^ 63 or (ival == 2 ^ 63 and sign == 1) then cerr(pos, "%s overflows int", text) end
    return { is_int = true, int = sign * ival, is_float = true, float = sign * ival, text = text }
  end
  local f
  if body:match("^0[xX]") then
    f = tonumber(body)
  elseif body:match("^%d*%.?%d*[eE]?[-+]?%d*$") and body:match("%d") then
    f = tonumber(body)
  end
  if not f then cerr(pos, "illegal number syntax: %s", gofmt.quote(text)) end
  if f == math.huge then cerr(pos, "strconv.ParseFloat: parsing %s: value out of range", gofmt.quote(text)) end
  f = sign * f
  local n = { is_float = true, float = f, text = text }
  if f == floor(f) and f > -2 ^ 63 and f < 2 ^ 63 then n.is_int, n.int = true, f end
  return n
end

-- Tokens: { t = type, v = value, pos = byte offset }. Types: text, left, right, space, field,
-- var, dot, ident, bool, nil, number, charconst, string, pipe, lparen, rparen, declare,
-- assign, punct, eof, and each keyword.
local function lex(src, L, R)
  local toks, n = {}, 0
  local function push(t, v, pos, extra)
    n = n + 1
    local tok = { t = t, v = v, pos = pos }
    if extra then for k, x in pairs(extra) do tok[k] = x end end
    toks[n] = tok
    return tok
  end
  local len = #src
  local i = 1
  local pending_trim = false -- trim leading spaces of the next text
  while i <= len do
    local ls = find(src, L, i, true)
    local text = sub(src, i, (ls or len + 1) - 1)
    local text_pos = i
    if pending_trim then
      local _, e = text:find("^[ \t\r\n]*")
      text_pos = text_pos + e
      text = sub(text, e + 1)
      pending_trim = false
    end
    if not ls then
      if text ~= "" then push("text", text, text_pos) end
      break
    end
    local after = ls + #L
    if sub(src, after, after) == "-" and is_space(byte(src, after + 1)) then
      text = text:gsub("[ \t\r\n]+$", "")
      after = after + 2
    end
    if text ~= "" then push("text", text, text_pos) end
    i = after
    if sub(src, i, i + 1) == "/*" then
      local ce = find(src, "*/", i + 2, true)
      if not ce then cerr(ls, "unclosed comment") end
      local j = ce + 2
      if is_space(byte(src, j)) and sub(src, j + 1, j + 1) == "-" and sub(src, j + 2, j + 1 + #R) == R then
        pending_trim = true
        j = j + 2
      end
      if sub(src, j, j + #R - 1) ~= R then cerr(ls, "comment ends before closing delimiter") end
      i = j + #R
    else
      push("left", L, ls)
      local depth = 0
      while true do
        local c = byte(src, i)
        if not c then cerr(ls, "unclosed action") end
        if is_space(c) and sub(src, i + 1, i + 1) == "-" and sub(src, i + 2, i + 1 + #R) == R then
          if depth > 0 then cerr(i, "unclosed left paren") end
          push("right", R, i + 2)
          i = i + 2 + #R
          pending_trim = true
          break
        end
        if sub(src, i, i + #R - 1) == R then
          if depth > 0 then cerr(i, "unclosed left paren") end
          push("right", R, i)
          i = i + #R
          break
        end
        local start = i
        if is_space(c) then
          local j = i
          while is_space(byte(src, j)) and not (sub(src, j + 1, j + 1) == "-" and sub(src, j + 2, j + 1 + #R) == R) do
            j = j + 1
          end
          if j == i then j = i + 1 end -- a lone space before " -}}" is handled above
          push("space", sub(src, i, j - 1), i)
          i = j
        elseif c == 34 then -- "
          local j = i + 1
          while true do
            local d = byte(src, j)
            if not d or d == 10 then cerr(start, "unterminated quoted string") end
            if d == 92 then
              if byte(src, j + 1) == nil or byte(src, j + 1) == 10 then cerr(start, "unterminated quoted string") end
              j = j + 2
            elseif d == 34 then break
            else j = j + 1 end
          end
          local raw = sub(src, i, j)
          push("string", unquote(sub(src, i + 1, j - 1), '"', start), start, { quoted = raw })
          i = j + 1
        elseif c == 96 then -- `
          local j = find(src, "`", i + 1, true)
          if not j then cerr(start, "unterminated raw quoted string") end
          local raw = sub(src, i, j)
          push("string", (sub(src, i + 1, j - 1):gsub("\r", "")), start, { quoted = raw })
          i = j + 1
        elseif c == 39 then -- '
          local j = i + 1
          while true do
            local d = byte(src, j)
            if not d or d == 10 then cerr(start, "unterminated character constant") end
            if d == 92 then j = j + 2
            elseif d == 39 then break
            else j = j + 1 end
          end
          local raw = sub(src, i, j)
          local body = sub(src, i + 1, j - 1)
          local s
          if sub(body, 1, 1) == "\\" then s = unquote(body, "'", start) else s = body end
          local utf8 = require "easegress.template.utf8"
          local r, w = utf8.decode(s, 1)
          if not r or w ~= #s then cerr(start, "malformed character constant: %s", raw) end
          push("charconst", r, start, { text = raw })
          i = j + 1
        elseif c == 36 then -- $
          local j = i + 1
          while is_alnum(byte(src, j)) do j = j + 1 end
          push("var", sub(src, i, j - 1), start)
          i = j
        elseif c == 46 and not (byte(src, i + 1) and byte(src, i + 1) >= 48 and byte(src, i + 1) <= 57) then -- .
          local j = i + 1
          while is_alnum(byte(src, j)) do j = j + 1 end
          if j == i + 1 then push("dot", ".", start) else push("field", sub(src, i + 1, j - 1), start) end
          i = j
        elseif c == 43 or c == 45 or c == 46 or (c >= 48 and c <= 57) then -- + - . digit
          local num, j = scan_number(src, i)
          if not num then cerr(start, "bad number syntax: %s", gofmt.quote(j)) end
          push("number", num, start)
          i = j
        elseif is_alnum(c) then
          local j = i
          while is_alnum(byte(src, j)) do j = j + 1 end
          local word = sub(src, i, j - 1)
          local d = byte(src, j)
          if d and not (is_space(d) or d == 46 or d == 44 or d == 124 or d == 58 or d == 41 or d == 40
            or sub(src, j, j + #R - 1) == R) then
            cerr(j, "bad character %s", format("U+%04X '%s'", d, string.char(d)))
          end
          if keywords[word] then push(word, word, start)
          elseif word == "true" or word == "false" then push("bool", word == "true", start, { text = word })
          elseif word == "nil" then push("nil", "nil", start)
          else push("ident", word, start) end
          i = j
        elseif c == 124 then push("pipe", "|", start); i = i + 1
        elseif c == 40 then push("lparen", "(", start); depth = depth + 1; i = i + 1
        elseif c == 41 then
          depth = depth - 1
          if depth < 0 then cerr(start, "unexpected right paren U+0029 ')'") end
          push("rparen", ")", start)
          i = i + 1
        elseif c == 58 then
          if sub(src, i + 1, i + 1) ~= "=" then cerr(start, "expected :=") end
          push("declare", ":=", start)
          i = i + 2
        elseif c == 61 then push("assign", "=", start); i = i + 1
        elseif c < 127 and c >= 32 then push("punct", string.char(c), start); i = i + 1
        else
          cerr(start, "unrecognized character in action: U+%04X", c)
        end
      end
    end
  end
  push("eof", "", len + 1)
  return toks
end

---------------------------------------------------------------------------------------------
-- Parser (the grammar and error messages of Go's text/template/parse)

local function tok_string(tok)
  if tok.t == "eof" then return "EOF" end
  if keywords[tok.t] then return "<" .. tok.t .. ">" end
  local v = tok.quoted or tok.text or tok.v
  if type(v) ~= "string" then v = tostring(v) end
  if #v > 10 then return sub(gofmt.quote(v), 1, 11) .. "..." end
  return gofmt.quote(v)
end

local node_string
local function pipe_string(p)
  local parts = {}
  if p.decl and #p.decl > 0 then
    local names = {}
    for i, v in ipairs(p.decl) do names[i] = v.name end
    parts[1] = concat(names, ", ") .. " := "
  end
  local cmds = {}
  for i, c in ipairs(p.cmds) do cmds[i] = node_string(c) end
  return (parts[1] or "") .. concat(cmds, " | ")
end

function node_string(n)
  local t = n.type
  if t == "field" then return "." .. concat(n.idents, ".") end
  if t == "var" then
    if #n.idents == 0 then return n.name end
    return n.name .. "." .. concat(n.idents, ".")
  end
  if t == "dot" then return "." end
  if t == "nil" then return "nil" end
  if t == "bool" then return n.v and "true" or "false" end
  if t == "number" then return n.num.text end
  if t == "string" then return n.quoted end
  if t == "ident" then return n.name end
  if t == "chain" then
    local s = node_string(n.node)
    if n.node.type == "pipe" then s = "(" .. s .. ")" end
    return s .. "." .. concat(n.idents, ".")
  end
  if t == "pipe" then return pipe_string(n) end
  if t == "cmd" then
    local parts = {}
    for i, a in ipairs(n.args) do
      parts[i] = a.type == "pipe" and "(" .. node_string(a) .. ")" or node_string(a)
    end
    return concat(parts, " ")
  end
  return t
end

local Parser = {}
Parser.__index = Parser

function Parser:peek() return self.toks[self.k] end
function Parser:next()
  local tok = self.toks[self.k]
  if tok.t ~= "eof" then self.k = self.k + 1 end
  return tok
end
function Parser:backup() self.k = self.k - 1 end
function Parser:next_nonspace()
  local tok = self:next()
  while tok.t == "space" do tok = self:next() end
  return tok
end
function Parser:peek_nonspace()
  local tok = self:next_nonspace()
  if tok.t ~= "eof" then self:backup() end
  return tok
end
function Parser.unexpected(_, tok, context)
  if tok.t == "error" then cerr(tok.pos, tok.v) end
  cerr(tok.pos, "unexpected %s in %s", tok_string(tok), context)
end
function Parser:expect(t, context)
  local tok = self:next_nonspace()
  if tok.t ~= t then self:unexpected(tok, context) end
  return tok
end

function Parser:has_var(name)
  if name == "$" then return true end
  for i = #self.vars, 1, -1 do if self.vars[i] == name then return true end end
  return false
end

function Parser:term()
  local tok = self:next_nonspace()
  local t = tok.t
  if t == "ident" then
    if not self.has_func(tok.v) then cerr(tok.pos, "function %s not defined", gofmt.quote(tok.v)) end
    return { type = "ident", name = tok.v, pos = tok.pos }
  elseif t == "dot" then return { type = "dot", pos = tok.pos }
  elseif t == "nil" then return { type = "nil", pos = tok.pos }
  elseif t == "var" then
    if not self:has_var(tok.v) then cerr(tok.pos, "undefined variable %s", gofmt.quote(tok.v)) end
    return { type = "var", name = tok.v, idents = {}, pos = tok.pos }
  elseif t == "field" then return { type = "field", idents = { tok.v }, pos = tok.pos }
  elseif t == "bool" then return { type = "bool", v = tok.v, pos = tok.pos }
  elseif t == "number" then return { type = "number", num = parse_number(tok.v, tok.pos), pos = tok.pos }
  elseif t == "charconst" then
    return { type = "number", pos = tok.pos, char = true,
      num = { is_int = true, int = tok.v, is_float = true, float = tok.v, text = tok.text } }
  elseif t == "lparen" then return self:pipeline("parenthesized pipeline", "rparen")
  elseif t == "string" then return { type = "string", v = tok.v, quoted = tok.quoted, pos = tok.pos }
  end
  self:backup()
  return nil
end

function Parser:operand()
  local node = self:term()
  if not node then return nil end
  if self:peek().t == "field" then
    local fields = {}
    local pos = self:peek().pos
    while self:peek().t == "field" do fields[#fields + 1] = self:next().v end
    local t = node.type
    if t == "field" or t == "var" then
      for _, f in ipairs(fields) do node.idents[#node.idents + 1] = f end
    elseif t == "bool" or t == "string" or t == "number" or t == "nil" or t == "dot" then
      cerr(pos, "unexpected . after term %s", gofmt.quote(node_string(node)))
    else
      node = { type = "chain", node = node, idents = fields, pos = node.pos }
    end
  end
  return node
end

function Parser:command()
  local cmd = { type = "cmd", args = {}, pos = self:peek_nonspace().pos }
  while true do
    self:peek_nonspace()
    local op = self:operand()
    if op then cmd.args[#cmd.args + 1] = op end
    local tok = self:next()
    if tok.t ~= "space" then
      if tok.t == "right" or tok.t == "rparen" then
        self:backup()
      elseif tok.t ~= "pipe" then -- a pipe ends this command
        self:unexpected(tok, "operand")
      end
      break
    end
  end
  if #cmd.args == 0 then cerr(cmd.pos, "empty command") end
  return cmd
end

local operand_start = {
  bool = true, charconst = true, dot = true, field = true, ident = true, number = true,
  ["nil"] = true, string = true, var = true, lparen = true,
}

function Parser:pipeline(context, stop)
  local first = self:peek_nonspace()
  local pipe = { type = "pipe", pos = first.pos, decl = {}, cmds = {} }
  while self:peek_nonspace().t == "var" do
    local save = self.k
    local v = self:next_nonspace()
    local nx = self:peek_nonspace()
    if nx.t == "assign" or nx.t == "declare" then
      self:next_nonspace()
      pipe.assign = nx.t == "assign"
      if pipe.assign and not self:has_var(v.v) then
        cerr(v.pos, "undefined variable %s", gofmt.quote(v.v))
      end
      pipe.decl[#pipe.decl + 1] = { type = "var", name = v.v, idents = {}, pos = v.pos }
      if not pipe.assign then self.vars[#self.vars + 1] = v.v end
      break
    elseif nx.t == "punct" and nx.v == "," then
      self:next_nonspace()
      pipe.decl[#pipe.decl + 1] = { type = "var", name = v.v, idents = {}, pos = v.pos }
      self.vars[#self.vars + 1] = v.v
      if context == "range" and #pipe.decl < 2 then
        local p = self:peek_nonspace().t
        if p ~= "var" and p ~= "right" and p ~= "rparen" then
          cerr(nx.pos, "range can only initialize variables")
        end
      else
        cerr(nx.pos, "too many declarations in %s", context)
      end
    else
      self.k = save
      break
    end
  end
  while true do
    local tok = self:next_nonspace()
    if tok.t == stop then
      if #pipe.cmds == 0 then cerr(tok.pos, "missing value for %s", context) end
      for i = 2, #pipe.cmds do
        local a = pipe.cmds[i].args[1].type
        if a == "bool" or a == "dot" or a == "nil" or a == "number" or a == "string" then
          cerr(pipe.cmds[i].pos, "non executable command in pipeline stage %d", i)
        end
      end
      return pipe
    elseif operand_start[tok.t] then
      self:backup()
      pipe.cmds[#pipe.cmds + 1] = self:command()
    else
      self:unexpected(tok, context)
    end
  end
end

function Parser:item_list()
  local list = {}
  while true do
    local tok = self:peek_nonspace()
    if tok.t == "eof" then cerr(tok.pos, "unexpected EOF") end
    local n = self:text_or_action()
    if n.type == "end" or n.type == "else" then return list, n end
    list[#list + 1] = n
  end
end

function Parser:parse_control(allow_else, context)
  local nvars = #self.vars
  local pipe = self:pipeline(context, "right")
  local jumps -- which of {{break}} and {{continue}} this range's body uses
  if context == "range" then
    self.range_depth = self.range_depth + 1
    jumps = {}
    self.range_jumps[#self.range_jumps + 1] = jumps
  end
  local list, nxt = self:item_list()
  if context == "range" then
    self.range_depth = self.range_depth - 1
    self.range_jumps[#self.range_jumps] = nil
  end
  local else_list
  if nxt.type == "else" then
    if allow_else and self:peek().t == context then
      local kw = self:next()
      else_list = { self:control(context, kw) }
    else
      else_list, nxt = self:item_list()
      if nxt.type ~= "end" then
        cerr(nxt.pos, "expected end; found %s", nxt.type == "else" and "{{else}}" or "{{end}}")
      end
    end
  end
  for i = #self.vars, nvars + 1, -1 do self.vars[i] = nil end
  return pipe, list, else_list, jumps
end

function Parser:control(kw, tok)
  local pipe, list, else_list, jumps = self:parse_control(kw ~= "range", kw)
  return { type = kw, pipe = pipe, list = list, else_list = else_list, pos = tok.pos, jumps = jumps }
end

function Parser:template_name(tok, context)
  if tok.t ~= "string" then self:unexpected(tok, context) end
  return tok.v
end

function Parser:action(left)
  local tok = self:next_nonspace()
  local t = tok.t
  if t == "block" then
    local name = self:template_name(self:next_nonspace(), "block clause")
    local pipe = self:pipeline("block clause", "right")
    local save_vars, save_depth = self.vars, self.range_depth
    self.vars, self.range_depth = { "$" }, 0
    local body, e = self:item_list()
    if e.type ~= "end" then cerr(e.pos, "unexpected {{else}} in block clause") end
    self.vars, self.range_depth = save_vars, save_depth
    self.defs[name] = { name = name, list = body, pos = tok.pos }
    return { type = "template", name = name, pipe = pipe, pos = tok.pos }
  elseif t == "break" or t == "continue" then
    if self.range_depth == 0 then cerr(tok.pos, "{{%s}} outside {{range}}", t) end
    self.range_jumps[#self.range_jumps][t] = true
    local r = self:next_nonspace()
    if r.t ~= "right" then self:unexpected(r, "{{" .. t .. "}}") end
    return { type = t, pos = tok.pos }
  elseif t == "else" then
    local p = self:peek_nonspace()
    if p.t == "if" or p.t == "with" then return { type = "else", pos = tok.pos } end
    self:expect("right", "else")
    return { type = "else", pos = tok.pos }
  elseif t == "end" then
    self:expect("right", "end")
    return { type = "end", pos = tok.pos }
  elseif t == "if" or t == "range" or t == "with" then
    return self:control(t, tok)
  elseif t == "template" then
    local name = self:template_name(self:next_nonspace(), "template clause")
    local pipe
    if self:next_nonspace().t ~= "right" then
      self:backup()
      pipe = self:pipeline("template clause", "right")
    end
    return { type = "template", name = name, pipe = pipe, pos = tok.pos }
  end
  self:backup()
  local pipe = self:pipeline("command", "right")
  return { type = "action", pipe = pipe, pos = left.pos }
end

function Parser:text_or_action()
  local tok = self:next_nonspace()
  if tok.t == "text" then return { type = "text", text = tok.v, pos = tok.pos } end
  if tok.t == "left" then return self:action(tok) end
  self:unexpected(tok, "input")
end

function Parser:parse()
  local root = {}
  while self:peek().t ~= "eof" do
    local tok = self:peek()
    local handled = false
    if tok.t == "left" then
      local k = self.k
      self:next()
      if self:next_nonspace().t == "define" then
        local name = self:template_name(self:next_nonspace(), "define clause")
        self:expect("right", "define clause")
        local save = self.vars
        self.vars = { "$" }
        local body, e = self:item_list()
        if e.type ~= "end" then cerr(e.pos, "unexpected {{else}} in define clause") end
        self.vars = save
        self.defs[name] = { name = name, list = body, pos = tok.pos }
        handled = true
      else
        self.k = k
      end
    end
    if not handled then
      local n = self:text_or_action()
      if n.type == "end" then cerr(n.pos, "unexpected {{end}}") end
      if n.type == "else" then cerr(n.pos, "unexpected {{else}}") end
      root[#root + 1] = n
    end
  end
  return root
end

---------------------------------------------------------------------------------------------
-- Runtime helpers used by the generated code

local R = {}
M._runtime = R

-- The text of a value as a template action prints it.
local float_v, int_string = gofmt.float, gofmt.int
local function S(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return float_v(v) end
  if v == nil or v == NULL then return "<no value>" end
  if t == "table" and getmetatable(v) == IntMT then return int_string(v.i) end
  return gofmt.tostring(v)
end
R.S = S

R.truth = value.truth

local time_methods = {
  Unix = function(t) return mkint(t.sec) end,
  UnixMilli = function(t) return mkint(t.sec * 1000 + floor(t.nsec / 1e6)) end,
  UnixNano = function(t) return mkint(t.sec * 1e9 + t.nsec) end,
  Year = function(t) return mkint((t:fields())) end,
  Month = function(t) return mkint(select(2, t:fields())) end,
  Day = function(t) return mkint(select(3, t:fields())) end,
  Hour = function(t) return mkint(select(4, t:fields())) end,
  Minute = function(t) return mkint(select(5, t:fields())) end,
  Second = function(t) return mkint(select(6, t:fields())) end,
  Nanosecond = function(t) return mkint(t.nsec) end,
  YearDay = function(t) return mkint(select(8, t:fields())) end,
  UTC = function(t) return t:In(gotime.load_zone("UTC")) end,
  Local = function(t) return t:In(gotime.load_zone("Local")) end,
  String = function(t) return t:String() end,
  IsZero = function(t) return t.sec == gotime.zero_sec and t.nsec == 0 end,
  Format = function(t, layout)
    if type(layout) ~= "string" then xerr("wrong type for value; expected string; got " .. value.typename(layout)) end
    return t:Format(layout)
  end,
}

local function call_method(recv, key, f, ...)
  local ok, v, err = pcall(f, recv, ...)
  if not ok then
    local e = v
    if type(e) == "table" and getmetatable(e) == ExecErr then error(e, 0) end
    xerr("error calling " .. key .. ": " .. tostring(type(e) == "table" and e.msg or e))
  end
  if err ~= nil and err ~= NULL and err ~= false then xerr("error calling " .. key .. ": " .. tostring(err)) end
  return v
end

local function not_field(recv, key)
  xerr("can't evaluate field " .. key .. " in type " .. value.typename(recv))
end

-- Field access recv.key (one step of .a.b.c).
local function FLD(recv, key)
  if type(recv) == "table" then
    local mt = getmetatable(recv)
    if mt == nil then
      local v = recv[key]
      if v ~= nil then
        if type(v) == "function" then return call_method(recv, key, v) end
        return v
      end
      if recv[1] ~= nil then not_field(recv, key) end
      return nil
    end
    if mt == IntMT or mt == ArrayMT then not_field(recv, key) end
    if mt == TimeMT then
      local m = time_methods[key]
      if not m then not_field(recv, key) end
      return m(recv)
    end
    local v = recv[key]
    if type(v) == "function" then return call_method(recv, key, v) end
    return v
  end
  if recv == nil then return nil end
  if recv == NULL then xerr("nil pointer evaluating interface {}." .. key) end
  not_field(recv, key)
end
R.FLD = FLD

-- recv.key called with arguments (a method of the data).
function R.METHOD(recv, key, ...)
  if type(recv) == "table" then
    local mt = getmetatable(recv)
    local v
    if mt == TimeMT then
      v = time_methods[key]
      if not v then not_field(recv, key) end
      return v(recv, ...)
    elseif mt == IntMT or mt == ArrayMT or (mt == nil and recv[1] ~= nil) then
      not_field(recv, key)
    end
    v = recv[key]
    if type(v) == "function" then return call_method(recv, key, v, ...) end
    xerr(key .. " is not a method but has arguments")
  end
  if recv == nil then return nil end
  if recv == NULL then xerr("nil pointer evaluating interface {}." .. key) end
  not_field(recv, key)
end

function R.XERR(msg) xerr(msg) end

-- What {{range}} iterates: count, keys (maps), the collection.
function R.RANGE(v, nvars)
  local k = kind(v)
  if k == "slice" then return #v, nil, v end
  if k == "map" then
    local keys, n = value.sorted_keys(v)
    return n, keys, v
  end
  if k == "nil" then return 0 end
  if k == "int" then
    if nvars > 1 then xerr(format("can't use %s to iterate over more than one variable", S(v))) end
    local arr = {}
    for i = 1, v.i do arr[i] = mkint(i - 1) end
    return v.i > 0 and v.i or 0, nil, arr
  end
  xerr("range can't iterate over " .. S(v))
end

function R.TMPL(T, name, dot, depth)
  local f = T[name]
  if not f then xerr("template " .. gofmt.quote(name) .. " not defined") end
  if depth >= M.MAX_DEPTH then xerr(format("exceeded maximum template depth (%d)", M.MAX_DEPTH)) end
  return f(dot, depth + 1)
end

R.INT = mkint
R.NULL = NULL

-- The functions as generated code calls them: the argument count is checked where the call
-- is compiled, these check the argument types (Go's validateType) before calling.
local check_type = funcs.check_type
local function make_wrapper(entry)
  local fn, params, variadic = entry.fn, entry.params, entry.variadic
  local np = #params
  local typed = variadic ~= nil and variadic ~= "a" and variadic ~= "v"
  for _, p in ipairs(params) do if p ~= "a" and p ~= "v" then typed = true end end
  if not typed then return fn end
  local c1, c2, c3 = params[1], params[2], params[3]
  if not variadic and np == 1 then
    return function(a)
      local m = check_type(c1, a)
      if m then xerr(m, 1) end
      return fn(a)
    end
  elseif not variadic and np == 2 then
    return function(a, b)
      local m = check_type(c1, a) or check_type(c2, b)
      if m then xerr(m, check_type(c1, a) and 1 or 2) end
      return fn(a, b)
    end
  elseif not variadic and np == 3 then
    return function(a, b, c)
      local m = check_type(c1, a) or check_type(c2, b) or check_type(c3, c)
      if m then xerr(m, check_type(c1, a) and 1 or check_type(c2, b) and 2 or 3) end
      return fn(a, b, c)
    end
  end
  return function(...)
    for i = 1, select("#", ...) do
      local code = params[i] or variadic
      if code ~= "a" and code ~= "v" then
        local msg = check_type(code, (select(i, ...)))
        if msg then xerr(msg, i) end
      end
    end
    return fn(...)
  end
end

local base_wrappers = setmetatable({}, { __index = function(t, name)
  local e = funcs.registry[name]
  if not e then return nil end
  local w = make_wrapper(e)
  t[name] = w
  return w
end })

---------------------------------------------------------------------------------------------
-- Code generation

local function lua_str(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c) return format("\\%03d", byte(c)) end) .. '"'
end

local Gen = {}
Gen.__index = Gen

function Gen:line(code, info)
  local n = #self.lines + 1
  self.lines[n] = code
  if info then self.infos[n] = info end
end

function Gen:tmp()
  self.ntmp = self.ntmp + 1
  return "t" .. self.ntmp
end

function Gen:const(v)
  local k = #self.K + 1
  self.K[k] = v
  return "K[" .. k .. "]"
end

-- Line (from 1) and column (byte offset from 0) of a byte position, by binary search over the
-- starts of the lines.
function Gen:position(pos)
  local starts = self.line_starts
  if not starts then
    starts = { 1 }
    local i = 1
    while true do
      local nl = find(self.src, "\n", i, true)
      if not nl then break end
      starts[#starts + 1] = nl + 1
      i = nl + 1
    end
    self.line_starts = starts
  end
  local lo, hi = 1, #starts
  while lo < hi do
    local mid = floor((lo + hi + 1) / 2)
    if starts[mid] <= pos then lo = mid else hi = mid - 1 end
  end
  return lo, pos - starts[lo]
end

function Gen:info(node, extra)
  local line, col = self:position(node.pos)
  local info = { line = line, col = col, text = node_string(node), tname = self.tname }
  if extra then for k, v in pairs(extra) do info[k] = v end end
  return info
end

-- Looks up a template variable's Lua name.
-- (The parser declares a variable before its own pipeline, as Go's does, so {{$x := $x}}
-- with no outer $x compiles; reading it then fails when executed, as in Go.)
function Gen:var(name, node)
  if name == "$" then return "root" end
  for i = #self.scope, 1, -1 do
    local s = self.scope[i]
    if s.name == name then return s.lua end
  end
  self:line(format("XERR(%s)", lua_str("undefined variable: " .. name)), node and self:info(node))
  local t = self:tmp()
  self:line("local " .. t)
  return t
end

function Gen:alloc_var()
  self.nvar = self.nvar + 1
  return self.table_vars and "V[" .. self.nvar .. "]" or "v" .. self.nvar
end

function Gen:declare(name)
  local lua = self:alloc_var()
  self.scope[#self.scope + 1] = { name = name, lua = lua }
  return lua
end

function Gen:push_scope() return #self.scope end
function Gen:pop_scope(mark) for i = #self.scope, mark + 1, -1 do self.scope[i] = nil end end

local go_type_of_code = {
  s = "string", i = "int", f = "float64", b = "bool", m = "map[string]interface {}", t = "time.Time",
}

-- A literal argument converted for a parameter of type code (Go's evalArg), or nil, error.
function Gen:literal(node, code)
  local t = node.type
  if t == "nil" then
    if code == nil or code == "a" or code == "v" or code == "m" then return "nil" end
    return nil, "cannot assign nil to " .. go_type_of_code[code]
  end
  local found = node_string(node)
  if t == "string" then
    if code == "s" or code == nil or code == "a" or code == "v" then return lua_str(node.v) end
  elseif t == "bool" then
    if code == "b" or code == nil or code == "a" or code == "v" then return node.v and "true" or "false" end
  elseif t == "number" then
    local num = node.num
    if code == "i" then
      if num.is_int then return self:const(mkint(num.int)) end
      return nil, "expected integer; found " .. found
    elseif code == "f" then
      return format("%.17g", num.float)
    elseif code == nil or code == "a" or code == "v" then
      local txt = num.text
      local hexint = txt:match("^[+-]?0[xX]") and not txt:find("[pP]")
      if num.is_float and not node.char and not hexint and txt:find("[.eEpP]") then
        return format("%.17g", num.float)
      end
      if num.is_int then return self:const(mkint(num.int)) end
      return format("%.17g", num.float)
    end
  end
  if code == "s" then return nil, "expected string; found " .. found end
  if code == "i" then return nil, "expected integer; found " .. found end
  if code == "f" then return nil, "expected float; found " .. found end
  if code == "b" then return nil, "expected bool; found " .. found end
  return nil, format("can't handle %s for arg of type %s", found, go_type_of_code[code] or "interface {}")
end

local literal_types = { ["nil"] = true, string = true, bool = true, number = true }

-- An argument's value as a Lua expression (code: the parameter's type code, if known).
function Gen:arg(node, code)
  local t = node.type
  if literal_types[t] then
    local expr, err = self:literal(node, code)
    if not expr then
      self:line(format("XERR(%s)", lua_str(err)), self:info(node))
      return "nil"
    end
    return expr
  end
  if t == "dot" then return "dot" end
  if t == "field" then return self:chain("dot", node.idents, node) end
  if t == "var" then return self:chain(self:var(node.name, node), node.idents, node) end
  if t == "chain" then
    local base = self:operand_value(node.node)
    return self:chain(base, node.idents, node)
  end
  if t == "pipe" then return self:pipe_value(node) end
  if t == "ident" then return self:call(node.name, { node }, nil, { type = "cmd", args = { node }, pos = node.pos }) end
  error("internal: unexpected node " .. t)
end

-- The value of a chain's base operand (a parenthesised pipeline, a function or a literal).
function Gen:operand_value(node)
  if node.type == "pipe" then
    local v = self:pipe_value(node)
    return v
  end
  return self:arg(node, nil)
end

function Gen:chain(base, idents, node)
  if #idents == 0 then return base end
  local expr = base
  for _, id in ipairs(idents) do expr = format("FLD(%s, %s)", expr, lua_str(id)) end
  local t = self:tmp()
  self:line(format("local %s = %s", t, expr), self:info(node))
  return t
end

-- A function call; args are the command's nodes (args[1] is the function name).
function Gen:call(name, args, final, cmd)
  local entry = self.funcs[name]
  local nargs = #args - 1 + (final and 1 or 0)
  if entry.special then
    -- and/or: evaluate the operands in order and stop at the first false (and) or true (or)
    if nargs == 0 then
      self:line(format("XERR(%s)", lua_str(format("wrong number of args for %s: want at least 1 got 0", name))),
        self:info(args[1]))
      return "nil"
    end
    local r = self:tmp()
    self:line("local " .. r)
    local closes = 0
    local test = entry.special == "and" and "if TRUTH(%s) then" or "if not TRUTH(%s) then"
    for i = 2, #args do
      if i > 2 then
        self:line(format(test, r))
        closes = closes + 1
      end
      self:line("do")
      local v = self:arg(args[i], "v")
      self:line(format("%s = %s", r, v))
      self:line("end")
    end
    if final then
      if #args > 1 then
        self:line(format(test, r))
        closes = closes + 1
      end
      self:line(format("%s = %s", r, final))
    end
    for _ = 1, closes do self:line("end") end
    return r
  end
  local given = #args - 1
  local want = #entry.params
  local bad
  if entry.variadic then
    if nargs < want then bad = format("wrong number of args for %s: want at least %d got %d", name, want, given) end
  elseif nargs ~= want then
    bad = format("wrong number of args for %s: want %d got %d", name, want, nargs)
  end
  if bad then
    self:line(format("XERR(%s)", lua_str(bad)), self:info(args[1]))
    return "nil"
  end
  local exprs = {}
  local arg_infos = {}
  for i = 2, #args do
    local code = entry.params[i - 1] or entry.variadic
    exprs[#exprs + 1] = self:arg(args[i], code)
    arg_infos[i - 1] = self:info(args[i])
  end
  if final then exprs[#exprs + 1] = final end
  local t = self:tmp()
  self:line(format("local %s = F[%s](%s)", t, lua_str(name), concat(exprs, ", ")),
    self:info(cmd, { fname = name, args = arg_infos, ident = self:info(args[1]) }))
  return t
end

function Gen:not_a_function(head)
  self:line(format("XERR(%s)", lua_str("can't give argument to non-function " .. node_string(head))), self:info(head))
  return "nil"
end

-- One command of a pipeline; final is the previous command's value (a Lua expression).
function Gen:command(cmd, final)
  local head = cmd.args[1]
  local t = head.type
  local nargs = #cmd.args
  if t == "ident" then return self:call(head.name, cmd.args, final, cmd) end
  local has_args = nargs > 1 or final ~= nil
  if t == "field" or t == "var" or t == "chain" then
    local idents = head.idents
    if has_args and (#idents > 0) then
      local base
      if t == "field" then base = "dot"
      elseif t == "var" then base = self:var(head.name, head)
      else base = self:operand_value(head.node) end
      local recv_idents = {}
      for i = 1, #idents - 1 do recv_idents[i] = idents[i] end
      local recv = self:chain(base, recv_idents, head)
      local exprs = { recv, lua_str(idents[#idents]) }
      for i = 2, nargs do exprs[#exprs + 1] = self:arg(cmd.args[i], "a") end
      if final then exprs[#exprs + 1] = final end
      local r = self:tmp()
      self:line(format("local %s = METHOD(%s)", r, concat(exprs, ", ")), self:info(head))
      return r
    end
    if has_args then
      return self:not_a_function(head)
    end
    return self:arg(head, "a")
  end
  if t == "pipe" then
    if has_args then
      return self:not_a_function(head)
    end
    return self:pipe_value(head)
  end
  if has_args then return self:not_a_function(head) end
  if t == "nil" then
    self:line(format("XERR(%s)", lua_str("nil is not a command")), self:info(head))
    return "nil"
  end
  return self:arg(head, "a")
end

-- Evaluates a pipeline's commands; returns the Lua expression of its value (not yet
-- assigned to its declared variables).
function Gen:commands(pipe)
  local v
  for _, cmd in ipairs(pipe.cmds) do v = self:command(cmd, v) end
  return v
end

-- A parenthesised pipeline used as a value.
function Gen:pipe_value(pipe)
  local v = self:commands(pipe)
  local t = self:tmp()
  self:line(format("local %s = %s; if %s == NULL then %s = nil end", t, v, t, t))
  if pipe.assign then
    self:assign_decls(pipe, t)
  else
    -- a variable declared inside parentheses lives until the end of the enclosing control:
    -- it is kept in the function's table of variables
    for _, d in ipairs(pipe.decl) do
      self.nvar = self.nvar + 1
      local lua = "V[" .. self.nvar .. "]"
      self.uses_vtable = true
      self:line(format("%s = %s", lua, t))
      self.scope[#self.scope + 1] = { name = d.name, lua = lua }
    end
  end
  return t
end

-- Assigns a pipeline's value to its declared variables (the locals must exist).
function Gen:assign_decls(pipe, v)
  for _, d in ipairs(pipe.decl) do
    self:line(format("%s = %s", self:var(d.name), v))
  end
end

-- Declares new variables (their Lua names) holding value v.
function Gen:bind(names, v)
  if self.table_vars then
    for _, name in ipairs(names) do self:line(format("%s = %s", name, v)) end
    return
  end
  self:line(format("local %s = %s", concat(names, ", "), rep(v, #names, ", ")))
end

-- Evaluates a control's pipeline into a fresh local; returns its name.
function Gen:control_value(pipe)
  local c = self:tmp()
  self:line("local " .. c)
  self:line("do")
  local v = self:commands(pipe)
  self:line(format("%s = %s; if %s == NULL then %s = nil end", c, v, c, c))
  self:line("end")
  return c
end

function Gen:list(list)
  for _, node in ipairs(list) do self:node(node) end
end

function Gen:node(node)
  local t = node.type
  if t == "text" then
    self:line(format("n = n + 1; b[n] = %s", lua_str(node.text)))
  elseif t == "action" then
    local pipe = node.pipe
    if #pipe.decl > 0 then
      if not pipe.assign then
        -- the new variable is in scope after its pipeline: {{$x := $x}} reads the outer $x
        local lua = self:alloc_var()
        if not self.table_vars then self:line("local " .. lua) end
        self:line("do")
        local v = self:commands(pipe)
        self:line(format("%s = %s; if %s == NULL then %s = nil end", lua, v, lua, lua))
        self:line("end")
        self.scope[#self.scope + 1] = { name = pipe.decl[1].name, lua = lua }
      else
        local c = self:control_value(pipe)
        self:assign_decls(pipe, c)
      end
    else
      local mark = #self.lines
      self:line("do")
      local v = self:commands(pipe)
      local last = self.lines[#self.lines]
      local expr = last:match("^local (t%d+) = ") == v and sub(last, #v + 10)
      if expr and #self.lines == mark + 2 then
        -- one line computed the value: print it in place, without a block or a local
        self.lines[mark + 1] = format("n = n + 1; b[n] = S(%s)", expr)
        self.infos[mark + 1] = self.infos[mark + 2]
        self.lines[mark + 2], self.infos[mark + 2] = nil, nil
      else
        self:line(format("n = n + 1; b[n] = S(%s)", v))
        self:line("end")
      end
    end
  elseif t == "if" or t == "with" then
    self:line("do")
    local mark = self:push_scope()
    local c = self:control_value(node.pipe)
    if #node.pipe.decl > 0 then
      if node.pipe.assign then self:assign_decls(node.pipe, c)
      else
        local names = {}
        for i, d in ipairs(node.pipe.decl) do names[i] = self:declare(d.name) end
        self:bind(names, c)
      end
    end
    self:line(format("if TRUTH(%s) then", c))
    local inner = self:push_scope()
    if t == "with" then self:line(format("local dot = %s", c)) end
    self:list(node.list)
    self:pop_scope(inner)
    if node.else_list then
      self:line("else")
      inner = self:push_scope()
      self:list(node.else_list)
      self:pop_scope(inner)
    end
    self:line("end")
    self:pop_scope(mark)
    self:line("end")
  elseif t == "range" then
    self:range(node)
  elseif t == "template" then
    self:line("do")
    local v = "nil"
    if node.pipe then
      v = self:commands(node.pipe)
      local c = self:tmp()
      self:line(format("local %s = %s", c, v))
      v = c
    end
    local text = node.pipe and format("{{template %s %s}}", gofmt.quote(node.name), node_string(node.pipe))
      or format("{{template %s}}", gofmt.quote(node.name))
    self:line(format("n = n + 1; b[n] = TMPL(T, %s, %s, depth)", lua_str(node.name), v),
      self:info(node, { text = text }))
    self:line("end")
  elseif t == "break" then
    local loop = self.loops[#self.loops]
    if loop.flag then self:line(format("%s = true; do break end", loop.flag))
    else self:line("do break end") end
  elseif t == "continue" then
    local loop = self.loops[#self.loops]
    if loop.flag then self:line("do break end")
    else self:line(format("goto %s", loop.label)) end
  else
    error("internal: unexpected node " .. t)
  end
end

function Gen:range(node)
  local pipe = node.pipe
  self:line("do")
  local mark = self:push_scope()
  local c = self:control_value(pipe)
  local key_var, elem_var
  local decl = pipe.decl
  if #decl > 0 then
    if pipe.assign then
      if #decl == 1 then elem_var = self:var(decl[1].name)
      else key_var, elem_var = self:var(decl[1].name), self:var(decl[2].name) end
    else
      local names = {}
      for i, d in ipairs(decl) do names[i] = self:declare(d.name) end
      self:bind(names, c)
      if #names == 1 then elem_var = names[1] else key_var, elem_var = names[1], names[2] end
    end
  end
  local cnt, keys, coll, i = self:tmp(), self:tmp(), self:tmp(), self:tmp()
  -- Go reports a value range cannot iterate at the last node the pipeline evaluated
  local last = pipe.cmds[#pipe.cmds].args[1]
  self:line(format("local %s, %s, %s = RANGE(%s, %d)", cnt, keys, coll, c, #decl), self:info(last))
  self:line(format("if %s > 0 then", cnt))
  local brk = self:tmp()
  local jumps = node.jumps or {}
  if jumps["break"] and not goto_ok then self:line(format("local %s = false", brk)) end
  self:line(format("for %s = 1, %s do", i, cnt))
  local k = self:tmp()
  self:line(format("local %s, dot; if %s then %s = %s[%s]; dot = %s[%s] else %s = INT(%s - 1); dot = %s[%s] end",
    k, keys, k, keys, i, coll, k, k, i, coll, i))
  if elem_var then self:line(format("%s = dot", elem_var)) end
  if key_var then self:line(format("%s = %s", key_var, k)) end
  local inner = self:push_scope()
  if not (jumps["break"] or jumps.continue) then
    self:list(node.list)
  elseif goto_ok then
    -- {{continue}} jumps to the end of the body, {{break}} is a Lua break
    local label = "c" .. brk
    self.loops[#self.loops + 1] = { label = label }
    self:line("do")
    self:list(node.list)
    self:line("end")
    if jumps.continue then self:line(format("::%s::", label)) end
    self.loops[#self.loops] = nil
  else
    -- Lua 5.1: the body is a one-pass repeat loop; break leaves it and sets a flag
    self.loops[#self.loops + 1] = { flag = brk }
    self:line("repeat")
    self:list(node.list)
    self:line("until true")
    self:line(format("if %s then break end", brk))
    self.loops[#self.loops] = nil
  end
  self:pop_scope(inner)
  self:line("end")
  if node.else_list then
    self:line("else")
    inner = self:push_scope()
    self:list(node.else_list)
    self:pop_scope(inner)
  end
  self:line("end")
  self:pop_scope(mark)
  self:line("end")
end

function Gen:template_fn(key, tname, list)
  self.tname = tname
  self.scope = {}
  self.ntmp = 0
  self.nvar = 0
  self.loops = {}
  self:line(format("T[%s] = function(dot, depth)", lua_str(key)))
  self:line("local root = dot")
  self:line("local b, n = {}, 0")
  self.uses_vtable = self.table_vars
  local vline = #self.lines + 1
  self:line("")
  self:list(list)
  if self.uses_vtable then self.lines[vline] = "local V = {}" end
  self:line("return concat(b, \"\", 1, n)")
  self:line("end")
end

---------------------------------------------------------------------------------------------
-- Compile and render

local Template = {}
Template.__index = Template

local chunk_id = 0

local function describe_error(self, e, line)
  local info = line and self.infos[line]
  local msg
  local is_exec = type(e) == "table" and getmetatable(e) == ExecErr
  if is_exec then
    msg = e.msg
    if info and e.arg and info.args and info.args[e.arg] then
      info = info.args[e.arg]
    elseif info and info.ident and msg:match("^wrong number of args") then
      info = info.ident
    end
  else
    if type(e) == "table" and e.msg then e = e.msg end
    msg = tostring(e)
    if info and info.fname then msg = "error calling " .. info.fname .. ": " .. msg end
  end
  if info then
    return format("%s:%d:%d: executing %s at <%s>: %s", self.name, info.line, info.col,
      gofmt.quote(info.tname), info.text, msg)
  end
  return format("%s: executing %s: %s", self.name, gofmt.quote(self.name), msg)
end

-- Whether xpcall passes arguments (LuaJIT and Lua 5.2+ do, Lua 5.1 does not).
local xpcall_args = select(2, xpcall(function(a) return a end, function(e) return e end, true)) == true

-- The error handler of a template: notes the line of generated code that failed.
local function make_handler(self)
  local chunkname = self.chunkname
  return function(e)
    self.errline = nil
    for level = 2, 200 do
      local info = getinfo(level, "Sl")
      if not info then break end
      if info.source == chunkname then
        self.errline = info.currentline
        break
      end
    end
    return e
  end
end

local function run(self, fn, data)
  local ok, res
  if xpcall_args then
    ok, res = xpcall(fn, self.handler, data, 0)
  else
    ok, res = xpcall(function() return fn(data, 0) end, self.handler)
  end
  if ok then return res end
  return nil, describe_error(self, res, self.errline)
end

-- Renders the template with data as dot (and $). Returns the text, or nil, error.
function Template:render(data)
  return run(self, self.T[self.main], data)
end

-- Renders one of the templates defined in the text ({{define "name"}}).
function Template:render_template(name, data)
  local fn = self.T[name]
  if not fn then return nil, format("%s: no template %s", self.name, gofmt.quote(name)) end
  return run(self, fn, data)
end

-- The names of the templates defined (the main one included).
function Template:templates()
  local names = {}
  for k in pairs(self.T) do names[#names + 1] = k end
  table.sort(names)
  return names
end

-- The generated Lua source (for debugging).
function Template:source() return self.lua end

local function func_table(extra)
  if not extra then return funcs.registry, base_wrappers end
  local reg = setmetatable({}, { __index = funcs.registry })
  local wrappers = setmetatable({}, { __index = base_wrappers })
  for name, f in pairs(extra) do
    local entry
    if type(f) == "function" then
      entry = { name = name, params = {}, variadic = "a", fn = function(...)
        local v, err = f(...)
        if err ~= nil and err ~= false and err ~= NULL then error(tostring(err), 0) end
        return v
      end }
    else
      entry = { name = name, params = {}, fn = f.fn }
      for code in (f.sig or "...a"):gmatch("%S+") do
        if sub(code, 1, 3) == "..." then entry.variadic = sub(code, 4) else entry.params[#entry.params + 1] = code end
      end
    end
    reg[name] = entry
    wrappers[name] = make_wrapper(entry)
  end
  return reg, wrappers
end

-- Compiles template text. Returns the template, or nil, "NAME:LINE:COL: message".
function M.compile(text, opts)
  opts = opts or {}
  if type(text) ~= "string" then return nil, "template text must be a string" end
  local name = opts.name or "template"
  local L = opts.left_delim or opts.leftDelim
  local Rd = opts.right_delim or opts.rightDelim
  if L == nil or L == "" then L = "{{" end
  if Rd == nil or Rd == "" then Rd = "}}" end
  local registry, wrappers = func_table(opts.funcs)
  local ok, res = pcall(function()
    local toks = lex(text, L, Rd)
    local p = setmetatable({ toks = toks, k = 1, vars = { "$" }, range_depth = 0, defs = {}, range_jumps = {},
      has_func = function(fname) return registry[fname] ~= nil end }, Parser)
    local root = p:parse()
    return { root = root, defs = p.defs }
  end)
  if not ok then
    if type(res) == "table" and getmetatable(res) == CompileErr then
      local line, col = line_col(text, res.pos)
      return nil, format("%s:%d:%d: %s", name, line, col, res.msg)
    end
    error(res, 0)
  end
  local names = {}
  for dname in pairs(res.defs) do names[#names + 1] = dname end
  table.sort(names)
  local main_defined = res.defs[name] ~= nil and #res.root == 0
  local function generate(table_vars)
    local gen = setmetatable({ lines = {}, infos = {}, K = {}, src = text, funcs = registry,
      table_vars = table_vars }, Gen)
    gen:line("local R, F, K, concat = ...")
    gen:line("local FLD, METHOD, S, TRUTH, XERR = R.FLD, R.METHOD, R.S, R.truth, R.XERR")
    gen:line("local RANGE, TMPL, INT, NULL = R.RANGE, R.TMPL, R.INT, R.NULL")
    gen:line("local T = {}")
    for _, dname in ipairs(names) do gen:template_fn(dname, dname, res.defs[dname].list) end
    if not main_defined then gen:template_fn(name, name, res.root) end
    gen:line("return T")
    chunk_id = chunk_id + 1
    local chunkname = "=template:" .. chunk_id
    local lua = concat(gen.lines, "\n")
    local chunk, lerr = load(lua, chunkname)
    return chunk, lerr, gen, lua, chunkname
  end
  local chunk, lerr, gen, lua, chunkname = generate(false)
  if not chunk and lerr:find("local variables", 1, true) then
    chunk, lerr, gen, lua, chunkname = generate(true)
  end
  if not chunk then return nil, format("%s: the template is too large to compile: %s", name, lerr) end
  local T = chunk(R, wrappers, gen.K, concat)
  local tpl = setmetatable({ name = name, main = name, T = T, infos = gen.infos, lua = lua,
    chunkname = chunkname }, Template)
  tpl.handler = make_handler(tpl)
  return tpl
end

-- Sets where the `log` function writes: fn(level, message).
function M.set_logger(fn) funcs.logger = fn end

-- Whether a function name is known to templates.
function M.has_function(name) return funcs.registry[name] ~= nil end

-- Helpers for building a data root shaped like Easegress's.
M.canonical_header_key = funcs.canonical_key

return M
