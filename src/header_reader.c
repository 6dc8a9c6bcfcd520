#include "header_reader.h"

void eg_header_reader_begin(eg_header_reader *r)
{
    r->headers = (eg_headers){ 0 };
    r->bytes = 0;
    r->piece = NULL;
    r->part.len = 0;
    r->name = NULL;
}

void eg_header_reader_piece(eg_header_reader *r, const char *at, size_t len)
{
    r->bytes += len;
    if (!r->piece && !r->part.len) {
        r->piece = at;
        r->piece_len = len;
        return;
    }
    eg_header_reader_keep(r);
    eg_buf_append(&r->part, at, len);
}

void eg_header_reader_keep(eg_header_reader *r)
{
    if (r->piece) {
        eg_buf_append(&r->part, r->piece, r->piece_len);
        r->piece = NULL;
    }
}

/* The name or value just finished, in the arena ("" when it had no piece). */
static const char *take(eg_header_reader *r, eg_arena *a, size_t *len)
{
    const char *s = "";
    *len = 0;
    if (r->part.len) {
        eg_header_reader_keep(r);
        *len = r->part.len;
        s = a ? eg_arena_strndup(a, r->part.data, r->part.len) : NULL;
        r->part.len = 0;
    } else if (r->piece) {
        *len = r->piece_len;
        s = a ? eg_arena_strndup(a, r->piece, r->piece_len) : NULL;
        r->piece = NULL;
    }
    return s;
}

void eg_header_reader_name_done(eg_header_reader *r, eg_arena *a)
{
    r->name = take(r, a, &r->name_len);
}

void eg_header_reader_value_done(eg_header_reader *r, eg_arena *a)
{
    size_t vlen;
    const char *value = take(r, a, &vlen);
    if (a && r->name && r->name_len) {
        eg_header h = { r->name, r->name_len, value, vlen };
        eg_headers_add_kept(a, &r->headers, &h);
    }
    r->name = NULL;
}

void eg_header_reader_free(eg_header_reader *r) { eg_buf_free(&r->part); }
