/* set_headers.h — a route path's `setHeaders`: header values with nginx-style variables,
 * compiled once when the HTTPServer is built and rendered against each matched request.
 *
 * Syntax and semantics follow Easegress's RouteContext.ParseNginxLikeVar:
 *   $name        name = [A-Za-z_][A-Za-z0-9_]*   ("$100", "$$", "$1" stay literal)
 *   ${name}      name = one or more bytes other than '}' and ':'
 *   ${name:def}  def (up to the next '}') replaces an empty value; "${x:}" is plain ${x}
 * A '$' that starts neither form (e.g. "${open") is literal text: no template is invalid.
 * Unknown names look up route captures and render "" when there is none.
 * A configured value of "" deletes the header; a template that renders "" sets the header
 * to "" (as Easegress's Header.Set does). */
#ifndef EG_SET_HEADERS_H
#define EG_SET_HEADERS_H

#include <stdbool.h>
#include <stdint.h>
#include "arena.h"
#include "message.h"

typedef struct eg_template eg_template;
typedef struct eg_set_headers eg_set_headers;

/* Route captures by name (a RadixTree router's `{param}`s); the Ordered router has none. */
typedef struct {
    const char *const *names;
    const char *const *values;
    size_t count;
} eg_route_captures;

typedef struct {
    const eg_request *req;
    const eg_route_captures *captures;  /* NULL: none */
    int64_t now_ms;                     /* wall clock in ms since the epoch; 0: read it */
} eg_template_env;

/* NULL only when out of memory. */
eg_template *eg_template_compile(const char *src, size_t len);
void eg_template_free(eg_template *t);
/* The first variable that is neither built in nor http_/arg_/cookie_ and has no default,
 * i.e. one only a route capture can fill (NUL-terminated, owned by t), or NULL. */
const char *eg_template_capture_only(const eg_template *t);
/* Render into the arena (NUL-terminated; *len set when len is non-NULL). Control bytes
 * other than HTAB (from decoded args, paths or credentials) become spaces, so a header
 * line can never be split. */
const char *eg_template_render(const eg_template *t, eg_arena *a, const eg_template_env *env, size_t *len);

eg_set_headers *eg_set_headers_new(size_t n);
/* Add one entry (in document order). Returns NULL, or an error message (static) for a name
 * that is not an HTTP token. *capture_only is set as eg_template_capture_only says. */
const char *eg_set_headers_add(eg_set_headers *sh, const char *name, const char *value,
                               const char **capture_only);
void eg_set_headers_free(eg_set_headers *sh);
/* Apply every entry, in order, to req (each sees the edits of the ones before it).
 * sh NULL: nothing to do. */
void eg_set_headers_apply(const eg_set_headers *sh, eg_arena *a, eg_request *req,
                          const eg_route_captures *captures);

#endif
