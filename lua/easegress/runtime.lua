-- easegress.runtime: what C calls into — filter instances, the request coroutine's runner,
-- the sandbox filter code runs in, and the busted runner.
local eg = require "easegress"
local ctx_mod = require "easegress.ctx"
local schema = require "easegress.schema"
local cjson = require "cjson.safe"

local M = {}
local current = eg._current

local function traceback(err)
  return debug.traceback(tostring(err), 2)
end

-- Globals filter code may use: no io, no os.exit, no loading of arbitrary files.
local function sandbox_env(dir)
  local env = {
    eg = eg, string = string, table = table, math = math, bit = bit,
    pairs = pairs, ipairs = ipairs, next = next, select = select, type = type,
    tostring = tostring, tonumber = tonumber, error = error, assert = assert,
    pcall = pcall, xpcall = xpcall, unpack = unpack, setmetatable = setmetatable,
    getmetatable = getmetatable, rawget = rawget, rawset = rawset, rawequal = rawequal,
    os = { time = os.time, clock = os.clock, date = os.date, getenv = os.getenv },
    print = function(...) eg.log.info(...) end,
  }
  env._G = env
  local loaded = {}
  -- require: our own modules, cjson, and helper modules beside the filter (loaded into the
  -- same sandbox, afresh for each load of the filter so edited helpers reload with it).
  env.require = function(name)
    if name == "easegress" or name:match("^easegress%.") or name == "cjson" or name == "cjson.safe" then
      return require(name)
    end
    if loaded[name] ~= nil then return loaded[name] end
    if not dir or not name:match("^[%w_%.]+$") then
      error("module '" .. name .. "' is not available to filters", 2)
    end
    local path = dir .. "/" .. name:gsub("%.", "/") .. ".lua"
    local chunk, err = loadfile(path)
    if not chunk then error(err, 2) end
    setfenv(chunk, env)
    local mod = chunk(name)
    loaded[name] = mod == nil and true or mod
    return loaded[name]
  end
  return env
end

local function load_module(path)
  local chunk, err = loadfile(path)
  if not chunk then return nil, err end
  setfenv(chunk, sandbox_env(path:match("^(.*)/[^/]*$") or "."))
  local ok, mod = pcall(chunk)
  if not ok then return nil, mod end
  return mod
end

-- For --filter-dir: the kind and results a file declares, or nil for a helper module.
function M.describe_module(path)
  local mod, err = load_module(path)
  if not mod then error(err, 0) end
  if type(mod) ~= "table" or type(mod.kind) ~= "string" or type(mod.handle) ~= "function" then
    return nil, nil
  end
  return mod.kind, mod.results or {}
end

-- One filter instance: inline code is the body of handle(self, ctx); a module is the
-- contract's table (kind, results, schema, new, handle).
function M.instantiate(name, code, path, spec_json)
  local spec = cjson.decode(spec_json) or {}
  if code ~= "" then
    -- Kept on the first line so error line numbers match the user's code.
    local chunk, err = loadstring("local self, ctx = ... " .. code, "=" .. name)
    if not chunk then error(err, 0) end
    setfenv(chunk, sandbox_env(nil))
    return { spec = spec, handle = chunk }
  end
  local mod, err = load_module(path)
  if not mod then error(err, 0) end
  local checked, why = schema.check(mod.schema, spec)
  if not checked then error(why, 0) end
  if mod.new then
    local inst = mod.new(checked)
    if type(inst) ~= "table" then error(name .. ": new() must return a table", 0) end
    if not inst.handle then setmetatable(inst, { __index = mod }) end
    return inst
  end
  return setmetatable({ spec = checked }, { __index = mod })
end

-- The body of every request coroutine: run the filter handed in, yield its outcome, repeat.
function M.runner(inst, x, ns)
  local co = coroutine.running()
  local ctx = ctx_mod.new(x, ns)
  while true do
    ctx:_use(ns)
    current[co] = x
    local ok, res = xpcall(inst.handle, traceback, inst, ctx)
    current[co] = nil
    if ok and res ~= nil and type(res) ~= "string" then
      ok, res = false, "a filter must return nil or a result string, not " .. type(res)
    end
    inst, x, ns = coroutine.yield("done", ok, res)
  end
end

-- C asks, when a task ended: may the request's coroutine, waiting in eg.wait, go on?
function M.tasks_ready(x)
  local pending = eg._waiting[x]
  if not pending then return false end
  for _, t in ipairs(pending) do
    if not t.done then return false end
  end
  return true
end

-- easegress-server --busted DIR: busted inside the runtime, so specs can use eg.*.
function M.run_busted(dir)
  _G.arg = { "--output=easegress.busted_output", "--pattern=_spec", dir }
  _G.eg = eg -- predefined in specs as in filters
  -- busted ends the process itself on success; on failures it raises instead (Lua 5.1).
  local ok = pcall(require "busted.runner", { standalone = false })
  return ok and 0 or 1
end

return M
