-- eg.crypto against published test vectors: FIPS 180 (SHA), RFC 1321 (MD5), RFC 4231
-- (HMAC-SHA256/512), RFC 2202 (HMAC-MD5/SHA1), RFC 4648 (base64).
local crypto = require "easegress.crypto"
local hex = crypto.hex

local function unhex(s)
  return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

describe("eg.crypto", function()
  it("is eg.crypto", function()
    assert.are.equal(crypto, eg.crypto)
  end)

  describe("digests", function()
    it("computes SHA-1, SHA-256 and SHA-512 (FIPS 180 examples)", function()
      assert.are.equal("a9993e364706816aba3e25717850c26c9cd0d89d", hex(crypto.sha1("abc")))
      assert.are.equal("da39a3ee5e6b4b0d3255bfef95601890afd80709", hex(crypto.sha1("")))
      assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(crypto.sha256("abc")))
      assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex(crypto.sha256("")))
      assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        hex(crypto.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))
      assert.are.equal("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        .. "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", hex(crypto.sha512("abc")))
    end)

    it("computes MD5 (RFC 1321)", function()
      assert.are.equal("d41d8cd98f00b204e9800998ecf8427e", hex(crypto.md5("")))
      assert.are.equal("900150983cd24fb0d6963f7d28e17f72", hex(crypto.md5("abc")))
    end)

    it("returns raw bytes, and digests by name", function()
      assert.are.equal(32, #crypto.sha256("x"))
      assert.are.equal(20, #crypto.sha1("x"))
      assert.are.equal(64, #crypto.sha512("x"))
      assert.are.equal(crypto.sha256("abc"), crypto.digest("sha256", "abc"))
      assert.has_error(function() crypto.digest("sha3", "abc") end)
    end)

    it("hashes binary data with NUL bytes", function()
      assert.are_not.equal(crypto.sha256("a\0b"), crypto.sha256("a"))
    end)
  end)

  describe("hmac", function()
    it("matches RFC 4231", function()
      -- test case 1
      assert.are.equal("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        hex(crypto.hmac("sha256", string.rep("\11", 20), "Hi There")))
      assert.are.equal("87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        .. "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
        hex(crypto.hmac("sha512", string.rep("\11", 20), "Hi There")))
      -- test case 2
      assert.are.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        hex(crypto.hmac("sha256", "Jefe", "what do ya want for nothing?")))
      assert.are.equal("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        .. "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        hex(crypto.hmac("sha512", "Jefe", "what do ya want for nothing?")))
      -- test case 3
      assert.are.equal("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        hex(crypto.hmac("sha256", string.rep("\170", 20), string.rep("\221", 50))))
      -- test cases 6 and 7: a key longer than the block
      local long_key = string.rep("\170", 131)
      assert.are.equal("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        hex(crypto.hmac("sha256", long_key, "Test Using Larger Than Block-Size Key - Hash Key First")))
      assert.are.equal("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        hex(crypto.hmac("sha256", long_key, "This is a test using a larger than block-size key and a larger "
          .. "than block-size data. The key needs to be hashed before being used by the HMAC algorithm.")))
    end)

    it("matches RFC 2202 for MD5 and SHA-1", function()
      assert.are.equal("750c783e6ab0b503eaa86e310a5db738", hex(crypto.hmac("md5", "Jefe", "what do ya want for nothing?")))
      assert.are.equal("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
        hex(crypto.hmac("sha1", "Jefe", "what do ya want for nothing?")))
    end)

    it("takes an empty key, and re-keys between calls", function()
      assert.are.equal("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
        hex(crypto.hmac("sha256", "", "")))
      local a = crypto.hmac("sha256", "k1", "data")
      local b = crypto.hmac("sha256", "k2", "data")
      assert.are_not.equal(a, b)
      assert.are.equal(a, crypto.hmac("sha256", "k1", "data"))
    end)

    it("refuses an unknown algorithm", function()
      assert.has_error(function() crypto.hmac("sha384x", "k", "d") end)
    end)
  end)

  describe("hex", function()
    it("encodes lowercase", function()
      assert.are.equal("", hex(""))
      assert.are.equal("00ff10ab", hex("\0\255\16\171"))
    end)
  end)

  describe("base64", function()
    local vectors = {
      { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
      { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    }

    it("encodes and decodes the RFC 4648 vectors", function()
      for _, v in ipairs(vectors) do
        assert.are.equal(v[2], crypto.base64_encode(v[1]))
        assert.are.equal(v[1], crypto.base64_decode(v[2]))
      end
    end)

    it("has an unpadded URL-safe form", function()
      for _, v in ipairs(vectors) do
        local url = v[2]:gsub("=", "")
        assert.are.equal(url, crypto.base64url_encode(v[1]))
        assert.are.equal(v[1], crypto.base64url_decode(url))
      end
      assert.are.equal("+/8=", crypto.base64_encode("\251\255"))
      assert.are.equal("-_8", crypto.base64url_encode("\251\255"))
      assert.are.equal("\251\255", crypto.base64url_decode("-_8"))
    end)

    it("round-trips every byte", function()
      local all = {}
      for i = 0, 255 do all[#all + 1] = string.char(i) end
      local s = table.concat(all)
      assert.are.equal(s, crypto.base64_decode(crypto.base64_encode(s)))
      assert.are.equal(s, crypto.base64url_decode(crypto.base64url_encode(s)))
    end)

    it("skips line breaks and rejects anything else", function()
      assert.are.equal("foobar", crypto.base64_decode("Zm9v\r\nYmFy\n"))
      for _, bad in ipairs({ "Zg=", "Zg", "Z", "Zm9v!", "Zg==Zg==", "Zm 9v", "Z===", "-_8=" }) do
        assert.are.same({ nil, "invalid base64" }, { crypto.base64_decode(bad) })
      end
      for _, bad in ipairs({ "Zg==", "Z", "+/8", "Zm9v!" }) do
        assert.are.same({ nil, "invalid base64" }, { crypto.base64url_decode(bad) })
      end
    end)
  end)

  describe("random_bytes", function()
    it("returns n fresh bytes", function()
      assert.are.equal(16, #crypto.random_bytes(16))
      assert.are.equal("", crypto.random_bytes(0))
      assert.are_not.equal(crypto.random_bytes(32), crypto.random_bytes(32))
      assert.has_error(function() crypto.random_bytes(-1) end)
      assert.has_error(function() crypto.random_bytes(2 * 1024 * 1024) end)
    end)
  end)

  describe("constant_time_eq", function()
    it("compares bytes", function()
      assert.is_true(crypto.constant_time_eq("secret", "secret"))
      assert.is_false(crypto.constant_time_eq("secret", "secreT"))
      assert.is_false(crypto.constant_time_eq("secret", "secret2"))
      assert.is_true(crypto.constant_time_eq("", ""))
      assert.is_true(crypto.constant_time_eq(unhex("00ff"), "\0\255"))
    end)
  end)
end)
