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

eg.shared = require "easegress.shared"   -- shared dictionaries (C, exact across workers)
eg.re = require "easegress.re"           -- PCRE2 with Go's regexp semantics
eg.crypto = require "easegress.crypto"   -- OpenSSL digests, HMAC, base64, random bytes

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

-- ---- tasks: eg.spawn / eg.wait ----
-- A task is a coroutine of the same request; its waits (eg.http.request, eg.sleep) run in
-- parallel with the request's own. C resumes a task when its wait completes, and resumes
-- the request's coroutine once every task it waits for has ended.
local waiting = setmetatable({}, { __mode = "k" }) -- exchange -> list of tasks awaited
eg._waiting = waiting

local function traceback(err) return debug.traceback(tostring(err), 2) end

function eg.spawn(fn, ...)
  assert(type(fn) == "function", "eg.spawn needs a function")
  local x = current[coroutine.running() or 0]
  local task = { done = false }
  local args = { n = select("#", ...), ... }
  local co = coroutine.create(function()
    local r = { xpcall(fn, traceback, unpack(args, 1, args.n)) }
    task.ok = r[1]
    task.results = r
    task.done = true
  end)
  task.co = co
  if x then current[co] = x end
  local ok, err = coroutine.resume(co)
  if not ok then
    task.done, task.ok, task.results = true, false, { false, err }
  end
  return task
end

-- eg.wait(task, ...) -> one value per task: its function's first result, or nil if it
-- raised (the error is logged). Returns nil, "aborted" if the client went away meanwhile.
function eg.wait(...)
  local tasks = { ... }
  local x = current[coroutine.running() or 0]
  while true do
    local pending = {}
    for _, t in ipairs(tasks) do
      if not t.done then pending[#pending + 1] = t end
    end
    if #pending == 0 then break end
    -- Outside a request every wait blocks, so a task is done when eg.spawn returns.
    assert(x, "eg.wait: tasks still pending outside a request")
    waiting[x] = pending
    local _, err = coroutine.yield("wait")
    waiting[x] = nil
    if err == "aborted" then return nil, "aborted" end
  end
  local values = {}
  for i, t in ipairs(tasks) do
    if t.ok then
      values[i] = t.results[2]
    else
      C.log("error", "eg.spawn task failed: " .. tostring(t.results[2]))
    end
  end
  return unpack(values, 1, #tasks)
end

-- ---- timers ----
-- eg.timer.at(ms, fn, ...) runs fn once after ms; eg.timer.every(ms, fn, ...) every ms.
-- Each run is a coroutine of its own that may wait (eg.http.request, eg.sleep). Both return
-- a handle with :cancel(). Timers live in the worker that created them.
eg.timer = {}

local function start_timer(ms, repeat_, fn, ...)
  assert(type(fn) == "function", "a timer needs a function")
  local args = { n = select("#", ...), ... }
  local id = C.timer_start(ms, repeat_, function() return fn(unpack(args, 1, args.n)) end)
  return { id = id, cancel = function() return C.timer_cancel(id) end }
end

function eg.timer.at(ms, fn, ...) return start_timer(ms, false, fn, ...) end
function eg.timer.every(ms, fn, ...) return start_timer(ms, true, fn, ...) end

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
