#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eg_buf_reserve(eg_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        abort();
    b->data = p;
    b->cap = cap;
}

void eg_buf_append(eg_buf *b, const void *p, size_t n)
{
    eg_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void eg_buf_appends(eg_buf *b, const char *s) { eg_buf_append(b, s, strlen(s)); }

void eg_buf_printf(eg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        eg_buf_append(b, tmp, (size_t)n);
        return;
    }
    eg_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void eg_buf_append_u64(eg_buf *b, unsigned long long v)
{
    char tmp[24];
    int n = (int)sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    eg_buf_append(b, tmp + n, sizeof tmp - (size_t)n);
}

void eg_buf_free(eg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *eg_buf_steal(eg_buf *b, size_t *len)
{
    eg_buf_reserve(b, 0);
    char *p = b->data;
    p[b->len] = 0;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
