#include "message.h"

#include <stdlib.h>
#include <string.h>

static void headers_grow(eg_arena *a, eg_headers *h)
{
    size_t cap = h->cap ? h->cap * 2 : 16;
    eg_header *items = eg_arena_alloc(a, cap * sizeof *items);
    if (h->count)
        memcpy(items, h->items, h->count * sizeof *items);
    h->items = items;
    h->cap = cap;
}

void eg_headers_add(eg_arena *a, eg_headers *h, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (h->count == h->cap)
        headers_grow(a, h);
    h->items[h->count++] = (eg_header){ eg_arena_strndup(a, name, nlen), nlen, eg_arena_strndup(a, value, vlen), vlen };
}

void eg_headers_add_kept(eg_arena *a, eg_headers *h, const eg_header *header)
{
    if (h->count == h->cap)
        headers_grow(a, h);
    h->items[h->count++] = *header;
}

void eg_headers_del(eg_headers *h, const char *name, size_t nlen)
{
    size_t j = 0;
    for (size_t i = 0; i < h->count; i++) {
        if (h->items[i].name_len == nlen && strncasecmp(h->items[i].name, name, nlen) == 0)
            continue;
        h->items[j++] = h->items[i];
    }
    h->count = j;
}

void eg_headers_set(eg_arena *a, eg_headers *h, const char *name, size_t nlen, const char *value, size_t vlen)
{
    eg_headers_del(h, name, nlen);
    eg_headers_add(a, h, name, nlen, value, vlen);
}

void eg_response_set(eg_arena *a, eg_response *r, int status, const char *content_type, const char *body, size_t len)
{
    if (r->stream) {
        r->stream->abort(r->stream);
        r->stream = NULL;
    }
    r->status = status;
    r->body = len ? eg_arena_strndup(a, body, len) : NULL;
    r->body_len = len;
    r->content_length = (int64_t)len;
    eg_headers_del(&r->headers, "Content-Length", 14);
    eg_headers_del(&r->headers, "Transfer-Encoding", 17);
    eg_headers_del(&r->headers, "Content-Encoding", 16);
    if (content_type)
        eg_headers_sets(a, &r->headers, "Content-Type", content_type);
}

void eg_response_error(eg_arena *a, eg_response *r, int status, const char *body)
{
    r->headers.count = 0;
    eg_response_set(a, r, status, "text/plain; charset=utf-8", body, strlen(body));
}

const char *eg_status_reason(int s)
{
    switch (s) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

static bool token_in_list(const char *list, size_t len, const char *name, size_t nlen)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (list[i] == ' ' || list[i] == '\t' || list[i] == ','))
            i++;
        size_t start = i;
        while (i < len && list[i] != ',' && list[i] != ' ' && list[i] != '\t')
            i++;
        if (i - start == nlen && strncasecmp(list + start, name, nlen) == 0)
            return true;
    }
    return false;
}

static bool name_eq(const char *name, size_t len, const char *lit, size_t litlen)
{
    return len == litlen && strncasecmp(name, lit, len) == 0;
}

/* Does a Connection value name anything but the options "close" and "keep-alive"? */
static bool names_other_headers(const char *list, size_t len)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (list[i] == ' ' || list[i] == '\t' || list[i] == ','))
            i++;
        size_t start = i;
        while (i < len && list[i] != ',' && list[i] != ' ' && list[i] != '\t')
            i++;
        size_t n = i - start;
        if (n && !name_eq(list + start, n, "close", 5) && !name_eq(list + start, n, "keep-alive", 10))
            return true;
    }
    return false;
}

const eg_headers *eg_connection_options(const eg_headers *h)
{
    for (size_t i = 0; i < h->count; i++) {
        const eg_header *c = &h->items[i];
        if (name_eq(c->name, c->name_len, "Connection", 10) && names_other_headers(c->value, c->value_len))
            return h;
    }
    return NULL;
}

uint64_t eg_request_size(const eg_request *r)
{
    if (r->head_bytes)
        return r->head_bytes + r->body_len;
    /* A request built by a filter never crossed the wire: what its head would take. */
    uint64_t n = (r->method ? strlen(r->method) : 0) + 1 + (r->path ? strlen(r->path) : 0) +
                 (r->query ? strlen(r->query) + 1 : 0) + 1 + 8 + 2 + 2;
    for (size_t i = 0; i < r->headers.count; i++)
        n += r->headers.items[i].name_len + 2 + r->headers.items[i].value_len + 2;
    return n + r->body_len;
}

bool eg_is_hop_header(const char *name, size_t len, const eg_headers *with_connection)
{
    /* By length first: most headers are rejected without a comparison. */
    switch (len) {
    case 2: if (name_eq(name, len, "TE", 2)) return true; break;
    case 7: if (name_eq(name, len, "Trailer", 7) || name_eq(name, len, "Upgrade", 7)) return true; break;
    case 10: if (name_eq(name, len, "Connection", 10) || name_eq(name, len, "Keep-Alive", 10)) return true; break;
    case 16: if (name_eq(name, len, "Proxy-Connection", 16)) return true; break;
    case 17: if (name_eq(name, len, "Transfer-Encoding", 17)) return true; break;
    case 18: if (name_eq(name, len, "Proxy-Authenticate", 18)) return true; break;
    case 19: if (name_eq(name, len, "Proxy-Authorization", 19)) return true; break;
    default: break;
    }
    for (size_t i = 0; with_connection && i < with_connection->count; i++) {
        const eg_header *h = &with_connection->items[i];
        if (name_eq(h->name, h->name_len, "Connection", 10) && token_in_list(h->value, h->value_len, name, len))
            return true;
    }
    return false;
}
