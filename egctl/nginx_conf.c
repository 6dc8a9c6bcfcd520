/* nginx_conf.c — nginx configuration syntax: tokens, directives, blocks, includes.
 *
 * The tokenizer follows ngx_conf_read_token (src/core/ngx_conf_file.c) so that a file
 * nginx accepts reads the same here, and the messages name the same faults
 * ("unexpected \"}\"", "unexpected end of file, expecting \";\" or \"}\"").
 */
#define _GNU_SOURCE
#include "nginx_conf.h"

#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds that keep a hostile file from exhausting the stack or looping on includes. */
#define MAX_BLOCK_DEPTH 64
#define MAX_INCLUDE_DEPTH 16
#define MAX_FILES 1024

typedef enum { T_WORD, T_SEMI, T_OPEN, T_CLOSE, T_EOF, T_ERROR } token_kind;

typedef struct {
    const char *text;
    size_t len, pos;
    int line;
    const char *file;
} lexer;

typedef struct {
    nginx_conf *conf;
    const nginx_loader *loader;
    char *err;
    size_t errlen;
    int include_depth;
} parser;

static int failf(parser *p, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int failf(parser *p, const char *file, int line, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "%s:%d: ", file, line);
    if (n < 0 || (size_t)n >= p->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The word between start and end with nginx's escapes applied (malloc'd). */
static char *unescape_word(const char *s, size_t n)
{
    char *out = malloc(n + 1), *d = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char c = s[i + 1];
            if (c == '"' || c == '\'' || c == '\\') {
                *d++ = c;
                i++;
                continue;
            }
            if (c == 't' || c == 'r' || c == 'n') {
                *d++ = c == 't' ? '\t' : c == 'r' ? '\r' : '\n';
                i++;
                continue;
            }
        }
        *d++ = s[i];
    }
    *d = '\0';
    return out;
}

/* One token. A word comes back in *word (malloc'd); *tline is the line it started on. */
static token_kind next_token(parser *p, lexer *lx, char **word, int *tline)
{
    *word = NULL;
    for (;;) { /* skip blanks and comments */
        if (lx->pos >= lx->len)
            return T_EOF;
        char c = lx->text[lx->pos];
        if (c == '\n')
            lx->line++;
        if (is_space(c)) {
            lx->pos++;
            continue;
        }
        if (c == '#') {
            while (lx->pos < lx->len && lx->text[lx->pos] != '\n')
                lx->pos++;
            continue;
        }
        break;
    }
    *tline = lx->line;
    char c = lx->text[lx->pos];
    if (c == ';' || c == '{' || c == '}') {
        lx->pos++;
        return c == ';' ? T_SEMI : c == '{' ? T_OPEN : T_CLOSE;
    }
    if (c == '"' || c == '\'') {
        char q = c;
        size_t start = ++lx->pos;
        while (lx->pos < lx->len && lx->text[lx->pos] != q) {
            if (lx->text[lx->pos] == '\\' && lx->pos + 1 < lx->len)
                lx->pos++; /* the escaped character, counted below if a newline */
            if (lx->text[lx->pos] == '\n')
                lx->line++;
            lx->pos++;
        }
        if (lx->pos >= lx->len) {
            failf(p, lx->file, *tline, "unexpected end of file in a %s string",
                  q == '"' ? "\"quoted\"" : "'quoted'");
            return T_ERROR;
        }
        size_t end = lx->pos++;
        /* nginx wants a space, ';' or '{' after a closing quote */
        if (lx->pos < lx->len) {
            char n = lx->text[lx->pos];
            if (!is_space(n) && n != ';' && n != '{') {
                failf(p, lx->file, lx->line, "unexpected \"%c\" after a quoted string", n);
                return T_ERROR;
            }
        }
        *word = unescape_word(lx->text + start, end - start);
        return *word ? T_WORD : T_ERROR;
    }
    /* A bare word: ends at a space, ';' or '{' ("${" belongs to the word; '}' always does). */
    size_t start = lx->pos;
    bool after_dollar = false;
    while (lx->pos < lx->len) {
        char ch = lx->text[lx->pos];
        if (ch == '{' && after_dollar) {
            after_dollar = false;
            lx->pos++;
            continue;
        }
        after_dollar = false;
        if (ch == '\\' && lx->pos + 1 < lx->len) {
            if (lx->text[lx->pos + 1] == '\n')
                lx->line++;
            lx->pos += 2;
            continue;
        }
        if (ch == '$')
            after_dollar = true;
        else if (is_space(ch) || ch == ';' || ch == '{')
            break;
        lx->pos++;
    }
    *word = unescape_word(lx->text + start, lx->pos - start);
    return *word ? T_WORD : T_ERROR;
}

static void directive_free(nginx_directive *d)
{
    free(d->name);
    for (size_t i = 0; i < d->nargs; i++)
        free(d->args[i]);
    free(d->args);
    for (size_t i = 0; i < d->nchildren; i++)
        directive_free(&d->children[i]);
    free(d->children);
}

static void list_free(nginx_directive *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        directive_free(&list[i]);
    free(list);
}

/* Append *d to a list (taking its contents); -1 when out of memory. */
static int list_push(nginx_directive **list, size_t *n, size_t *cap, nginx_directive *d)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        nginx_directive *nl = realloc(*list, nc * sizeof *nl);
        if (!nl)
            return -1;
        *list = nl;
        *cap = nc;
    }
    (*list)[(*n)++] = *d;
    memset(d, 0, sizeof *d);
    return 0;
}

static int parse_file(parser *p, const char *text, size_t len, const char *name,
                      nginx_directive **list, size_t *n, size_t *cap);

/* `include ARG;`: the files it names, parsed and appended to the list in its place. */
static int expand_include(parser *p, const nginx_directive *inc, nginx_directive **list,
                          size_t *n, size_t *cap)
{
    if (inc->nargs != 1 || inc->has_block)
        return failf(p, inc->file, inc->line, "invalid number of arguments in \"include\" directive");
    if (!p->loader)
        return failf(p, inc->file, inc->line, "include is not allowed here");
    if (p->include_depth >= MAX_INCLUDE_DEPTH)
        return failf(p, inc->file, inc->line, "includes nested deeper than %d (a loop?)",
                     MAX_INCLUDE_DEPTH);
    char **names = NULL;
    size_t nnames = 0;
    char why[256];
    if (p->loader->resolve(p->loader->ud, inc->args[0], &names, &nnames, why, sizeof why) != 0)
        return failf(p, inc->file, inc->line, "include %s: %s", inc->args[0], why);
    int rc = 0;
    for (size_t i = 0; i < nnames && rc == 0; i++) {
        char *text = NULL;
        size_t tlen = 0;
        if (p->loader->read(p->loader->ud, names[i], &text, &tlen, why, sizeof why) != 0) {
            rc = failf(p, inc->file, inc->line, "%s", why); /* names the file */
            break;
        }
        p->include_depth++;
        rc = parse_file(p, text, tlen, names[i], list, n, cap);
        p->include_depth--;
        free(text);
    }
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* Directives up to the end of the block (T_CLOSE, when `in_block`) or of the file. */
static int parse_list(parser *p, lexer *lx, bool in_block, int open_line, int depth,
                      nginx_directive **list, size_t *n, size_t *cap)
{
    for (;;) {
        char *word;
        int tline = lx->line;
        token_kind t = next_token(p, lx, &word, &tline);
        switch (t) {
        case T_ERROR:
            if (!word && !p->err[0])
                failf(p, lx->file, lx->line, "out of memory");
            return -1;
        case T_EOF:
            if (in_block)
                return failf(p, lx->file, lx->line,
                             "unexpected end of file, expecting \"}\" (block opened on line %d)",
                             open_line);
            return 0;
        case T_CLOSE:
            if (!in_block)
                return failf(p, lx->file, tline, "unexpected \"}\"");
            return 0;
        case T_SEMI:
            return failf(p, lx->file, tline, "unexpected \";\"");
        case T_OPEN:
            return failf(p, lx->file, tline, "unexpected \"{\"");
        case T_WORD:
            break;
        }
        nginx_directive d;
        memset(&d, 0, sizeof d);
        d.name = word;
        d.file = lx->file;
        d.line = tline;
        size_t argcap = 0;
        int rc = 0;
        for (;;) {
            int aline;
            t = next_token(p, lx, &word, &aline);
            if (t == T_WORD) {
                if (d.nargs == argcap) {
                    size_t nc = argcap ? argcap * 2 : 4;
                    char **na = realloc(d.args, nc * sizeof *na);
                    if (!na) {
                        free(word);
                        rc = failf(p, lx->file, aline, "out of memory");
                        break;
                    }
                    d.args = na;
                    argcap = nc;
                }
                d.args[d.nargs++] = word;
                continue;
            }
            if (t == T_SEMI)
                break;
            if (t == T_OPEN) {
                if (depth + 1 >= MAX_BLOCK_DEPTH) {
                    rc = failf(p, lx->file, aline, "blocks nested deeper than %d", MAX_BLOCK_DEPTH);
                    break;
                }
                d.has_block = true;
                size_t ccap = 0;
                rc = parse_list(p, lx, true, aline, depth + 1, &d.children, &d.nchildren, &ccap);
                break;
            }
            if (t == T_ERROR) {
                if (!p->err[0])
                    failf(p, lx->file, lx->line, "out of memory");
                rc = -1;
            } else if (t == T_CLOSE) {
                rc = failf(p, lx->file, aline, "unexpected \"}\"");
            } else {
                rc = failf(p, lx->file, lx->line,
                           "unexpected end of file, expecting \";\" or \"}\" (directive \"%s\" on line %d)",
                           d.name, d.line);
            }
            break;
        }
        if (rc == 0 && strcmp(d.name, "include") == 0) {
            rc = expand_include(p, &d, list, n, cap);
            directive_free(&d);
        } else if (rc == 0) {
            if (list_push(list, n, cap, &d) != 0) {
                directive_free(&d);
                rc = failf(p, lx->file, tline, "out of memory");
            }
        } else {
            directive_free(&d);
        }
        if (rc != 0)
            return -1;
    }
}

/* Keep the file's name for the life of the conf, so directives can point at it. */
static const char *intern_file(parser *p, const char *name)
{
    if (p->conf->nfiles >= MAX_FILES)
        return NULL;
    char **nf = realloc(p->conf->files, (p->conf->nfiles + 1) * sizeof *nf);
    if (!nf)
        return NULL;
    p->conf->files = nf;
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    nf[p->conf->nfiles++] = copy;
    return copy;
}

static int parse_file(parser *p, const char *text, size_t len, const char *name,
                      nginx_directive **list, size_t *n, size_t *cap)
{
    const char *file = intern_file(p, name);
    if (!file)
        return failf(p, name, 0, "too many files (or out of memory)");
    lexer lx = { text, len, 0, 1, file };
    return parse_list(p, &lx, false, 0, 0, list, n, cap);
}

int nginx_conf_parse(const char *text, size_t len, const char *name, const nginx_loader *loader,
                     nginx_conf *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = '\0';
    parser p = { out, loader, err, errlen, 0 };
    size_t cap = 0;
    if (parse_file(&p, text, len, name, &out->top, &out->ntop, &cap) != 0) {
        nginx_conf_free(out);
        return -1;
    }
    return 0;
}

void nginx_conf_free(nginx_conf *c)
{
    list_free(c->top, c->ntop);
    for (size_t i = 0; i < c->nfiles; i++)
        free(c->files[i]);
    free(c->files);
    memset(c, 0, sizeof *c);
}

const nginx_directive *nginx_find(const nginx_conf *c, const nginx_directive *d, const char *name)
{
    const nginx_directive *list = d ? d->children : c->top;
    size_t n = d ? d->nchildren : c->ntop;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

/* ---- includes from the file system ----------------------------------------------------- */

typedef struct {
    char dir[4096];   /* the main file's directory, with a trailing '/' ("" for the cwd) */
} fs_loader;

static int fs_read(void *ud, const char *name, char **text, size_t *len, char *err, size_t errlen)
{
    (void)ud;
    FILE *f = fopen(name, "rb");
    if (!f) {
        snprintf(err, errlen, "open() \"%s\" failed: %s", name, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errlen, "reading \"%s\" failed", name);
        return -1;
    }
    *text = buf;
    *len = n;
    return 0;
}

static int fs_resolve(void *ud, const char *arg, char ***names, size_t *n, char *err, size_t errlen)
{
    const fs_loader *l = ud;
    char path[8192];
    if (arg[0] == '/')
        snprintf(path, sizeof path, "%s", arg);
    else
        snprintf(path, sizeof path, "%s%s", l->dir, arg);
    *names = NULL;
    *n = 0;
    if (!strpbrk(arg, "*?[")) { /* a plain name must exist; a glob may match nothing */
        *names = malloc(sizeof **names);
        if (!*names || !((*names)[0] = strdup(path))) {
            free(*names);
            *names = NULL;
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        *n = 1;
        return 0;
    }
    glob_t g;
    int rc = glob(path, 0, NULL, &g);
    if (rc == GLOB_NOMATCH)
        return 0;
    if (rc != 0) {
        snprintf(err, errlen, "glob() \"%s\" failed", path);
        return -1;
    }
    *names = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof **names);
    for (size_t i = 0; *names && i < g.gl_pathc; i++) {
        if (!((*names)[i] = strdup(g.gl_pathv[i]))) {
            for (size_t j = 0; j < i; j++)
                free((*names)[j]);
            free(*names);
            *names = NULL;
        }
    }
    if (!*names) {
        globfree(&g);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *n = g.gl_pathc;
    globfree(&g);
    return 0;
}

int nginx_conf_load(const char *path, nginx_conf *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    fs_loader fl;
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    if (dlen >= sizeof fl.dir) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    memcpy(fl.dir, path, dlen);
    fl.dir[dlen] = '\0';
    char *text;
    size_t len;
    char why[512];
    if (fs_read(&fl, path, &text, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    nginx_loader loader = { fs_resolve, fs_read, &fl };
    int rc = nginx_conf_parse(text, len, path, &loader, out, err, errlen);
    free(text);
    return rc;
}
