/* fuzz_nginx_conf.c — libFuzzer target: egctl's nginx.conf reader and the conversion.
 *
 * Input: the text of a main file. `include NAME` resolves against a fixed table: the
 * names "a" and "b" are small files (so nesting and loops through include are reached),
 * anything else fails to open. Checked properties, beyond the sanitizers:
 *  - a parse either succeeds or fails with "file:line: reason" (a file name and a line
 *    number within the file's lines);
 *  - every directive has a name, its line is within its file, and a directive without a
 *    block has no children;
 *  - when the parse succeeds, the conversion either fails with a message or gives text
 *    that the YAML reader takes back as documents with kind and name.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../egctl/nginx_conf.c"
#include "../../egctl/nginx_convert.c"

static const char file_a[] = "server { listen 81; location / { proxy_pass http://u; } }\n";
static const char file_b[] = "upstream u { server 127.0.0.1:1 weight=2; }\ninclude a;\n";

static const char *main_text;
static size_t main_len;

static int resolve(void *ud, const char *arg, char ***names, size_t *n, char *err, size_t errlen)
{
    (void)ud;
    (void)err;
    (void)errlen;
    *names = malloc(sizeof **names);
    if (!*names)
        return -1;
    (*names)[0] = strdup(arg);
    *n = (*names)[0] ? 1 : 0;
    return 0;
}

static int read_file(void *ud, const char *name, char **text, size_t *len, char *err, size_t errlen)
{
    (void)ud;
    const char *src = strcmp(name, "a") == 0 ? file_a : strcmp(name, "b") == 0 ? file_b : NULL;
    if (!src) {
        snprintf(err, errlen, "open() \"%s\" failed", name);
        return -1;
    }
    *len = strlen(src);
    *text = malloc(*len + 1);
    if (!*text)
        return -1;
    memcpy(*text, src, *len + 1);
    return 0;
}

static size_t lines_of(const char *name)
{
    const char *t = strcmp(name, "a") == 0 ? file_a : strcmp(name, "b") == 0 ? file_b : NULL;
    size_t len = t ? strlen(t) : main_len, n = 1;
    if (!t)
        t = main_text;
    for (size_t i = 0; i < len; i++)
        n += t[i] == '\n';
    return n;
}

static void check_tree(const nginx_directive *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const nginx_directive *d = &list[i];
        if (!d->name || !d->file || d->line < 1 || (size_t)d->line > lines_of(d->file))
            abort();
        if (!d->has_block && d->nchildren)
            abort();
        for (size_t j = 0; j < d->nargs; j++)
            if (!d->args[j])
                abort();
        check_tree(d->children, d->nchildren);
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    main_text = (const char *)data;
    main_len = size;
    nginx_loader loader = { resolve, read_file, NULL };
    nginx_conf conf;
    char err[512];
    if (nginx_conf_parse(main_text, size, "main", &loader, &conf, err, sizeof err) != 0) {
        const char *colon = strchr(err, ':');
        if (!colon || colon == err || colon[1] < '0' || colon[1] > '9')
            abort();
        return 0;
    }
    check_tree(conf.top, conf.ntop);

    nginx_convert_opts opts = { "f", "/nonexistent/", NULL };
    char *yaml = NULL;
    if (nginx_convert(&conf, &opts, &yaml, err, sizeof err) != 0) {
        if (!err[0] || yaml)
            abort();
    } else {
        eg_node **docs = NULL;
        char yerr[256];
        int n = eg_yaml_parse_docs(yaml, strlen(yaml), &docs, yerr, sizeof yerr);
        if (n < 1)
            abort();
        for (int i = 0; i < n; i++)
            if (!eg_node_str(docs[i], "kind") || !eg_node_str(docs[i], "name"))
                abort();
        eg_node_free_docs(docs, n);
        free(yaml);
    }
    nginx_conf_free(&conf);
    return 0;
}
