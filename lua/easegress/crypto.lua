-- easegress.crypto: eg.crypto, digests, HMAC, base64 and randomness through OpenSSL.
--
--   eg.crypto.md5(s), sha1(s), sha256(s), sha512(s)   -- raw digest bytes
--   eg.crypto.digest(algo, s)                         -- the same by name
--   eg.crypto.hmac(algo, key, s)                      -- raw MAC; algo "md5" | "sha1" |
--                                                        "sha256" | "sha512"
--   eg.crypto.hex(bytes)                              -- lowercase hex
--   eg.crypto.base64_encode(s), base64_decode(s)      -- RFC 4648 §4, padded
--   eg.crypto.base64url_encode(s), base64url_decode(s) -- RFC 4648 §5, unpadded
--       decoding skips \r and \n and returns nil, "invalid base64" for anything else
--   eg.crypto.random_bytes(n)                         -- n bytes from OpenSSL's CSPRNG
--   eg.crypto.constant_time_eq(a, b)                  -- comparison whose time depends on
--                                                        the length only
local C = require("easegress.c").crypto

local crypto = {}
for name, fn in pairs(C) do
  crypto[name] = fn
end

return crypto
