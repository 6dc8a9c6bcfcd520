-- easegress.adaptor: what RequestAdaptor and ResponseAdaptor share: header edits, gzip.
local C = require "easegress.c"
local builder = require "easegress.builder"

local M = {}

local function check_string_map(t, what)
  if t == nil then return end
  if type(t) ~= "table" then error(what .. ": must be a map", 0) end
  for k, v in pairs(t) do
    if type(k) ~= "string" or type(v) ~= "string" then error(what .. ": names and values must be strings", 0) end
  end
end

-- header: { del = { names }, set = { name = value }, add = { name = value } }
function M.check_header_spec(h, what)
  if h == nil then return end
  if type(h) ~= "table" then error(what .. ": must be a map", 0) end
  if h.del ~= nil then
    if type(h.del) ~= "table" then error(what .. ".del: must be a list", 0) end
    for _, n in ipairs(h.del) do
      if type(n) ~= "string" then error(what .. ".del: names must be strings", 0) end
    end
  end
  check_string_map(h.set, what .. ".set")
  check_string_map(h.add, what .. ".add")
end

-- The header of a template's output, as { del = {...}, set = {...}, add = {...} } of
-- strings; raises on a malformed one.
function M.header_from_template(h)
  if h == nil then return nil end
  if type(h) ~= "table" then error("header: must be a map", 0) end
  local out = { del = {}, set = {}, add = {} }
  local del = builder.field(h, "del")
  if del ~= nil then
    if type(del) ~= "table" then error("header.del: must be a list", 0) end
    for _, n in ipairs(del) do out.del[#out.del + 1] = builder.scalar(n, "header.del") end
  end
  for _, op in ipairs({ "set", "add" }) do
    local m = builder.field(h, op)
    if m ~= nil then
      if type(m) ~= "table" then error("header." .. op .. ": must be a map", 0) end
      for k, v in pairs(m) do out[op][tostring(k)] = builder.scalar(v, "header." .. op .. "." .. k) end
    end
  end
  return out
end

-- Easegress's order: delete, then set, then add.
function M.apply_header_spec(view, h)
  if type(h) ~= "table" then return end
  for _, name in ipairs(h.del or {}) do view:del_header(name) end
  for name, value in pairs(h.set or {}) do view:set_header(name, value) end
  for name, value in pairs(h.add or {}) do view:add_header(name, value) end
end

-- The Content-Encoding of a request or response view, lower-cased and trimmed ("" when
-- absent or "identity").
local function encoding(view)
  local enc = (view:header("Content-Encoding") or ""):lower():match("^%s*(.-)%s*$")
  if enc == "identity" then return "" end
  return enc
end

-- compress/decompress the body of a request or response view. Returns nil or an error.
-- As Easegress: only a body whose Content-Encoding is gzip is decompressed (anything else,
-- "gzip, br" included, is left alone); Content-Encoding is then removed.
function M.decompress(view)
  local enc = encoding(view)
  if enc ~= "gzip" and enc ~= "x-gzip" then return nil end
  local plain, err = C.gunzip(view:body() or "")
  if not plain then return err end
  view:set_body(plain)
  view:del_header("Content-Encoding")
  return nil
end

-- A body that already has a Content-Encoding (gzip or any other) is left alone, as
-- Easegress's RequestAdaptor does (its ResponseAdaptor only looks for gzip, and would label
-- a br body gzip; here neither does).
function M.compress(view)
  if encoding(view) ~= "" then return nil end
  local packed, err = C.gzip(view:body() or "")
  if not packed then return err end
  view:set_body(packed)
  view:set_header("Content-Encoding", "gzip")
  return nil
end

-- A new body replaces an encoded one: Content-Encoding goes with it (Easegress).
function M.set_body(view, body)
  view:set_body(body)
  view:del_header("Content-Encoding")
end

function M.check_codec(value, what)
  if value ~= nil and value ~= "" and value ~= "gzip" then
    error(what .. ": only gzip is supported", 0)
  end
end

-- compress, decompress and body of an adaptor's spec, checked as Easegress does.
function M.check_codecs(spec)
  M.check_codec(spec.compress, "compress")
  M.check_codec(spec.decompress, "decompress")
  local compress = spec.compress ~= nil and spec.compress ~= ""
  local decompress = spec.decompress ~= nil and spec.decompress ~= ""
  if compress and decompress then
    error("compress and decompress cannot both be set", 0)
  end
  if decompress and spec.body ~= nil and spec.body ~= "" then
    error("decompress: no need to decompress when body is set", 0)
  end
end

return M
