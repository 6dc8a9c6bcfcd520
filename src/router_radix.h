/* router_radix.h — the path tree of one rule of a RadixTree router (private to router.c).
 *
 * Patterns follow Easegress's RadixTree router (routers/radixtree, after go-chi's tree):
 *   /users/{name}            a parameter: one or more bytes up to the byte that follows the
 *                            `}` in the pattern (its "tail", '/' by default), no '/' inside
 *   /users/{id:[0-9]+}       a parameter that must match the regexp (anchored ^...$)
 *   /files/ + '*'            a final star: the rest of the path (possibly empty), captured
 *                            as EG_WILDCARD
 * At each position the tree tries static text first, then regexp parameters, then plain
 * parameters, then the wildcard, backtracking on failure, so the most specific pattern wins
 * whatever the definition order. A leaf holds the paths whose pattern ends there, tried in
 * definition order by the caller's check (methods, headers, ...). */
#ifndef EG_ROUTER_RADIX_H
#define EG_ROUTER_RADIX_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EG_RADIX_MAX_PARAMS 32
#define EG_RADIX_WILDCARD "EG_WILDCARD"

/* A parsed pattern: its parameter keys in order (EG_WILDCARD for a trailing '*'). */
typedef struct {
    char **keys;
    size_t nkeys;
} eg_radix_keys;

/* Parse a pattern's keys as patParamKeys does. Returns NULL, or a static error message with
 * the offending key (if any) in *bad (malloc'd; free it). */
const char *eg_radix_parse_keys(const char *pattern, eg_radix_keys *out, char **bad);
void eg_radix_keys_free(eg_radix_keys *k);
/* True when the pattern holds no '{' and no '*' (matched by exact comparison). */
bool eg_radix_is_static(const char *pattern);

typedef struct eg_radix eg_radix;

/* Compiles regexps with the router's flags; returns NULL with the error written in err. */
typedef pcre2_code *(*eg_radix_re_compile)(void *ud, const char *pattern, char *err, size_t errlen);

eg_radix *eg_radix_new(void);
void eg_radix_free(eg_radix *t);
/* Insert a pattern (already accepted by eg_radix_parse_keys) for path ordinal ord. False with
 * a message in err on a bad regexp or out of memory. */
bool eg_radix_insert(eg_radix *t, const char *pattern, uint32_t ord, eg_radix_re_compile rc,
                     void *rc_ud, char *err, size_t errlen);
/* The largest number of capture groups of any regexp in the tree. */
uint32_t eg_radix_max_groups(const eg_radix *t);

/* A captured value: offset and length into the searched path. */
typedef struct {
    size_t off, len;
} eg_radix_span;

typedef struct {
    /* Is the path with this ordinal a match (methods, headers, ...)? */
    bool (*accept)(void *ud, uint32_t ord);
    /* Does the regexp match the whole subject (it is anchored)? */
    bool (*re_match)(void *ud, const pcre2_code *re, const char *s, size_t n);
    void *ud;
} eg_radix_search;

/* Find the first accepted path for `path`. Returns true with *ord and the captured values
 * (in pattern order, *nvals of them) when one is found. */
bool eg_radix_find(const eg_radix *t, const char *path, size_t n, const eg_radix_search *s,
                   uint32_t *ord, eg_radix_span vals[EG_RADIX_MAX_PARAMS], size_t *nvals);

#endif
