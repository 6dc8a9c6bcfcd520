-- Fallback: replaces the response in the namespace with a fixed one (Easegress's Fallback
-- filter, pkg/filters/fallback). docs/filters/Fallback.md
--
--   mockCode: 503                      required
--   mockHeaders: { name: value }
--   mockBody: "..."
--
-- It needs a response to replace (typically a Proxy's failure response, reached through
-- `jumpIf: { serverError: fallback, failureCode: fallback }`): without one it returns
-- "responseNotFound" and changes nothing. Otherwise it sets the status, the headers and the
-- body (keeping the response's other headers) and returns "fallback".
local NULL = eg.json.null

local M = {
  kind = "Fallback",
  results = { "fallback", "responseNotFound" },
  schema = {
    mockCode = { type = "integer", required = true },
    mockHeaders = { type = "table" },
    mockBody = { type = "string", default = "" },
  },
}

local function fail(path, msg) error(path .. ": " .. msg, 0) end

local function valid_header_name(name)
  return name ~= "" and not name:find("[%z\1-\32\127-\255:]")
end

function M.new(spec)
  local code = spec.mockCode
  if code < 100 or code >= 600 then fail("mockCode", "invalid http code") end
  local headers = {}
  local mh = spec.mockHeaders
  if mh == NULL then mh = nil end
  if mh and #mh > 0 then fail("mockHeaders", "expected a map of header names to values") end
  for name, value in pairs(mh or {}) do
    local path = "mockHeaders." .. name
    if value == NULL then value = "" end
    if type(value) ~= "string" then fail(path, "expected string, got " .. type(value)) end
    if not valid_header_name(name) then fail(path, "invalid header name") end
    if value:find("[\r\n]") then fail(path, "header value contains CR or LF") end
    headers[#headers + 1] = { name, value }
  end
  table.sort(headers, function(a, b) return a[1] < b[1] end)
  return setmetatable({ spec = spec, code = code, headers = headers, body = spec.mockBody },
    { __index = M })
end

function M:handle(ctx)
  local resp = ctx.resp
  if resp:status() == 0 then return "responseNotFound" end
  -- set_body drops a streamed body still coming from the backend (and its
  -- Content-Length / Content-Encoding); the other headers stay.
  resp:set_status(self.code)
  resp:set_body(self.body)
  for _, h in ipairs(self.headers) do resp:set_header(h[1], h[2]) end
  return "fallback"
end

return M
