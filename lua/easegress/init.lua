-- easegress: the `eg` table filters see (predefined in filter code, or require "easegress").
local C = require "easegress.c"
local cjson = require "cjson.safe"

local eg = {}

local function log_at(level)
  return function(...)
    local parts = {}
    for i = 1, select("#", ...) do
      parts[#parts + 1] = tostring((select(i, ...)))
    end
    C.log(level, table.concat(parts, " "))
  end
end

-- eg.log("text") logs at info; eg.log.warn("text") at a chosen level.
eg.log = setmetatable({
  debug = log_at("debug"),
  info = log_at("info"),
  warn = log_at("warn"),
  error = log_at("error"),
}, { __call = function(_, ...) return log_at("info")(...) end })

eg.json = {
  encode = cjson.encode,
  decode = cjson.decode,
  null = cjson.null,
}

eg.time = {
  now = C.now,                 -- seconds since the epoch, as a float
  monotonic_ms = C.monotonic_ms,
}

-- Set by the runtime: which exchange the running coroutine serves.
local current = setmetatable({}, { __mode = "k" })
eg._current = current

-- eg.sleep(ms): yields the request's coroutine; outside a request (specs, init) it runs the
-- loop until the time is up. Returns true, or nil, "aborted" when the client went away.
function eg.sleep(ms)
  local x = current[coroutine.running() or 0]
  if x then
    C.sleep_start(x, ms)
    return coroutine.yield("wait")
  end
  return C.sleep_block(ms)
end

-- Header tables answer in any letter case, as HTTP header names do.
local headers_meta = {
  __index = function(t, name)
    if type(name) ~= "string" then return nil end
    local lower = name:lower()
    for k, v in pairs(t) do
      if k:lower() == lower then return v end
    end
    return nil
  end,
}

eg.http = {}

-- eg.http.request{ method = "GET", url = "http://host:port/path?q", headers = {...},
--                  body = "...", timeout = ms (default 60000) }
-- -> { status = n, headers = {...}, body = "..." } or nil, err. Yields the request's
-- coroutine while waiting; outside a request (specs) it runs the loop until done.
function eg.http.request(opts)
  assert(type(opts) == "table" and type(opts.url) == "string", "eg.http.request needs { url = ... }")
  local x = current[coroutine.running() or 0]
  local res, err = C.http_request(x, opts.method or "GET", opts.url, opts.headers, opts.body, opts.timeout)
  if x and res == "wait" then
    res, err = coroutine.yield("wait")
  end
  if type(res) == "table" then
    setmetatable(res.headers, headers_meta)
  end
  return res, err
end

return eg
