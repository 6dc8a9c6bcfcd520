/* nginx_conf.h — a reader of nginx's configuration syntax, for `egctl convert nginx`.
 *
 * It knows the syntax only, not the meaning of any directive: a file is a list of
 * directives, each a name, arguments and either ';' or a '{ ... }' block of directives.
 * Tokens follow nginx's ngx_conf_read_token: words end at whitespace, ';', '{' or '}';
 * "..." and '...' quote (and may span lines); a backslash escapes the next character
 * (\t \r \n give control characters, \" \' \\ the character itself, others stay as
 * written); '#' at the start of a token comments out the rest of the line; "${" inside a
 * word opens a variable name that runs to '}'. `include FILE;` is expanded where it stands,
 * as nginx does; FILE may be a glob, and a relative one is taken from the directory of
 * the main file (nginx's conf prefix when started with -c).
 *
 * Libc only, so the unit test and the fuzz target compile it on its own.
 */
#ifndef EGCTL_NGINX_CONF_H
#define EGCTL_NGINX_CONF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct nginx_directive nginx_directive;
struct nginx_directive {
    char *name;
    char **args;
    size_t nargs;
    bool has_block;               /* `name args { ... }`, even when the block is empty */
    nginx_directive *children;    /* the block's directives */
    size_t nchildren;
    const char *file;             /* owned by the nginx_conf */
    int line;                     /* 1-based line of the directive's name */
};

typedef struct {
    nginx_directive *top;         /* the main file's directives (includes expanded) */
    size_t ntop;
    char **files;                 /* every file read, main first; directives point here */
    size_t nfiles;
} nginx_conf;

/* Where included files come from. `resolve` turns the argument of an include (as
 * written) into the names of the files it means, in order (a glob may give none);
 * `read` gives a file's text (malloc'd). Both return 0, or -1 with a reason in err. */
typedef struct {
    int (*resolve)(void *ud, const char *arg, char ***names, size_t *n, char *err, size_t errlen);
    int (*read)(void *ud, const char *name, char **text, size_t *len, char *err, size_t errlen);
    void *ud;
} nginx_loader;

/* Parse `text` as the file `name`. `loader` NULL: an include is an error. Returns 0, or
 * -1 with "file:line: reason" in err (the partial result is freed). */
int nginx_conf_parse(const char *text, size_t len, const char *name, const nginx_loader *loader,
                     nginx_conf *out, char *err, size_t errlen);
/* Read and parse the file at `path`, includes from the file system. */
int nginx_conf_load(const char *path, nginx_conf *out, char *err, size_t errlen);
void nginx_conf_free(nginx_conf *c);

/* The first child of `d` (or of the top level when d is NULL) named `name`, or NULL. */
const nginx_directive *nginx_find(const nginx_conf *c, const nginx_directive *d, const char *name);

#endif
