/* lua_re.c — PCRE2 regular expressions for Lua (easegress.c.re; eg.re wraps it).
 *
 * Semantics follow Go's regexp where the two differ from Perl's, since configs and filters
 * come from Easegress: `$` matches only at the very end (PCRE2_DOLLAR_ENDONLY) unless "m"
 * is given; global matching skips an empty match right after a previous match and steps
 * over whole UTF-8 characters; replacement templates use Go's $name / ${name} / $$ rules;
 * split is Go's Split.
 *
 * Each VM keeps a bounded LRU cache of compiled patterns (keyed by pattern and options),
 * owned by a userdata whose __gc frees them all when the VM closes. Matching runs under
 * match and depth limits, and JIT with a bounded stack, so a pathological pattern fails
 * with an error instead of holding the worker.
 *
 * Entries are reference counted: the cache holds one reference, and so does anything that
 * must outlive a possible eviction — a gmatch iterator, or a gsub whose replacement
 * function may itself use eg.re. Those references are userdata, so an error unwinding
 * the stack drops them through __gc. (Finalizers are assumed not to call eg.re: an entry's
 * shared match data is used without a reference in between calls into Lua.) */
#include "lua_libs.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <lauxlib.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MT "easegress.re_cache"
#define REF_MT "easegress.re_ref"
#define CACHE_SIZE 256
#define NBUCKETS 512           /* power of two, about twice CACHE_SIZE */
#define MATCH_LIMIT 100000
#define DEPTH_LIMIT 1000
/* Backtracking memory of the interpreter (KiB); PCRE2's default is 20 GB. */
#define HEAP_LIMIT_KIB (16 * 1024)
#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)

typedef struct re_entry {
    struct re_entry *prev, *next;   /* LRU order: prev is more recent */
    struct re_entry *hnext;         /* bucket chain */
    uint32_t hash, opts;
    int refs;
    pcre2_code *code;
    pcre2_match_data *md;           /* shared by the calls that need no reference */
    uint32_t ncap;                  /* capture groups + 1 (the whole match) */
    uint32_t name_count, name_size;
    PCRE2_SPTR name_table;
    size_t plen;
    char pattern[];
} re_entry;

typedef struct {
    re_entry *buckets[NBUCKETS];
    re_entry *head, *tail;          /* most and least recently used */
    size_t count;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit_stack;
    bool closed;
} re_cache;

/* A reference to an entry that must survive eviction; a gmatch iterator's state too. */
typedef struct {
    re_entry *e;
    pcre2_match_data *md;           /* the iterator's own, or NULL */
    size_t pos;
    size_t prev_end;                /* SIZE_MAX: no match yet */
    bool done;
} re_ref;

/* ---- cache ---- */

static void entry_release(re_entry *e)
{
    if (--e->refs > 0)
        return;
    pcre2_match_data_free(e->md);
    pcre2_code_free(e->code);
    free(e);
}

static void lru_unlink(re_cache *c, re_entry *e)
{
    if (e->prev) e->prev->next = e->next; else c->head = e->next;
    if (e->next) e->next->prev = e->prev; else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(re_cache *c, re_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head) c->head->prev = e; else c->tail = e;
    c->head = e;
}

static void evict(re_cache *c, re_entry *e)
{
    re_entry **link = &c->buckets[e->hash & (NBUCKETS - 1)];
    while (*link != e)
        link = &(*link)->hnext;
    *link = e->hnext;
    lru_unlink(c, e);
    c->count--;
    entry_release(e);
}

static int cache_gc(lua_State *L)
{
    re_cache *c = luaL_checkudata(L, 1, CACHE_MT);
    if (c->closed)
        return 0;
    c->closed = true;
    while (c->tail)
        evict(c, c->tail);
    pcre2_match_context_free(c->mctx);
    if (c->jit_stack)
        pcre2_jit_stack_free(c->jit_stack);
    return 0;
}

static uint32_t hash_pattern(const char *p, size_t len, uint32_t opts)
{
    uint32_t h = 2166136261u ^ opts;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

static re_cache *cache_of(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* The compiled pattern, or NULL with nil, message pushed. */
static re_entry *lookup(lua_State *L, re_cache *c, const char *pat, size_t plen, uint32_t opts)
{
    uint32_t h = hash_pattern(pat, plen, opts);
    for (re_entry *e = c->buckets[h & (NBUCKETS - 1)]; e; e = e->hnext) {
        if (e->hash == h && e->opts == opts && e->plen == plen && memcmp(e->pattern, pat, plen) == 0) {
            if (c->head != e) {
                lru_unlink(c, e);
                lru_push_front(c, e);
            }
            return e;
        }
    }
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, plen, opts, &errcode, &erroff, NULL);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        lua_pushnil(L);
        lua_pushfstring(L, "invalid regex at offset %d: %s", (int)erroff, (const char *)msg);
        return NULL;
    }
    /* Without JIT (unsupported CPU, no executable memory) the interpreter still works. */
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    re_entry *e = malloc(sizeof *e + plen);
    pcre2_match_data *md = e ? pcre2_match_data_create_from_pattern(code, NULL) : NULL;
    if (!md) {
        free(e);
        pcre2_code_free(code);
        luaL_error(L, "eg.re: out of memory");
        return NULL;
    }
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->opts = opts;
    e->refs = 1;
    e->code = code;
    e->md = md;
    uint32_t caps = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &caps);
    e->ncap = caps + 1;
    pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &e->name_count);
    pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &e->name_size);
    pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &e->name_table);
    e->plen = plen;
    memcpy(e->pattern, pat, plen);
    re_entry **head = &c->buckets[h & (NBUCKETS - 1)];
    e->hnext = *head;
    *head = e;
    lru_push_front(c, e);
    if (++c->count > CACHE_SIZE)
        evict(c, c->tail);
    return e;
}

/* ---- arguments ---- */

static uint32_t check_flags(lua_State *L, int idx)
{
    size_t n;
    const char *f = luaL_optlstring(L, idx, "", &n);
    uint32_t opts = PCRE2_DOLLAR_ENDONLY;
    for (size_t i = 0; i < n; i++) {
        switch (f[i]) {
        case 'i': opts |= PCRE2_CASELESS; break;
        case 'm': opts |= PCRE2_MULTILINE; break;
        case 's': opts |= PCRE2_DOTALL; break;
        case 'x': opts |= PCRE2_EXTENDED; break;
        /* Invalid UTF-8 in a subject then never matches, instead of failing the call. */
        case 'u': opts |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF; break;
        default:
            luaL_argerror(L, idx, lua_pushfstring(L, "unknown regex flag '%c' (flags: imsxu)", f[i]));
        }
    }
    return opts;
}

/* ---- matching ---- */

/* pcre2_match: > 0 matched, 0 no match, < 0 failed (nil, message pushed). */
static int exec(lua_State *L, re_cache *c, re_entry *e, pcre2_match_data *md, const char *s, size_t len, size_t start)
{
    int rc = pcre2_match(e->code, (PCRE2_SPTR)s, len, start, 0, md, c->mctx);
    if (rc > 0)
        return rc;
    if (rc == PCRE2_ERROR_NOMATCH || rc == 0)
        return 0;
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(rc, msg, sizeof msg);
    lua_pushnil(L);
    lua_pushfstring(L, "regex match failed: %s", (const char *)msg);
    return -1;
}

static void group_span(pcre2_match_data *md, int rc, uint32_t i, size_t *from, size_t *to, bool *set)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *set = (int)i < rc && ov[2 * i] != PCRE2_UNSET;
    *from = *set ? ov[2 * i] : 0;
    /* \K inside a lookahead can report an end before the start. */
    *to = *set && ov[2 * i + 1] > ov[2 * i] ? ov[2 * i + 1] : *from;
}

/* { [0] = whole, [1] = group 1, ..., name = group }; unset groups are false. */
static void push_captures(lua_State *L, re_entry *e, pcre2_match_data *md, int rc, const char *s)
{
    lua_createtable(L, (int)e->ncap, (int)e->name_count);
    for (uint32_t i = 0; i < e->ncap; i++) {
        size_t from, to;
        bool set;
        group_span(md, rc, i, &from, &to, &set);
        if (set)
            lua_pushlstring(L, s + from, to - from);
        else
            lua_pushboolean(L, 0);
        lua_rawseti(L, -2, (int)i);
    }
    PCRE2_SPTR t = e->name_table;
    for (uint32_t i = 0; i < e->name_count; i++, t += e->name_size) {
        int group = (t[0] << 8) | t[1];
        const char *name = (const char *)t + 2;
        /* With duplicate names (?J), the first group that is set wins. */
        lua_getfield(L, -1, name);
        bool have = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (have)
            continue;
        lua_rawgeti(L, -1, group);
        lua_setfield(L, -2, name);
    }
}

/* Bytes of the UTF-8 character at s[pos] (1 for an invalid byte, 0 at the end), as Go
 * steps over a rune after an empty match. */
static size_t char_width(const char *s, size_t len, size_t pos)
{
    if (pos >= len)
        return 0;
    unsigned char c = (unsigned char)s[pos];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    if (pos + n > len)
        return 1;
    for (size_t i = 1; i < n; i++) {
        if (((unsigned char)s[pos + i] & 0xc0) != 0x80)
            return 1;
    }
    return n;
}

/* The next match at or after *pos, with Go's rule for empty matches (one right after the
 * previous match is skipped). Returns rc as exec(); *pos and *prev_end advance. */
static int next_match(lua_State *L, re_cache *c, re_entry *e, pcre2_match_data *md, const char *s, size_t len,
                      size_t *pos, size_t *prev_end)
{
    while (*pos <= len) {
        int rc = exec(L, c, e, md, s, len, *pos);
        if (rc <= 0)
            return rc;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t from = ov[0], to = ov[1] > ov[0] ? ov[1] : ov[0];
        bool accept = true;
        if (to == *pos) {
            /* An empty match: step over one character. */
            accept = from != *prev_end;
            size_t w = char_width(s, len, *pos);
            *pos += w ? w : 1;
        } else
            *pos = to;
        *prev_end = to;
        if (accept)
            return rc;
    }
    return 0;
}

/* match and find: the first match of (subject, pattern, flags) at arguments 1-3. Returns
 * the number of captures (> 0); otherwise what to return to Lua, already pushed (nil for no
 * match, nil and the error) as -1 or -2. */
static int first_match(lua_State *L, re_entry **ep, const char **sp)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *pat = luaL_checklstring(L, 2, &plen);
    uint32_t opts = check_flags(L, 3);
    re_cache *c = cache_of(L);
    re_entry *e = lookup(L, c, pat, plen, opts);
    if (!e)
        return -2;
    int rc = exec(L, c, e, e->md, s, len, 0);
    if (rc < 0)
        return -2;
    if (rc == 0) {
        lua_pushnil(L);
        return -1;
    }
    *ep = e;
    *sp = s;
    return rc;
}

/* eg.re.match(subject, pattern, flags?) -> captures, or nil (nil, err on failure) */
static int re_match(lua_State *L)
{
    re_entry *e;
    const char *s;
    int rc = first_match(L, &e, &s);
    if (rc < 0)
        return -rc;
    push_captures(L, e, e->md, rc, s);
    return 1;
}

/* eg.re.find(subject, pattern, flags?) -> from, to (1-based, inclusive), or nil */
static int re_find(lua_State *L)
{
    re_entry *e;
    const char *s;
    int rc = first_match(L, &e, &s);
    if (rc < 0)
        return -rc;
    size_t from, to;
    bool set;
    group_span(e->md, rc, 0, &from, &to, &set);
    lua_pushnumber(L, (lua_Number)from + 1);
    lua_pushnumber(L, (lua_Number)to);
    return 2;
}

/* A reference userdata pinning e (and, for an iterator, its own match data). */
static re_ref *push_ref(lua_State *L, re_entry *e, bool own_md)
{
    re_ref *r = lua_newuserdata(L, sizeof *r);
    memset(r, 0, sizeof *r);
    r->prev_end = SIZE_MAX;
    luaL_getmetatable(L, REF_MT);
    lua_setmetatable(L, -2);
    r->e = e;
    e->refs++;
    if (own_md) {
        r->md = pcre2_match_data_create_from_pattern(e->code, NULL);
        if (!r->md)
            luaL_error(L, "eg.re: out of memory");
    }
    return r;
}

static int ref_gc(lua_State *L)
{
    re_ref *r = luaL_checkudata(L, 1, REF_MT);
    if (r->md)
        pcre2_match_data_free(r->md);
    r->md = NULL;
    if (r->e)
        entry_release(r->e);
    r->e = NULL;
    return 0;
}

/* upvalues: cache, subject, ref */
static int gmatch_next(lua_State *L)
{
    re_cache *c = cache_of(L);
    size_t len;
    const char *s = lua_tolstring(L, lua_upvalueindex(2), &len);
    re_ref *r = lua_touserdata(L, lua_upvalueindex(3));
    if (r->done || !r->e)
        return 0;
    int rc = next_match(L, c, r->e, r->md, s, len, &r->pos, &r->prev_end);
    if (rc <= 0) {
        r->done = true;
        /* A failed match cannot be told from the end in a for loop: raise it. */
        if (rc < 0)
            return lua_error(L);
        return 0;
    }
    push_captures(L, r->e, r->md, rc, s);
    return 1;
}

/* eg.re.gmatch(subject, pattern, flags?) -> iterator of captures (nil, err for a bad pattern) */
static int re_gmatch(lua_State *L)
{
    size_t plen;
    luaL_checkstring(L, 1);
    const char *pat = luaL_checklstring(L, 2, &plen);
    uint32_t opts = check_flags(L, 3);
    re_cache *c = cache_of(L);
    re_entry *e = lookup(L, c, pat, plen, opts);
    if (!e)
        return 2;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    push_ref(L, e, true);
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* ---- replacement ---- */

/* Go's extract: a name of letters, digits and _ after $, braced or not. Bytes >= 0x80 count
 * as letters (Go accepts any Unicode letter). Returns the bytes consumed, 0 if malformed. */
static size_t extract_name(const char *t, size_t n, const char **name, size_t *nlen, long *num)
{
    size_t i = 0;
    bool brace = n > 0 && t[0] == '{';
    if (brace)
        i = 1;
    size_t start = i;
    while (i < n) {
        unsigned char ch = (unsigned char)t[i];
        if (!(ch >= 0x80 || ch == '_' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
            break;
        i++;
    }
    if (i == start)
        return 0;
    *name = t + start;
    *nlen = i - start;
    if (brace) {
        if (i >= n || t[i] != '}')
            return 0;
        i++;
    }
    *num = 0;
    for (size_t k = 0; k < *nlen; k++) {
        char ch = (*name)[k];
        if (ch < '0' || ch > '9' || *num >= 100000000) {
            *num = -1;
            break;
        }
        *num = *num * 10 + (ch - '0');
    }
    if ((*name)[0] == '0' && *nlen > 1)
        *num = -1;
    return i;
}

static void add_group(luaL_Buffer *b, pcre2_match_data *md, int rc, uint32_t i, const char *s)
{
    size_t from, to;
    bool set;
    group_span(md, rc, i, &from, &to, &set);
    if (set)
        luaL_addlstring(b, s + from, to - from);
}

/* The replacement template with $1, ${1}, $name, ${name} and $$ expanded (Go's Expand). */
static void expand(luaL_Buffer *b, re_entry *e, pcre2_match_data *md, int rc, const char *s, const char *t, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *dollar = memchr(t + i, '$', n - i);
        if (!dollar) {
            luaL_addlstring(b, t + i, n - i);
            return;
        }
        size_t at = (size_t)(dollar - t);
        luaL_addlstring(b, t + i, at - i);
        i = at + 1;
        if (i < n && t[i] == '$') {
            luaL_addchar(b, '$');
            i++;
            continue;
        }
        const char *name;
        size_t nlen;
        long num;
        size_t used = extract_name(t + i, n - i, &name, &nlen, &num);
        if (!used) {
            /* Malformed: the $ is literal. */
            luaL_addchar(b, '$');
            continue;
        }
        i += used;
        if (num >= 0) {
            if ((uint32_t)num < e->ncap)
                add_group(b, md, rc, (uint32_t)num, s);
            continue;
        }
        PCRE2_SPTR nt = e->name_table;
        for (uint32_t k = 0; k < e->name_count; k++, nt += e->name_size) {
            const char *gname = (const char *)nt + 2;
            if (strlen(gname) == nlen && memcmp(gname, name, nlen) == 0) {
                add_group(b, md, rc, (uint32_t)((nt[0] << 8) | nt[1]), s);
                break;
            }
        }
    }
}

/* Shared by sub (max 1) and gsub: -> new string, count (nil, err on failure). */
static int replace(lua_State *L, bool all)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *pat = luaL_checklstring(L, 2, &plen);
    int rtype = lua_type(L, 3);
    if (rtype != LUA_TSTRING && rtype != LUA_TNUMBER && rtype != LUA_TFUNCTION)
        return luaL_argerror(L, 3, "string or function expected");
    uint32_t opts = check_flags(L, 4);
    size_t tlen = 0;
    const char *tmpl = rtype == LUA_TFUNCTION ? NULL : lua_tolstring(L, 3, &tlen);
    re_cache *c = cache_of(L);
    re_entry *e = lookup(L, c, pat, plen, opts);
    if (!e)
        return 2;
    /* A replacement function may use eg.re and so evict e: hold a reference meanwhile. */
    if (!tmpl)
        push_ref(L, e, false);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t search = 0, last_end = 0, count = 0;
    while (search <= len) {
        int rc = exec(L, c, e, e->md, s, len, search);
        if (rc < 0)
            return 2;
        if (rc == 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
        size_t from = ov[0], to = ov[1] > ov[0] ? ov[1] : ov[0];
        if (from > last_end)
            luaL_addlstring(&b, s + last_end, from - last_end);
        /* Not for an empty match right after the previous one (Go: no double replacement
         * for patterns that match both empty and non-empty strings). */
        if (to > last_end || from == 0 || (!all && count == 0)) {
            count++;
            if (tmpl)
                expand(&b, e, e->md, rc, s, tmpl, tlen);
            else {
                lua_pushvalue(L, 3);
                push_captures(L, e, e->md, rc, s);
                lua_call(L, 1, 1);
                int t = lua_type(L, -1);
                if (t == LUA_TSTRING || t == LUA_TNUMBER)
                    luaL_addvalue(&b);
                else if (t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
                    /* nil or false keeps the match, as string.gsub does. */
                    lua_pop(L, 1);
                    luaL_addlstring(&b, s + from, to - from);
                } else
                    return luaL_error(L, "eg.re: invalid replacement value (a %s)", luaL_typename(L, -1));
            }
        }
        last_end = to;
        if (!all)
            break;
        size_t w = char_width(s, len, search);
        if (search + w > to)
            search += w;
        else if (search + 1 > to)
            search++;
        else
            search = to;
    }
    if (last_end < len)
        luaL_addlstring(&b, s + last_end, len - last_end);
    luaL_pushresult(&b);
    lua_pushnumber(L, (lua_Number)count);
    return 2;
}

/* eg.re.sub(subject, pattern, replacement, flags?) -> string, count (0 or 1) */
static int re_sub(lua_State *L) { return replace(L, false); }

/* eg.re.gsub(subject, pattern, replacement, flags?) -> string, count */
static int re_gsub(lua_State *L) { return replace(L, true); }

/* eg.re.split(subject, pattern, flags?, n?) -> { pieces } as Go's Split: n < 0 (default)
 * all, n > 0 at most n pieces (the last one unsplit), n == 0 none. */
static int re_split(lua_State *L)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *pat = luaL_checklstring(L, 2, &plen);
    uint32_t opts = check_flags(L, 3);
    lua_Integer n = luaL_optinteger(L, 4, -1);
    re_cache *c = cache_of(L);
    re_entry *e = lookup(L, c, pat, plen, opts);
    if (!e)
        return 2;
    lua_newtable(L);
    int pieces = 0;
    if (n == 0)
        return 1;
    if (plen > 0 && len == 0) {
        lua_pushliteral(L, "");
        lua_rawseti(L, -2, 1);
        return 1;
    }
    size_t pos = 0, prev_end = SIZE_MAX, beg = 0, end = 0;
    lua_Integer matches = 0;
    for (;;) {
        if (n > 0 && matches >= n)
            break;
        int rc = next_match(L, c, e, e->md, s, len, &pos, &prev_end);
        if (rc < 0)
            return 2;
        if (rc == 0)
            break;
        matches++;
        if (n > 0 && pieces == n - 1)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
        size_t to = ov[1] > ov[0] ? ov[1] : ov[0];
        end = ov[0];
        if (to != 0) {
            lua_pushlstring(L, s + beg, end - beg);
            lua_rawseti(L, -2, ++pieces);
        }
        beg = to;
    }
    if (end != len) {
        lua_pushlstring(L, s + beg, len - beg);
        lua_rawseti(L, -2, ++pieces);
    }
    return 1;
}

static const luaL_Reg re_funcs[] = {
    { "match", re_match },
    { "find", re_find },
    { "gmatch", re_gmatch },
    { "sub", re_sub },
    { "gsub", re_gsub },
    { "split", re_split },
    { NULL, NULL },
};

void eg_lua_re_register(lua_State *L)
{
    luaL_newmetatable(L, REF_MT);
    lua_pushcfunction(L, ref_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    lua_newtable(L);
    re_cache *c = lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    luaL_newmetatable(L, CACHE_MT);
    lua_pushcfunction(L, cache_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    c->mctx = pcre2_match_context_create(NULL);
    if (!c->mctx)
        luaL_error(L, "eg.re: out of memory");
    pcre2_set_match_limit(c->mctx, MATCH_LIMIT);
    pcre2_set_depth_limit(c->mctx, DEPTH_LIMIT);
    pcre2_set_heap_limit(c->mctx, HEAP_LIMIT_KIB);
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    if (jit) {
        c->jit_stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
        if (c->jit_stack)
            pcre2_jit_stack_assign(c->mctx, NULL, c->jit_stack);
    }
    /* Every function gets the cache as upvalue 1. */
    luaL_openlib(L, NULL, re_funcs, 1);
    lua_setfield(L, -2, "re");
}
