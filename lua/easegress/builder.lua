-- easegress.builder: what the template-driven filters share (RequestBuilder,
-- ResponseBuilder, DataBuilder, ResultBuilder, and the adaptors' `template`): compile at
-- build time, render against the data root, read the YAML the template produced.
local C = require "easegress.c"
local template = require "easegress.template"
local template_data = require "easegress.template_data"

local M = {}

-- Compile spec.template (with leftDelim/rightDelim) once; errors are submit-time errors.
function M.compile(spec, what)
  if spec.template == nil then return nil end
  if type(spec.template) ~= "string" then error("template: must be a string", 0) end
  local tpl, err = template.compile(spec.template, {
    name = what or spec.name or "template",
    left_delim = spec.leftDelim,
    right_delim = spec.rightDelim,
  })
  if not tpl then error("template: " .. err, 0) end
  return tpl
end

-- The name of the namespace ctx works in.
function M.namespace_name(ctx)
  for name, index in pairs(C.namespaces(ctx._x)) do
    if index == ctx._ns then return name end
  end
  return "DEFAULT"
end

-- DataBuilder outputs live in ctx.vars, keyed for templates as .data.<key>.
function M.data(ctx)
  local d = ctx.vars._eg_data
  if not d then
    d = {}
    ctx.vars._eg_data = d
  end
  return d
end

-- Render to text, or nil and the error.
function M.render_text(tpl, ctx)
  local root = template_data.root(ctx._x, M.namespace_name(ctx), M.data(ctx))
  return tpl:render(root)
end

-- Render and read the result as YAML (nil renders as an empty map).
function M.render_yaml(tpl, ctx)
  local text, err = M.render_text(tpl, ctx)
  if not text then return nil, err end
  if text:match("^%s*$") then return {} end
  local value, yerr = C.yaml_decode(text)
  if yerr then return nil, "the template's output is not valid YAML: " .. yerr end
  return value == nil and {} or value
end

-- Go's encoding/json matches keys case-insensitively: field("statusCode") finds StatusCode.
function M.field(t, name)
  if type(t) ~= "table" then return nil end
  if t[name] ~= nil then return t[name] end
  local lower = name:lower()
  for k, v in pairs(t) do
    if type(k) == "string" and k:lower() == lower then return v end
  end
  return nil
end

-- A scalar of a template's output as a string (Go's YAML decoder gives a string field the
-- text of any scalar); nil stays nil; a map or a list is an error (raised).
function M.scalar(v, what)
  local t = type(v)
  if v == nil or t == "string" then return v end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v == math.floor(v) and v > -2^53 and v < 2^53 then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  error(what .. ": must be a string, not a " .. (t == "table" and "map or list" or t), 0)
end

-- Headers as a template gives them: { name = { v1, v2 } } (Go's map[string][]string) or
-- { name = "v" }; returns { { name, { values } }, ... } or raises on a malformed map.
function M.headers(headers)
  if headers == nil then return {} end
  if type(headers) ~= "table" or headers[1] ~= nil then error("headers: must be a map", 0) end
  local list = {}
  for name, values in pairs(headers) do
    local what = "headers." .. tostring(name)
    local vs = {}
    if type(values) == "table" then
      for i, v in ipairs(values) do vs[i] = M.scalar(v, what) end
      if next(values) ~= nil and #vs == 0 then error(what .. ": must be a list of strings", 0) end
    elseif values ~= nil then
      vs[1] = M.scalar(values, what)
    end
    list[#list + 1] = { tostring(name), vs }
  end
  return list
end

-- Apply what M.headers returned: each name set to its values.
function M.apply_headers(set_header, add_header, list)
  for _, h in ipairs(list) do
    for i, v in ipairs(h[2]) do
      if i == 1 then set_header(h[1], v) else add_header(h[1], v) end
    end
  end
end

-- The fields RequestBuilder and ResponseBuilder share.
function M.builder_schema()
  return {
    protocol = { type = "string" },
    sourceNamespace = { type = "string" },
    template = { type = "string" },
    leftDelim = { type = "string" },
    rightDelim = { type = "string" },
  }
end

-- Source namespace (builders' sourceNamespace) validation.
function M.check_source(spec)
  if spec.sourceNamespace ~= nil and spec.template ~= nil then
    error("sourceNamespace and template cannot both be set", 0)
  end
  if spec.sourceNamespace == nil and spec.template == nil then
    error("one of sourceNamespace or template is required", 0)
  end
  if spec.protocol ~= nil and spec.protocol ~= "http" then
    error("protocol: only http is supported", 0)
  end
end

return M
