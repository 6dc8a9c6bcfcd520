-- RemoteFilter: hands the request and response to a remote HTTP service, which answers
-- with them changed (Easegress's RemoteFilter filter, pkg/filters/remotefilter).
-- docs/filters/RemoteFilter.md
--
--   url: http://127.0.0.1:9000/filter    required
--   timeout: 500ms                       Go duration; none: no limit
--
-- POSTs {"request": {realIP, method, scheme, host, path, query, fragment, proto, header,
-- body}, "response": {statusCode, header, body}} (bodies base64, headers as Go's
-- map[string][]string) and applies the JSON the service returns in the same shape: the
-- request's method, path, query, headers and body are replaced; a "response" in the answer
-- sets the status, adds its headers and replaces the body. A service answering 205 returns
-- "responseAlready" (it has built the response). A transport error, a non-2xx answer or an
-- answer that does not apply gives 503 and "failed".
local json = require "easegress.template.json" -- Go's encoding/json output
local crypto = require "easegress.crypto"
local duration = require "easegress.duration"

local NULL = eg.json.null

local MAX_BODY = 64 * 1024         -- request and response bodies sent to the service
local MAX_ANSWER = 3 * MAX_BODY    -- the service's answer

local M = {
  kind = "RemoteFilter",
  results = { "failed", "responseAlready" },
  schema = {
    url = { type = "string", required = true },
    timeout = { type = "string" },
  },
}

function M.new(spec)
  local url = spec.url
  if url:sub(1, 8):lower() == "https://" then
    error("url: https is not supported by RemoteFilter yet (eg.http.request speaks http only)", 0)
  end
  if not url:match("^[hH][tT][tT][pP]://[^/?#]+") then
    error("url: must be an absolute http:// URL", 0)
  end
  if url:find("[%z\1-\32\127]") then error("url: spaces or control characters in the URL", 0) end
  local timeout_ms = 0 -- no limit, as Easegress without a timeout
  local t = spec.timeout
  if t ~= nil and t ~= NULL and t ~= "" then
    local ms, err = duration.parse(t)
    if not ms then error("timeout: invalid duration: " .. err, 0) end
    if ms > 0 then timeout_ms = math.max(1, math.floor(ms + 0.5)) end
  end
  return setmetatable({ spec = spec, url = "http://" .. url:sub(8), timeout_ms = timeout_ms },
    { __index = M })
end

---------------------------------------------------------------------------------------------
-- helpers

local function unhex(h) return string.char(tonumber(h, 16)) end
local function unescape(s) return (s:gsub("%%(%x%x)", unhex)) end

-- Go's url escaping of a path (encodePath).
local function escape_path(s)
  return (s:gsub("[^%w%-_%.~$&+,/:;=@]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- Go's http.CanonicalHeaderKey.
local function canonical(name)
  if name == "" or name:find("[^%w!#$%%&'*+%-.^_`|~]") then return name end
  return (name:lower():gsub("^%l", string.upper):gsub("%-%l", string.upper))
end

-- A header list as Go's http.Header: canonical names to lists of values.
local function header_map(lines, skip)
  local map = {}
  for _, h in ipairs(lines) do
    local name = canonical(h[1])
    if not (skip and skip[name]) then
      local values = map[name]
      if not values then
        values = {}
        map[name] = values
      end
      values[#values + 1] = h[2]
    end
  end
  return map
end

-- Go's encoding/json matches struct field names exactly first, then in any case.
local function field(obj, name)
  local v = obj[name]
  if v == nil then
    local lower = name:lower()
    for k, val in pairs(obj) do
      if type(k) == "string" and k:lower() == lower then
        v = val
        break
      end
    end
  end
  if v == NULL then return nil end
  return v
end

local function is_object(v) return type(v) == "table" and (next(v) == nil or #v == 0) end

-- The answer's parts, checked as json.Unmarshal into Easegress's structs would check them.
local function want_string(obj, name, where)
  local v = field(obj, name)
  if v ~= nil and type(v) ~= "string" then error(where .. "." .. name .. ": not a string", 0) end
  return v or ""
end

local function want_header(obj, where)
  local h = field(obj, "header")
  if h == nil then return {} end
  if not is_object(h) then error(where .. ".header: not an object", 0) end
  local out = {}
  for name, values in pairs(h) do
    if values ~= NULL then
      if type(values) ~= "table" or (next(values) ~= nil and #values == 0) then
        error(where .. ".header." .. name .. ": not a list of strings", 0)
      end
      for _, v in ipairs(values) do
        if v == NULL then v = "" end
        if type(v) ~= "string" then error(where .. ".header." .. name .. ": not a list of strings", 0) end
        out[#out + 1] = { name, v, #out }
      end
    end
  end
  -- Go ranges over the map in any order; here by name, each header's values in order.
  table.sort(out, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[3] < b[3]
  end)
  return out
end

local function want_body(obj, where)
  local b = field(obj, "body")
  if b == nil then return "" end
  if type(b) ~= "string" then error(where .. ".body: not a base64 string", 0) end
  local decoded = crypto.base64_decode(b)
  if not decoded then error(where .. ".body: invalid base64", 0) end
  return decoded
end

local function parse_answer(text)
  local answer = json.decode(text)
  if not is_object(answer) then error("unmarshal context: not a JSON object", 0) end
  local re = field(answer, "request")
  if re == nil then error("unmarshal context: no request", 0) end
  if not is_object(re) then error("unmarshal context: request is not an object", 0) end
  local parsed = {
    method = want_string(re, "method", "request"),
    path = want_string(re, "path", "request"),
    query = want_string(re, "query", "request"),
    header = want_header(re, "request"),
    body = want_body(re, "request"),
  }
  local we = field(answer, "response")
  if we ~= nil then
    if not is_object(we) then error("unmarshal context: response is not an object", 0) end
    local code = field(we, "statusCode") or 0
    if type(code) ~= "number" or code ~= math.floor(code) then
      error("unmarshal context: response.statusCode: not an integer", 0)
    end
    parsed.response = { status = code, header = want_header(we, "response"), body = want_body(we, "response") }
  end
  return parsed
end

---------------------------------------------------------------------------------------------

function M.context_json(_, ctx, req_body, resp_body)
  local req, resp = ctx.req, ctx.resp
  return json.encode({
    request = {
      realIP = req:client_ip() or "",
      method = req:method(),
      scheme = req:scheme(),
      host = req:host() or "",
      path = unescape(req:path()),
      query = req:raw_query() or "",
      fragment = "",
      proto = req:proto(),
      -- Go keeps Host and Transfer-Encoding out of a server request's Header.
      header = header_map(req:header_lines(), { Host = true, ["Transfer-Encoding"] = true }),
      body = crypto.base64_encode(req_body),
    },
    response = {
      statusCode = resp:status(),
      header = header_map(resp:header_lines()),
      body = crypto.base64_encode(resp_body),
    },
  })
end

local function apply_request(req, r)
  local method = r.method ~= "" and r.method or "GET" -- Go sends "" as GET
  req:set_method(method)
  local raw = req:path()
  if r.path ~= unescape(raw) then
    req:set_path(r.path ~= "" and escape_path(r.path) or "/")
  end
  req:set_query(r.query ~= "" and r.query or nil)
  for name in pairs(req:headers()) do
    if name:lower() ~= "host" then req:del_header(name) end
  end
  for _, h in ipairs(r.header) do
    if h[1]:lower() ~= "host" then req:add_header(h[1], h[2]) end
  end
  req:set_body(r.body)
end

local function apply_response(resp, w)
  if w.status < 200 or w.status >= 600 then
    error("invalid status code: " .. w.status, 0)
  end
  resp:set_status(w.status)
  for _, h in ipairs(w.header) do resp:add_header(h[1], h[2]) end
  resp:set_body(w.body)
end

-- The work, raising "<step>: <why>" on any failure.
function M:call(ctx)
  local req_body = ctx.req:body() or ""
  if #req_body > MAX_BODY then error("read request body: larger than " .. MAX_BODY .. "B", 0) end
  local resp_body, berr = ctx.resp:body()
  if not resp_body then error("read response body: " .. tostring(berr), 0) end
  if #resp_body > MAX_BODY then error("read response body: larger than " .. MAX_BODY .. "B", 0) end

  local res, err = eg.http.request{
    method = "POST", url = self.url, timeout = self.timeout_ms,
    headers = { ["Content-Type"] = "application/json" },
    body = self:context_json(ctx, req_body, resp_body),
  }
  if not res then error("do request: " .. tostring(err), 0) end
  if res.status < 200 or res.status >= 300 then
    error("do request: not 2xx status code: " .. res.status, 0)
  end
  if #res.body > MAX_ANSWER then error("read remote body: larger than " .. MAX_ANSWER .. "B", 0) end
  local answer = parse_answer(res.body)
  apply_request(ctx.req, answer)
  if answer.response then apply_response(ctx.resp, answer.response) end
  return res.status
end

function M:handle(ctx)
  -- As Easegress: the response there is, or a new one (200) that becomes the response.
  if ctx.resp:status() == 0 then ctx:respond(200, "") end
  local ok, status = pcall(self.call, self, ctx)
  if not ok then
    eg.log.warn("RemoteFilter " .. tostring(self.spec.name) .. ": " .. tostring(status))
    ctx.resp:set_status(503)
    return "failed"
  end
  if status == 205 then return "responseAlready" end
  return ""
end

return M
