/* gzip_stream.h — a body stream that gzips another body stream on the fly (zlib). */
#ifndef EG_GZIP_STREAM_H
#define EG_GZIP_STREAM_H

#include "arena.h"
#include "message.h"

/* The wrapper lives in `arena`; zlib's own memory is released at end or abort. */
eg_body_stream *eg_gzip_stream_new(eg_arena *arena, eg_body_stream *inner);

#endif
