/* cmd_customdata.c — custom data kinds and items in egctl, as Easegress's egctl
 * (cmd/client/resources/customdata*.go):
 *
 *   egctl create|apply -f FILE     documents of kind CustomDataKind ({name, idField,
 *                                  jsonSchema}: POST, or PUT when apply finds it) and
 *                                  CustomData ({name: <kind>, rebuild, delete, list}: POSTed
 *                                  to /customdata/<kind>/items)
 *   egctl get customdatakind [NAME]        table NAME ID-FIELD JSON-SCHEMA DATA-NUM
 *   egctl get customdata KIND [ID]         table <ID-FIELD>
 *   egctl describe customdatakind [NAME]   each kind's fields, name first
 *   egctl describe customdata KIND [ID]    each item's fields, its id field first
 *   egctl edit customdatakind NAME | customdata KIND [ID]   (cmd_edit.c)
 *   egctl delete customdatakind NAME... | --all
 *   egctl delete customdata KIND ID... | --all
 * -o json|yaml prints the server's answers instead of the tables. */
#define _GNU_SOURCE
#include "egctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "table.h"

static bool one_of(const char *arg, const char *const *names)
{
    for (; *names; names++)
        if (strcasecmp(arg, *names) == 0)
            return true;
    return false;
}

static const char *const kind_names[] = {"customdatakind", "customdatakinds", "cdk", "CustomDataKind", NULL};
static const char *const data_names[] = {"customdata", "customdatas", "cd", "CustomData", NULL};

int egctl_customdata_resource(const char *arg)
{
    if (one_of(arg, kind_names))
        return EGCTL_CDK;
    if (one_of(arg, data_names))
        return EGCTL_CD;
    return 0;
}

static char *path_of(egctl *ctl, const char *fmt, const char *a, const char *b)
{
    char *ea = a ? egctl_escape(a) : NULL, *eb = b ? egctl_escape(b) : NULL, *p = NULL;
    if ((a && !ea) || (b && !eb) || asprintf(&p, fmt, ea ? ea : "", eb ? eb : "") < 0)
        p = NULL;
    free(ea);
    free(eb);
    if (!p)
        egctl_fail(ctl, "out of memory");
    return p;
}

int egctl_customdata_submit(egctl *ctl, const egctl_spec *s, bool apply)
{
    int which = egctl_customdata_resource(s->kind);
    char *json = eg_node_to_json(s->doc, false, NULL);
    if (!json)
        return egctl_fail(ctl, "out of memory");
    int rc;
    const char *action = "create";
    if (which == EGCTL_CDK) {
        bool exists = false;
        if (apply) {
            char *p = path_of(ctl, "/customdatakinds/%s%s", s->name, NULL);
            exists = p && egctl_call(ctl, "GET", p, NULL, NULL) == 0;
            free(p);
            if (ctl->err_final) {
                free(json);
                return -1;
            }
        }
        action = exists ? "update" : "create";
        rc = egctl_call(ctl, exists ? "PUT" : "POST", "/customdatakinds", json, NULL);
        if (rc != 0)
            egctl_fail_wrap(ctl, "%s %s %s", action, s->kind, s->name);
        else
            printf("%s %s %s successfully\n", action, s->kind, s->name);
    } else {
        char *p = path_of(ctl, "/customdata/%s/items%s", s->name, NULL);
        action = apply ? "apply" : "create";
        rc = p ? egctl_call(ctl, "POST", p, json, NULL) : -1;
        free(p);
        if (rc != 0)
            egctl_fail_wrap(ctl, "%s %s for kind %s", action, s->kind, s->name);
        else
            printf("%s %s for kind %s successfully\n", action, s->kind, s->name);
    }
    fflush(stdout);
    free(json);
    return rc;
}

static const char *str_or(const eg_node *map, const char *key, const char *dflt)
{
    const char *v = eg_node_str(map, key);
    return v && *v ? v : dflt;
}

static int print_kinds(egctl *ctl, const eg_node *doc)
{
    egctl_table t;
    egctl_table_init(&t, 4);
    const char *head[] = {"NAME", "ID-FIELD", "JSON-SCHEMA", "DATA-NUM"};
    int rc = egctl_table_add(&t, head);
    size_t n = doc->type == EG_NODE_SEQ ? doc->count : 1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const eg_node *k = doc->type == EG_NODE_SEQ ? doc->items[i] : doc;
        const eg_node *len = eg_node_get(k, "len");
        char num[32];
        snprintf(num, sizeof num, "%lld", len && len->type == EG_NODE_INT ? (long long)len->v.i : 0LL);
        const eg_node *schema = eg_node_get(k, "jsonSchema");
        const char *row[] = {str_or(k, "name", ""), str_or(k, "idField", "-"),
                             schema && schema->type != EG_NODE_NULL ? "yes" : "no", num};
        rc = egctl_table_add(&t, row);
    }
    egctl_table_sort(&t, 1, 0);
    if (rc == 0)
        rc = egctl_table_print(&t, stdout);
    egctl_table_free(&t);
    return rc == 0 ? 0 : egctl_fail(ctl, "out of memory");
}

static int print_items(egctl *ctl, const eg_node *doc, const char *id_field)
{
    egctl_table t;
    egctl_table_init(&t, 1);
    char *head = strdup(id_field);
    for (char *c = head; c && *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    const char *hrow[] = {head};
    int rc = head ? egctl_table_add(&t, hrow) : -1;
    size_t n = doc->type == EG_NODE_SEQ ? doc->count : 1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const eg_node *item = doc->type == EG_NODE_SEQ ? doc->items[i] : doc;
        const eg_node *id = NULL;
        for (size_t j = 0; item->type == EG_NODE_MAP && j < item->count && !id; j++)
            if (strcmp(item->keys[j], id_field) == 0)
                id = item->items[j];
        const char *row[] = {id && id->type == EG_NODE_STRING ? id->text : ""};
        rc = egctl_table_add(&t, row);
    }
    if (rc == 0)
        rc = egctl_table_print(&t, stdout);
    egctl_table_free(&t);
    free(head);
    return rc == 0 ? 0 : egctl_fail(ctl, "out of memory");
}

int egctl_customdata_get(egctl *ctl, int which, int argc, char **argv)
{
    eg_node *doc = NULL, *kind = NULL;
    char *p = NULL;
    int rc;
    if (which == EGCTL_CDK) {
        if (argc > 1)
            return egctl_fail(ctl, "invalid args");
        p = argc ? path_of(ctl, "/customdatakinds/%s%s", argv[0], NULL) : strdup("/customdatakinds");
        rc = p ? egctl_call_json(ctl, "GET", p, NULL, &doc) : -1;
        if (rc == 0 && !doc)
            rc = egctl_fail(ctl, "empty answer");
        if (rc == 0)
            rc = ctl->opts.output != EGCTL_OUT_DEFAULT ? egctl_print_doc(ctl, doc, true) : print_kinds(ctl, doc);
        if (rc != 0) {
            if (argc)
                egctl_fail_wrap(ctl, "get CustomDataKind %s", argv[0]);
            else
                egctl_fail_wrap(ctl, "get all CustomDataKind");
        }
    } else {
        if (argc < 1 || argc > 2)
            return egctl_fail(ctl, "get customdata needs a kind (and optionally an id)");
        p = argc == 2 ? path_of(ctl, "/customdata/%s/%s", argv[0], argv[1])
                      : path_of(ctl, "/customdata/%s%s", argv[0], NULL);
        rc = p ? egctl_call_json(ctl, "GET", p, NULL, &doc) : -1;
        if (rc == 0 && !doc)
            rc = egctl_fail(ctl, "empty answer");
        if (rc == 0 && ctl->opts.output != EGCTL_OUT_DEFAULT) {
            rc = egctl_print_doc(ctl, doc, true);
        } else if (rc == 0) {
            char *kp = path_of(ctl, "/customdatakinds/%s%s", argv[0], NULL);
            rc = kp ? egctl_call_json(ctl, "GET", kp, NULL, &kind) : -1;
            free(kp);
            if (rc == 0)
                rc = print_items(ctl, doc, kind ? str_or(kind, "idField", "name") : "name");
        }
        if (rc != 0) {
            if (argc == 2)
                egctl_fail_wrap(ctl, "get CustomData with id %s for kind %s", argv[1], argv[0]);
            else
                egctl_fail_wrap(ctl, "get CustomData for kind %s", argv[0]);
        }
    }
    free(p);
    eg_node_free(doc);
    eg_node_free(kind);
    return rc;
}

int egctl_customdata_describe(egctl *ctl, int which, int argc, char **argv)
{
    if (which == EGCTL_CD && argc < 1)
        return egctl_fail(ctl, "no custom data kind specified");
    if (argc > (which == EGCTL_CD ? 2 : 1))
        return egctl_fail(ctl, "invalid args");
    char *p;
    if (which == EGCTL_CDK)
        p = argc ? path_of(ctl, "/customdatakinds/%s%s", argv[0], NULL) : strdup("/customdatakinds");
    else
        p = argc == 2 ? path_of(ctl, "/customdata/%s/%s", argv[0], argv[1])
                      : path_of(ctl, "/customdata/%s%s", argv[0], NULL);
    eg_node *doc = NULL, *kind = NULL;
    int rc = p ? egctl_call_json(ctl, "GET", p, NULL, &doc) : egctl_fail(ctl, "out of memory");
    free(p);
    if (rc == 0 && !doc)
        rc = egctl_fail(ctl, "empty answer");
    if (rc == 0 && ctl->opts.output != EGCTL_OUT_DEFAULT) {
        rc = egctl_print_doc(ctl, doc, true);
    } else if (rc == 0) {
        /* Easegress's PrintMapInterface: the kind's name, or the item's id, leads. */
        const char *front = "name";
        if (which == EGCTL_CD) {
            char *kp = path_of(ctl, "/customdatakinds/%s%s", argv[0], NULL);
            rc = kp ? egctl_call_json(ctl, "GET", kp, NULL, &kind) : -1;
            free(kp);
            if (rc == 0 && kind)
                front = str_or(kind, "idField", "name");
        }
        if (rc == 0) {
            eg_node *const *maps = doc->type == EG_NODE_SEQ ? doc->items : &doc;
            size_t n = doc->type == EG_NODE_SEQ ? doc->count : 1;
            rc = egctl_print_described(ctl, maps, n, &front, 1, NULL, 0);
        }
    }
    if (rc != 0) {
        if (which == EGCTL_CDK && argc)
            egctl_fail_wrap(ctl, "describe CustomDataKind %s", argv[0]);
        else if (which == EGCTL_CDK)
            egctl_fail_wrap(ctl, "describe all CustomDataKind");
        else if (argc == 2)
            egctl_fail_wrap(ctl, "describe CustomData with id %s for kind %s", argv[1], argv[0]);
        else
            egctl_fail_wrap(ctl, "describe CustomData for kind %s", argv[0]);
    }
    eg_node_free(doc);
    eg_node_free(kind);
    return rc;
}

int egctl_customdata_delete(egctl *ctl, int which, int argc, char **argv)
{
    int rc = 0;
    if (which == EGCTL_CDK) {
        if (ctl->opts.all) {
            if (argc)
                return egctl_fail(ctl, "invalid arguments for --all");
            rc = egctl_call(ctl, "DELETE", "/customdatakinds", NULL, NULL);
            if (rc != 0)
                return egctl_fail_wrap(ctl, "delete all CustomDataKind");
            printf("delete all CustomDataKind successfully\n");
            return 0;
        }
        if (argc < 1)
            return egctl_fail(ctl, "invalid arguments");
        for (int i = 0; i < argc && rc == 0; i++) {
            char *p = path_of(ctl, "/customdatakinds/%s%s", argv[i], NULL);
            rc = p ? egctl_call(ctl, "DELETE", p, NULL, NULL) : -1;
            free(p);
            if (rc != 0)
                egctl_fail_wrap(ctl, "delete CustomDataKind %s", argv[i]);
            else
                printf("delete CustomDataKind %s successfully\n", argv[i]);
            fflush(stdout);
        }
        return rc;
    }
    if (argc < 1 || (ctl->opts.all ? argc != 1 : argc < 2))
        return egctl_fail(ctl, "delete customdata needs a kind and ids (or --all)");
    if (ctl->opts.all) {
        char *p = path_of(ctl, "/customdata/%s/items%s", argv[0], NULL);
        rc = p ? egctl_call(ctl, "DELETE", p, NULL, NULL) : -1;
        free(p);
        if (rc != 0)
            return egctl_fail_wrap(ctl, "delete CustomData for kind %s", argv[0]);
        printf("delete CustomData for kind %s successfully\n", argv[0]);
        return 0;
    }
    for (int i = 1; i < argc && rc == 0; i++) {
        char *p = path_of(ctl, "/customdata/%s/%s", argv[0], argv[i]);
        rc = p ? egctl_call(ctl, "DELETE", p, NULL, NULL) : -1;
        free(p);
        if (rc != 0)
            egctl_fail_wrap(ctl, "delete CustomData %s for kind %s", argv[i], argv[0]);
        else
            printf("delete CustomData %s for kind %s successfully\n", argv[i], argv[0]);
        fflush(stdout);
    }
    return rc;
}
