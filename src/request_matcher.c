/* request_matcher.c — StringMatcher, MethodAndURLMatcher and the pool `filter`
 * (RequestMatcherSpec). See request_matcher.h for the semantics. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "request_matcher.h"

/* Bounds on one regexp match, so a pathological pattern cannot stall a worker. */
#define RM_MATCH_LIMIT 1000000u
#define RM_DEPTH_LIMIT 10000u

/* The methods Easegress's `httpmethod-array` format accepts. */
static const char *const rm_methods[] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE",
};

/* Go treats an empty string field as "not set": normalise "" to NULL. */
static void drop_empty(char **s)
{
    if (*s && (*s)[0] == '\0') {
        free(*s);
        *s = NULL;
    }
}

/* ---- StringMatcher ------------------------------------------------------------------- */

bool eg_regexp_check(const char *pattern, char *err, size_t errlen)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
                                   &errcode, &erroff, NULL);
    if (re) {
        pcre2_code_free(re);
        return true;
    }
    PCRE2_UCHAR msg[256];
    if (pcre2_get_error_message(errcode, msg, sizeof msg) < 0)
        strcpy((char *)msg, "unknown error");
    snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)erroff);
    return false;
}

static bool compile_regex(eg_dec *d, eg_string_matcher *m)
{
    int errcode;
    PCRE2_SIZE erroff;
    /* RE2 semantics: UTF-8 aware, `$` only at the end of the subject. Invalid UTF-8 in a
     * header must not make matching fail, hence MATCH_INVALID_UTF. */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)m->regex, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
                                   &errcode, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(errcode, msg, sizeof msg) < 0)
            strcpy((char *)msg, "unknown error");
        eg_dec_fail(d, "regex", "invalid regexp \"%s\": %s at offset %zu", m->regex,
                    (const char *)msg, (size_t)erroff);
        return false;
    }
    /* JIT is an optimisation only: without it pcre2_match interprets the pattern. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    if (!mctx) {
        pcre2_code_free(re);
        eg_dec_fail(d, "regex", "out of memory");
        return false;
    }
    pcre2_set_match_limit(mctx, RM_MATCH_LIMIT);
    pcre2_set_depth_limit(mctx, RM_DEPTH_LIMIT);
    m->re = re;
    m->mctx = mctx;
    return true;
}

bool eg_string_matcher_decode(eg_dec *d, const eg_node *n, eg_string_matcher *out)
{
    memset(out, 0, sizeof *out);
    if (!eg_dec_ok(d))
        return false;
    if (!n || n->type != EG_NODE_MAP) {
        eg_dec_fail(d, NULL, "must be an object");
        return false;
    }
    eg_dec_string(d, n, "exact", &out->exact, false);
    eg_dec_string(d, n, "prefix", &out->prefix, false);
    eg_dec_string(d, n, "regex", &out->regex, false);
    eg_dec_bool(d, n, "empty", &out->empty, false);
    eg_dec_check_unknown(d, n);
    if (!eg_dec_ok(d))
        return false;
    drop_empty(&out->exact);
    drop_empty(&out->prefix);
    drop_empty(&out->regex);

    /* Easegress's StringMatcher.Validate, same wording. */
    if (out->empty) {
        if (out->exact || out->prefix || out->regex) {
            eg_dec_fail(d, NULL, "empty is conflict with other patterns");
            return false;
        }
        return true;
    }
    if (!out->exact && !out->prefix && !out->regex) {
        eg_dec_fail(d, NULL, "all patterns are empty");
        return false;
    }
    if (out->regex && !compile_regex(d, out))
        return false;
    return true;
}

bool eg_string_matcher_match(const eg_string_matcher *m, const char *s, size_t len)
{
    if (!s)
        len = 0, s = "";
    if (m->empty && len == 0)
        return true;
    if (m->exact && strlen(m->exact) == len && memcmp(m->exact, s, len) == 0)
        return true;
    if (m->prefix) {
        size_t pl = strlen(m->prefix);
        if (pl <= len && memcmp(m->prefix, s, pl) == 0)
            return true;
    }
    if (!m->re)
        return false;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md)
        return false;   /* out of memory: no match is the safe answer for a filter */
    int rc = pcre2_match((const pcre2_code *)m->re, (PCRE2_SPTR)s, len, 0, 0, md,
                         (pcre2_match_context *)m->mctx);
    pcre2_match_data_free(md);
    return rc >= 0;     /* errors (limits hit) count as no match */
}

void eg_string_matcher_free(eg_string_matcher *m)
{
    if (!m)
        return;
    free(m->exact);
    free(m->prefix);
    free(m->regex);
    pcre2_code_free((pcre2_code *)m->re);
    pcre2_match_context_free((pcre2_match_context *)m->mctx);
    memset(m, 0, sizeof *m);
}

/* ---- MethodAndURLMatcher ------------------------------------------------------------- */

bool eg_http_method_valid(const char *m)
{
    for (size_t i = 0; i < sizeof rm_methods / sizeof rm_methods[0]; i++)
        if (strcmp(m, rm_methods[i]) == 0)
            return true;
    return false;
}

bool eg_url_matcher_decode(eg_dec *d, const eg_node *n, eg_url_matcher *out)
{
    memset(out, 0, sizeof *out);
    if (!eg_dec_ok(d))
        return false;
    if (!n || n->type != EG_NODE_MAP) {
        eg_dec_fail(d, NULL, "must be an object");
        return false;
    }
    eg_dec_string_list(d, n, "methods", &out->methods, &out->nmethods, false);
    for (size_t i = 0; eg_dec_ok(d) && i < out->nmethods; i++) {
        if (!eg_http_method_valid(out->methods[i])) {
            eg_dec_enter(d, "methods");
            eg_dec_enter_index(d, i);
            eg_dec_fail(d, NULL, "invalid HTTP method \"%s\"", out->methods[i]);
            eg_dec_leave(d);
            eg_dec_leave(d);
        }
        for (size_t j = 0; eg_dec_ok(d) && j < i; j++)
            if (strcmp(out->methods[i], out->methods[j]) == 0)
                eg_dec_fail(d, "methods", "duplicate method \"%s\"", out->methods[i]);
    }
    const eg_node *url = eg_dec_map(d, n, "url", true);
    if (url) {
        eg_dec_enter(d, "url");
        eg_string_matcher_decode(d, url, &out->url);
        eg_dec_leave(d);
    }
    eg_dec_check_unknown(d, n);
    return eg_dec_ok(d);
}

bool eg_url_matcher_match(const eg_url_matcher *m, const char *method, size_t method_len,
                          const char *path, size_t path_len)
{
    if (m->nmethods) {
        bool found = false;
        /* Go compares the method exactly (case-sensitive), as StrInSlice does. */
        for (size_t i = 0; i < m->nmethods && !found; i++)
            found = method && strlen(m->methods[i]) == method_len &&
                    memcmp(m->methods[i], method, method_len) == 0;
        if (!found)
            return false;
    }
    return eg_string_matcher_match(&m->url, path, path ? path_len : 0);
}

void eg_url_matcher_free(eg_url_matcher *m)
{
    if (!m)
        return;
    eg_strv_free(m->methods, m->nmethods);
    eg_string_matcher_free(&m->url);
    memset(m, 0, sizeof *m);
}

/* ---- RequestMatcher ------------------------------------------------------------------ */

static bool decode_headers(eg_dec *d, eg_request_matcher *m, const eg_node *h)
{
    if (!h->count)
        return true;
    m->header_names = calloc(h->count, sizeof *m->header_names);
    m->header_rules = calloc(h->count, sizeof *m->header_rules);
    if (!m->header_names || !m->header_rules) {
        eg_dec_fail(d, "headers", "out of memory");
        return false;
    }
    eg_dec_enter(d, "headers");
    for (size_t i = 0; i < h->count && eg_dec_ok(d); i++) {
        m->header_names[i] = strdup(h->keys[i]);
        m->nheaders = i + 1;   /* rule i is now owned, even if its decode fails */
        if (!m->header_names[i]) {
            eg_dec_fail(d, NULL, "out of memory");
            break;
        }
        eg_dec_enter(d, h->keys[i]);
        eg_string_matcher_decode(d, h->items[i], &m->header_rules[i]);
        eg_dec_leave(d);
    }
    eg_dec_leave(d);
    return eg_dec_ok(d);
}

static bool decode_urls(eg_dec *d, eg_request_matcher *m, const eg_node *urls)
{
    if (!urls->count)
        return true;
    m->urls = calloc(urls->count, sizeof *m->urls);
    if (!m->urls) {
        eg_dec_fail(d, "urls", "out of memory");
        return false;
    }
    eg_dec_enter(d, "urls");
    for (size_t i = 0; i < urls->count && eg_dec_ok(d); i++) {
        m->nurls = i + 1;
        eg_dec_enter_index(d, i);
        eg_url_matcher_decode(d, urls->items[i], &m->urls[i]);
        eg_dec_leave(d);
    }
    eg_dec_leave(d);
    return eg_dec_ok(d);
}

eg_request_matcher *eg_request_matcher_decode(eg_dec *d, const eg_node *n)
{
    if (!eg_dec_ok(d))
        return NULL;
    if (!n || n->type != EG_NODE_MAP) {
        eg_dec_fail(d, NULL, "must be an object");
        return NULL;
    }
    eg_request_matcher *m = calloc(1, sizeof *m);
    if (!m) {
        eg_dec_fail(d, NULL, "out of memory");
        return NULL;
    }
    char *policy = NULL;
    int64_t permil = 0;
    eg_dec_string(d, n, "policy", &policy, false);
    eg_dec_bool(d, n, "matchAllHeaders", &m->match_all_headers, false);
    const eg_node *headers = eg_dec_map(d, n, "headers", false);
    const eg_node *urls = eg_dec_seq(d, n, "urls", false);
    eg_dec_int(d, n, "permil", &permil, false);
    eg_dec_string(d, n, "headerHashKey", &m->header_hash_key, false);
    drop_empty(&m->header_hash_key);

    if (eg_dec_ok(d)) {
        if (!policy || !policy[0] || strcmp(policy, "general") == 0)
            m->policy = EG_RM_GENERAL;
        else if (strcmp(policy, "ipHash") == 0)
            m->policy = EG_RM_IP_HASH;
        else if (strcmp(policy, "headerHash") == 0)
            m->policy = EG_RM_HEADER_HASH;
        else if (strcmp(policy, "random") == 0)
            m->policy = EG_RM_RANDOM;
        else
            eg_dec_fail(d, "policy", "unknown policy \"%s\" (general, ipHash, headerHash, random)",
                        policy);
    }
    if (eg_dec_ok(d) && (permil < 0 || permil > 1000))
        eg_dec_fail(d, "permil", "must be between 0 and 1000, got %lld", (long long)permil);
    m->permil = (uint32_t)(permil < 0 ? 0 : permil);
    if (eg_dec_ok(d) && headers)
        decode_headers(d, m, headers);
    if (eg_dec_ok(d) && urls)
        decode_urls(d, m, urls);
    eg_dec_check_unknown(d, n);

    /* Easegress's RequestMatcherBaseSpec.Validate, same wording. */
    if (eg_dec_ok(d)) {
        if (m->policy == EG_RM_GENERAL) {
            if (!m->nheaders)
                eg_dec_fail(d, "headers", "headers is not specified");
        } else if (m->permil == 0) {
            eg_dec_fail(d, "permil", "permil is not specified");
        }
    }
    if (eg_dec_ok(d) && m->policy == EG_RM_HEADER_HASH && !m->header_hash_key)
        eg_dec_fail(d, "headerHashKey", "headerHash needs to specify headerHashKey");

    free(policy);
    if (!eg_dec_ok(d)) {
        eg_request_matcher_free(m);
        return NULL;
    }
    return m;
}

/* Does `rule` accept header `name` of `h`? Every value (one per header line) is tried; a
 * missing header is tried as "" (so `empty: true` matches it). */
static bool header_rule_match(const eg_string_matcher *rule, const eg_headers *h, const char *name)
{
    size_t nl = strlen(name);
    bool present = false;
    for (size_t i = 0; h && i < h->count; i++) {
        const eg_header *x = &h->items[i];
        if (x->name_len != nl || strncasecmp(x->name, name, nl) != 0)
            continue;
        present = true;
        if (eg_string_matcher_match(rule, x->value, x->value_len))
            return true;
    }
    return !present && eg_string_matcher_match(rule, "", 0);
}

static bool match_general(const eg_request_matcher *m, const eg_lb_request *req)
{
    const eg_headers *h = req ? req->headers : NULL;
    bool matched;
    if (m->match_all_headers) {
        matched = true;
        for (size_t i = 0; i < m->nheaders && matched; i++)
            matched = header_rule_match(&m->header_rules[i], h, m->header_names[i]);
    } else {
        matched = false;
        for (size_t i = 0; i < m->nheaders && !matched; i++)
            matched = header_rule_match(&m->header_rules[i], h, m->header_names[i]);
    }
    if (!matched || !m->nurls)
        return matched;
    for (size_t i = 0; i < m->nurls; i++)
        if (eg_url_matcher_match(&m->urls[i], req ? req->method : NULL, req ? req->method_len : 0,
                                 req ? req->path : NULL, req ? req->path_len : 0))
            return true;
    return false;
}

bool eg_request_matcher_match(const eg_request_matcher *m, const eg_lb_request *req, eg_lb_state *st)
{
    switch (m->policy) {
    case EG_RM_GENERAL:
        return match_general(m, req);
    case EG_RM_IP_HASH: {
        const char *ip = req && req->client_ip ? req->client_ip : "";
        return eg_fnv32(ip, strlen(ip)) % 1000u < m->permil;
    }
    case EG_RM_HEADER_HASH: {
        /* Go's Header.Get: the first value; a missing header hashes "". */
        const eg_header *x = req && req->headers
            ? eg_headers_find(req->headers, m->header_hash_key, strlen(m->header_hash_key)) : NULL;
        return eg_fnv32(x ? x->value : "", x ? x->value_len : 0) % 1000u < m->permil;
    }
    case EG_RM_RANDOM: {
        eg_lb_state local = {0, 0};
        return eg_lb_rand(st ? st : &local) % 1000u < m->permil;
    }
    }
    return false;
}

void eg_request_matcher_free(eg_request_matcher *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nheaders; i++) {
        free(m->header_names[i]);
        eg_string_matcher_free(&m->header_rules[i]);
    }
    free(m->header_names);
    free(m->header_rules);
    for (size_t i = 0; i < m->nurls; i++)
        eg_url_matcher_free(&m->urls[i]);
    free(m->urls);
    free(m->header_hash_key);
    free(m);
}
