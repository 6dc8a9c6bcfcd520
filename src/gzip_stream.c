#include "gzip_stream.h"

#include <stddef.h>
#include <string.h>
#include <zlib.h>

typedef struct {
    eg_body_stream stream;     /* what the client side sees */
    eg_body_sink inner_sink;   /* what the wrapped stream writes to */
    eg_body_stream *inner;
    eg_body_sink *sink;
    z_stream z;
    bool z_live;
} gzip_stream;

#define FROM_STREAM(s) ((gzip_stream *)((char *)(s) - offsetof(gzip_stream, stream)))
#define FROM_SINK(s) ((gzip_stream *)((char *)(s) - offsetof(gzip_stream, inner_sink)))

static void z_release(gzip_stream *g)
{
    if (g->z_live) {
        deflateEnd(&g->z);
        g->z_live = false;
    }
}

/* Deflate `len` bytes (flush as given) and pass every produced piece on. */
static bool pump(gzip_stream *g, const char *data, size_t len, int flush)
{
    unsigned char out[16 * 1024];
    bool more = true;
    g->z.next_in = (unsigned char *)data;
    g->z.avail_in = (uInt)len;
    do {
        g->z.next_out = out;
        g->z.avail_out = sizeof out;
        int rc = deflate(&g->z, flush);
        if (rc == Z_STREAM_ERROR)
            return false;
        size_t produced = sizeof out - g->z.avail_out;
        if (produced && g->sink)
            more = g->sink->write(g->sink, (const char *)out, produced) && more;
    } while (g->z.avail_out == 0 || g->z.avail_in > 0);
    return more;
}

static bool inner_write(eg_body_sink *s, const char *data, size_t len)
{
    gzip_stream *g = FROM_SINK(s);
    if (!g->z_live)
        return true;
    /* Z_SYNC_FLUSH so streamed responses (SSE, slow backends) reach the client as they come. */
    return pump(g, data, len, Z_SYNC_FLUSH);
}

static void inner_end(eg_body_sink *s, int error)
{
    gzip_stream *g = FROM_SINK(s);
    if (!error && g->z_live)
        pump(g, NULL, 0, Z_FINISH);
    z_release(g);
    eg_body_sink *sink = g->sink;
    g->sink = NULL;
    if (sink)
        sink->end(sink, error);
}

static void outer_attach(eg_body_stream *s, eg_body_sink *sink)
{
    gzip_stream *g = FROM_STREAM(s);
    g->sink = sink;
    g->inner->attach(g->inner, &g->inner_sink);
}

static void outer_resume(eg_body_stream *s)
{
    gzip_stream *g = FROM_STREAM(s);
    g->inner->resume(g->inner);
}

static void outer_abort(eg_body_stream *s)
{
    gzip_stream *g = FROM_STREAM(s);
    g->sink = NULL;
    z_release(g);
    g->inner->abort(g->inner);
}

eg_body_stream *eg_gzip_stream_new(eg_arena *arena, eg_body_stream *inner)
{
    gzip_stream *g = eg_arena_alloc(arena, sizeof *g);
    memset(g, 0, sizeof *g);
    g->inner = inner;
    g->stream.attach = outer_attach;
    g->stream.resume = outer_resume;
    g->stream.abort = outer_abort;
    g->inner_sink.write = inner_write;
    g->inner_sink.end = inner_end;
    /* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
    g->z_live = deflateInit2(&g->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    return &g->stream;
}
