-- easegress.template.regexp: Go's regexp (RE2 syntax, leftmost-first matching) in pure Lua.
--
-- A pattern is parsed into a program run by a backtracker that remembers the (instruction,
-- position) pairs it has already tried, as Go's own backtracker does: matching is linear in
-- program size times input length, and the results are those of Go's regexp.
--
-- Supported: literals, ., [classes] with ranges, negation and [:posix:] names, \d \D \s \S
-- \w \W, \b \B \A \z ^ $, groups ( ), (?: ), (?P<name> ), (?<name> ), flags i m s U (also
-- scoped (?i: )), repetition * + ? {n} {n,} {n,m} and lazy forms, alternation, escapes \a \f
-- \t \n \r \v \x41 \x{263a} \123 \Q...\E.
-- Approximated: case folding (?i) is ASCII-only; \pL \p{L} \p{Lu} \p{Ll} \p{N} \p{Nd} and
-- their \P negations use ASCII plus the common Latin/Greek/Cyrillic/CJK blocks for letters;
-- other Unicode classes are rejected as unsupported.
local utf8 = require "easegress.template.utf8"

local M = {}

local byte, sub, find = string.byte, string.sub, string.find
local concat = table.concat
local decode = utf8.decode

-- opcodes
local CHAR, ANY, ANYNL, SPLIT, JMP, SAVE, ASSERT, MATCH, LIT = 1, 2, 3, 4, 5, 6, 7, 8, 9

---------------------------------------------------------------------------------------------
-- Parsing

local function perr(code, text)
  error({ regexp = true, msg = code .. ": `" .. text .. "`" }, 0)
end

local function ranges_add(set, lo, hi) set[#set + 1] = lo; set[#set + 1] = hi end

local perl = {
  d = { 48, 57 },
  s = { 9, 10, 12, 13, 32, 32 },
  w = { 48, 57, 65, 90, 95, 95, 97, 122 },
}

local posix = {
  alnum = { 48, 57, 65, 90, 97, 122 }, alpha = { 65, 90, 97, 122 }, ascii = { 0, 127 },
  blank = { 9, 9, 32, 32 }, cntrl = { 0, 31, 127, 127 }, digit = { 48, 57 },
  graph = { 33, 126 }, lower = { 97, 122 }, print = { 32, 126 },
  punct = { 33, 47, 58, 64, 91, 96, 123, 126 }, space = { 9, 13, 32, 32 },
  upper = { 65, 90 }, word = { 48, 57, 65, 90, 95, 95, 97, 122 }, xdigit = { 48, 57, 65, 70, 97, 102 },
}

local letters = { 65, 90, 97, 122, 0xAA, 0xAA, 0xB5, 0xB5, 0xBA, 0xBA, 0xC0, 0xD6, 0xD8, 0xF6,
  0xF8, 0x2C1, 0x370, 0x3FF, 0x400, 0x52F, 0x531, 0x587, 0x5D0, 0x5EA, 0x620, 0x64A,
  0x904, 0x939, 0xE01, 0xE30, 0x10A0, 0x10FF, 0x1E00, 0x1FFF, 0x3041, 0x30FF, 0x3400, 0x4DBF,
  0x4E00, 0x9FFF, 0xAC00, 0xD7A3, 0xF900, 0xFAFF }
local unicode_classes = {
  L = letters, Letter = letters,
  Lu = { 65, 90, 0xC0, 0xD6, 0xD8, 0xDE, 0x391, 0x3A9, 0x410, 0x42F },
  Ll = { 97, 122, 0xDF, 0xF6, 0xF8, 0xFF, 0x3B1, 0x3C9, 0x430, 0x44F },
  N = { 48, 57, 0xB2, 0xB3, 0xB9, 0xB9, 0xBC, 0xBE, 0x660, 0x669, 0xFF10, 0xFF19 },
  Nd = { 48, 57, 0x660, 0x669, 0xFF10, 0xFF19 },
  Han = { 0x2E80, 0x2FDF, 0x3005, 0x3007, 0x3021, 0x3029, 0x3400, 0x4DBF, 0x4E00, 0x9FFF, 0xF900, 0xFAFF },
  Greek = { 0x370, 0x3FF, 0x1F00, 0x1FFF }, Cyrillic = { 0x400, 0x52F },
  Latin = { 65, 90, 97, 122, 0xAA, 0xAA, 0xBA, 0xBA, 0xC0, 0xD6, 0xD8, 0xF6, 0xF8, 0x24F, 0x1E00, 0x1EFF },
  Hiragana = { 0x3041, 0x309F }, Katakana = { 0x30A0, 0x30FF }, Hangul = { 0xAC00, 0xD7A3, 0x1100, 0x11FF },
}

local function negate(r)
  local out, lo = {}, 0
  -- r must be sorted and non-overlapping
  for i = 1, #r, 2 do
    if r[i] > lo then ranges_add(out, lo, r[i] - 1) end
    if r[i + 1] + 1 > lo then lo = r[i + 1] + 1 end
  end
  if lo <= 0x10FFFF then ranges_add(out, lo, 0x10FFFF) end
  return out
end

local function normalize(r)
  local pairs_ = {}
  for i = 1, #r, 2 do pairs_[#pairs_ + 1] = { r[i], r[i + 1] } end
  table.sort(pairs_, function(a, b) return a[1] < b[1] end)
  local out = {}
  for _, p in ipairs(pairs_) do
    local n = #out
    if n > 0 and p[1] <= out[n] + 1 then
      if p[2] > out[n] then out[n] = p[2] end
    else
      out[n + 1] = p[1]
      out[n + 2] = p[2]
    end
  end
  return out
end

local function fold_ranges(r)
  local out = {}
  for i = 1, #r, 2 do
    local lo, hi = r[i], r[i + 1]
    ranges_add(out, lo, hi)
    local a, b = math.max(lo, 65), math.min(hi, 90)
    if a <= b then ranges_add(out, a + 32, b + 32) end
    a, b = math.max(lo, 97), math.min(hi, 122)
    if a <= b then ranges_add(out, a - 32, b - 32) end
  end
  return out
end

local Parser = {}
Parser.__index = Parser

function Parser:peek(n) return sub(self.src, self.i, self.i + (n or 1) - 1) end

-- An escape at self.i (just after the backslash). Returns a rune, or a ranges table.
function Parser:escape(in_class)
  local src, i = self.src, self.i
  local c = sub(src, i, i)
  if c == "" then perr("trailing backslash at end of expression", "") end
  self.i = i + 1
  if c:match("%d") then
    if c == "0" or (sub(src, i + 1, i + 1):match("[0-7]") and c:match("[1-7]")) then
      local oct = src:match("^[0-7][0-7]?[0-7]?", i)
      if c ~= "0" and #oct < 2 then perr("invalid escape sequence", "\\" .. c) end
      self.i = i + #oct
      return tonumber(oct, 8)
    end
    perr("invalid escape sequence", "\\" .. c)
  end
  if c == "x" then
    if sub(src, i + 1, i + 1) == "{" then
      local hex = src:match("^(%x+)}", i + 2)
      if not hex then perr("invalid escape sequence", sub(src, i - 1, i + 2)) end
      self.i = i + 3 + #hex
      local r = tonumber(hex, 16)
      if r > 0x10FFFF then perr("invalid escape sequence", sub(src, i - 1, self.i - 1)) end
      return r
    end
    local hex = src:match("^%x%x", i + 1)
    if not hex then perr("invalid escape sequence", sub(src, i - 1, i + 2)) end
    self.i = i + 3
    return tonumber(hex, 16)
  end
  local simple = { a = 7, f = 12, t = 9, n = 10, r = 13, v = 11 }
  if simple[c] then return simple[c] end
  local p = perl[c:lower()]
  if p then
    if c:match("%u") then return negate(p) end
    return p
  end
  if c == "p" or c == "P" then
    local name
    if sub(src, i + 1, i + 1) == "{" then
      name = src:match("^([%w_]+)}", i + 2)
      if not name then perr("invalid character class range", sub(src, i - 1, i + 2)) end
      self.i = i + 3 + #name
    else
      name = sub(src, i + 1, i + 1)
      self.i = i + 2
    end
    local neg = c == "P"
    if sub(name, 1, 1) == "^" then neg, name = not neg, sub(name, 2) end
    local r = unicode_classes[name]
    if not r then perr("invalid character class range", "\\" .. c .. name) end
    r = normalize(r)
    return neg and negate(r) or r
  end
  if not in_class and (c == "b" or c == "B" or c == "A" or c == "z" or c == "Q") then
    return c -- handled by the caller
  end
  if c:match("[%p]") then return byte(c) end
  perr("invalid escape sequence", "\\" .. c)
end

function Parser:class()
  -- self.i is just after "["
  local src = self.src
  local start = self.i - 1
  local neg = false
  if sub(src, self.i, self.i) == "^" then neg = true; self.i = self.i + 1 end
  local r = {}
  local first = true
  while true do
    local c = sub(src, self.i, self.i)
    if c == "" then perr("missing closing ]", sub(src, start)) end
    if c == "]" and not first then self.i = self.i + 1 break end
    first = false
    local name_neg, name = src:match("^%[:(%^?)(%a+):%]", self.i)
    if name then
      local p = posix[name]
      if not p then perr("invalid character class range", "[:" .. name_neg .. name .. ":]") end
      if name_neg == "^" then p = negate(p) end
      for k = 1, #p do r[#r + 1] = p[k] end
      self.i = self.i + #name + #name_neg + 4
    else
      local lo
      if c == "\\" then
        self.i = self.i + 1
        lo = self:escape(true)
      else
        local w
        lo, w = decode(src, self.i)
        self.i = self.i + w
      end
      if type(lo) == "table" then
        for k = 1, #lo do r[#r + 1] = lo[k] end
      else
        local hi = lo
        if sub(src, self.i, self.i) == "-" and sub(src, self.i + 1, self.i + 1) ~= "]"
          and sub(src, self.i + 1, self.i + 1) ~= "" then
          self.i = self.i + 1
          local c2 = sub(src, self.i, self.i)
          if c2 == "\\" then
            self.i = self.i + 1
            hi = self:escape(true)
            if type(hi) == "table" then perr("invalid character class range", sub(src, start, self.i - 1)) end
          else
            local w
            hi, w = decode(src, self.i)
            self.i = self.i + w
          end
          if hi < lo then perr("invalid character class range", sub(src, start, self.i - 1)) end
        end
        ranges_add(r, lo, hi)
      end
    end
  end
  if self.flags.i then r = fold_ranges(r) end
  r = normalize(r)
  if neg then r = negate(r) end
  return { t = "set", r = r }
end

function Parser:atom()
  local src = self.src
  local c = sub(src, self.i, self.i)
  local flags = self.flags
  if c == "(" then
    self.i = self.i + 1
    local name
    if sub(src, self.i, self.i) == "?" then
      local nm = src:match("^%?P?<([%w_]+)>", self.i)
      if nm then
        name = nm
        self.i = self.i + #(src:match("^%?P?<[%w_]+>", self.i))
      else
        local fl, close = src:match("^%?([%-imsU]*)([:)])", self.i)
        if not fl then
          local bad = src:match("^%?P?<[^>]*>?", self.i) or sub(src, self.i, self.i + 1)
          if bad:match("^%?P?<") then perr("invalid named capture", "(" .. bad) end
          perr("invalid or unsupported Perl syntax", "(" .. sub(src, self.i, self.i + 1))
        end
        self.i = self.i + 2 + #fl
        local newf = { i = flags.i, m = flags.m, s = flags.s, U = flags.U }
        local on = true
        for ch in fl:gmatch(".") do
          if ch == "-" then on = false else newf[ch] = on or nil end
        end
        if close == ")" then
          self.flags = newf
          return { t = "empty" }
        end
        local save = self.flags
        self.flags = newf
        local node = self:alt()
        self.flags = save
        if sub(src, self.i, self.i) ~= ")" then perr("missing closing )", src) end
        self.i = self.i + 1
        return { t = "group", node = node }
      end
    end
    self.ncap = self.ncap + 1
    local idx = self.ncap
    if name then
      if self.names_seen[name] then perr("duplicate capture group name", name) end
      self.names_seen[name] = true
      self.names[idx] = name
    end
    local save = self.flags
    local node = self:alt()
    self.flags = save
    if sub(src, self.i, self.i) ~= ")" then perr("missing closing )", src) end
    self.i = self.i + 1
    return { t = "group", idx = idx, node = node }
  elseif c == "[" then
    self.i = self.i + 1
    return self:class()
  elseif c == "." then
    self.i = self.i + 1
    return { t = flags.s and "anynl" or "any" }
  elseif c == "^" then
    self.i = self.i + 1
    return { t = "assert", k = flags.m and "bol" or "bot" }
  elseif c == "$" then
    self.i = self.i + 1
    return { t = "assert", k = flags.m and "eol" or "eot" }
  elseif c == "\\" then
    self.i = self.i + 1
    local e = self:escape(false)
    if e == "b" then return { t = "assert", k = "wordb" } end
    if e == "B" then return { t = "assert", k = "nwordb" } end
    if e == "A" then return { t = "assert", k = "bot" } end
    if e == "z" then return { t = "assert", k = "eot" } end
    if e == "Q" then
      local stop = find(src, "\\E", self.i, true)
      local lit = sub(src, self.i, (stop or #src + 1) - 1)
      self.i = stop and stop + 2 or #src + 1
      if not flags.i then return { t = "lit", s = lit } end
      local list, k = {}, 1
      while k <= #lit do
        local r, w = decode(lit, k)
        list[#list + 1] = self:literal_rune(r)
        k = k + w
      end
      return { t = "cat", list = list }
    end
    if type(e) == "table" then
      if flags.i then e = normalize(fold_ranges(e)) end
      return { t = "set", r = e }
    end
    return self:literal_rune(e)
  elseif c == "*" or c == "+" or c == "?" then
    perr("missing argument to repetition operator", c)
  else
    local r, w = decode(src, self.i)
    self.i = self.i + w
    if w == 1 and r == 0xFFFD and byte(src, self.i - 1) ~= 0xEF then
      -- Go rejects invalid UTF-8 in patterns
      perr("invalid UTF-8", sub(src, self.i - 1))
    end
    return self:literal_rune(r)
  end
end

function Parser:literal_rune(r)
  if self.flags.i and ((r >= 65 and r <= 90) or (r >= 97 and r <= 122)) then
    return { t = "set", r = normalize(fold_ranges({ r, r })) }
  end
  return { t = "lit", s = utf8.encode(r) }
end

function Parser:repeat_(node)
  local src = self.src
  while true do
    local c = sub(src, self.i, self.i)
    local min, max
    local start = self.i
    if c == "*" then min, max = 0, nil; self.i = self.i + 1
    elseif c == "+" then min, max = 1, nil; self.i = self.i + 1
    elseif c == "?" then min, max = 0, 1; self.i = self.i + 1
    elseif c == "{" then
      local a, comma, b = src:match("^{(%d+)(,?)(%d*)}", self.i)
      if not a then return node end -- a literal {
      min = tonumber(a)
      if comma == "" then max = min elseif b == "" then max = nil else max = tonumber(b) end
      self.i = self.i + 2 + #a + #comma + #b
      if min > 1000 or (max and (max > 1000 or max < min)) then
        perr("invalid repeat count", sub(src, start, self.i - 1))
      end
    else
      return node
    end
    local greedy = true
    if sub(src, self.i, self.i) == "?" then greedy = false; self.i = self.i + 1 end
    if self.flags.U then greedy = not greedy end
    if node.t == "rep" and node.explicit then
      perr("invalid nested repetition operator", sub(src, node.op_start, self.i - 1))
    end
    if node.t == "empty" then
      perr("missing argument to repetition operator", sub(src, start, self.i - 1))
    end
    node = { t = "rep", node = node, min = min, max = max, greedy = greedy, explicit = true, op_start = start }
  end
end

function Parser:concat()
  local list = {}
  local src = self.src
  while true do
    local c = sub(src, self.i, self.i)
    if c == "" or c == "|" or c == ")" then break end
    local atom = self:repeat_(self:atom())
    local prev = list[#list]
    if atom.t == "lit" and prev and prev.t == "lit" then
      list[#list] = { t = "lit", s = prev.s .. atom.s }
    else
      list[#list + 1] = atom
    end
  end
  return { t = "cat", list = list }
end

function Parser:alt()
  local list = { self:concat() }
  while sub(self.src, self.i, self.i) == "|" do
    self.i = self.i + 1
    list[#list + 1] = self:concat()
  end
  if #list == 1 then return list[1] end
  return { t = "alt", list = list }
end

---------------------------------------------------------------------------------------------
-- Compiling to a program

local function emit(prog, ...)
  local n = #prog + 1
  prog[n] = { ... }
  return n
end

local compile_node
function compile_node(prog, node)
  local t = node.t
  if t == "lit" then
    if node.s ~= "" then emit(prog, LIT, node.s) end
  elseif t == "set" then emit(prog, CHAR, node.r)
  elseif t == "any" then emit(prog, ANY)
  elseif t == "anynl" then emit(prog, ANYNL)
  elseif t == "assert" then emit(prog, ASSERT, node.k)
  elseif t == "cat" then
    for _, n in ipairs(node.list) do compile_node(prog, n) end
  elseif t == "alt" then
    local jumps = {}
    local list = node.list
    for k = 1, #list - 1 do
      local split = emit(prog, SPLIT, 0, 0)
      prog[split][2] = split + 1
      compile_node(prog, list[k])
      jumps[#jumps + 1] = emit(prog, JMP, 0)
      prog[split][3] = #prog + 1
    end
    compile_node(prog, list[#list])
    for _, j in ipairs(jumps) do prog[j][2] = #prog + 1 end
  elseif t == "group" then
    if node.idx then emit(prog, SAVE, node.idx * 2) end
    compile_node(prog, node.node)
    if node.idx then emit(prog, SAVE, node.idx * 2 + 1) end
  elseif t == "rep" then
    local min, max, greedy, sub_ = node.min, node.max, node.greedy, node.node
    for _ = 1, min do compile_node(prog, sub_) end
    if max == nil then
      local split = emit(prog, SPLIT, 0, 0)
      compile_node(prog, sub_)
      emit(prog, JMP, split)
      local out = #prog + 1
      if greedy then prog[split][2], prog[split][3] = split + 1, out
      else prog[split][2], prog[split][3] = out, split + 1 end
    else
      local splits = {}
      for _ = min + 1, max do
        local split = emit(prog, SPLIT, 0, 0)
        splits[#splits + 1] = split
        compile_node(prog, sub_)
      end
      local out = #prog + 1
      for _, split in ipairs(splits) do
        if greedy then prog[split][2], prog[split][3] = split + 1, out
        else prog[split][2], prog[split][3] = out, split + 1 end
      end
    end
  end
end

---------------------------------------------------------------------------------------------
-- Matching

local function in_ranges(r, c)
  local n = #r
  if n <= 8 then
    for k = 1, n, 2 do
      if c < r[k] then return false end
      if c <= r[k + 1] then return true end
    end
    return false
  end
  local lo, hi = 1, n / 2
  while lo <= hi do
    local mid = math.floor((lo + hi) / 2)
    local a, b = r[2 * mid - 1], r[2 * mid]
    if c < a then hi = mid - 1 elseif c > b then lo = mid + 1 else return true end
  end
  return false
end

local function is_word(c)
  return c and ((c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) or c == 95)
end

local function assert_ok(k, s, pos, len)
  if k == "bot" then return pos == 1 end
  if k == "eot" then return pos == len + 1 end
  if k == "bol" then return pos == 1 or byte(s, pos - 1) == 10 end
  if k == "eol" then return pos == len + 1 or byte(s, pos) == 10 end
  local w = is_word(byte(s, pos - 1)) or false
  local w2 = is_word(byte(s, pos)) or false
  if k == "wordb" then return w ~= w2 end
  return w == w2
end

-- Runs the program from position start; returns the capture array (1-based positions,
-- caps[0], caps[1] the whole match as [start, end)) or nil.
local function backtrack(re, s, start, visited, stack, caps)
  local prog, len = re.prog, #s
  local ncap = re.ncap * 2 + 1
  for k = 2, ncap do caps[k] = false end
  local stride = len + 2
  local sp = 0
  local pc, pos = 1, start
  while true do
    while true do
      local key = pc * stride + pos
      if visited[key] then break end
      visited[key] = true
      local ins = prog[pc]
      local op = ins[1]
      if op == LIT then
        local lit = ins[2]
        if sub(s, pos, pos + #lit - 1) == lit then
          pos = pos + #lit
          pc = pc + 1
        else break end
      elseif op == CHAR then
        local c = byte(s, pos)
        if not c then break end
        local w = 1
        if c >= 0x80 then c, w = decode(s, pos) end
        if in_ranges(ins[2], c) then pos = pos + w; pc = pc + 1 else break end
      elseif op == ANY or op == ANYNL then
        local c = byte(s, pos)
        if not c or (c == 10 and op == ANY) then break end
        if c >= 0x80 then
          local _, w = decode(s, pos)
          pos = pos + w
        else
          pos = pos + 1
        end
        pc = pc + 1
      elseif op == SPLIT then
        stack[sp + 1], stack[sp + 2], stack[sp + 3] = ins[3], pos, false
        sp = sp + 3
        pc = ins[2]
      elseif op == JMP then
        pc = ins[2]
      elseif op == SAVE then
        local n = ins[2]
        stack[sp + 1], stack[sp + 2], stack[sp + 3] = -1, n, caps[n]
        sp = sp + 3
        caps[n] = pos
        pc = pc + 1
      elseif op == ASSERT then
        if assert_ok(ins[2], s, pos, len) then pc = pc + 1 else break end
      else -- MATCH
        local out = { [0] = start, pos }
        for k = 2, ncap do out[k] = caps[k] end
        return out
      end
    end
    -- backtrack
    while true do
      if sp == 0 then return nil end
      local a, b, c = stack[sp - 2], stack[sp - 1], stack[sp]
      sp = sp - 3
      if a == -1 then
        caps[b] = c
      else
        pc, pos = a, b
        break
      end
    end
  end
end

-- The bytes a match can start with, as a Lua pattern class, or nil when any (or an empty
-- match) is possible.
local function first_bytes(prog)
  local set, seen = {}, {}
  local any = false
  local function walk(pc)
    if seen[pc] or any then return end
    seen[pc] = true
    local ins = prog[pc]
    local op = ins[1]
    if op == LIT then set[byte(ins[2], 1)] = true
    elseif op == CHAR then
      local r = ins[2]
      for k = 1, #r, 2 do
        local lo, hi = r[k], r[k + 1]
        if hi >= 0x80 then
          for c = 0xC2, 0xF4 do set[c] = true end
          if lo < 0x80 then for c = lo, 0x7F do set[c] = true end end
        else
          for c = lo, hi do set[c] = true end
        end
      end
      -- an invalid byte decodes as U+FFFD
      if in_ranges(r, 0xFFFD) then for c = 0x80, 0xFF do set[c] = true end end
    elseif op == SPLIT then walk(ins[2]); walk(ins[3])
    elseif op == JMP then walk(ins[2])
    elseif op == SAVE or op == ASSERT then walk(pc + 1)
    else any = true end -- ANY, ANYNL, MATCH
  end
  walk(1)
  -- continuation bytes would land inside a rune: no filter then
  if any or set[0x80] then return nil end
  local out = {}
  for c = 0, 255 do
    if set[c] then
      local ch = string.char(c)
      if c == 0 then out[#out + 1] = "%z"
      elseif ch:match("%w") or c >= 0x80 then out[#out + 1] = ch
      else out[#out + 1] = "%" .. ch end
    end
  end
  if #out == 0 then return nil end
  return "[" .. table.concat(out) .. "]"
end

local Regexp = {}
Regexp.__index = Regexp

-- The first match at or after byte position init: the captures (1-based positions; [0], [1]
-- the whole match as [start, end); false for a group that did not take part) or nil.
function Regexp:exec(s, init)
  init = init or 1
  local len = #s
  local visited, stack, caps = {}, {}, {}
  if self.anchored then
    if init ~= 1 then return nil end
    return backtrack(self, s, 1, visited, stack, caps)
  end
  local prefix, class = self.prefix, self.first
  local pos = init
  while pos <= len + 1 do
    if prefix then
      pos = find(s, prefix, pos, true)
      if not pos then return nil end
    elseif class then
      pos = find(s, class, pos)
      if not pos then return nil end
    end
    local m = backtrack(self, s, pos, visited, stack, caps)
    if m then return m end
    local c = byte(s, pos)
    if not c then break end
    if c >= 0x80 then
      local _, w = decode(s, pos)
      pos = pos + w
    else
      pos = pos + 1
    end
  end
  return nil
end

function Regexp:match(s) return self:exec(s, 1) ~= nil end

function Regexp:find(s)
  local caps = self:exec(s, 1)
  if not caps then return nil end
  return sub(s, caps[0], caps[1] - 1), caps
end

-- All successive non-overlapping matches (at most n; n < 0 for all), as capture arrays.
function Regexp:find_all(s, n)
  local out = {}
  local len = #s
  if n < 0 then n = len + 1 end
  local pos, prev_end = 1, -1
  while #out < n and pos <= len + 1 do
    local caps = self:exec(s, pos)
    if not caps then break end
    local accept = true
    if caps[1] == pos then
      if caps[0] == prev_end then accept = false end
      local c = byte(s, pos)
      if not c then pos = len + 2
      elseif c >= 0x80 then local _, w = decode(s, pos); pos = pos + w
      else pos = pos + 1 end
    else
      pos = caps[1]
    end
    prev_end = caps[1]
    if accept then out[#out + 1] = caps end
  end
  return out
end

local function expand(re, template, s, caps)
  local out = {}
  local i, len = 1, #template
  while i <= len do
    local d = find(template, "$", i, true)
    if not d then out[#out + 1] = sub(template, i) break end
    out[#out + 1] = sub(template, i, d - 1)
    i = d + 1
    if sub(template, i, i) == "$" then
      out[#out + 1] = "$"
      i = i + 1
    else
      local name, rest
      if sub(template, i, i) == "{" then
        name = template:match("^([%w_]+)}", i + 1)
        if name then rest = i + 2 + #name end
      else
        name = template:match("^[%w_]+", i)
        if name then rest = i + #name end
      end
      if not name then
        out[#out + 1] = "$"
      else
        i = rest
        local idx
        if name:match("^%d+$") then idx = tonumber(name)
        else
          for k, nm in pairs(re.names) do if nm == name then idx = k break end end
        end
        if idx and idx <= re.ncap and caps[2 * idx] and caps[2 * idx + 1] then
          out[#out + 1] = sub(s, caps[2 * idx], caps[2 * idx + 1] - 1)
        end
      end
    end
  end
  return concat(out)
end

-- ReplaceAllString (literal: ReplaceAllLiteralString).
function Regexp:replace_all(s, repl, literal)
  local out = {}
  local len = #s
  local last_end, pos = 1, 1
  while pos <= len + 1 do
    local caps = self:exec(s, pos)
    if not caps then break end
    out[#out + 1] = sub(s, last_end, caps[0] - 1)
    if caps[1] > last_end or caps[0] == 1 then
      out[#out + 1] = literal and repl or expand(self, repl, s, caps)
    end
    last_end = caps[1]
    local c = byte(s, pos)
    local w = 1
    if c and c >= 0x80 then w = select(2, decode(s, pos)) end
    if pos + w > caps[1] then pos = pos + w
    elseif pos + 1 > caps[1] then pos = pos + 1
    else pos = caps[1] end
  end
  out[#out + 1] = sub(s, last_end)
  return concat(out)
end

-- Regexp.Split(s, n).
function Regexp:split(s, n)
  if n == 0 then return nil end
  if self.src ~= "" and s == "" then return { "" } end
  local matches = self:find_all(s, n)
  local out = {}
  local beg, e = 1, 1
  for _, caps in ipairs(matches) do
    if n > 0 and #out == n - 1 then break end
    e = caps[0]
    if caps[1] ~= 1 then out[#out + 1] = sub(s, beg, e - 1) end
    beg = caps[1]
  end
  if e ~= #s + 1 then out[#out + 1] = sub(s, beg) end
  return out
end

local cache, cache_n = {}, 0

-- Compiles a Go regexp; returns the Regexp or nil, "error parsing regexp: ...".
function M.compile(src)
  local hit = cache[src]
  if hit then return hit end
  local p = setmetatable({ src = src, i = 1, flags = {}, ncap = 0, names = {}, names_seen = {} }, Parser)
  local ok, ast = pcall(function()
    local node = p:alt()
    if p.i <= #src then
      if sub(src, p.i, p.i) == ")" then perr("unexpected )", src) end
      perr("missing closing )", src)
    end
    return node
  end)
  if not ok then
    if type(ast) == "table" and ast.regexp then return nil, "error parsing regexp: " .. ast.msg end
    error(ast, 0)
  end
  local prog = {}
  compile_node(prog, ast)
  emit(prog, MATCH)
  local re = setmetatable({ src = src, prog = prog, ncap = p.ncap, names = p.names }, Regexp)
  -- a pattern starting with ^ (not multi-line) only matches at the start
  local first = ast.t == "cat" and ast.list[1] or ast
  if first and first.t == "assert" and first.k == "bot" then re.anchored = true end
  if prog[1][1] == LIT then re.prefix = prog[1][2] else re.first = first_bytes(prog) end
  if cache_n >= 256 then cache, cache_n = {}, 0 end
  cache[src] = re
  cache_n = cache_n + 1
  return re
end

-- regexp.QuoteMeta.
function M.quote_meta(s)
  return (s:gsub("[\\%.%+%*%?%(%)|%[%]{}%^%$]", "\\%0"))
end

return M
