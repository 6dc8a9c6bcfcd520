-- easegress.template.time: Go's time.Time for templates — layouts ("2006-01-02"), zones,
-- durations — in pure Lua. Zones other than UTC and Local are read from the system's
-- zoneinfo files (TZif) as Go does; an unknown zone is an error.
local value = require "easegress.template.value"

local M = {}

local floor, format, sub, byte = math.floor, string.format, string.sub, string.byte
local concat = table.concat
local TimeMT = value.time_mt
TimeMT.__index = TimeMT

local months = { "January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December" }
local days = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" }

-- Days since 1970-01-01 of a civil date (proleptic Gregorian).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
M.days_from_civil = days_from_civil

local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

---------------------------------------------------------------------------------------------
-- Zones

local function local_zone(sec)
  local ok, l = pcall(os.date, "*t", sec)
  if not ok or type(l) ~= "table" then return 0, "UTC" end
  local u = os.date("!*t", sec)
  u.isdst = l.isdst
  local off = os.time(l) - os.time(u)
  local name = os.date("%Z", sec)
  if type(name) ~= "string" or name == "" or name:match("^[-+]") then name = nil end
  return off, name
end

local function read_tzif(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("*a")
  f:close()
  if sub(data, 1, 4) ~= "TZif" then return nil end
  local function u32(i)
    local a, b, c, d = byte(data, i, i + 3)
    return ((a * 256 + b) * 256 + c) * 256 + d
  end
  local function s32(i)
    local v = u32(i)
    if v >= 2 ^ 31 then v = v - 2 ^ 32 end
    return v
  end
  local function s64(i)
    local hi, lo = u32(i), u32(i + 4)
    if hi >= 2 ^ 31 then hi = hi - 2 ^ 32 end
    return hi * 2 ^ 32 + lo
  end
  local function parse(pos, wide)
    local isutcnt, isstdcnt, leapcnt = u32(pos + 20), u32(pos + 24), u32(pos + 28)
    local timecnt, typecnt, charcnt = u32(pos + 32), u32(pos + 36), u32(pos + 40)
    local p = pos + 44
    local tsize = wide and 8 or 4
    local trans = {}
    for k = 1, timecnt do
      trans[k] = wide and s64(p) or s32(p)
      p = p + tsize
    end
    local idx = {}
    for k = 1, timecnt do idx[k] = byte(data, p) + 1; p = p + 1 end
    local types = {}
    for k = 1, typecnt do
      types[k] = { off = s32(p), isdst = byte(data, p + 4), abbr = byte(data, p + 5) }
      p = p + 6
    end
    local chars = sub(data, p, p + charcnt - 1)
    p = p + charcnt
    for _, t in ipairs(types) do
      local z = chars:find("\0", t.abbr + 1, true)
      t.name = sub(chars, t.abbr + 1, (z or #chars + 1) - 1)
    end
    p = p + leapcnt * (tsize + 4) + isstdcnt + isutcnt
    return { trans = trans, idx = idx, types = types }, p
  end
  local zone, p = parse(1, false)
  if byte(data, 5) and byte(data, 5) >= 50 then -- version 2+: the 64-bit section follows
    local z2 = parse(p, true)
    if z2 then zone = z2 end
  end
  return zone
end

local zones = {}

-- A zone by name: returns a function(sec) -> offset, abbreviation; or nil, err.
local function load_zone(name)
  if name == "" or name == "UTC" then return function() return 0, "UTC" end end
  if name == "Local" then return local_zone end
  local z = zones[name]
  if z then return z end
  if name:find("%.%.") or name:sub(1, 1) == "/" then return nil, "time: invalid location name" end
  local tz
  local dirs = { os.getenv("ZONEINFO") or "", "/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/usr/lib/locale/TZ" }
  for _, dir in ipairs(dirs) do
    if dir ~= "" then
      tz = read_tzif(dir .. "/" .. name)
      if tz then break end
    end
  end
  if not tz then return nil, "unknown time zone " .. name end
  z = function(sec)
    local trans, types = tz.trans, tz.types
    local t
    if #trans == 0 or sec < trans[1] then
      t = types[1]
      for _, ty in ipairs(types) do if ty.isdst == 0 then t = ty break end end
    else
      local lo, hi = 1, #trans
      while lo < hi do
        local mid = floor((lo + hi + 1) / 2)
        if trans[mid] <= sec then lo = mid else hi = mid - 1 end
      end
      t = types[tz.idx[lo]]
    end
    return t.off, t.name
  end
  zones[name] = z
  return z
end
M.load_zone = load_zone

---------------------------------------------------------------------------------------------
-- Times

-- A time at unix seconds sec (+ nsec) in zone (a function from load_zone; default Local).
local function new(sec, nsec, zone, zone_name)
  zone = zone or local_zone
  local off, abbr = zone(sec)
  return setmetatable({ sec = sec, nsec = nsec or 0, off = off, abbr = abbr, zone = zone, zname = zone_name }, TimeMT)
end
M.new = new

local has_c, C = pcall(require, "easegress.c")

-- time.Now() (Local).
function M.now()
  local t = has_c and type(C) == "table" and C.now and C.now() or os.time()
  local sec = floor(t)
  return new(sec, floor((t - sec) * 1e9 + 0.5) % 1000000000)
end

-- time.Unix(sec, 0) (Local).
function M.unix(sec) return new(floor(sec), 0) end

function M.is_time(v) return type(v) == "table" and getmetatable(v) == TimeMT end

-- The zero Time (0001-01-01 00:00:00 UTC).
M.zero_sec = days_from_civil(1, 1, 1) * 86400
function M.zero() return new(M.zero_sec, 0, load_zone("UTC")) end

function TimeMT:Unix() return self.sec end
function TimeMT:In(zone) return new(self.sec, self.nsec, zone) end
function TimeMT:Add(ns)
  local total = self.nsec + ns
  local s = floor(total / 1e9)
  return new(self.sec + s, total - s * 1e9, self.zone)
end

-- Broken-down local fields.
function TimeMT:fields()
  local t = self.sec + self.off
  local d = floor(t / 86400)
  local rem = t - d * 86400
  local y, m, dd = civil_from_days(d)
  return y, m, dd, floor(rem / 3600), floor(rem % 3600 / 60), rem % 60, (d + 4) % 7,
    d - days_from_civil(y, 1, 1) + 1
end

---------------------------------------------------------------------------------------------
-- Layouts

local function lower_start(s, i)
  local c = byte(s, i)
  return c and c >= 97 and c <= 122
end

-- Next layout element at i: returns (kind, arg, length) or nil for a literal byte.
local function std_chunk(layout, i)
  local c = sub(layout, i, i)
  local rest = function(n) return sub(layout, i, i + n - 1) end
  if c == "J" then
    if rest(7) == "January" then return "LongMonth", nil, 7 end
    if rest(3) == "Jan" and not lower_start(layout, i + 3) then return "Month", nil, 3 end
  elseif c == "M" then
    if rest(6) == "Monday" then return "LongWeekDay", nil, 6 end
    if rest(3) == "Mon" and not lower_start(layout, i + 3) then return "WeekDay", nil, 3 end
    if rest(3) == "MST" then return "TZ", nil, 3 end
  elseif c == "0" then
    local d = sub(layout, i + 1, i + 1)
    if d:match("[1-6]") then
      return ({ "ZeroMonth", "ZeroDay", "ZeroHour12", "ZeroMinute", "ZeroSecond", "Year" })[tonumber(d)], nil, 2
    end
    if rest(3) == "002" then return "ZeroYearDay", nil, 3 end
  elseif c == "1" then
    if rest(2) == "15" then return "Hour", nil, 2 end
    return "NumMonth", nil, 1
  elseif c == "2" then
    if rest(4) == "2006" then return "LongYear", nil, 4 end
    return "Day", nil, 1
  elseif c == "_" then
    if sub(layout, i + 1, i + 1) == "2" then
      if sub(layout, i + 1, i + 4) == "2006" then return nil end -- a literal _ then the year
      return "UnderDay", nil, 2
    end
    if rest(3) == "__2" then return "UnderYearDay", nil, 3 end
  elseif c == "3" then return "Hour12", nil, 1
  elseif c == "4" then return "Minute", nil, 1
  elseif c == "5" then return "Second", nil, 1
  elseif c == "P" then
    if rest(2) == "PM" then return "PM", nil, 2 end
  elseif c == "p" then
    if rest(2) == "pm" then return "pm", nil, 2 end
  elseif c == "-" then
    for _, z in ipairs({ "-070000", "-07:00:00", "-0700", "-07:00", "-07" }) do
      if rest(#z) == z then return "NumTZ", z, #z end
    end
  elseif c == "Z" then
    for _, z in ipairs({ "Z070000", "Z07:00:00", "Z0700", "Z07:00", "Z07" }) do
      if rest(#z) == z then return "ISOTZ", z, #z end
    end
  elseif c == "." or c == "," then
    local d = sub(layout, i + 1, i + 1)
    if d == "0" or d == "9" then
      local j = i + 1
      while sub(layout, j, j) == d do j = j + 1 end
      if not sub(layout, j, j):match("%d") then
        return d == "0" and "Frac0" or "Frac9", c, j - i
      end
    end
  end
  return nil
end

local function tz_numeric(off, z, iso)
  if iso and off == 0 then return "Z" end
  local sign = "+"
  if off < 0 then sign, off = "-", -off end
  local h, m, s = floor(off / 3600), floor(off % 3600 / 60), off % 60
  z = iso and "-" .. sub(z, 2) or z
  if z == "-07" then return format("%s%02d", sign, h) end
  if z == "-0700" then return format("%s%02d%02d", sign, h, m) end
  if z == "-07:00" then return format("%s%02d:%02d", sign, h, m) end
  if z == "-070000" then return format("%s%02d%02d%02d", sign, h, m, s) end
  return format("%s%02d:%02d:%02d", sign, h, m, s)
end

-- Time.Format(layout).
function TimeMT:Format(layout)
  local y, mo, d, h, mi, s, wd, yd = self:fields()
  local out = {}
  local i, len, lit = 1, #layout, 1
  while i <= len do
    local kind, arg, n = std_chunk(layout, i)
    if kind then
      if i > lit then out[#out + 1] = sub(layout, lit, i - 1) end
      local piece
      if kind == "LongMonth" then piece = months[mo]
      elseif kind == "Month" then piece = sub(months[mo], 1, 3)
      elseif kind == "LongWeekDay" then piece = days[wd + 1]
      elseif kind == "WeekDay" then piece = sub(days[wd + 1], 1, 3)
      elseif kind == "TZ" then piece = self.abbr or tz_numeric(self.off, "-0700")
      elseif kind == "ZeroMonth" then piece = format("%02d", mo)
      elseif kind == "ZeroDay" then piece = format("%02d", d)
      elseif kind == "ZeroHour12" then piece = format("%02d", (h % 12 == 0) and 12 or h % 12)
      elseif kind == "ZeroMinute" then piece = format("%02d", mi)
      elseif kind == "ZeroSecond" then piece = format("%02d", s)
      elseif kind == "Year" then piece = format("%02d", y % 100)
      elseif kind == "ZeroYearDay" then piece = format("%03d", yd)
      elseif kind == "Hour" then piece = format("%02d", h)
      elseif kind == "NumMonth" then piece = tostring(mo)
      elseif kind == "LongYear" then piece = y < 0 and format("-%04d", -y) or format("%04d", y)
      elseif kind == "Day" then piece = tostring(d)
      elseif kind == "UnderDay" then piece = format("%2d", d)
      elseif kind == "UnderYearDay" then piece = format("%3d", yd)
      elseif kind == "Hour12" then piece = tostring((h % 12 == 0) and 12 or h % 12)
      elseif kind == "Minute" then piece = tostring(mi)
      elseif kind == "Second" then piece = tostring(s)
      elseif kind == "PM" then piece = h >= 12 and "PM" or "AM"
      elseif kind == "pm" then piece = h >= 12 and "pm" or "am"
      elseif kind == "NumTZ" then piece = tz_numeric(self.off, arg)
      elseif kind == "ISOTZ" then piece = tz_numeric(self.off, arg, true)
      elseif kind == "Frac0" then
        piece = arg .. sub(format("%09d", self.nsec), 1, n - 1)
      elseif kind == "Frac9" then
        local digits = sub(format("%09d", self.nsec), 1, n - 1):gsub("0+$", "")
        piece = digits ~= "" and arg .. digits or ""
      end
      out[#out + 1] = piece
      i = i + n
      lit = i
    else
      i = i + 1
    end
  end
  if lit <= len then out[#out + 1] = sub(layout, lit) end
  return concat(out)
end

function TimeMT:String()
  return self:Format("2006-01-02 15:04:05.999999999 -0700 MST")
end
TimeMT.__tostring = TimeMT.String

-- time.ParseInLocation(layout, s, zone): the Time, or nil, err.
function M.parse(layout, s, zone)
  zone = zone or local_zone
  local y, mo, d, h, mi, sec, nsec = 1, 1, 1, 0, 0, 0, 0
  local pm, have_pm, off, zname, yday = false, false, nil, nil, nil
  local i, j, len = 1, 1, #layout
  local function bad(what)
    error(format("parsing time %q as %q: cannot parse %q as %q", s, layout, sub(s, j), what), 0)
  end
  local function num(minw, maxw, what)
    local digits = s:match("^%d+", j)
    if not digits or #digits < minw then bad(what) end
    if #digits > maxw then digits = sub(digits, 1, maxw) end
    j = j + #digits
    return tonumber(digits)
  end
  local function name_of(list, short, what)
    for k, nm in ipairs(list) do
      local cand = short and sub(nm, 1, 3) or nm
      if sub(s, j, j + #cand - 1):lower() == cand:lower() then
        j = j + #cand
        return k
      end
    end
    bad(what)
  end
  local lit = 1
  while i <= len + 1 do
    local kind, arg, n
    if i <= len then kind, arg, n = std_chunk(layout, i) end
    if kind or i > len then
      local l = sub(layout, lit, i - 1)
      if sub(s, j, j + #l - 1) ~= l then bad(l) end
      j = j + #l
      if i > len then break end
      local chunk = sub(layout, i, i + n - 1)
      if kind == "LongMonth" then mo = name_of(months, false, chunk)
      elseif kind == "Month" then mo = name_of(months, true, chunk)
      elseif kind == "LongWeekDay" then name_of(days, false, chunk)
      elseif kind == "WeekDay" then name_of(days, true, chunk)
      elseif kind == "ZeroMonth" or kind == "NumMonth" then mo = num(kind == "ZeroMonth" and 2 or 1, 2, chunk)
      elseif kind == "ZeroDay" or kind == "Day" then d = num(kind == "ZeroDay" and 2 or 1, 2, chunk)
      elseif kind == "UnderDay" then
        if sub(s, j, j) == " " then j = j + 1 end
        d = num(1, 2, chunk)
      elseif kind == "ZeroYearDay" or kind == "UnderYearDay" then
        while sub(s, j, j) == " " do j = j + 1 end
        yday = num(1, 3, chunk)
      elseif kind == "Hour" then h = num(2, 2, chunk)
      elseif kind == "Hour12" or kind == "ZeroHour12" then h = num(kind == "ZeroHour12" and 2 or 1, 2, chunk)
      elseif kind == "Minute" or kind == "ZeroMinute" then mi = num(kind == "ZeroMinute" and 2 or 1, 2, chunk)
      elseif kind == "Second" or kind == "ZeroSecond" then
        sec = num(kind == "ZeroSecond" and 2 or 1, 2, chunk)
        -- a fractional second the layout does not mention is accepted
        local frac = s:match("^[.,](%d+)", j)
        local following = std_chunk(layout, i + n)
        if frac and following ~= "Frac0" and following ~= "Frac9" then
          nsec = tonumber(sub(frac .. "000000000", 1, 9))
          j = j + 1 + #frac
        end
      elseif kind == "LongYear" then
        local digits = s:match("^%d%d%d%d", j)
        if not digits then bad(chunk) end
        y = tonumber(digits)
        j = j + 4
      elseif kind == "Year" then
        local yy = num(2, 2, chunk)
        y = yy >= 69 and 1900 + yy or 2000 + yy
      elseif kind == "PM" or kind == "pm" then
        local v = sub(s, j, j + 1):upper()
        if v ~= "AM" and v ~= "PM" then bad(chunk) end
        pm, have_pm = v == "PM", true
        j = j + 2
      elseif kind == "NumTZ" or kind == "ISOTZ" then
        if kind == "ISOTZ" and sub(s, j, j) == "Z" then
          off = 0
          zname = "UTC"
          j = j + 1
        else
          local z = kind == "ISOTZ" and "-" .. sub(arg, 2) or arg
          local sign = sub(s, j, j)
          if sign ~= "+" and sign ~= "-" then bad(chunk) end
          j = j + 1
          local hh = num(2, 2, chunk)
          local mm, ss = 0, 0
          if z == "-0700" or z == "-070000" then mm = num(2, 2, chunk) end
          if z == "-07:00" or z == "-07:00:00" then
            if sub(s, j, j) ~= ":" then bad(chunk) end
            j = j + 1
            mm = num(2, 2, chunk)
          end
          if z == "-070000" then ss = num(2, 2, chunk) end
          if z == "-07:00:00" then
            if sub(s, j, j) ~= ":" then bad(chunk) end
            j = j + 1
            ss = num(2, 2, chunk)
          end
          off = hh * 3600 + mm * 60 + ss
          if sign == "-" then off = -off end
        end
      elseif kind == "TZ" then
        local nm = s:match("^%u%u%u?%u?%u?", j)
        if not nm then bad(chunk) end
        j = j + #nm
        zname = nm
        if nm == "UTC" or nm == "GMT" then off = 0 end
      elseif kind == "Frac0" or kind == "Frac9" then
        local sep = sub(s, j, j)
        if sep == "." or sep == "," then
          local frac = s:match("^%d+", j + 1)
          if kind == "Frac0" and (not frac or #frac < n - 1) then bad(chunk) end
          if frac then
            nsec = tonumber(sub(frac .. "000000000", 1, 9))
            j = j + 1 + #frac
          end
        elseif kind == "Frac0" then
          bad(chunk)
        end
      end
      i = i + n
      lit = i
    else
      i = i + 1
    end
  end
  if j <= #s then
    error(format("parsing time %q: extra text: %q", s, sub(s, j)), 0)
  end
  if have_pm then
    if h > 12 then error(format("parsing time %q: hour out of range", s), 0) end
    if pm and h < 12 then h = h + 12 elseif not pm and h == 12 then h = 0 end
  end
  if mo < 1 or mo > 12 then error(format("parsing time %q: month out of range", s), 0) end
  if yday then
    local day0 = days_from_civil(y, 1, 1) + yday - 1
    local _
    _, mo, d = civil_from_days(day0)
  end
  local feb = (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) and 29 or 28
  local dim = { 31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  if d < 1 or d > dim[mo] then error(format("parsing time %q: day out of range", s), 0) end
  if h > 23 or mi > 59 or sec > 59 then error(format("parsing time %q: time out of range", s), 0) end
  local wall = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
  if off then
    local fixed = function() return off, zname end
    if zname == "UTC" and off == 0 then fixed = load_zone("UTC") end
    return new(wall - off, nsec, fixed)
  end
  -- a wall time in zone: find the offset in force then
  local o = zone(wall)
  o = zone(wall - o)
  return new(wall - o, nsec, zone)
end

---------------------------------------------------------------------------------------------
-- Durations (nanoseconds as numbers)

local units = { ns = 1, us = 1e3, ["µs"] = 1e3, ["μs"] = 1e3, ms = 1e6, s = 1e9, m = 60e9, h = 3600e9 }

-- time.ParseDuration: nanoseconds, or nil, err.
function M.parse_duration(s)
  local orig = s
  local neg = false
  local c = sub(s, 1, 1)
  if c == "-" or c == "+" then
    neg = c == "-"
    s = sub(s, 2)
  end
  if s == "0" then return 0 end
  if s == "" then return nil, format("time: invalid duration %q", orig) end
  local total = 0
  while s ~= "" do
    local numtxt = s:match("^%d*%.?%d*")
    if numtxt == "" or numtxt == "." then return nil, format("time: invalid duration %q", orig) end
    s = sub(s, #numtxt + 1)
    local unit = s:match("^[^%d%.]+")
    if not unit then return nil, format("time: missing unit in duration %q", orig) end
    if not units[unit] then return nil, format("time: unknown unit %q in duration %q", unit, orig) end
    s = sub(s, #unit + 1)
    total = total + tonumber(numtxt) * units[unit]
  end
  return neg and -total or total
end

-- Duration.String() for a whole number of seconds' worth of nanoseconds (or less).
function M.duration_string(ns)
  if ns == 0 then return "0s" end
  local neg = ns < 0
  if neg then ns = -ns end
  local out
  if ns < 1e9 then
    local unit, div = "ns", 1
    if ns >= 1e6 then unit, div = "ms", 1e6 elseif ns >= 1e3 then unit, div = "µs", 1e3 end
    out = require("easegress.template.fmt").float(ns / div) .. unit
  else
    local secs = ns / 1e9
    local h = floor(secs / 3600)
    local m = floor(secs % 3600 / 60)
    local sfrac = secs - h * 3600 - m * 60
    local sstr = require("easegress.template.fmt").float(floor(sfrac * 1e9 + 0.5) / 1e9) .. "s"
    if h > 0 then out = h .. "h" .. m .. "m" .. sstr
    elseif m > 0 then out = m .. "m" .. sstr
    else out = sstr end
  end
  return neg and "-" .. out or out
end

return M
