-- easegress.httputil: pieces of HTTP parsing shared by the real ctx and the fake one (pure
-- Lua, part of the SDK rock).
local M = {}

-- application/x-www-form-urlencoded unescaping: "+" is a space, %XX a byte.
function M.unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- First value of a query parameter (decoded) in a raw query string, or nil.
function M.query_value(raw_query, name)
  if not raw_query then return nil end
  for pair in raw_query:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    if M.unescape(k) == name then return M.unescape(v) end
  end
  return nil
end

-- A cookie's value from a Cookie header value, or nil.
function M.cookie_value(header, name)
  if not header then return nil end
  for pair in header:gmatch("[^;]+") do
    local k, v = pair:match("^%s*([^=]+)=(.*)$")
    if k == name then return (v:gsub("%s+$", "")) end
  end
  return nil
end

return M
