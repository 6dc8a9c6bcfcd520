/* spec.c — reading the objects of `create -f`, `apply -f` and the old `object` commands.
 *
 * Like Easegress, every document is parsed and checked before the first request, so a
 * syntax error in the third document of a file leaves the server untouched.
 */
#include "egctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int egctl_load_specs(egctl *ctl, const char *file, bool need_name, egctl_spec **specs,
                     size_t *n)
{
    *specs = NULL;
    *n = 0;
    bool use_stdin = !file || strcmp(file, "-") == 0;
    const char *label = use_stdin ? "stdin" : file;
    FILE *f = use_stdin ? stdin : fopen(file, "rb");
    if (!f)
        return egctl_fail(ctl, "open %s: %s", file, strerror(errno));
    errno = 0;
    size_t len = 0;
    char *text = read_all(f, &len);
    int saved = errno;
    if (!use_stdin)
        fclose(f);
    if (!text)
        return egctl_fail(ctl, "read %s: %s", label, saved ? strerror(saved) : "out of memory");

    char perr[512];
    eg_node **docs = NULL;
    int nd = eg_yaml_parse_docs(text, len, &docs, perr, sizeof perr);
    free(text);
    if (nd < 0)
        return egctl_fail(ctl, "error parsing %s: %s", label, perr);

    egctl_spec *out = calloc(nd > 0 ? (size_t)nd : 1, sizeof *out);
    if (!out) {
        eg_node_free_docs(docs, nd);
        return egctl_fail(ctl, "out of memory");
    }
    int rc = 0;
    for (int i = 0; i < nd && rc == 0; i++) {
        eg_node *d = docs[i];
        if (d->type != EG_NODE_MAP) {
            rc = egctl_fail(ctl, "error parsing %s: document %d is not a map", label, i + 1);
            break;
        }
        const char *kind = eg_node_str(d, "kind");
        const char *name = eg_node_str(d, "name");
        /* One line is all an error may take, so the document is quoted as compact JSON. */
        if (!kind || !*kind || (need_name && (!name || !*name))) {
            char *json = eg_node_to_json(d, false, NULL);
            rc = egctl_fail(ctl, "%s is empty: %s", !kind || !*kind ? "kind" : "name",
                            json ? json : "");
            free(json);
            break;
        }
        out[i] = (egctl_spec){.doc = d, .kind = kind, .name = name ? name : ""};
    }
    if (rc != 0) {
        free(out);
        eg_node_free_docs(docs, nd);
        return -1;
    }
    free(docs); /* the documents now belong to the specs */
    *specs = out;
    *n = (size_t)nd;
    return 0;
}

void egctl_free_specs(egctl_spec *specs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        eg_node_free(specs[i].doc);
    free(specs);
}
