/* header_reader.h — a message's header lines as llhttp hands them over, piece by piece:
 * each name and value copied once, into the request's arena, straight from the parser's
 * buffer; only a name or value split across reads goes through a buffer of its own.
 * Shared by the server side (requests) and the backend side (responses). */
#ifndef EG_HEADER_READER_H
#define EG_HEADER_READER_H

#include <stddef.h>
#include "arena.h"
#include "buf.h"
#include "message.h"

typedef struct {
    eg_headers headers;   /* the lines read so far, in the arena */
    size_t bytes;         /* of names and values since begin (for the caller's limits) */
    const char *piece;    /* seen in the parser's current buffer, not copied yet */
    size_t piece_len;
    eg_buf part;          /* a name or value split across reads, so far */
    const char *name;     /* a finished name waiting for its value (in the arena) */
    size_t name_len;
} eg_header_reader;

/* A new message: forget the lines of the last one (they live on in its arena). */
void eg_header_reader_begin(eg_header_reader *r);
/* on_header_field / on_header_value: part of the current name or value. */
void eg_header_reader_piece(eg_header_reader *r, const char *at, size_t len);
/* on_header_field_complete / on_header_value_complete. With a NULL arena the line is
 * dropped (nobody wants it). */
void eg_header_reader_name_done(eg_header_reader *r, eg_arena *a);
void eg_header_reader_value_done(eg_header_reader *r, eg_arena *a);
/* After every llhttp_execute: the parser's buffer is about to be reused, so a name or value
 * it left open is copied now. */
void eg_header_reader_keep(eg_header_reader *r);
void eg_header_reader_free(eg_header_reader *r);

#endif
