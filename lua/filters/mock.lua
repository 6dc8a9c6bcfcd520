-- Mock: answers a request with a canned response when one of its rules matches
-- (Easegress's Mock filter, pkg/filters/mock). docs/filters/Mock.md
--
--   rules:
--     - match: { path, pathPrefix, headers: { name: StringMatcher }, matchAllHeaders }
--       code: 200
--       headers: { name: value }
--       body: "..."
--       delay: 100ms
--
-- The first rule that matches builds a new response (status, headers, body), waits `delay`
-- if one is set, and the filter returns "mocked"; when no rule matches it returns "" and the
-- flow goes on. A match with no path, no pathPrefix and no headers matches every request.
local re = require "easegress.re"
local duration = require "easegress.duration"

local NULL = eg.json.null

local M = {
  kind = "Mock",
  results = { "mocked" },
  schema = {
    rules = { type = "array" },
  },
}

---------------------------------------------------------------------------------------------
-- spec checks (new() errors are submit-time errors naming the field)

local function fail(path, msg) error(path .. ": " .. msg, 0) end

local function is_object(v)
  if type(v) ~= "table" then return false end
  return #v == 0
end

-- v with JSON null read as absent (Go decodes null to the zero value).
local function opt(v)
  if v == NULL then return nil end
  return v
end

local function want_string(path, v)
  v = opt(v)
  if v ~= nil and type(v) ~= "string" then fail(path, "expected string, got " .. type(v)) end
  return v
end

local function want_object(path, v)
  v = opt(v)
  if v ~= nil and not is_object(v) then fail(path, "expected an object") end
  return v
end

local function valid_header_name(name)
  return name ~= "" and not name:find("[%z\1-\32\127-\255:]")
end

-- Go's regexp accepts what RE2 accepts; ours is PCRE2 (see docs/architecture.md).
local function check_regexp(path, pattern)
  local from, err = re.find("", pattern) -- from, to; or nil, error
  if from == nil and err then fail(path, "invalid regular expression: " .. err) end
end

-- StringMatcher (pkg/util/stringtool): exact, prefix, regex (OR of those set) or empty.
local function check_matcher(path, m)
  if not is_object(m) then fail(path, "expected an object with exact, prefix, regex or empty") end
  local sm = {
    exact = want_string(path .. ".exact", m.exact) or "",
    prefix = want_string(path .. ".prefix", m.prefix) or "",
    regex = want_string(path .. ".regex", m.regex) or "",
    empty = opt(m.empty) or false,
  }
  if type(sm.empty) ~= "boolean" then fail(path .. ".empty", "expected boolean") end
  if sm.empty then
    if sm.exact ~= "" or sm.prefix ~= "" or sm.regex ~= "" then
      fail(path, "empty is conflict with other patterns")
    end
  elseif sm.exact == "" and sm.prefix == "" and sm.regex == "" then
    fail(path, "all patterns are empty")
  end
  if sm.regex ~= "" then check_regexp(path .. ".regex", sm.regex) end
  return sm
end

local function check_rule(path, r)
  if not is_object(r) then fail(path, "expected an object") end
  local rule = {}

  local match = opt(r.match)
  if match == nil then fail(path .. ".match", "required") end
  if not is_object(match) then fail(path .. ".match", "expected an object") end
  rule.path = want_string(path .. ".match.path", match.path) or ""
  rule.path_prefix = want_string(path .. ".match.pathPrefix", match.pathPrefix) or ""
  if rule.path ~= "" and rule.path:sub(1, 1) ~= "/" then
    fail(path .. ".match.path", "must start with /")
  end
  if rule.path_prefix ~= "" and rule.path_prefix:sub(1, 1) ~= "/" then
    fail(path .. ".match.pathPrefix", "must start with /")
  end
  local all = opt(match.matchAllHeaders) or false
  if type(all) ~= "boolean" then fail(path .. ".match.matchAllHeaders", "expected boolean") end
  rule.match_all_headers = all
  rule.headers = {}
  local headers = want_object(path .. ".match.headers", match.headers) or {}
  local names = {}
  for name in pairs(headers) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    rule.headers[#rule.headers + 1] = {
      name = name, matcher = check_matcher(path .. ".match.headers." .. name, headers[name]),
    }
  end

  local code = opt(r.code)
  if code == nil then fail(path .. ".code", "required") end
  if type(code) ~= "number" or code ~= math.floor(code) then fail(path .. ".code", "expected integer") end
  if code < 100 or code >= 600 then fail(path .. ".code", "invalid http code") end
  rule.code = code

  rule.resp_headers = {}
  local rh = want_object(path .. ".headers", r.headers) or {}
  for name, value in pairs(rh) do
    local hp = path .. ".headers." .. name
    if not valid_header_name(name) then fail(hp, "invalid header name") end
    value = want_string(hp, value) or ""
    if value:find("[\r\n]") then fail(hp, "header value contains CR or LF") end
    rule.resp_headers[#rule.resp_headers + 1] = { name, value }
  end
  table.sort(rule.resp_headers, function(a, b) return a[1] < b[1] end)

  rule.body = want_string(path .. ".body", r.body) or ""

  local delay = want_string(path .. ".delay", r.delay) or ""
  rule.delay_ms = 0
  if delay ~= "" then
    local ms, err = duration.parse(delay)
    if not ms then fail(path .. ".delay", "invalid duration: " .. err) end
    rule.delay_ms = ms
  end
  return rule
end

function M.new(spec)
  local rules = {}
  for i, r in ipairs(opt(spec.rules) or {}) do
    rules[i] = check_rule("rules[" .. (i - 1) .. "]", r)
  end
  return setmetatable({ spec = spec, rules = rules }, { __index = M })
end

---------------------------------------------------------------------------------------------
-- matching

local function unhex(h) return string.char(tonumber(h, 16)) end

-- The decoded path (Go's URL.Path): %XX unescaped, "+" kept.
local function decoded_path(raw)
  if not raw:find("%", 1, true) then return raw end
  return (raw:gsub("%%(%x%x)", unhex))
end

-- Every value of a request header, one per header line (Go's Header.Values).
local function header_values(lines, name)
  local values, lower = {}, name:lower()
  for _, h in ipairs(lines) do
    if h[1]:lower() == lower then values[#values + 1] = h[2] end
  end
  return values
end

local function matcher_match(sm, v)
  if sm.empty and v == "" then return true end
  if sm.exact ~= "" and v == sm.exact then return true end
  if sm.prefix ~= "" and v:sub(1, #sm.prefix) == sm.prefix then return true end
  if sm.regex == "" then return false end
  return re.find(v, sm.regex) ~= nil
end

local function match_one_header(lines, name, sm)
  local values = header_values(lines, name)
  if #values == 0 then return sm.empty end
  if sm.empty then return false end
  for _, v in ipairs(values) do
    if matcher_match(sm, v) then return true end
  end
  return false
end

local function match_path(rule, path)
  if rule.path == "" and rule.path_prefix == "" then return true end
  if rule.path == path then return true end
  if rule.path_prefix == "" then return false end
  return path:sub(1, #rule.path_prefix) == rule.path_prefix
end

-- state.lines: the request's header lines, read once per handle() when a rule needs them.
local function match_headers(ctx, rule, state)
  if #rule.headers == 0 then return true end
  local lines = state.lines
  if not lines then
    lines = ctx.req:header_lines()
    state.lines = lines
  end
  for _, h in ipairs(rule.headers) do
    if match_one_header(lines, h.name, h.matcher) then
      if not rule.match_all_headers then return true end
    elseif rule.match_all_headers then
      return false
    end
  end
  return rule.match_all_headers
end

function M:handle(ctx)
  local path = decoded_path(ctx.req:path())
  local state = {}
  for _, rule in ipairs(self.rules) do
    if match_path(rule, path) and match_headers(ctx, rule, state) then
      -- A new response: nothing of an earlier one is kept.
      for name in pairs(ctx.resp:headers()) do ctx.resp:del_header(name) end
      ctx:respond(rule.code, rule.body)
      for _, h in ipairs(rule.resp_headers) do ctx.resp:set_header(h[1], h[2]) end
      if rule.delay_ms > 0 then eg.sleep(rule.delay_ms) end
      return "mocked"
    end
  end
  return ""
end

return M
