-- easegress.duration: Go durations (time.ParseDuration), as Easegress specs write them.
--
--   duration.parse("1m30s")   -- 90000 (milliseconds, a float: "1.5ms" is 1.5)
--   duration.parse("1d")      -- nil, 'time: unknown unit "d" in duration "1d"'
--
-- The grammar is Go's: an optional sign, then one or more decimal numbers each followed by a
-- unit (ns, us, µs, μs, ms, s, m, h), e.g. "300ms", "-1.5h", "2h45m", ".5s", "1.s"; "0"
-- alone needs no unit. Durations past Go's limit (about 292 years) are refused, as Go does.
local M = {}

local NS = {
  ns = 1, us = 1e3, ["\194\181s"] = 1e3, ["\206\188s"] = 1e3, -- µs (U+00B5), μs (U+03BC)
  ms = 1e6, s = 1e9, m = 60e9, h = 3600e9,
}

-- Go's limit is 1<<63 - 1 ns; in doubles that is 2^63, so the last 2^10 ns below it are
-- refused too (a 292-year duration, never a real one).
local LIMIT_NS = 2 ^ 63

local function invalid(orig, why)
  if why then return nil, string.format("time: %s in duration %q", why, orig) end
  return nil, string.format("time: invalid duration %q", orig)
end

-- Milliseconds of a Go duration string, or nil and Go's error message.
function M.parse(s)
  if type(s) ~= "string" then return nil, "time: duration must be a string" end
  local orig, neg, i = s, false, 1
  local c = s:sub(1, 1)
  if c == "-" or c == "+" then
    neg = c == "-"
    i = 2
  end
  if s:sub(i) == "0" then return 0 end
  if i > #s then return invalid(orig) end
  local total = 0
  while i <= #s do
    local int, frac, unit
    int, i = s:match("^(%d*)()", i)
    if s:sub(i, i) == "." then
      frac, i = s:match("^(%d*)()", i + 1)
    end
    if int == "" and (frac == nil or frac == "") then return invalid(orig) end
    unit, i = s:match("^([^%d%.]*)()", i)
    if unit == "" then return invalid(orig, "missing unit") end
    local scale = NS[unit]
    if not scale then return invalid(orig, "unknown unit " .. string.format("%q", unit)) end
    local v = tonumber(int ~= "" and int or "0")
    if frac and frac ~= "" then v = v + tonumber("0." .. frac) end
    total = total + v * scale
    if total > LIMIT_NS then return invalid(orig) end
  end
  if total > LIMIT_NS or (total == LIMIT_NS and not neg) then return invalid(orig) end
  total = total / 1e6
  return neg and -total or total
end

return M
