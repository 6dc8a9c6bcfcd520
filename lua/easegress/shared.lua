-- easegress.shared: eg.shared, the shared dictionaries — one store per name, exact across
-- all worker threads (it lives in C). Declared at server start with
-- `--shared-dict NAME=CAPACITY`; `default` (10000 entries) always exists.
--
--   local d = eg.shared.hits          -- or eg.shared["my-dict"]; nil if not declared
--   d:get(key)                        -- value (string, number, boolean) or nil
--   d:set(key, value, ttl?)           -- true; a nil value deletes; evicts the LRU when full
--   d:add(key, value, ttl?)           -- true, or nil, "exists"
--   d:incr(key, delta, init?, ttl?)   -- new number, or nil, "not found" / "not a number"
--                                        (init and ttl apply when the key is created)
--   d:delete(key)                     -- true if a live key was removed
--   d:ttl(key)                        -- seconds left (0: never expires), or nil, "not found"
--   d:keys(max?)                      -- up to max keys (default 1024, 0 = all)
--   d:capacity(), d:count(), d:flush_all(), d:name()
--
-- TTLs are seconds (fractions allowed). Keys are strings of 1..65535 bytes; an empty or
-- longer key gives nil, "empty key" / "key too long".
local C = require("easegress.c").shared

local shared = {}

return setmetatable(shared, {
  -- The registry is fixed at start, so a dictionary found once is kept.
  __index = function(t, name)
    if type(name) ~= "string" then return nil end
    local d = C.open(name)
    if d then rawset(t, name, d) end
    return d
  end,
  __newindex = function()
    error("eg.shared is read-only: declare dictionaries with --shared-dict NAME=CAPACITY", 2)
  end,
})
