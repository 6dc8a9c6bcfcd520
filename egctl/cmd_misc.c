/* cmd_misc.c — health, api-resources, members, and the deprecated `object` and `member`
 * commands that Easegress still ships (cmd/client/command in its tree): those print the
 * server's answer as it is (YAML unless -o json) and report bare "<code>: <message>". */
#define _GNU_SOURCE
#include "egctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "table.h"

int egctl_cmd_health(egctl *ctl, int argc, char **argv)
{
    if (argc > 0)
        return egctl_fail(ctl, "unknown command \"%s\" for \"egctl health\"", argv[0]);
    if (egctl_call(ctl, "GET", "/healthz", NULL, NULL) != 0)
        return -1;
    if (ctl->opts.output == EGCTL_OUT_DEFAULT) {
        puts("OK");
        return 0;
    }
    eg_node *msg = eg_node_new(EG_NODE_MAP);
    eg_node *ok = eg_node_new_str("OK");
    if (!msg || !ok) {
        eg_node_free(msg);
        eg_node_free(ok);
        return egctl_fail(ctl, "out of memory");
    }
    eg_node_map_set(msg, "message", ok);
    int rc = egctl_print_doc(ctl, msg, true);
    eg_node_free(msg);
    return rc;
}

static int alias_len_cmp(const void *a, const void *b)
{
    size_t la = strlen(*(const char *const *)a), lb = strlen(*(const char *const *)b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int egctl_cmd_api_resources(egctl *ctl, int argc, char **argv)
{
    if (argc > 0)
        return egctl_fail(ctl, "unknown command \"%s\" for \"egctl api-resources\"", argv[0]);
    if (egctl_load_resources(ctl) != 0)
        return -1;
    static const char *const action = "create,apply,delete,get,describe";
    egctl_table t;
    egctl_table_init(&t, 5);
    const char *head[] = {"NAME", "ALIASES", "CATEGORY", "KIND", "ACTION"};
    int rc = egctl_table_add(&t, head);
    for (size_t i = 0; i < ctl->nresources && rc == 0; i++) {
        const egctl_resource *r = &ctl->resources[i];
        /* Shortest alias first, as Easegress lists them. */
        const char **al = malloc((r->naliases ? r->naliases : 1) * sizeof *al);
        if (!al) {
            rc = -1;
            break;
        }
        memcpy(al, r->aliases, r->naliases * sizeof *al);
        qsort(al, r->naliases, sizeof *al, alias_len_cmp);
        size_t len = 1;
        for (size_t j = 0; j < r->naliases; j++)
            len += strlen(al[j]) + 1;
        char *joined = malloc(len);
        if (joined) {
            joined[0] = '\0';
            for (size_t j = 0; j < r->naliases; j++) {
                if (j)
                    strcat(joined, ",");
                strcat(joined, al[j]);
            }
            const char *row[] = {r->name ? r->name : "", joined, r->category ? r->category : "",
                                 r->kind, action};
            rc = egctl_table_add(&t, row);
        } else {
            rc = -1;
        }
        free(joined);
        free(al);
    }
    if (rc == 0)
        egctl_table_sort(&t, 1, 0);
    /* Then the resources egctl knows itself, in Easegress's order. (Easegress leaves the
     * CATEGORY cell of the two custom data rows out, which shifts their kind and action one
     * column left; here each value sits under its heading.) */
    const char *cdk[] = {"customdatakind", "customdatakinds,cdk", "", "CustomDataKind", action};
    const char *cd[] = {"customdata", "customdatas,cd", "", "CustomData", action};
    const char *member[] = {"member", "m,mem,members", "", "Member", "delete,get,describe"};
    if (rc == 0)
        rc = egctl_table_add(&t, cdk);
    if (rc == 0)
        rc = egctl_table_add(&t, cd);
    if (rc == 0)
        rc = egctl_table_add(&t, member);
    if (rc == 0)
        rc = egctl_table_print(&t, stdout);
    egctl_table_free(&t);
    return rc ? egctl_fail(ctl, "out of memory") : 0;
}

/* ---- members */

static const eg_node *member_options(const eg_node *m)
{
    const eg_node *o = m->type == EG_NODE_MAP ? eg_node_get(m, "options") : NULL;
    return o && o->type == EG_NODE_MAP ? o : NULL;
}

/* Options carry Go field names (Name, ClusterRole, APIAddr) in Easegress; the YAML
 * spelling (cluster-role, api-addr) is accepted too. eg_node_get ignores case. */
static const char *option_str(const eg_node *m, const char *go_name, const char *yaml_name)
{
    const eg_node *o = member_options(m);
    const char *s = o ? eg_node_str(o, go_name) : NULL;
    if (!s && o && yaml_name)
        s = eg_node_str(o, yaml_name);
    return s;
}

static int fetch_members(egctl *ctl, eg_node **doc)
{
    if (egctl_call_json(ctl, "GET", "/status/members", NULL, doc) != 0)
        return -1;
    if (*doc && (*doc)->type != EG_NODE_SEQ) {
        eg_node_free(*doc);
        *doc = NULL;
        return egctl_fail(ctl, "the admin API answered /status/members with no list");
    }
    return 0;
}

static const eg_node *etcd_field(const eg_node *m, const char *key)
{
    const eg_node *etcd = eg_node_get(m, "etcd");
    const eg_node *v = etcd && etcd->type == EG_NODE_MAP ? eg_node_get(etcd, key) : NULL;
    return v ? v : eg_node_get(m, key); /* a member without etcd may report it at top level */
}

int egctl_get_members(egctl *ctl, const char *name)
{
    eg_node *doc = NULL;
    int rc = fetch_members(ctl, &doc);
    if (rc == 0 && ctl->opts.output != EGCTL_OUT_DEFAULT) {
        rc = egctl_print_doc(ctl, doc, true);
    } else if (rc == 0) {
        egctl_table t;
        egctl_table_init(&t, 8);
        const char *head[] = {"NAME", "ROLE", "AGE", "STATE", "API-ADDR", "HEARTBEAT", "HEALTH", "VERSION"};
        bool found = false;
        rc = egctl_table_add(&t, head) ? egctl_fail(ctl, "out of memory") : 0;
        for (size_t i = 0; doc && i < doc->count && rc == 0; i++) {
            const eg_node *m = doc->items[i];
            const char *mname = option_str(m, "Name", NULL);
            if (name && (!mname || strcmp(mname, name) != 0))
                continue;
            found = true;
            char age[32], beat[48];
            egctl_age_of(etcd_field(m, "startTime"), age, sizeof age);
            egctl_age_of(eg_node_get(m, "lastHeartbeatTime"), beat, sizeof beat);
            if (strcmp(beat, "unknown") != 0)
                strcat(beat, " ago");
            const eg_node *state = etcd_field(m, "state");
            const char *role = option_str(m, "ClusterRole", "cluster-role");
            const char *api = option_str(m, "APIAddr", "api-addr");
            const char *health = eg_node_str(m, "health");
            const char *version = eg_node_str(m, "version");
            const char *row[] = {mname ? mname : "", role ? role : "", age,
                                 state && state->type == EG_NODE_STRING ? state->text : "",
                                 api ? api : "", beat, health ? health : "", version ? version : ""};
            if (egctl_table_add(&t, row) != 0)
                rc = egctl_fail(ctl, "out of memory");
            if (name)
                break;
        }
        if (rc == 0 && name && !found)
            rc = egctl_fail(ctl, "member %s not found", name);
        if (rc == 0 && egctl_table_print(&t, stdout) != 0)
            rc = egctl_fail(ctl, "writing output failed");
        egctl_table_free(&t);
    }
    if (rc != 0) {
        if (name)
            egctl_fail_wrap(ctl, "get Member %s", name);
        else
            egctl_fail_wrap(ctl, "get all Member");
    }
    eg_node_free(doc);
    return rc;
}

/* One member flattened as Easegress describes it: its options beside etcd,
 * lastHeartbeatTime and lastDefragTime. */
static eg_node *member_description(const eg_node *m)
{
    eg_node *d = eg_node_new(EG_NODE_MAP);
    if (!d)
        return NULL;
    const eg_node *etcd = eg_node_get(m, "etcd");
    const eg_node *beat = eg_node_get(m, "lastHeartbeatTime");
    const eg_node *defrag = eg_node_get(m, "lastDefragTime");
    eg_node_map_set(d, "etcd", etcd ? eg_node_clone(etcd) : eg_node_new(EG_NODE_NULL));
    eg_node_map_set(d, "lastHeartbeatTime", beat ? eg_node_clone(beat) : eg_node_new_str(""));
    eg_node_map_set(d, "lastDefragTime", defrag ? eg_node_clone(defrag) : eg_node_new_str(""));
    const eg_node *o = member_options(m);
    for (size_t i = 0; o && i < o->count; i++)
        eg_node_map_set(d, o->keys[i], eg_node_clone(o->items[i]));
    return d;
}

int egctl_describe_members(egctl *ctl, const char *name)
{
    eg_node *doc = NULL;
    int rc = fetch_members(ctl, &doc);
    if (rc == 0 && ctl->opts.output != EGCTL_OUT_DEFAULT) {
        rc = egctl_print_doc(ctl, doc, true);
    } else if (rc == 0) {
        size_t total = doc ? doc->count : 0, n = 0;
        eg_node **ds = calloc(total ? total : 1, sizeof *ds);
        if (!ds)
            rc = egctl_fail(ctl, "out of memory");
        for (size_t i = 0; i < total && rc == 0; i++) {
            const char *mname = option_str(doc->items[i], "Name", NULL);
            if (name && (!mname || strcmp(mname, name) != 0))
                continue;
            if (!(ds[n++] = member_description(doc->items[i])))
                rc = egctl_fail(ctl, "out of memory");
        }
        if (rc == 0 && name && n == 0)
            rc = egctl_fail(ctl, "member %s not found", name);
        if (rc == 0) {
            static const char *const fronts[] = {"name", "lastHeartbeatTime", "", "etcd", ""};
            rc = egctl_print_described(ctl, ds, n, fronts, sizeof fronts / sizeof fronts[0],
                                       NULL, 0);
        }
        for (size_t i = 0; i < n; i++)
            eg_node_free(ds[i]);
        free(ds);
    }
    if (rc != 0) {
        if (name)
            egctl_fail_wrap(ctl, "describe Member %s", name);
        else
            egctl_fail_wrap(ctl, "describe all Member");
    }
    eg_node_free(doc);
    return rc;
}

int egctl_delete_members(egctl *ctl, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        char *esc = egctl_escape(argv[i]), *path = NULL;
        if (!esc || asprintf(&path, "/status/members/%s", esc) < 0) {
            free(esc);
            return egctl_fail(ctl, "out of memory");
        }
        free(esc);
        int rc = egctl_call(ctl, "DELETE", path, NULL, NULL);
        free(path);
        if (rc != 0)
            return egctl_fail_wrap(ctl, "purge Member %s", argv[i]);
        printf("purge Member %s successfully\n", argv[i]);
        fflush(stdout);
    }
    return 0;
}

/* ---- deprecated commands: print the answer body as the server sent it */

static int call_and_print(egctl *ctl, const char *method, const char *path, const char *json)
{
    eg_node *doc = NULL;
    if (egctl_call_json(ctl, method, path, json, &doc) != 0)
        return -1;
    int rc = egctl_print_doc(ctl, doc, true);
    eg_node_free(doc);
    fflush(stdout);
    return rc;
}

static int call_named(egctl *ctl, const char *method, const char *fmt, const char *name,
                      const char *json)
{
    char *esc = egctl_escape(name), *path = NULL;
    if (!esc || asprintf(&path, fmt, esc) < 0) {
        free(esc);
        return egctl_fail(ctl, "out of memory");
    }
    free(esc);
    int rc = call_and_print(ctl, method, path, json);
    free(path);
    return rc;
}

/* object create / update / delete -f: one request per document. */
static int each_spec(egctl *ctl, const char *method)
{
    egctl_spec *specs;
    size_t n;
    if (egctl_load_specs(ctl, ctl->opts.file, true, &specs, &n) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (strcmp(method, "DELETE") == 0) {
            rc = call_named(ctl, method, "/objects/%s", specs[i].name, NULL);
            continue;
        }
        char *json = eg_node_to_json(specs[i].doc, false, NULL);
        if (!json) {
            rc = egctl_fail(ctl, "out of memory");
            break;
        }
        if (strcmp(method, "POST") == 0)
            rc = call_and_print(ctl, method, "/objects", json);
        else
            rc = call_named(ctl, method, "/objects/%s", specs[i].name, json);
        free(json);
    }
    egctl_free_specs(specs, n);
    return rc;
}

static bool is_word(const char *arg, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(arg, *names) == 0)
            return true;
    return false;
}

static int need_args(egctl *ctl, int argc, int want, const char *what)
{
    if (argc != want)
        return egctl_fail(ctl, "requires one %s", what);
    return 0;
}

int egctl_cmd_object(egctl *ctl, int argc, char **argv)
{
    if (argc == 0)
        return egctl_print_help("object", NULL) ? 0 : -1;
    const char *sub = argv[0];
    argc--;
    argv++;
    unsigned allowed = 0;
    if (strcmp(sub, "create") == 0 || strcmp(sub, "update") == 0)
        allowed = EGCTL_FLAG_FILE;
    else if (strcmp(sub, "delete") == 0)
        allowed = EGCTL_FLAG_FILE | EGCTL_FLAG_ALL;
    const char *bad = egctl_flag_name(ctl->opts.flags_seen, allowed);
    if (bad)
        return egctl_fail(ctl, "unknown flag: %s", bad);

    if (strcmp(sub, "kinds") == 0)
        return call_and_print(ctl, "GET", "/object-kinds", NULL);
    if (strcmp(sub, "list") == 0)
        return call_and_print(ctl, "GET", "/objects", NULL);
    if (strcmp(sub, "create") == 0)
        return each_spec(ctl, "POST");
    if (strcmp(sub, "update") == 0)
        return each_spec(ctl, "PUT");
    if (strcmp(sub, "get") == 0) {
        if (need_args(ctl, argc, 1, "object name to be retrieved") != 0)
            return -1;
        return call_named(ctl, "GET", "/objects/%s", argv[0], NULL);
    }
    if (strcmp(sub, "delete") == 0) {
        bool file = ctl->opts.file && *ctl->opts.file;
        if (ctl->opts.all && file)
            return egctl_fail(ctl, "--all and --file cannot be used together");
        if (ctl->opts.all && argc)
            return egctl_fail(ctl, "--all and <object_name> cannot be used together");
        if (argc && file)
            return egctl_fail(ctl, "--file and <object_name> cannot be used together");
        if (ctl->opts.all)
            return call_and_print(ctl, "DELETE", "/objects?all=true", NULL);
        if (file)
            return each_spec(ctl, "DELETE");
        if (argc != 1)
            return egctl_fail(ctl, "requires one object name to be deleted");
        return call_named(ctl, "DELETE", "/objects/%s", argv[0], NULL);
    }
    static const char *const status_names[] = {"status", "stat", NULL};
    if (is_word(sub, status_names)) {
        if (argc == 0)
            return egctl_print_help("object", "status") ? 0 : -1;
        if (strcmp(argv[0], "list") == 0 && argc == 1)
            return call_and_print(ctl, "GET", "/status/objects", NULL);
        if (strcmp(argv[0], "get") == 0) {
            if (need_args(ctl, argc - 1, 1, "object name to be retrieved") != 0)
                return -1;
            return call_named(ctl, "GET", "/status/objects/%s", argv[1], NULL);
        }
        return egctl_fail(ctl, "unknown command \"%s\" for \"egctl object status\"", argv[0]);
    }
    return egctl_fail(ctl, "unknown command \"%s\" for \"egctl object\"", sub);
}

int egctl_cmd_member(egctl *ctl, int argc, char **argv)
{
    if (argc == 0)
        return egctl_print_help("member", NULL) ? 0 : -1;
    if (ctl->opts.flags_seen)
        return egctl_fail(ctl, "unknown flag: %s", egctl_flag_name(ctl->opts.flags_seen, 0));
    if (strcmp(argv[0], "list") == 0 && argc == 1)
        return call_and_print(ctl, "GET", "/status/members", NULL);
    if (strcmp(argv[0], "purge") == 0) {
        if (argc != 2)
            return egctl_fail(ctl, "requires one member name to be deleted");
        return call_named(ctl, "DELETE", "/status/members/%s", argv[1], NULL);
    }
    return egctl_fail(ctl, "unknown command \"%s\" for \"egctl member\"", argv[0]);
}
