-- easegress.re: eg.re, regular expressions through PCRE2, with Go's regexp semantics where
-- Perl's differ (Easegress configs are written for Go).
--
--   eg.re.match(subject, pattern, flags?)   -- captures or nil: [0] whole match, [1]..[n]
--                                              groups (false when unset), named groups by name
--   eg.re.find(subject, pattern, flags?)    -- from, to (1-based, inclusive) or nil
--   eg.re.gmatch(subject, pattern, flags?)  -- iterator of captures tables
--   eg.re.sub(subject, pattern, repl, flags?)   -- new string, count (first match only)
--   eg.re.gsub(subject, pattern, repl, flags?)  -- new string, count (every match)
--       repl: a template with $0, $1, ${1}, $name, ${name}, $$ (Go's Expand: "$1x" is the
--       group named "1x", write "${1}x"), or a function(captures) -> string (nil or
--       false keeps the match)
--   eg.re.split(subject, pattern, flags?, n?)   -- pieces, as Go's Split (n < 0: all)
--   eg.re.quote(s)                          -- s with every metacharacter escaped
--
-- flags: "i" caseless, "m" multiline, "s" dot matches newline, "x" extended, "u" UTF-8
-- (invalid UTF-8 then never matches). `$` matches only at the very end unless "m".
-- A bad pattern gives nil, "invalid regex at offset N: ..."; a match that exceeds the
-- backtracking limits gives nil, "regex match failed: ..." (gmatch raises it).
-- Compiled patterns are cached per worker (256, least recently used dropped).
local C = require("easegress.c").re

local re = {
  match = C.match,
  find = C.find,
  gmatch = C.gmatch,
  sub = C.sub,
  gsub = C.gsub,
  split = C.split,
}

-- Go's regexp.QuoteMeta.
function re.quote(s)
  return (tostring(s):gsub("[\\%.%+%*%?%(%)|%[%]{}%^%$]", "\\%0"))
end

return re
