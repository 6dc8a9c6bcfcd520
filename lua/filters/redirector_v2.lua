-- RedirectorV2: redirects as the Kubernetes Gateway API's HTTPRequestRedirectFilter does
-- (Easegress's RedirectorV2 filter, pkg/filters/redirectorv2). docs/filters/RedirectorV2.md
--
--   scheme: https                         http | https
--   hostname: example.com                 may carry a port: example.com:8443
--   port: 8443                            1..65535 (ours: Easegress ignores it)
--   statusCode: 302                       301, 302 (default), 303, 304, 307, 308
--   path:
--     type: ReplaceFullPath               or ReplacePrefixMatch
--     replaceFullPath: /new               with ReplaceFullPath
--     replacePrefixMatch: /account        with ReplacePrefixMatch
--   pathPrefix: /users                    ours: the prefix ReplacePrefixMatch replaces
--
-- The Location is the request's URL with the given parts replaced. When it comes out the
-- same as the request's, the request goes on (""); else the response is the redirect and
-- the result "redirected".
local NULL = eg.json.null

local M = {
  kind = "RedirectorV2",
  results = { "redirected" },
  schema = {
    scheme = { type = "string" },
    hostname = { type = "string" },
    port = { type = "integer" },
    statusCode = { type = "integer", default = 302 },
    path = { type = "table" },
    pathPrefix = { type = "string" },
  },
}

local STATUS_TEXT = {
  [301] = "Moved Permanently", [302] = "Found", [303] = "See Other",
  [304] = "Not Modified", [307] = "Temporary Redirect", [308] = "Permanent Redirect",
}

local DEFAULT_PORT = { http = 80, https = 443 }

local function fail(path, msg) error(path .. ": " .. msg, 0) end

local function opt(v)
  if v == NULL then return nil end
  return v
end

function M.new(spec)
  local self = setmetatable({ spec = spec }, { __index = M })
  self.scheme = opt(spec.scheme)
  if self.scheme and self.scheme ~= "http" and self.scheme ~= "https" then
    fail("scheme", "invalid scheme of Redirector, only support http and https")
  end
  self.hostname = opt(spec.hostname)
  if self.hostname and (self.hostname == "" or self.hostname:find("[%z\1-\32\127/?#@\\]")) then
    fail("hostname", "invalid hostname " .. string.format("%q", self.hostname))
  end
  self.port = opt(spec.port)
  if self.port and (self.port < 1 or self.port > 65535) then
    fail("port", "invalid port of Redirector, only support 1-65535")
  end
  if not STATUS_TEXT[spec.statusCode] then
    fail("statusCode", "invalid status code of Redirector, support 301, 302, 303, 304, 307, 308")
  end
  local path = opt(spec.path)
  if path then
    if #path > 0 then fail("path", "expected an object with type") end
    local t = opt(path.type)
    if t == "ReplaceFullPath" then
      local v = opt(path.replaceFullPath)
      if v == nil then fail("path", "invalid path of Redirector, replaceFullPath can't be empty") end
      if type(v) ~= "string" then fail("path.replaceFullPath", "expected string, got " .. type(v)) end
      self.full_path = v
    elseif t == "ReplacePrefixMatch" then
      local v = opt(path.replacePrefixMatch)
      if v == nil then fail("path", "invalid path of Redirector, replacePrefixMatch can't be empty") end
      if type(v) ~= "string" then fail("path.replacePrefixMatch", "expected string, got " .. type(v)) end
      self.prefix_replacement = v
      self.prefix = opt(spec.pathPrefix)
      if self.prefix == nil or self.prefix == "" then
        -- The route's pathPrefix is what Easegress replaces; the ctx does not expose it yet.
        eg.log.warn("RedirectorV2 " .. tostring(spec.name) .. ": path type ReplacePrefixMatch without "
          .. "pathPrefix: the path is never changed (set pathPrefix to the route's pathPrefix)")
        self.prefix = nil
      end
    else
      fail("path.type", "invalid path type of Redirector, only support ReplaceFullPath and ReplacePrefixMatch")
    end
  end
  for _, field in ipairs({ "full_path", "prefix_replacement" }) do
    if self[field] and self[field]:find("[%z\1-\31\127]") then
      fail("path", "control characters in the path")
    end
  end
  if self.prefix and self.prefix:sub(1, 1) ~= "/" then fail("pathPrefix", "must start with /") end
  return self
end

local function unhex(h) return string.char(tonumber(h, 16)) end

local function unescape(s) return (s:gsub("%%(%x%x)", unhex)) end

-- Go's url escaping of a path (encodePath): all but unreserved and $&+,/:;=@ characters.
local function escape_path(s)
  return (s:gsub("[^%w%-_%.~$&+,/:;=@]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- host:port split of a Host value ("[::1]:80", "example.com", "example.com:8080").
local function split_host(host)
  local h, p = host:match("^(%[.*%]):(%d*)$")
  if h then return h, p end
  if host:match("^%[.*%]$") then return host, nil end
  h, p = host:match("^([^:]*):(%d*)$")
  if h then return h, p end
  return host, nil
end

function M:handle(ctx)
  local req = ctx.req
  local raw_path = req:path()
  local query = req:raw_query()

  -- The path: Go works on the decoded path and escapes it again when it changed.
  local new_path = raw_path
  local decoded = unescape(raw_path)
  local changed
  if self.full_path then
    changed = self.full_path
  elseif self.prefix and decoded:sub(1, #self.prefix) == self.prefix then
    changed = self.prefix_replacement .. decoded:sub(#self.prefix + 1)
  end
  if changed and changed ~= decoded then new_path = escape_path(changed) end

  local location
  if self.scheme or self.hostname or self.port then
    local scheme = self.scheme or req:scheme()
    local host = self.hostname or req:host()
    if self.port then
      local h = split_host(host)
      host = self.port == DEFAULT_PORT[scheme] and h or (h .. ":" .. self.port)
    elseif self.scheme and not self.hostname then
      -- Gateway API: a new scheme without a port means the scheme's well-known port.
      host = split_host(host)
    end
    if new_path ~= "" and new_path:sub(1, 1) ~= "/" then new_path = "/" .. new_path end
    location = scheme .. "://" .. host .. new_path
  else
    location = new_path
  end
  if query then location = location .. "?" .. query end

  local current = query and (raw_path .. "?" .. query) or raw_path
  if location == current then return "" end

  local resp = ctx.resp
  for name in pairs(resp:headers()) do resp:del_header(name) end
  local code = self.spec.statusCode
  ctx:respond(code, STATUS_TEXT[code])
  resp:set_header("Location", location)
  return "redirected"
end

return M
