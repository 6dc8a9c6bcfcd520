/* httpserver_fixture.h — tests that decode an HTTPServer from YAML text. */
#ifndef EG_HTTPSERVER_FIXTURE_H
#define EG_HTTPSERVER_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "node.h"
#include "router.h"

/* The decoded spec (or the error) and the warnings. */
typedef struct {
    eg_httpserver_spec *s;
    char *err;
    char **warnings;
    size_t nwarnings;
} loaded;

static loaded load(const char *yaml)
{
    loaded l = {0};
    char perr[256];
    eg_node *n = eg_yaml_parse(yaml, strlen(yaml), perr, sizeof perr);
    if (!n) {
        fprintf(stderr, "  yaml: %s\n", perr);
        l.err = strdup(perr);
        return l;
    }
    eg_dec d;
    eg_dec_init(&d, false);
    l.s = eg_httpserver_spec_decode(&d, n);
    l.err = d.error;
    l.warnings = d.warnings;
    l.nwarnings = d.nwarnings;
    d.error = NULL;
    d.warnings = NULL;
    d.nwarnings = 0;
    eg_dec_free(&d);
    eg_node_free(n);
    return l;
}

static void unload(loaded *l)
{
    eg_httpserver_spec_free(l->s);
    free(l->err);
    eg_strv_free(l->warnings, l->nwarnings);
    memset(l, 0, sizeof *l);
}

#endif
