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

-- Where module text comes from. The supervisor reads files from disk and captures what it
-- read; workers load exactly those captured texts, so a filter file edited (or broken)
-- after validation never changes what a running version executes.
local function disk_reader(captured)
  return function(path)
    local f, err = io.open(path, "rb")
    if not f then return nil, err end
    local text = f:read("*a")
    f:close()
    captured[path] = text
    return text
  end
end

local function captured_reader(sources)
  local from_disk = disk_reader({})
  return function(path)
    -- A helper required lazily (inside handle) was not captured: read it now.
    return sources[path] or from_disk(path)
  end
end

local function load_chunk(read, path, env)
  local text, err = read(path)
  if not text then return nil, err end
  local chunk, cerr = loadstring(text, "@" .. path)
  if not chunk then return nil, cerr end
  setfenv(chunk, env)
  return chunk
end

-- The built-in filters (lua/filters, beside this file's directory) may use the C primitives
-- directly; user code never can, since a wrong argument to them is a crash, not an error.
local BUILTIN_DIR = (debug.getinfo(1, "S").source:match("^@(.*)/easegress/[^/]*$") or "lua") .. "/filters"
local PRIVATE = { ["easegress.c"] = true, ["easegress.testing.c"] = true, ["easegress.testing"] = true,
                  ["easegress.runtime"] = true }

-- Globals filter code may use: no io, no os.exit, no loading of arbitrary files.
local function sandbox_env(dir, read)
  local trusted = dir == BUILTIN_DIR
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
      if PRIVATE[name] and not trusted then
        error("module '" .. name .. "' is not available to filters", 2)
      end
      return require(name)
    end
    if loaded[name] ~= nil then return loaded[name] end
    if not dir or not name:match("^[%w_%.]+$") then
      error("module '" .. name .. "' is not available to filters", 2)
    end
    local chunk, err = load_chunk(read, dir .. "/" .. name:gsub("%.", "/") .. ".lua", env)
    if not chunk then error(err, 2) end
    local mod = chunk(name)
    loaded[name] = mod == nil and true or mod
    return loaded[name]
  end
  return env
end

local function load_module(path, read)
  local dir = path:match("^(.*)/[^/]*$") or "."
  local chunk, err = load_chunk(read, path, sandbox_env(dir, read))
  if not chunk then return nil, err end
  local ok, mod = pcall(chunk)
  if not ok then return nil, mod end
  return mod
end

-- A module's description: its `description` field, else the first paragraph of the
-- comment the file starts with ("-- Mock: answers ..."), joined into one line.
local function module_description(mod, text)
  if type(mod.description) == "string" then return mod.description end
  local lines = {}
  for line in (text or ""):gmatch("([^\n]*)\n?") do
    local c = line:match("^%-%-+%s?(.*)$")
    if not c or c:match("^%s*$") then break end
    lines[#lines + 1] = c
  end
  return (table.concat(lines, " "):gsub("%s+", " "))
end

-- For --filter-dir: the kind, results, description and JSON Schema a file declares, or nil
-- for a helper module.
function M.describe_module(path)
  local captured = {}
  local mod, err = load_module(path, disk_reader(captured))
  if not mod then error(err, 0) end
  if type(mod) ~= "table" or type(mod.kind) ~= "string" or type(mod.handle) ~= "function" then
    return nil, nil, nil, nil
  end
  return mod.kind, mod.results or {}, module_description(mod, captured[path]),
    schema.json_schema(mod.kind, mod.schema)
end

-- One filter instance: inline code is the body of handle(self, ctx); a module is the
-- contract's table (kind, results, schema, new, handle). Without `sources_json` (the
-- supervisor) the module is read from disk and the texts read are returned as JSON, to be
-- passed back by the workers.
function M.instantiate(name, code, path, spec_json, sources_json)
  local spec = cjson.decode(spec_json) or {}
  if code ~= "" then
    -- Kept on the first line so error line numbers match the user's code.
    local chunk, err = loadstring("local self, ctx = ... " .. code, "=" .. name)
    if not chunk then error(err, 0) end
    setfenv(chunk, sandbox_env(nil, nil))
    return { spec = spec, handle = chunk }, "", ""
  end
  local captured = {}
  local read
  if sources_json and sources_json ~= "" then
    read = captured_reader(cjson.decode(sources_json) or {})
  else
    read = disk_reader(captured)
  end
  local mod, err = load_module(path, read)
  if not mod then error(err, 0) end
  if type(mod) ~= "table" or type(mod.handle) ~= "function" then
    error(path .. ": a filter module must return a table with handle()", 0)
  end
  local checked, why = schema.check(mod.schema, spec)
  if not checked then error(why, 0) end
  -- After check: it renames fields written in another letter case to the schema's spelling.
  local unknown = table.concat(schema.unknown(mod.schema, checked), "\n")
  local inst
  if mod.new then
    inst = mod.new(checked)
    if type(inst) ~= "table" then error(name .. ": new() must return a table", 0) end
    if not inst.handle then setmetatable(inst, { __index = mod }) end
  else
    inst = setmetatable({ spec = checked }, { __index = mod })
  end
  return inst, cjson.encode(captured), unknown
end

-- The body of every request coroutine: run the filter handed in, yield its outcome, repeat.
function M.runner(inst, x, ns, fresh)
  local co = coroutine.running()
  local ctx
  while true do
    -- The coroutine outlives its request (C pools them): each request gets its own ctx.
    if not ctx then
      ctx = ctx_mod.new(x, ns)
    elseif fresh then
      ctx:_reset(x, ns)
    else
      ctx:_use(ns)
    end
    current[co] = x
    local ok, res = xpcall(inst.handle, traceback, inst, ctx)
    current[co] = nil
    if ok and res ~= nil and type(res) ~= "string" then
      ok, res = false, "a filter must return nil or a result string, not " .. type(res)
    end
    inst, x, ns, fresh = coroutine.yield("done", ok, res)
  end
end

-- The body of a background run (a timer's tick, the init script): x is its own exchange.
function M.background(fn, x)
  current[coroutine.running()] = x
  local ok, err = xpcall(fn, traceback)
  current[coroutine.running()] = nil
  if not ok then eg.log.error("timer/init: " .. tostring(err)) end
end

-- --init-script: the file as a function, in the filters' sandbox.
function M.load_init(path)
  local dir = path:match("^(.*)/[^/]*$") or "."
  local read = disk_reader({})
  local chunk, err = load_chunk(read, path, sandbox_env(dir, read))
  if not chunk then error(err, 0) end
  return chunk
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
  -- busted ends with os.exit; turn that into a return, so the runtime cleans up behind it.
  local exit_marker = {}
  local real_exit = os.exit
  os.exit = function(code) error({ [exit_marker] = true, code = code }, 0) end -- luacheck: ignore
  local ok, err = pcall(require "busted.runner", { standalone = false })
  os.exit = real_exit -- luacheck: ignore
  if not ok and type(err) == "table" and err[exit_marker] then
    local code = err.code
    return (code == true or code == 0 or code == nil) and 0 or 1
  end
  return ok and 0 or 1
end

return M
