/* cmd_write.c — the commands that change objects: create, apply, delete.
 *
 * Output and error texts follow Easegress's egctl (cmd/client/resources/object.go):
 * "create HTTPServer demo successfully", "create HTTPServer demo failed, 409: ...".
 */
#define _GNU_SOURCE
#include "egctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int post_or_put(egctl *ctl, const egctl_spec *s, bool update)
{
    char *json = eg_node_to_json(s->doc, false, NULL);
    if (!json)
        return egctl_fail(ctl, "out of memory");
    int rc;
    if (update) {
        char *esc = egctl_escape(s->name), *path = NULL;
        if (!esc || asprintf(&path, "/objects/%s", esc) < 0)
            path = NULL;
        rc = path ? egctl_call(ctl, "PUT", path, json, NULL) : egctl_fail(ctl, "out of memory");
        free(path);
        free(esc);
    } else {
        rc = egctl_call(ctl, "POST", "/objects", json, NULL);
    }
    free(json);
    return rc;
}

int egctl_cmd_create(egctl *ctl, int argc, char **argv)
{
    if (argc > 0) {
        if (strcmp(argv[0], "httpproxy") == 0) {
            if (ctl->opts.flags_seen & EGCTL_FLAG_FILE)
                return egctl_fail(ctl, "unknown flag: --file");
            return egctl_create_httpproxy(ctl, argc - 1, argv + 1);
        }
        return egctl_fail(ctl, "unknown command \"%s\" for \"egctl create\"", argv[0]);
    }
    const char *bad = egctl_flag_name(ctl->opts.flags_seen, EGCTL_FLAG_FILE);
    if (bad)
        return egctl_fail(ctl, "unknown flag: %s", bad);
    if (!ctl->opts.file || !*ctl->opts.file)
        return egctl_fail(ctl, "yaml file is required");
    egctl_spec *specs;
    size_t n;
    if (egctl_load_specs(ctl, ctl->opts.file, true, &specs, &n) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (egctl_customdata_resource(specs[i].kind)) {
            rc = egctl_customdata_submit(ctl, &specs[i], false);
            continue;
        }
        if (post_or_put(ctl, &specs[i], false) != 0)
            rc = egctl_fail_wrap(ctl, "create %s %s", specs[i].kind, specs[i].name);
        else
            printf("create %s %s successfully\n", specs[i].kind, specs[i].name);
        fflush(stdout); /* progress stays in order with a later error on stderr */
    }
    egctl_free_specs(specs, n);
    return rc;
}

/* GET the object: 1 it exists, 0 it does not, -1 the server could not be asked. Like
 * Easegress, any error answer counts as "does not exist"; the POST then says why. */
static int object_exists(egctl *ctl, const char *name)
{
    char *esc = egctl_escape(name), *path = NULL;
    if (!esc || asprintf(&path, "/objects/%s", esc) < 0) {
        free(esc);
        return egctl_fail(ctl, "out of memory");
    }
    free(esc);
    int rc = egctl_call(ctl, "GET", path, NULL, NULL);
    free(path);
    if (rc == 0)
        return 1;
    return ctl->err_final ? -1 : 0;
}

int egctl_cmd_apply(egctl *ctl, int argc, char **argv)
{
    if (argc > 0)
        return egctl_fail(ctl, "unknown command \"%s\" for \"egctl apply\"", argv[0]);
    if (!ctl->opts.file || !*ctl->opts.file)
        return egctl_fail(ctl, "yaml file is required");
    egctl_spec *specs;
    size_t n;
    if (egctl_load_specs(ctl, ctl->opts.file, true, &specs, &n) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (egctl_customdata_resource(specs[i].kind)) {
            rc = egctl_customdata_submit(ctl, &specs[i], true);
            continue;
        }
        int exists = object_exists(ctl, specs[i].name);
        if (exists < 0) {
            rc = -1;
            break;
        }
        const char *action = exists ? "update" : "create";
        if (post_or_put(ctl, &specs[i], exists) != 0)
            rc = egctl_fail_wrap(ctl, "%s %s %s", action, specs[i].kind, specs[i].name);
        else
            printf("%s %s %s successfully\n", action, specs[i].kind, specs[i].name);
        fflush(stdout);
    }
    egctl_free_specs(specs, n);
    return rc;
}

static bool kind_is(const eg_node *obj, const char *kind)
{
    const char *k = obj->type == EG_NODE_MAP ? eg_node_str(obj, "kind") : NULL;
    return k && strcasecmp(k, kind) == 0;
}

static int delete_one(egctl *ctl, const char *name)
{
    char *esc = egctl_escape(name), *path = NULL;
    if (!esc || asprintf(&path, "/objects/%s", esc) < 0) {
        free(esc);
        return egctl_fail(ctl, "out of memory");
    }
    free(esc);
    int rc = egctl_call(ctl, "DELETE", path, NULL, NULL);
    free(path);
    return rc;
}

static int join_names(egctl *ctl, int argc, char **argv, char **out)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 2;
    char *s = malloc(len);
    if (!s)
        return egctl_fail(ctl, "out of memory");
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, ", ");
        strcat(s, argv[i]);
    }
    *out = s;
    return 0;
}

int egctl_cmd_delete(egctl *ctl, int argc, char **argv)
{
    if (argc == 0)
        return egctl_fail(ctl, "no resource specified");
    if (egctl_is_member(argv[0])) {
        if (ctl->opts.all || argc < 2)
            return egctl_fail(ctl, "invalid arguments");
        return egctl_delete_members(ctl, argc - 1, argv + 1);
    }
    if (egctl_customdata_resource(argv[0]))
        return egctl_customdata_delete(ctl, egctl_customdata_resource(argv[0]), argc - 1, argv + 1);
    const egctl_resource *r;
    if (egctl_resolve(ctl, argv[0], &r) != 0) {
        if (ctl->err_final)
            return -1;
        return egctl_fail(ctl, "invalid resource for %s, %s", argv[0], ctl->err);
    }
    if (ctl->opts.all && argc != 1)
        return egctl_fail(ctl, "invalid arguments for --all");
    if (!ctl->opts.all && argc < 2)
        return egctl_fail(ctl, "invalid arguments");

    char *what = NULL;
    if (ctl->opts.all ? asprintf(&what, "all %s", r->kind) < 0
                      : join_names(ctl, argc - 1, argv + 1, &what) != 0)
        return egctl_fail(ctl, "out of memory");

    /* Names are checked against the objects of this kind first, so that
     * `delete pipeline my-server` cannot remove an HTTPServer. */
    eg_node *list = NULL;
    int rc = egctl_call_json(ctl, "GET", "/objects", NULL, &list);
    if (rc == 0 && list && list->type != EG_NODE_SEQ)
        rc = egctl_fail(ctl, "the admin API answered /objects with no list");
    if (rc == 0 && ctl->opts.all) {
        for (size_t i = 0; list && i < list->count && rc == 0; i++) {
            const eg_node *o = list->items[i];
            const char *name = kind_is(o, r->kind) ? eg_node_str(o, "name") : NULL;
            if (!name)
                continue;
            rc = delete_one(ctl, name);
            if (rc == 0)
                printf("delete %s %s successfully\n", eg_node_str(o, "kind"), name);
            fflush(stdout);
        }
    } else if (rc == 0) {
        for (int a = 1; a < argc && rc == 0; a++) {
            bool found = false;
            for (size_t i = 0; list && i < list->count && !found; i++) {
                const eg_node *o = list->items[i];
                const char *name = kind_is(o, r->kind) ? eg_node_str(o, "name") : NULL;
                found = name && strcmp(name, argv[a]) == 0;
            }
            if (!found) {
                rc = egctl_fail(ctl, "no such %s %s", r->kind, argv[a]);
                break;
            }
            rc = delete_one(ctl, argv[a]);
            if (rc == 0)
                printf("delete %s %s successfully\n", r->kind, argv[a]);
            fflush(stdout);
        }
    }
    if (rc != 0) {
        if (ctl->opts.all)
            egctl_fail_wrap(ctl, "delete %s", what);
        else
            egctl_fail_wrap(ctl, "delete %s %s", r->kind, what);
    }
    free(what);
    eg_node_free(list);
    return rc;
}
