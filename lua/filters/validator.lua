-- Validator: checks request headers against allowed values or a regular expression
-- (Easegress's Validator filter, pkg/filters/validator, its `headers` method).
-- docs/filters/Validator.md
--
--   headers:
--     X-Version: { values: [v1, v2] }
--     X-Token:   { regexp: "^[0-9a-f]{32}$" }
--
-- Every listed header must have a line whose value is one of `values` or matches `regexp`;
-- else the response is 400 and the filter returns "invalid".
-- Easegress's other methods (jwt, signature, oauth2, basicAuth) are not implemented yet:
-- a spec using them is refused.
local re = require "easegress.re"

local NULL = eg.json.null

local M = {
  kind = "Validator",
  results = { "invalid" },
  schema = {
    headers = { type = "table" },
  },
}

local NOT_YET = { "jwt", "signature", "oauth2", "basicAuth" }

local function fail(path, msg) error(path .. ": " .. msg, 0) end

local function opt(v)
  if v == NULL then return nil end
  return v
end

local function is_object(v) return type(v) == "table" and #v == 0 end

local function check_header(path, vv)
  vv = opt(vv)
  if vv == nil then fail(path, "neither values nor regexp is specified") end
  if not is_object(vv) then fail(path, "expected an object with values or regexp") end
  local rule = { values = {} }
  local values = opt(vv.values) or {}
  if type(values) ~= "table" or (next(values) ~= nil and #values == 0) then
    fail(path .. ".values", "expected a list of strings")
  end
  for i, v in ipairs(values) do
    if type(v) ~= "string" then fail(path .. ".values[" .. (i - 1) .. "]", "expected string, got " .. type(v)) end
    if rule.values[v] then fail(path .. ".values", "items must be unique (" .. v .. " twice)") end
    rule.values[v] = true
  end
  local regexp = opt(vv.regexp) or ""
  if type(regexp) ~= "string" then fail(path .. ".regexp", "expected string, got " .. type(regexp)) end
  if regexp ~= "" then
    local from, err = re.find("", regexp) -- from, to; or nil, error
    if from == nil and err then fail(path .. ".regexp", "invalid regular expression: " .. err) end
    rule.regexp = regexp
  end
  if #values == 0 and regexp == "" then fail(path, "neither values nor regexp is specified") end
  return rule
end

function M.new(spec)
  for _, method in ipairs(NOT_YET) do
    if opt(spec[method]) ~= nil then
      fail(method, "the " .. method .. " method of Validator is not implemented yet (only headers is)")
    end
  end
  local headers = opt(spec.headers)
  if headers == nil then error("none of the validations are defined", 0) end
  if not is_object(headers) then fail("headers", "expected a map of header names to rules") end
  local rules = {}
  for name, vv in pairs(headers) do
    rules[#rules + 1] = { name = name, lower = name:lower(), rule = check_header("headers." .. name, vv) }
  end
  table.sort(rules, function(a, b) return a.name < b.name end)
  return setmetatable({ spec = spec, rules = rules }, { __index = M })
end

local function header_valid(lines, h)
  for _, line in ipairs(lines) do
    if line[1]:lower() == h.lower then
      local value = line[2]
      if h.rule.values[value] then return true end
      if h.rule.regexp and re.find(value, h.rule.regexp) then return true end
    end
  end
  return false
end

function M:handle(ctx)
  local lines = ctx.req:header_lines()
  for _, h in ipairs(self.rules) do
    if not header_valid(lines, h) then
      -- As Easegress: the status of the response there is (or of a new, empty one) is 400.
      if ctx.resp:status() == 0 then
        ctx:respond(400, "")
      else
        ctx.resp:set_status(400)
      end
      return "invalid"
    end
  end
  return ""
end

return M
