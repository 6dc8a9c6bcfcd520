/* node_json.c — JSON output, written as Go's encoding/json writes it, so the admin API and
 * egctl show what Easegress would: <, > and & escaped as \u003c \u003e \u0026, U+2028/U+2029
 * escaped, invalid UTF-8 replaced by U+FFFD, floats in Go's shortest form ("1", "0.5",
 * "1e+21"). NaN and infinities have no JSON form (Go refuses them); they are written as null. */
#include "node.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
} jbuf;

static void put(jbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            abort(); /* as the rest of the node code: a tree writer cannot recover from OOM */
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(jbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Length of a valid UTF-8 sequence at s, 0 if invalid (Go's utf8.DecodeRune rules). */
size_t eg_utf8_decode(const unsigned char *s, size_t left, unsigned *cp_out)
{
    unsigned c = s[0], cp;
    size_t n;
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *cp_out = cp;
    return n;
}

static void put_string(jbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    put(b, "\"", 1);
    size_t run = 0; /* start of bytes copied verbatim */
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *rep = NULL;
        size_t replen = 0, adv = 1;
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                esc[0] = '\\';
                esc[1] = (char)c;
                rep = esc;
                replen = 2;
            } else if (c == '\n') {
                rep = "\\n", replen = 2;
            } else if (c == '\r') {
                rep = "\\r", replen = 2;
            } else if (c == '\t') {
                rep = "\\t", replen = 2;
            } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                rep = esc;
                replen = 6;
            }
        } else {
            unsigned cp;
            adv = eg_utf8_decode((const unsigned char *)s + i, len - i, &cp);
            if (!adv) {
                rep = "\\ufffd", replen = 6;
                adv = 1;
            } else if (cp == 0x2028 || cp == 0x2029) {
                rep = cp == 0x2028 ? "\\u2028" : "\\u2029";
                replen = 6;
            }
        }
        if (rep) {
            put(b, s + run, i - run);
            put(b, rep, replen);
            run = i + adv;
        }
        i += adv;
    }
    put(b, s + run, len - run);
    put(b, "\"", 1);
}

static void newline(jbuf *b, bool pretty, int depth)
{
    if (!pretty)
        return;
    put(b, "\n", 1);
    for (int i = 0; i < depth; i++)
        put(b, "  ", 2);
}

static void put_node(jbuf *b, const eg_node *n, bool pretty, int depth)
{
    char tmp[64];
    if (!n) {
        puts_(b, "null");
        return;
    }
    switch (n->type) {
    case EG_NODE_NULL:
        puts_(b, "null");
        return;
    case EG_NODE_BOOL:
        puts_(b, n->v.b ? "true" : "false");
        return;
    case EG_NODE_INT:
        put(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)n->v.i));
        return;
    case EG_NODE_FLOAT:
        if (isnan(n->v.f) || isinf(n->v.f))
            puts_(b, "null");
        else
            put(b, tmp, eg_node_format_float(n->v.f, tmp, sizeof tmp));
        return;
    case EG_NODE_STRING:
        put_string(b, n->text ? n->text : "", n->text ? n->text_len : 0);
        return;
    case EG_NODE_SEQ:
    case EG_NODE_MAP: {
        bool map = n->type == EG_NODE_MAP;
        put(b, map ? "{" : "[", 1);
        for (size_t i = 0; i < n->count; i++) {
            if (i)
                put(b, ",", 1);
            newline(b, pretty, depth + 1);
            if (map) {
                put_string(b, n->keys[i], strlen(n->keys[i]));
                put(b, pretty ? ": " : ":", pretty ? 2 : 1);
            }
            put_node(b, n->items[i], pretty, depth + 1);
        }
        if (n->count)
            newline(b, pretty, depth);
        put(b, map ? "}" : "]", 1);
        return;
    }
    }
    puts_(b, "null");
}

char *eg_node_to_json(const eg_node *n, bool pretty, size_t *len)
{
    jbuf b = {0};
    put(&b, "", 0);
    put_node(&b, n, pretty, 0);
    if (len)
        *len = b.len;
    return b.data;
}
