/* cmd_read.c — get and describe (Easegress's commandv2/get.go, describe.go, object.go). */
#define _GNU_SOURCE
#include "egctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "table.h"

/* GET /objects or /objects/{name}, with ?namespace= / ?all-namespaces=true when given
 * (with all-namespaces the list comes back as a map from namespace to objects). */
static int fetch_objects(egctl *ctl, const char *name, eg_node **out)
{
    const egctl_opts *o = &ctl->opts;
    char *esc = name ? egctl_escape(name) : NULL, *ns = NULL, *path = NULL;
    if (o->namespace && !(ns = egctl_escape(o->namespace))) {
        free(esc);
        return egctl_fail(ctl, "out of memory");
    }
    int n = asprintf(&path, "/objects%s%s%s%s%s", name ? "/" : "", esc ? esc : "",
                     ns || o->all_namespaces ? "?" : "",
                     ns ? "namespace=" : "", ns ? ns : "");
    char *full = NULL;
    if (n >= 0 && o->all_namespaces)
        n = asprintf(&full, "%s%sall-namespaces=true", path, ns ? "&" : "");
    free(esc);
    free(ns);
    if (n < 0) {
        free(path);
        return egctl_fail(ctl, "out of memory");
    }
    int rc = egctl_call_json(ctl, "GET", full ? full : path, NULL, out);
    free(full);
    free(path);
    return rc;
}

/* --all-namespaces: the {namespace: [objects]} answer as NAME KIND NAMESPACE AGE, the
 * default namespace first (Easegress's printNamespaceMetaSpec). */
static int print_namespaces_table(egctl *ctl, const eg_node *doc, const char *kind)
{
    if (!doc || doc->type != EG_NODE_MAP)
        return egctl_fail(ctl, "the admin API answered with no map of namespaces");
    egctl_table t;
    egctl_table_init(&t, 4);
    const char *head[] = {"NAME", "KIND", "NAMESPACE", "AGE"};
    int rc = egctl_table_add(&t, head);
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        for (size_t i = 0; i < doc->count && rc == 0; i++) {
            if ((strcmp(doc->keys[i], "default") == 0) != (pass == 0))
                continue;
            const eg_node *list = doc->items[i];
            size_t first = t.nrows;
            for (size_t j = 0; list->type == EG_NODE_SEQ && j < list->count && rc == 0; j++) {
                const eg_node *obj = list->items[j];
                const char *k = obj->type == EG_NODE_MAP ? eg_node_str(obj, "kind") : NULL;
                if (!k || (kind && strcasecmp(k, kind) != 0))
                    continue;
                char age[32];
                const eg_node *when = eg_node_get(obj, "createdAt");
                egctl_age_of(when ? when : eg_node_get(obj, "mtime"), age, sizeof age);
                const char *name = eg_node_str(obj, "name");
                const char *row[] = {name ? name : "", k, doc->keys[i], age};
                rc = egctl_table_add(&t, row);
            }
            if (rc == 0)
                egctl_table_sort(&t, first, 0);
        }
    }
    if (rc == 0)
        rc = egctl_table_print(&t, stdout);
    egctl_table_free(&t);
    return rc ? egctl_fail(ctl, "out of memory") : 0;
}

/* The objects of `doc` (a list, or one object) whose kind is `kind` (any when NULL),
 * borrowed into a new SEQ-shaped array. */
static eg_node **select_kind(const eg_node *doc, const char *kind, size_t *n)
{
    *n = 0;
    size_t total = !doc ? 0 : doc->type == EG_NODE_SEQ ? doc->count : 1;
    eg_node **v = calloc(total ? total : 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < total; i++) {
        eg_node *o = doc->type == EG_NODE_SEQ ? doc->items[i] : (eg_node *)doc;
        if (o->type != EG_NODE_MAP)
            continue;
        const char *k = eg_node_str(o, "kind");
        if (!kind || (k && strcasecmp(k, kind) == 0))
            v[(*n)++] = o;
    }
    return v;
}

/* A SEQ of clones of the given objects, for printing as one document. */
static eg_node *seq_of(eg_node *const *objs, size_t n)
{
    eg_node *seq = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; seq && i < n; i++) {
        eg_node *c = eg_node_clone(objs[i]);
        if (!c) {
            eg_node_free(seq);
            return NULL;
        }
        eg_node_seq_push(seq, c);
    }
    return seq;
}

static const char *str_or_empty(const eg_node *o, const char *key)
{
    const char *s = eg_node_str(o, key);
    return s ? s : "";
}

/* NAME KIND AGE, sorted by name; AGE from createdAt (Easegress) or mtime. */
static int print_meta_table(egctl *ctl, eg_node *const *objs, size_t n)
{
    egctl_table t;
    egctl_table_init(&t, 3);
    const char *head[] = {"NAME", "KIND", "AGE"};
    int rc = egctl_table_add(&t, head);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char age[32];
        const eg_node *when = eg_node_get(objs[i], "createdAt");
        egctl_age_of(when ? when : eg_node_get(objs[i], "mtime"), age, sizeof age);
        const char *row[] = {str_or_empty(objs[i], "name"), str_or_empty(objs[i], "kind"), age};
        rc = egctl_table_add(&t, row);
    }
    if (rc == 0) {
        egctl_table_sort(&t, 1, 0);
        rc = egctl_table_print(&t, stdout);
    }
    egctl_table_free(&t);
    return rc ? egctl_fail(ctl, "out of memory") : 0;
}

static int get_objects(egctl *ctl, const char *kind, const char *name)
{
    eg_node *doc = NULL;
    int rc = fetch_objects(ctl, name, &doc);
    size_t n = 0;
    eg_node **objs = NULL;
    if (rc == 0 && ctl->opts.all_namespaces && !name) {
        rc = ctl->opts.output != EGCTL_OUT_DEFAULT ? egctl_print_doc(ctl, doc, true)
                                                   : print_namespaces_table(ctl, doc, kind);
        if (rc != 0)
            egctl_fail_wrap(ctl, "get all %s", kind);
        eg_node_free(doc);
        return rc;
    }
    if (rc == 0 && !(objs = select_kind(doc, kind, &n)))
        rc = egctl_fail(ctl, "out of memory");
    if (rc == 0) {
        if (ctl->opts.output != EGCTL_OUT_DEFAULT && name) {
            rc = egctl_print_doc(ctl, doc, true); /* the object as the server sent it */
        } else if (ctl->opts.output != EGCTL_OUT_DEFAULT) {
            eg_node *seq = seq_of(objs, n);
            rc = seq ? egctl_print_doc(ctl, seq, false) : egctl_fail(ctl, "out of memory");
            eg_node_free(seq);
        } else {
            rc = print_meta_table(ctl, objs, n);
        }
    }
    if (rc != 0) {
        if (name)
            egctl_fail_wrap(ctl, "get %s %s", kind, name);
        else
            egctl_fail_wrap(ctl, "get all %s", kind);
    }
    free(objs);
    eg_node_free(doc);
    return rc;
}

/* Add the reason of a failed part of `get all` to *errs ("; " between parts). */
static void collect_err(egctl *ctl, char **errs)
{
    char *both = NULL;
    if (!*errs) {
        *errs = ctl->err;
    } else if (asprintf(&both, "%s; %s", *errs, ctl->err ? ctl->err : "") >= 0) {
        free(*errs);
        free(ctl->err);
        *errs = both;
    } else {
        free(ctl->err);
    }
    ctl->err = NULL;
}

/* `get all`: every object, then the members and the custom data kinds, as Easegress's
 * getAllResources. A failing part does not hide the others. */
static int get_all(egctl *ctl)
{
    char *errs = NULL;
    eg_node *doc = NULL;
    int rc = fetch_objects(ctl, NULL, &doc);
    if (rc == 0) {
        if (ctl->opts.output != EGCTL_OUT_DEFAULT) {
            rc = egctl_print_doc(ctl, doc, true);
        } else if (ctl->opts.all_namespaces) {
            rc = print_namespaces_table(ctl, doc, NULL);
        } else {
            size_t n;
            eg_node **objs = select_kind(doc, NULL, &n);
            rc = objs ? print_meta_table(ctl, objs, n) : egctl_fail(ctl, "out of memory");
            free(objs);
        }
    }
    eg_node_free(doc);
    if (rc == 0)
        putchar('\n');
    else if (ctl->err_final)
        return -1; /* no server: the members cannot be asked either */
    else {
        egctl_fail_wrap(ctl, "get resource");
        collect_err(ctl, &errs);
    }
    /* Members and custom data kinds belong to no namespace: Easegress lists them for the
     * default one only. */
    if (!ctl->opts.namespace || strcmp(ctl->opts.namespace, "default") == 0) {
        if (egctl_get_members(ctl, NULL) == 0)
            putchar('\n');
        else
            collect_err(ctl, &errs);
        if (egctl_customdata_get(ctl, EGCTL_CDK, 0, NULL) == 0)
            putchar('\n');
        else
            collect_err(ctl, &errs);
    }
    if (!errs)
        return 0;
    free(ctl->err);
    ctl->err = errs;
    return -1;
}

int egctl_cmd_get(egctl *ctl, int argc, char **argv)
{
    if (argc == 0)
        return egctl_fail(ctl, "no resource specified");
    if (egctl_customdata_resource(argv[0]))
        return egctl_customdata_get(ctl, egctl_customdata_resource(argv[0]), argc - 1, argv + 1);
    if (strcmp(argv[0], "all") == 0 && argc != 1)
        return egctl_fail(ctl, "no more args allowed for arg 'all'");
    if (argc > 2)
        return egctl_fail(ctl, "invalid args");
    if (strcmp(argv[0], "all") == 0)
        return get_all(ctl);
    if (egctl_is_member(argv[0]))
        return egctl_get_members(ctl, argc > 1 ? argv[1] : NULL);
    const egctl_resource *r;
    if (egctl_resolve(ctl, argv[0], &r) != 0)
        return -1;
    return get_objects(ctl, r->kind, argc > 1 ? argv[1] : NULL);
}

/* A member's status as printed: traffic objects' statuses may come wrapped as
 * {spec, status}; Easegress shows the inner status then. */
static const eg_node *unwrap_status(const eg_node *st)
{
    if (!st || st->type != EG_NODE_MAP)
        return st;
    const eg_node *inner = eg_node_get(st, "status");
    if (!inner)
        return st;
    for (size_t i = 0; i < st->count; i++)
        if (strcmp(st->keys[i], "status") != 0 && strcmp(st->keys[i], "spec") != 0)
            return st;
    return inner;
}

/* [{node: <member>, status: ...}] from {"<member>": status}. */
static eg_node *all_status_of(const eg_node *per_member)
{
    eg_node *seq = eg_node_new(EG_NODE_SEQ);
    if (!seq || !per_member || per_member->type != EG_NODE_MAP)
        return seq;
    for (size_t i = 0; i < per_member->count; i++) {
        eg_node *item = eg_node_new(EG_NODE_MAP);
        eg_node *node = eg_node_new_str(per_member->keys[i]);
        eg_node *st = eg_node_clone(unwrap_status(per_member->items[i]));
        if (!item || !node || !st) {
            eg_node_free(item);
            eg_node_free(node);
            eg_node_free(st);
            eg_node_free(seq);
            return NULL;
        }
        eg_node_map_set(item, "node", node);
        eg_node_map_set(item, "status", st);
        eg_node_seq_push(seq, item);
    }
    return seq;
}

static int describe_objects(egctl *ctl, const char *kind, const char *name)
{
    eg_node *doc = NULL, *status = NULL, *out = NULL;
    eg_node **objs = NULL;
    size_t n = 0;
    int rc = fetch_objects(ctl, name, &doc);
    const char *ns_shown = ctl->opts.namespace ? ctl->opts.namespace : "default";
    if (rc == 0 && ctl->opts.all_namespaces && !name && doc && doc->type == EG_NODE_MAP) {
        /* Only "default" holds objects here: describe that list, under its name. */
        eg_node *list = NULL;
        for (size_t i = 0; i < doc->count && !list; i++)
            if (doc->items[i]->type == EG_NODE_SEQ) {
                list = eg_node_clone(doc->items[i]);
                ns_shown = "default";
            }
        eg_node_free(doc);
        doc = list ? list : eg_node_new(EG_NODE_SEQ);
    }
    if (rc == 0 && !(objs = select_kind(doc, kind, &n)))
        rc = egctl_fail(ctl, "out of memory");

    /* Status: of the one object, or of all of them when listing a kind. An object
     * without status yet (404) simply has none. */
    if (rc == 0 && n > 0) {
        char *esc = NULL, *path = NULL;
        if (name && (!(esc = egctl_escape(name)) || asprintf(&path, "/status/objects/%s", esc) < 0))
            rc = egctl_fail(ctl, "out of memory");
        if (rc == 0) {
            rc = egctl_call_json(ctl, "GET", name ? path : "/status/objects", NULL, &status);
            if (rc != 0 && !ctl->err_final && ctl->err && strncmp(ctl->err, "404:", 4) == 0)
                rc = 0;
        }
        free(esc);
        free(path);
    }

    /* Each object with its allStatus added, as Easegress prints it. */
    if (rc == 0 && !(out = eg_node_new(EG_NODE_SEQ)))
        rc = egctl_fail(ctl, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        eg_node *o = eg_node_clone(objs[i]);
        const char *oname = eg_node_str(objs[i], "name");
        const eg_node *per_member = NULL;
        if (status && status->type == EG_NODE_MAP)
            per_member = name ? status : (oname ? eg_node_get(status, oname) : NULL);
        eg_node *all = all_status_of(per_member);
        if (!o || !all) {
            eg_node_free(o);
            eg_node_free(all);
            rc = egctl_fail(ctl, "out of memory");
            break;
        }
        eg_node_map_set(o, "allStatus", all);
        eg_node_seq_push(out, o);
    }

    if (rc == 0) {
        if (ctl->opts.output != EGCTL_OUT_DEFAULT) {
            rc = egctl_print_doc(ctl, out, false);
        } else if (out->count > 0) {
            static const char *const fronts[] = {"name", "kind", "version", "", "flow", "",
                                                 "filters", "", "rules", ""};
            static const char *const backs[] = {"allStatus"};
            /* Easegress groups objects by namespace; everything here is in "default". */
            size_t bar = strlen("In Namespace :") + strlen(ns_shown);
            for (size_t i = 0; i < bar; i++)
                putchar('=');
            printf("\nIn Namespace %s:\n", ns_shown);
            for (size_t i = 0; i < bar; i++)
                putchar('=');
            putchar('\n');
            rc = egctl_print_described(ctl, out->items, out->count, fronts,
                                       sizeof fronts / sizeof fronts[0], backs, 1);
        }
    }
    if (rc != 0) {
        if (name)
            egctl_fail_wrap(ctl, "describe %s %s", kind, name);
        else
            egctl_fail_wrap(ctl, "describe all %s", kind);
    }
    eg_node_free(out);
    free(objs);
    eg_node_free(status);
    eg_node_free(doc);
    return rc;
}

int egctl_cmd_describe(egctl *ctl, int argc, char **argv)
{
    if (argc == 0)
        return egctl_fail(ctl, "no resource specified");
    if (egctl_customdata_resource(argv[0]))
        return egctl_customdata_describe(ctl, egctl_customdata_resource(argv[0]), argc - 1,
                                         argv + 1);
    if (strcmp(argv[0], "all") == 0 && argc != 1)
        return egctl_fail(ctl, "no more args allowed for arg 'all'");
    if (argc > 2)
        return egctl_fail(ctl, "invalid args");
    if (egctl_is_member(argv[0]))
        return egctl_describe_members(ctl, argc > 1 ? argv[1] : NULL);
    const egctl_resource *r;
    if (egctl_resolve(ctl, argv[0], &r) != 0)
        return -1;
    return describe_objects(ctl, r->kind, argc > 1 ? argv[1] : NULL);
}
