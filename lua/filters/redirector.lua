-- Redirector: answers with a redirect whose Location is the request URI (or path, or full
-- URL) rewritten by a regular expression (Easegress's Redirector filter,
-- pkg/filters/redirector). docs/filters/Redirector.md
--
--   match: "^/users/([0-9]+)"           required, a regular expression
--   replacement: "/display?user=$1"     required; $1, ${1}, $name, ${name}, $$ as in Go
--   matchPart: uri                      uri (default) | path | full
--   statusCode: 301                     301 (default), 302, 303, 304, 307, 308
--
-- Every match in the part is replaced (Go's ReplaceAllString). When nothing changes the
-- request goes on (""); else the response is the redirect and the result "redirected".
local re = require "easegress.re"

local M = {
  kind = "Redirector",
  results = { "redirected" },
  schema = {
    match = { type = "string", required = true },
    replacement = { type = "string", required = true },
    matchPart = { type = "string", default = "uri" },
    statusCode = { type = "integer", default = 301 },
  },
}

local STATUS_TEXT = {
  [301] = "Moved Permanently", [302] = "Found", [303] = "See Other",
  [304] = "Not Modified", [307] = "Temporary Redirect", [308] = "Permanent Redirect",
}

local PARTS = { uri = true, path = true, full = true }

function M.new(spec)
  if not STATUS_TEXT[spec.statusCode] then
    error("statusCode: invalid status code of Redirector, support 301, 302, 303, 304, 307, 308", 0)
  end
  local part = spec.matchPart:lower()
  if not PARTS[part] then
    error("matchPart: invalid match part of Redirector, only uri, full and path are supported", 0)
  end
  if spec.match == "" or spec.replacement == "" then
    error("match and replacement of Redirector can't be empty", 0)
  end
  local from, err = re.find("", spec.match) -- from, to; or nil, error
  if from == nil and err then error("match: invalid regular expression: " .. err, 0) end
  return setmetatable({ spec = spec, part = part }, { __index = M })
end

local function unhex(h) return string.char(tonumber(h, 16)) end

-- The part of the request the expression sees: Go's URL.RequestURI() (uri), URL.Path
-- (path, decoded) or the whole URL (full).
function M:input(req)
  local path = req:path()
  if self.part == "path" then
    return (path:gsub("%%(%x%x)", unhex))
  end
  local q = req:raw_query()
  local uri = q and (path .. "?" .. q) or path
  if self.part == "uri" then return uri end
  return req:scheme() .. "://" .. req:host() .. uri
end

function M:handle(ctx)
  local input = self:input(ctx.req)
  local location, err = re.gsub(input, self.spec.match, self.spec.replacement)
  if not location then error("Redirector: " .. tostring(err), 0) end -- match limits hit: 500
  if location == input then return "" end -- not matched (or matched to itself): go on

  local resp = ctx.resp
  for name in pairs(resp:headers()) do resp:del_header(name) end
  local code = self.spec.statusCode
  ctx:respond(code, STATUS_TEXT[code])
  resp:set_header("Location", location)
  return "redirected"
end

return M
