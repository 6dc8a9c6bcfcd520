/* output.c — how egctl prints documents: Easegress's PrintBody and PrintMapInterface.
 *
 * Easegress re-marshals what it prints through Go maps, so map keys come out sorted
 * (YAML always; JSON whenever egctl built the document itself). We sort a clone of the
 * tree the same way and let node.c's emitters write it.
 */
#define _GNU_SOURCE
#include "egctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char *key;
    eg_node *item;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const kv *)a)->key, ((const kv *)b)->key);
}

/* Sort every map of the tree by key, in place. Returns -1 when out of memory. */
static int sort_tree(eg_node *n)
{
    if (!n)
        return 0;
    if (n->type == EG_NODE_MAP && n->count > 1) {
        kv *v = malloc(n->count * sizeof *v);
        if (!v)
            return -1;
        for (size_t i = 0; i < n->count; i++)
            v[i] = (kv){n->keys[i], n->items[i]};
        /* Keys of a map are distinct, so an unstable sort is deterministic. */
        qsort(v, n->count, sizeof *v, kv_cmp);
        for (size_t i = 0; i < n->count; i++) {
            n->keys[i] = v[i].key;
            n->items[i] = v[i].item;
        }
        free(v);
    }
    if (n->type == EG_NODE_MAP || n->type == EG_NODE_SEQ)
        for (size_t i = 0; i < n->count; i++)
            if (sort_tree(n->items[i]) != 0)
                return -1;
    return 0;
}

eg_node *egctl_sorted_clone(const eg_node *n)
{
    eg_node *c = eg_node_clone(n);
    if (c && sort_tree(c) != 0) {
        eg_node_free(c);
        return NULL;
    }
    return c;
}

char *egctl_json_pretty(const eg_node *n, bool sort_keys)
{
    if (!sort_keys)
        return eg_node_to_json(n, true, NULL);
    eg_node *c = egctl_sorted_clone(n);
    if (!c)
        return NULL;
    char *out = eg_node_to_json(c, true, NULL);
    eg_node_free(c);
    return out;
}

char *egctl_yaml_sorted(const eg_node *n)
{
    eg_node *c = egctl_sorted_clone(n);
    if (!c)
        return NULL;
    char *out = eg_node_to_yaml(c, NULL);
    eg_node_free(c);
    return out;
}

int egctl_print_doc(const egctl *ctl, const eg_node *doc, bool keep_order)
{
    if (!doc) /* an empty answer prints nothing, as PrintBody does */
        return 0;
    char *text;
    if (ctl->opts.output == EGCTL_OUT_JSON)
        text = egctl_json_pretty(doc, !keep_order);
    else
        text = egctl_yaml_sorted(doc);
    if (!text)
        return egctl_fail((egctl *)ctl, "cannot format the answer");
    size_t len = strlen(text);
    /* Go prints json.Indent's text without a newline; ending the line is kinder to shells. */
    int rc = fputs(text, stdout) == EOF || (len && text[len - 1] != '\n' && putchar('\n') == EOF);
    free(text);
    return rc ? egctl_fail((egctl *)ctl, "writing output failed") : 0;
}

static bool in_list(const char *k, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, list[i]) == 0)
            return true;
    return false;
}

/* The first letter of each top-level key is lowered (Go field names print as spec keys);
 * the last of two keys that collide wins, as it would in a Go map. */
static const eg_node *lookup_lowered(const eg_node *m, const char *key)
{
    const eg_node *found = NULL;
    for (size_t i = 0; i < m->count; i++) {
        const char *k = m->keys[i];
        if (k[0] && (k[0] == key[0] || (k[0] >= 'A' && k[0] <= 'Z' && k[0] + 32 == key[0])) &&
            strcmp(k + 1, key + 1) == 0)
            found = m->items[i];
    }
    return found;
}

static void print_kv(const egctl *ctl, const char *key, const eg_node *value)
{
    char *y = egctl_yaml_sorted(value);
    if (!y)
        return;
    size_t len = strlen(y);
    while (len && y[len - 1] == '\n')
        y[--len] = '\0';
    char cap0 = key[0] >= 'a' && key[0] <= 'z' ? (char)(key[0] - 32) : key[0];
    if (!strchr(y, '\n')) {
        /* Long one-line values are cut at 50 bytes unless -v (Easegress's cutLine),
         * backing off so a UTF-8 character is not split. */
        if (!ctl->opts.verbose && len >= 50) {
            size_t cut = 50;
            while (cut > 0 && ((unsigned char)y[cut] & 0xC0) == 0x80)
                cut--;
            printf("%c%s: %.*s...\n", cap0, key + 1, (int)cut, y);
        } else {
            printf("%c%s: %s\n", cap0, key + 1, y);
        }
        free(y);
        return;
    }
    printf("%c%s:\n", cap0, key + 1);
    for (size_t i = 0; i < strlen(key) + 1; i++)
        putchar('=');
    putchar('\n');
    for (char *line = y, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        printf("  %s\n", line);
    }
    free(y);
}

static int lowered_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int egctl_print_described(const egctl *ctl, eg_node *const *maps, size_t n,
                          const char *const *fronts, size_t nfronts,
                          const char *const *backs, size_t nbacks)
{
    for (size_t m = 0; m < n; m++) {
        const eg_node *spec = maps[m];
        if (spec->type != EG_NODE_MAP)
            continue;
        /* Leading group: each present key in order; "" asks for a blank line, printed
         * only when the key just before it was present (Easegress's frontFlag). */
        bool front_flag = false;
        for (size_t i = 0; i < nfronts; i++) {
            if (fronts[i][0] == '\0' && front_flag)
                putchar('\n');
            const eg_node *v = fronts[i][0] ? lookup_lowered(spec, fronts[i]) : NULL;
            front_flag = v != NULL;
            if (v)
                print_kv(ctl, fronts[i], v);
        }
        /* Then every other key, sorted. */
        char **keys = calloc(spec->count ? spec->count : 1, sizeof *keys);
        if (!keys)
            return egctl_fail((egctl *)ctl, "out of memory");
        size_t nk = 0;
        for (size_t i = 0; i < spec->count; i++) {
            char *k = strdup(spec->keys[i]);
            if (!k) {
                for (size_t j = 0; j < nk; j++)
                    free(keys[j]);
                free(keys);
                return egctl_fail((egctl *)ctl, "out of memory");
            }
            if (k[0] >= 'A' && k[0] <= 'Z')
                k[0] = (char)(k[0] + 32);
            bool dup = false;
            for (size_t j = 0; j < nk && !dup; j++)
                dup = strcmp(keys[j], k) == 0;
            if (dup || in_list(k, fronts, nfronts) || in_list(k, backs, nbacks))
                free(k);
            else
                keys[nk++] = k;
        }
        qsort(keys, nk, sizeof *keys, lowered_cmp);
        for (size_t i = 0; i < nk; i++) {
            print_kv(ctl, keys[i], lookup_lowered(spec, keys[i]));
            free(keys[i]);
        }
        free(keys);
        /* Trailing group after one blank line. */
        bool back_flag = false;
        for (size_t i = 0; i < nbacks; i++) {
            const eg_node *v = lookup_lowered(spec, backs[i]);
            if (!v)
                continue;
            if (!back_flag) {
                putchar('\n');
                back_flag = true;
            }
            print_kv(ctl, backs[i], v);
        }
        if (n > 1 && m != n - 1)
            fputs("\n\n---\n\n", stdout);
    }
    return 0;
}

void egctl_age_of(const eg_node *value, char *buf, size_t len)
{
    time_t t;
    bool have = false;
    if (value && value->type == EG_NODE_STRING) {
        have = egctl_parse_rfc3339(value->text, &t);
    } else if (value && (value->type == EG_NODE_INT || value->type == EG_NODE_FLOAT)) {
        double secs = value->type == EG_NODE_INT ? (double)value->v.i : value->v.f;
        if (secs > 1e11) /* milliseconds since the epoch */
            secs /= 1000;
        t = (time_t)secs;
        have = secs > 0;
    }
    if (!have) {
        snprintf(buf, len, "unknown");
        return;
    }
    double elapsed = difftime(time(NULL), t);
    egctl_format_age(elapsed > 0 ? elapsed : 0, buf, len);
}
