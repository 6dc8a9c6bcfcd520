/* api.c — errors and admin-API calls shared by every egctl command. */
#define _GNU_SOURCE
#include "egctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_client.h"

/* Generous, since a first request may wait on a busy server validating a large object;
 * the connect timeout is short because the admin API is normally local. */
#define CONNECT_TIMEOUT_MS 10000
#define IO_TIMEOUT_MS 60000

/* Keep the reason on one line: the contract is exactly one "Error:" line. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

static int set_err(egctl *ctl, char *msg)
{
    if (!msg) {
        /* Out of memory while reporting: keep whatever was said before, or a fixed text. */
        if (!ctl->err)
            ctl->err = strdup("out of memory");
        return -1;
    }
    one_line(msg);
    free(ctl->err);
    ctl->err = msg;
    return -1;
}

int egctl_fail(egctl *ctl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    ctl->err_final = false;
    return set_err(ctl, msg);
}

int egctl_fail_wrap(egctl *ctl, const char *fmt, ...)
{
    if (ctl->err_final)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *what = NULL;
    if (vasprintf(&what, fmt, ap) < 0)
        what = NULL;
    va_end(ap);
    char *msg = NULL;
    if (what && asprintf(&msg, "%s failed, %s", what, ctl->err ? ctl->err : "") < 0)
        msg = NULL;
    free(what);
    return set_err(ctl, msg);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "unexpected status";
    }
}

/* "<code>: <message>" from an error answer, as Easegress's egctl words it. */
static int fail_from_answer(egctl *ctl, int status, const char *body, size_t len)
{
    char perr[256];
    eg_node *doc = len ? eg_yaml_parse(body, len, perr, sizeof perr) : NULL;
    const char *message = doc && doc->type == EG_NODE_MAP ? eg_node_str(doc, "message") : NULL;
    const eg_node *code = doc && doc->type == EG_NODE_MAP ? eg_node_get(doc, "code") : NULL;
    int shown = code && code->type == EG_NODE_INT ? (int)code->v.i : status;
    int rc;
    if (message) {
        rc = egctl_fail(ctl, "%d: %s", shown, message);
    } else if (len) {
        /* Not the JSON error shape: show the text itself, trimmed. */
        while (len && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
            len--;
        rc = egctl_fail(ctl, "%d: %.*s", status, (int)(len > 2000 ? 2000 : len), body);
    } else {
        rc = egctl_fail(ctl, "%d: %s", status, reason_phrase(status));
    }
    eg_node_free(doc);
    return rc;
}

static void server_label(const egctl *ctl, char *buf, size_t len)
{
    const char *scheme = ctl->use_tls ? "https://" : "";
    if (strchr(ctl->host, ':'))
        snprintf(buf, len, "%s[%s]:%d", scheme, ctl->host, ctl->port);
    else
        snprintf(buf, len, "%s%s:%d", scheme, ctl->host, ctl->port);
}

/* The TLS context, built once per run from ctl->tls. */
static SSL_CTX *tls_context(egctl *ctl)
{
    if (ctl->tls_ctx)
        return ctl->tls_ctx;
    char err[512];
    ctl->tls_ctx = egctl_tls_ctx_new(&ctl->tls, err, sizeof err);
    if (!ctl->tls_ctx) {
        egctl_fail(ctl, "TLS settings: %s", err);
        ctl->err_final = true;
    }
    return ctl->tls_ctx;
}

static int to_stdout(void *ud, const char *data, size_t len)
{
    (void)ud;
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
        return -1;
    return 0;
}

static int call(egctl *ctl, const char *method, const char *path, const char *json,
                egctl_answer *ans, bool stream)
{
    if (ans)
        memset(ans, 0, sizeof *ans);
    char *full = NULL;
    if (asprintf(&full, "/apis/v2%s", path) < 0)
        return egctl_fail(ctl, "out of memory");
    egctl_http_req req = {
        .host = ctl->host,
        .port = ctl->port,
        .method = method,
        .path = full,
        .content_type = json ? "application/json" : NULL,
        .body = json,
        .body_len = json ? strlen(json) : 0,
        .connect_timeout_ms = CONNECT_TIMEOUT_MS,
        .io_timeout_ms = stream ? 0 : IO_TIMEOUT_MS,
        .authorization = ctl->authorization,
        .on_body = stream ? to_stdout : NULL,
    };
    if (ctl->use_tls && !(req.tls = tls_context(ctl))) {
        free(full);
        return -1;
    }
    egctl_http_resp resp;
    char err[512];
    egctl_http_rc rc = egctl_http_do(&req, &resp, err, sizeof err);
    if (rc == EGCTL_HTTP_ENEEDTLS) {
        /* Easegress's "retry with https on demand": the server refused plain HTTP without
         * processing the request, so it goes again over TLS, as do the run's later ones. */
        ctl->use_tls = true;
        if (!(req.tls = tls_context(ctl))) {
            free(full);
            return -1;
        }
        rc = egctl_http_do(&req, &resp, err, sizeof err);
    }
    free(full);
    if (rc != EGCTL_HTTP_OK) {
        char label[300];
        server_label(ctl, label, sizeof label);
        if (rc == EGCTL_HTTP_ECONNECT || rc == EGCTL_HTTP_ETLS)
            egctl_fail(ctl, "cannot connect to the admin API at %s: %s", label, err);
        else
            egctl_fail(ctl, "request to the admin API at %s failed: %s", label, err);
        ctl->err_final = true;
        return -1;
    }
    for (size_t i = 0; i < resp.nwarnings; i++)
        fprintf(stderr, "Warning: %s\n", resp.warnings[i]);

    int out = 0;
    if (resp.status < 200 || resp.status > 299) {
        out = fail_from_answer(ctl, resp.status, resp.body, resp.body_len);
    } else if (ans) {
        ans->status = resp.status;
        ans->body = resp.body;
        ans->body_len = resp.body_len;
        resp.body = NULL; /* ownership moved */
    }
    egctl_http_resp_free(&resp);
    return out;
}

int egctl_call(egctl *ctl, const char *method, const char *path, const char *json,
               egctl_answer *ans)
{
    return call(ctl, method, path, json, ans, false);
}

int egctl_call_stream(egctl *ctl, const char *method, const char *path)
{
    return call(ctl, method, path, NULL, NULL, true);
}

void egctl_answer_free(egctl_answer *ans)
{
    free(ans->body);
    memset(ans, 0, sizeof *ans);
}

int egctl_call_json(egctl *ctl, const char *method, const char *path, const char *json,
                    eg_node **out)
{
    *out = NULL;
    egctl_answer ans;
    if (egctl_call(ctl, method, path, json, &ans) != 0)
        return -1;
    int rc = 0;
    size_t len = ans.body_len;
    while (len && (ans.body[len - 1] == '\n' || ans.body[len - 1] == ' ' || ans.body[len - 1] == '\r'))
        len--;
    if (len) {
        char perr[256];
        *out = eg_yaml_parse(ans.body, ans.body_len, perr, sizeof perr);
        if (!*out)
            rc = egctl_fail(ctl, "the admin API answered %s %s with invalid JSON: %s", method,
                            path, perr);
    }
    egctl_answer_free(&ans);
    return rc;
}

char *egctl_escape(const char *segment)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(segment);
    char *out = malloc(n * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)segment; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

int egctl_load_resources(egctl *ctl)
{
    if (ctl->resources_doc)
        return 0;
    eg_node *doc;
    if (egctl_call_json(ctl, "GET", "/object-api-resources", NULL, &doc) != 0)
        return -1;
    if (!doc || doc->type != EG_NODE_SEQ) {
        eg_node_free(doc);
        return egctl_fail(ctl, "the admin API answered /object-api-resources with no list");
    }
    egctl_resource *rs = calloc(doc->count ? doc->count : 1, sizeof *rs);
    if (!rs) {
        eg_node_free(doc);
        return egctl_fail(ctl, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < doc->count; i++) {
        const eg_node *item = doc->items[i];
        if (item->type != EG_NODE_MAP || !eg_node_str(item, "kind"))
            continue;
        egctl_resource *r = &rs[n++];
        r->kind = eg_node_str(item, "kind");
        r->name = eg_node_str(item, "name");
        r->category = eg_node_str(item, "category");
        const eg_node *al = eg_node_get(item, "aliases");
        if (al && al->type == EG_NODE_SEQ && al->count) {
            r->aliases = calloc(al->count, sizeof *r->aliases);
            if (!r->aliases) {
                ctl->resources = rs;
                ctl->nresources = n;
                ctl->resources_doc = doc;
                return egctl_fail(ctl, "out of memory");
            }
            for (size_t j = 0; j < al->count; j++)
                if (al->items[j]->type == EG_NODE_STRING)
                    r->aliases[r->naliases++] = al->items[j]->text;
        }
    }
    ctl->resources = rs;
    ctl->nresources = n;
    ctl->resources_doc = doc;
    return 0;
}

int egctl_resolve(egctl *ctl, const char *arg, const egctl_resource **out)
{
    if (egctl_load_resources(ctl) != 0)
        return -1;
    *out = egctl_resolve_kind(ctl->resources, ctl->nresources, arg);
    if (!*out)
        return egctl_fail(ctl, "unknown resource: %s", arg);
    return 0;
}
