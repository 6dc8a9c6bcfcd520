/* buf.h — a growable byte buffer (malloc-owned). */
#ifndef EG_BUF_H
#define EG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
} eg_buf;

void eg_buf_reserve(eg_buf *b, size_t extra);
void eg_buf_append(eg_buf *b, const void *p, size_t n);
void eg_buf_appends(eg_buf *b, const char *s);
void eg_buf_printf(eg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal digits of v (no printf on hot paths). */
void eg_buf_append_u64(eg_buf *b, unsigned long long v);
void eg_buf_free(eg_buf *b);
/* Append into room eg_buf_reserve made beforehand: no check, no growth (hot paths that
 * measure first, then write). */
static inline void eg_buf_put(eg_buf *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
/* Hand the bytes over (NUL-terminated); the buffer is left empty. */
char *eg_buf_steal(eg_buf *b, size_t *len);

#endif
