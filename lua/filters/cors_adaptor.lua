-- CORSAdaptor: answers CORS preflight requests and adds the CORS headers to actual
-- cross-origin requests (Easegress's CORSAdaptor filter, pkg/filters/corsadaptor, which is
-- github.com/rs/cors v1.11). docs/filters/CORSAdaptor.md
--
--   allowedOrigins: ["*"]             "*" or none: any origin; "https://*.example.com" works
--   allowedMethods: [GET, POST, HEAD]
--   allowedHeaders: []                none: Accept, Content-Type, X-Requested-With; "*": any
--   allowCredentials: false
--   exposedHeaders: []
--   maxAge: 0                         seconds; 0: no header; negative: "0"
--
-- A request without Origin goes on untouched. OPTIONS with Access-Control-Request-Method is
-- a preflight: answered (204 when no response exists yet) and the result is "preflighted".
-- Another request from an origin or with a method not allowed gets no
-- Access-Control-Allow-Origin and the result "rejected"; an allowed one goes on ("").

local NULL = eg.json.null

local M = {
  kind = "CORSAdaptor",
  results = { "preflighted", "rejected" },
  schema = {
    allowedOrigins = { type = "array" },
    allowedMethods = { type = "array" },
    allowedHeaders = { type = "array" },
    allowCredentials = { type = "boolean", default = false },
    exposedHeaders = { type = "array" },
    maxAge = { type = "integer", default = 0 },
  },
}

local METHODS = {
  GET = true, HEAD = true, POST = true, PUT = true, PATCH = true, DELETE = true,
  CONNECT = true, OPTIONS = true, TRACE = true,
}

local function fail(path, msg) error(path .. ": " .. msg, 0) end

local function strings(spec, field)
  local list = spec[field]
  if list == NULL or list == nil then return {} end
  for i, v in ipairs(list) do
    if type(v) ~= "string" then
      fail(field .. "[" .. (i - 1) .. "]", "expected string, got " .. type(v))
    end
  end
  return list
end

-- Go's http.CanonicalHeaderKey: "x-custom-header" -> "X-Custom-Header"; a name with a
-- character that is not a token character is left as it is.
local function canonical(name)
  if name == "" or name:find("[^%w!#$%%&'*+%-.^_`|~]") then return name end
  return (name:lower():gsub("^%l", string.upper):gsub("%-%l", string.upper))
end

local function trim_ows(s) return (s:gsub("^[ \t]+", ""):gsub("[ \t]+$", "")) end

function M.new(spec)
  local self = setmetatable({ spec = spec }, { __index = M })

  -- Origins: "*" anywhere allows all; one "*" inside an origin is a wildcard.
  local origins = strings(spec, "allowedOrigins")
  self.origins, self.wildcards, self.all_origins = {}, {}, #origins == 0
  for _, o in ipairs(origins) do
    o = o:lower()
    if o == "*" then
      self.all_origins = true
    else
      local star = o:find("*", 1, true)
      if star then
        self.wildcards[#self.wildcards + 1] = { prefix = o:sub(1, star - 1), suffix = o:sub(star + 1) }
      else
        self.origins[o] = true
      end
    end
  end

  local methods = strings(spec, "allowedMethods")
  self.methods = {}
  for i, m in ipairs(methods) do
    if not METHODS[m] then fail("allowedMethods[" .. (i - 1) .. "]", "invalid http method " .. m) end
    if self.methods[m] then fail("allowedMethods", "items must be unique (" .. m .. " twice)") end
    self.methods[m] = true
  end
  if #methods == 0 then self.methods = { GET = true, POST = true, HEAD = true } end

  local headers = strings(spec, "allowedHeaders")
  self.headers, self.all_headers = {}, false
  for _, h in ipairs(headers) do
    if h == "*" then self.all_headers = true end
    self.headers[h:lower()] = true
  end
  if #headers == 0 then
    self.headers = { accept = true, ["content-type"] = true, ["x-requested-with"] = true }
  end

  local exposed = strings(spec, "exposedHeaders")
  if #exposed > 0 then
    local names = {}
    for i, h in ipairs(exposed) do names[i] = canonical(h) end
    self.exposed = table.concat(names, ", ")
  end

  if spec.maxAge > 0 then
    self.max_age = tostring(spec.maxAge)
  elseif spec.maxAge < 0 then
    self.max_age = "0"
  end
  self.credentials = spec.allowCredentials
  return self
end

function M:origin_allowed(origin)
  if self.all_origins then return true end
  origin = origin:lower()
  if self.origins[origin] then return true end
  for _, w in ipairs(self.wildcards) do
    if #origin >= #w.prefix + #w.suffix and origin:sub(1, #w.prefix) == w.prefix
        and origin:sub(#origin - #w.suffix + 1) == w.suffix then
      return true
    end
  end
  return false
end

function M:method_allowed(method)
  if method == "OPTIONS" then return true end -- preflights always are
  return self.methods[method] == true
end

-- Every name listed in the Access-Control-Request-Headers lines is allowed.
function M:headers_allowed(lines)
  for _, line in ipairs(lines) do
    for name in (line .. ","):gmatch("([^,]*),") do
      name = trim_ows(name):lower()
      if name ~= "" and not self.headers[name] then return false end
    end
  end
  return true
end

-- The request's values of a header, one per line (Go's Header[name]).
local function values(lines, name)
  local out, lower = {}, name:lower()
  for _, h in ipairs(lines) do
    if h[1]:lower() == lower then out[#out + 1] = h[2] end
  end
  return out
end

-- What rs/cors would write, as an ordered list of { name, { values } }.
function M:preflight(lines)
  local out = { { "Vary", { "Origin, Access-Control-Request-Method, Access-Control-Request-Headers" } } }
  local origin = values(lines, "Origin")
  if not self:origin_allowed(origin[1]) then return out end
  local method = values(lines, "Access-Control-Request-Method")
  if not self:method_allowed(method[1]) then return out end
  local req_headers = values(lines, "Access-Control-Request-Headers")
  if #req_headers > 0 and not self.all_headers and not self:headers_allowed(req_headers) then
    return out
  end
  out[#out + 1] = { "Access-Control-Allow-Origin", self.all_origins and { "*" } or origin }
  out[#out + 1] = { "Access-Control-Allow-Methods", method }
  if #req_headers > 0 and req_headers[1] ~= "" then
    out[#out + 1] = { "Access-Control-Allow-Headers", req_headers }
  end
  if self.credentials then out[#out + 1] = { "Access-Control-Allow-Credentials", { "true" } } end
  if self.max_age then out[#out + 1] = { "Access-Control-Max-Age", { self.max_age } } end
  return out
end

function M:actual(lines, method)
  local out = { { "Vary", { "Origin" } } }
  local origin = values(lines, "Origin")
  if not self:origin_allowed(origin[1]) then return out end
  if not self:method_allowed(method) then return out end
  out[#out + 1] = { "Access-Control-Allow-Origin", self.all_origins and { "*" } or origin }
  if self.exposed then out[#out + 1] = { "Access-Control-Expose-Headers", { self.exposed } } end
  if self.credentials then out[#out + 1] = { "Access-Control-Allow-Credentials", { "true" } } end
  return out
end

function M:handle(ctx)
  local lines = ctx.req:header_lines()
  local origin = values(lines, "Origin")[1]
  if origin == nil or origin == "" then return "" end -- not a CORS request

  local method = ctx.req:method()
  local acrm = values(lines, "Access-Control-Request-Method")[1]
  local preflight = method == "OPTIONS" and acrm ~= nil and acrm ~= ""
  local out = preflight and self:preflight(lines) or self:actual(lines, method)

  local resp = ctx.resp
  local allowed = false
  if resp:status() == 0 then
    -- No response yet: this one becomes it (as rs/cors's recorder: 204 for a preflight,
    -- 200 otherwise, no body), so a Proxy later keeps these headers.
    for name in pairs(resp:headers()) do resp:del_header(name) end
    ctx:respond(preflight and 204 or 200, "")
  end
  for _, h in ipairs(out) do
    local name, vals = h[1], h[2]
    if name ~= "Vary" then resp:del_header(name) end
    for _, v in ipairs(vals) do resp:add_header(name, v) end
    if name == "Access-Control-Allow-Origin" then allowed = true end
  end

  if preflight then return "preflighted" end
  if not allowed then return "rejected" end
  return ""
end

return M
