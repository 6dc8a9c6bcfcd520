/* request_matcher.h — Easegress's StringMatcher, MethodAndURLMatcher and RequestMatcherSpec
 * (the Proxy pool `filter`, also used by mirrorPool and later by other filters).
 *
 * Semantics follow reference/easegress-spec.md §2 (StringMatcher) and §3 (Pool filter):
 *   StringMatcher {exact, prefix, regex, empty}: OR of the patterns that are set; `empty`
 *   excludes the others; at least one must be set. Regexps are PCRE2, unanchored search
 *   (Go's MatchString), `$` only at the very end (RE2's default).
 *   RequestMatcher policy ""/general: headers (any rule matches, or all with matchAllHeaders;
 *   a missing header is matched as ""), then, if urls are given, one of them must match
 *   (methods + decoded path). ipHash / headerHash / random: hash % 1000 < permil.
 * Decoded matchers are immutable and may be shared by threads.
 */
#ifndef EG_REQUEST_MATCHER_H
#define EG_REQUEST_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "node.h"
#include "proxy_spec.h"

typedef struct {
    char *exact, *prefix, *regex;   /* NULL when not set ("" counts as not set, as in Go) */
    bool empty;
    /* pcre2_code * and pcre2_match_context * (opaque so includers need no pcre2.h) */
    void *re, *mctx;
} eg_string_matcher;

/* Whether `pattern` compiles with the flags the matchers use; else a reason in err. */
bool eg_regexp_check(const char *pattern, char *err, size_t errlen);
/* One of the nine methods Easegress's `httpmethod-array` format accepts (GET ... TRACE). */
bool eg_http_method_valid(const char *method);

/* Decode `n` (must be a MAP) into *out (zeroed first). Errors are named with the current
 * path of `d`; on error *out holds nothing to free beyond eg_string_matcher_free. */
bool eg_string_matcher_decode(eg_dec *d, const eg_node *n, eg_string_matcher *out);
bool eg_string_matcher_match(const eg_string_matcher *m, const char *s, size_t len);
void eg_string_matcher_free(eg_string_matcher *m);   /* frees members, not m */

typedef struct {
    char **methods; size_t nmethods;   /* empty = any method */
    eg_string_matcher url;             /* matched against the decoded path */
} eg_url_matcher;

/* Decode one {methods, url} map into *out (zeroed first). */
bool eg_url_matcher_decode(eg_dec *d, const eg_node *n, eg_url_matcher *out);
bool eg_url_matcher_match(const eg_url_matcher *m, const char *method, size_t method_len,
                          const char *path, size_t path_len);
void eg_url_matcher_free(eg_url_matcher *m);          /* frees members, not m */

typedef enum {
    EG_RM_GENERAL, EG_RM_IP_HASH, EG_RM_HEADER_HASH, EG_RM_RANDOM,
} eg_request_match_policy;

struct eg_request_matcher {
    eg_request_match_policy policy;
    bool match_all_headers;
    char **header_names;               /* parallel to header_rules */
    eg_string_matcher *header_rules;
    size_t nheaders;
    eg_url_matcher *urls; size_t nurls;
    uint32_t permil;                   /* 0..1000 */
    char *header_hash_key;
};

/* Decode a RequestMatcherSpec map. Returns NULL (and d has the error) when invalid. */
eg_request_matcher *eg_request_matcher_decode(eg_dec *d, const eg_node *n);
/* `st` supplies randomness for the random policy (may be NULL: then a fresh seed is used). */
bool eg_request_matcher_match(const eg_request_matcher *m, const eg_lb_request *req, eg_lb_state *st);
void eg_request_matcher_free(eg_request_matcher *m);

#endif
