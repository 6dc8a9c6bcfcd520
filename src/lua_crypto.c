/* lua_crypto.c — digests, HMAC, base64, random bytes and constant-time comparison through
 * OpenSSL (easegress.c.crypto; eg.crypto wraps it).
 *
 * The algorithms are fetched once per VM (OpenSSL 3 fetches by name are not free), and
 * each HMAC context is created once with its digest, so a call only re-keys it. All of it
 * lives in a userdata (every function's upvalue) whose __gc frees it when the VM closes. */
#include "lua_libs.h"

#include <lauxlib.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define STATE_MT "easegress.crypto_state"
#define MAX_RANDOM (1024 * 1024)

enum { ALG_MD5, ALG_SHA1, ALG_SHA256, ALG_SHA512, NALGS };
static const char *const alg_lua[NALGS] = { "md5", "sha1", "sha256", "sha512" };
static const char *const alg_ossl[NALGS] = { "MD5", "SHA1", "SHA256", "SHA512" };

typedef struct {
    EVP_MD *md[NALGS];
    EVP_MAC *hmac;
    EVP_MAC_CTX *mac[NALGS];
    EVP_MD_CTX *mdctx;
    bool freed;
} crypto_state;

static crypto_state *state_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* The error OpenSSL queued, as a Lua error. */
static int ossl_error(lua_State *L, const char *what)
{
    char msg[256];
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code)
        ERR_error_string_n(code, msg, sizeof msg);
    else
        snprintf(msg, sizeof msg, "unknown error");
    return luaL_error(L, "eg.crypto: %s: %s", what, msg);
}

static int check_alg(lua_State *L, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    for (int i = 0; i < NALGS; i++) {
        if (!strcmp(name, alg_lua[i]))
            return i;
    }
    return luaL_argerror(L, idx, lua_pushfstring(L, "unknown algorithm %s (md5, sha1, sha256, sha512)", name));
}

static int digest(lua_State *L, int alg, int idx)
{
    crypto_state *st = state_of(L);
    size_t len;
    const char *data = luaL_checklstring(L, idx, &len);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int outlen = 0;
    if (!st->md[alg])
        return luaL_error(L, "eg.crypto: %s is not available in this OpenSSL", alg_lua[alg]);
    if (!EVP_DigestInit_ex(st->mdctx, st->md[alg], NULL) || !EVP_DigestUpdate(st->mdctx, data, len) ||
        !EVP_DigestFinal_ex(st->mdctx, out, &outlen))
        return ossl_error(L, alg_lua[alg]);
    lua_pushlstring(L, (const char *)out, outlen);
    return 1;
}

/* eg.crypto.md5/sha1/sha256/sha512(data) -> raw digest */
static int c_md5(lua_State *L) { return digest(L, ALG_MD5, 1); }
static int c_sha1(lua_State *L) { return digest(L, ALG_SHA1, 1); }
static int c_sha256(lua_State *L) { return digest(L, ALG_SHA256, 1); }
static int c_sha512(lua_State *L) { return digest(L, ALG_SHA512, 1); }

/* eg.crypto.digest(algo, data) -> raw digest */
static int c_digest(lua_State *L) { return digest(L, check_alg(L, 1), 2); }

/* eg.crypto.hmac(algo, key, data) -> raw MAC */
static int c_hmac(lua_State *L)
{
    crypto_state *st = state_of(L);
    int alg = check_alg(L, 1);
    size_t klen, len;
    const char *key = luaL_checklstring(L, 2, &klen);
    const char *data = luaL_checklstring(L, 3, &len);
    EVP_MAC_CTX *ctx = st->mac[alg];
    if (!ctx)
        return luaL_error(L, "eg.crypto: hmac %s is not available in this OpenSSL", alg_lua[alg]);
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t outlen = 0;
    /* A NULL key would mean "keep the previous one": an empty key needs a real pointer. */
    static const unsigned char empty[1];
    if (!EVP_MAC_init(ctx, klen ? (const unsigned char *)key : empty, klen, NULL) ||
        !EVP_MAC_update(ctx, (const unsigned char *)data, len) || !EVP_MAC_final(ctx, out, &outlen, sizeof out))
        return ossl_error(L, "hmac");
    lua_pushlstring(L, (const char *)out, outlen);
    return 1;
}

/* eg.crypto.hex(bytes) -> lowercase hex */
static int c_hex(lua_State *L)
{
    static const char digits[] = "0123456789abcdef";
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < len; i++) {
        luaL_addchar(&b, digits[s[i] >> 4]);
        luaL_addchar(&b, digits[s[i] & 15]);
    }
    luaL_pushresult(&b);
    return 1;
}

/* ---- base64 ---- */

static int encode(lua_State *L, bool url)
{
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    if (len > (size_t)INT32_MAX / 4 * 3 - 3)
        return luaL_argerror(L, 1, "too long to encode");
    size_t cap = (len + 2) / 3 * 4 + 1;
    /* A GC-owned buffer: nothing leaks if a later push fails. */
    unsigned char *out = lua_newuserdata(L, cap);
    int n = EVP_EncodeBlock(out, s, (int)len);
    if (url) {
        while (n > 0 && out[n - 1] == '=')
            n--;
        for (int i = 0; i < n; i++)
            out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    lua_pushlstring(L, (const char *)out, (size_t)n);
    return 1;
}

static int c_b64_encode(lua_State *L) { return encode(L, false); }
static int c_b64url_encode(lua_State *L) { return encode(L, true); }

static bool b64_char(unsigned char c, bool url)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return url ? (c == '-' || c == '_') : (c == '+' || c == '/');
}

/* Standard: padded to a multiple of 4; url: unpadded (RFC 4648 §5, as Go's
 * RawURLEncoding). Line breaks (\r, \n) are skipped, as Go does; anything else outside the
 * alphabet is an error: nil, "invalid base64". */
static int decode(lua_State *L, bool url)
{
    size_t len;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
    if (len > (size_t)INT32_MAX - 4)
        return luaL_argerror(L, 1, "too long to decode");
    /* Normalised input (standard alphabet, padded) then the decoded bytes. */
    unsigned char *in = lua_newuserdata(L, len + 4);
    size_t n = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '\r' || c == '\n')
            continue;
        if (!url && c == '=') {
            if (++pad > 2)
                goto invalid;
        } else if (pad || !b64_char(c, url))
            goto invalid;
        in[n++] = url ? (c == '-' ? '+' : c == '_' ? '/' : c) : c;
    }
    if (url) {
        if (n % 4 == 1)
            goto invalid;
        while (n % 4) {
            in[n++] = '=';
            pad++;
        }
    } else if (n % 4)
        goto invalid;
    unsigned char *out = lua_newuserdata(L, n / 4 * 3 + 1);
    int m = n ? EVP_DecodeBlock(out, in, (int)n) : 0;
    if (m < 0)
        goto invalid;
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    lua_pushlstring(L, (const char *)out, (size_t)m - pad);
    return 1;
invalid:
    lua_pushnil(L);
    lua_pushliteral(L, "invalid base64");
    return 2;
}

static int c_b64_decode(lua_State *L) { return decode(L, false); }
static int c_b64url_decode(lua_State *L) { return decode(L, true); }

/* eg.crypto.random_bytes(n) -> n bytes from OpenSSL's CSPRNG */
static int c_random_bytes(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    if (n < 0 || n > MAX_RANDOM)
        return luaL_argerror(L, 1, "must be 0..1048576");
    unsigned char *out = lua_newuserdata(L, (size_t)n + 1);
    if (n && RAND_bytes(out, (int)n) != 1)
        return ossl_error(L, "random_bytes");
    lua_pushlstring(L, (const char *)out, (size_t)n);
    return 1;
}

/* eg.crypto.constant_time_eq(a, b) -> boolean; the time depends on the length only */
static int c_constant_time_eq(lua_State *L)
{
    size_t alen, blen;
    const char *a = luaL_checklstring(L, 1, &alen);
    const char *b = luaL_checklstring(L, 2, &blen);
    lua_pushboolean(L, alen == blen && CRYPTO_memcmp(a, b, alen) == 0);
    return 1;
}

static int state_gc(lua_State *L)
{
    crypto_state *st = luaL_checkudata(L, 1, STATE_MT);
    if (st->freed)
        return 0;
    st->freed = true;
    for (int i = 0; i < NALGS; i++) {
        EVP_MAC_CTX_free(st->mac[i]);
        EVP_MD_free(st->md[i]);
    }
    EVP_MAC_free(st->hmac);
    EVP_MD_CTX_free(st->mdctx);
    return 0;
}

static const luaL_Reg crypto_funcs[] = {
    { "md5", c_md5 },
    { "sha1", c_sha1 },
    { "sha256", c_sha256 },
    { "sha512", c_sha512 },
    { "digest", c_digest },
    { "hmac", c_hmac },
    { "hex", c_hex },
    { "base64_encode", c_b64_encode },
    { "base64_decode", c_b64_decode },
    { "base64url_encode", c_b64url_encode },
    { "base64url_decode", c_b64url_decode },
    { "random_bytes", c_random_bytes },
    { "constant_time_eq", c_constant_time_eq },
    { NULL, NULL },
};

void eg_lua_crypto_register(lua_State *L)
{
    lua_newtable(L);
    crypto_state *st = lua_newuserdata(L, sizeof *st);
    memset(st, 0, sizeof *st);
    luaL_newmetatable(L, STATE_MT);
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    /* A missing algorithm (a FIPS-only provider has no MD5) fails its calls, not the VM. */
    st->mdctx = EVP_MD_CTX_new();
    st->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    for (int i = 0; i < NALGS; i++) {
        st->md[i] = EVP_MD_fetch(NULL, alg_ossl[i], NULL);
        if (!st->md[i] || !st->hmac)
            continue;
        st->mac[i] = EVP_MAC_CTX_new(st->hmac);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)alg_ossl[i], 0),
            OSSL_PARAM_construct_end(),
        };
        if (st->mac[i] && !EVP_MAC_CTX_set_params(st->mac[i], params)) {
            EVP_MAC_CTX_free(st->mac[i]);
            st->mac[i] = NULL;
        }
    }
    ERR_clear_error();
    if (!st->mdctx)
        luaL_error(L, "eg.crypto: out of memory");
    luaL_openlib(L, NULL, crypto_funcs, 1);
    lua_setfield(L, -2, "crypto");
}
