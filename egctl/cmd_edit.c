/* cmd_edit.c — `edit <kind> NAME` (Easegress's EditObject): the object as YAML (name and
 * kind first) in a temporary file, $EGCTL_EDITOR (default vi) on it, then a PUT of the
 * result. Also `edit customdatakind NAME`, `edit customdata KIND` (all items of the kind,
 * as one change request that rebuilds them) and `edit customdata KIND ID` (one item). Nothing changed: nothing is sent (and the file is removed). A failure (the editor, a parse error, a changed
 * name or kind, the server refusing the object) exits non-zero with the reason and keeps
 * the edited file, whose path the error names, so nothing typed is lost; a success removes
 * it. Like Easegress, and unlike kubectl, it does not reopen the editor on an error. */
#define _GNU_SOURCE
#include "egctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

/* name, kind, then the other fields sorted, as YAML. */
static char *object_yaml(const eg_node *obj)
{
    eg_node *sorted = egctl_sorted_clone(obj);
    eg_node *out = eg_node_new(EG_NODE_MAP);
    if (!sorted || !out) {
        eg_node_free(sorted);
        eg_node_free(out);
        return NULL;
    }
    static const char *const front[] = {"name", "kind"};
    for (size_t i = 0; i < 2; i++) {
        const eg_node *v = eg_node_get(sorted, front[i]);
        if (v)
            eg_node_map_set(out, front[i], eg_node_clone(v));
    }
    for (size_t i = 0; i < sorted->count; i++)
        if (strcmp(sorted->keys[i], "name") != 0 && strcmp(sorted->keys[i], "kind") != 0)
            eg_node_map_set(out, sorted->keys[i], eg_node_clone(sorted->items[i]));
    char *yaml = eg_node_to_yaml(out, NULL);
    eg_node_free(out);
    eg_node_free(sorted);
    return yaml;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t len = strlen(text);
    bool ok = fwrite(text, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[8192];
    size_t n;
    while (mem && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, mem);
    bool bad = ferror(f) || !mem;
    fclose(f);
    if (mem && fclose(mem) != 0)
        bad = true;
    if (bad) {
        free(text);
        return NULL;
    }
    return text;
}

/* $EGCTL_EDITOR through the shell, so that it may carry arguments ("code --wait"). */
static int run_editor(egctl *ctl, const char *path)
{
    const char *editor = getenv("EGCTL_EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return egctl_fail(ctl, "cannot start the editor: %s", strerror(errno));
    if (pid == 0) {
        char *script = NULL;
        if (asprintf(&script, "%s \"$1\"", editor) < 0)
            _exit(127);
        execl("/bin/sh", "sh", "-c", script, "egctl-edit", path, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return egctl_fail(ctl, "waiting for the editor: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return egctl_fail(ctl, "editor \"%s\" failed (%s %d)", editor,
                          WIFEXITED(status) ? "exit status" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 0;
}

/* The editor round trip shared by every kind of edit: `old` goes into a fresh temporary
 * file named after kind and name (path in tmp, "" when none was made), $EGCTL_EDITOR runs
 * on it, and *edited gets the result. Unchanged text: "nothing changed", the file is
 * removed and *edited is NULL. */
static int edit_text(egctl *ctl, const char *kind, const char *name, const char *old,
                     char *tmp, size_t tmplen, char **edited)
{
    *edited = NULL;
    tmp[0] = '\0';
    char *esc = egctl_escape(name);
    if (!esc)
        return egctl_fail(ctl, "out of memory");
    const char *dir = getenv("TMPDIR");
    snprintf(tmp, tmplen, "%s/%s-%s-XXXXXX.yaml", dir && *dir ? dir : "/tmp", kind, esc);
    free(esc);
    int fd = mkstemps(tmp, 5);
    if (fd < 0) {
        int rc = egctl_fail(ctl, "cannot create a temporary file %s: %s", tmp, strerror(errno));
        tmp[0] = '\0';
        return rc;
    }
    close(fd);
    if (write_file(tmp, old) != 0)
        return egctl_fail(ctl, "cannot write %s: %s", tmp, strerror(errno));
    if (run_editor(ctl, tmp) != 0)
        return -1;
    char *text = read_file(tmp);
    if (!text)
        return egctl_fail(ctl, "cannot read %s back: %s", tmp, strerror(errno));
    if (strcmp(text, old) == 0) { /* Easegress keeps the untouched file; nothing is lost here */
        printf("nothing changed\n");
        unlink(tmp);
        tmp[0] = '\0';
        free(text);
        return 0;
    }
    *edited = text;
    return 0;
}

/* Prefix the reason as Easegress does and, when there is an edited file, keep it and
 * say where, so nothing typed is lost. Returns -1. */
static int edit_failed(egctl *ctl, const char *tmp, const char *what)
{
    egctl_fail_wrap(ctl, "edit %s", what);
    if (tmp[0] && ctl->err) {
        char *with = NULL;
        if (asprintf(&with, "%s; yaml saved in %s", ctl->err, tmp) >= 0) {
            free(ctl->err);
            ctl->err = with;
        }
    }
    return -1;
}

/* The one document of an edited file, whose kind and name must be those it had. */
static int load_edited(egctl *ctl, const char *tmp, const char *kind, const char *name,
                       egctl_spec **specs, size_t *n)
{
    int rc = egctl_load_specs(ctl, tmp, true, specs, n);
    if (rc == 0 && *n != 1)
        rc = egctl_fail(ctl, "the edited file must hold one object, it holds %zu", *n);
    else if (rc == 0 && strcmp((*specs)[0].kind, kind) != 0)
        rc = egctl_fail(ctl, "kind is not equal: %s, %s", kind, (*specs)[0].kind);
    else if (rc == 0 && strcmp((*specs)[0].name, name) != 0)
        rc = egctl_fail(ctl, "name is not equal: %s, %s", name, (*specs)[0].name);
    return rc;
}

static int edit_object(egctl *ctl, const egctl_resource *r, const char *name)
{
    char *esc = egctl_escape(name), *path = NULL;
    if (!esc || asprintf(&path, "/objects/%s", esc) < 0) {
        free(esc);
        return egctl_fail(ctl, "out of memory");
    }
    free(esc);
    eg_node *obj = NULL;
    int rc = egctl_call_json(ctl, "GET", path, NULL, &obj);
    const char *kind = obj && obj->type == EG_NODE_MAP ? eg_node_str(obj, "kind") : NULL;
    if (rc == 0 && (!kind || strcasecmp(kind, r->kind) != 0))
        rc = egctl_fail(ctl, "404: %s %s not found", r->kind, name);
    char *old = rc == 0 ? object_yaml(obj) : NULL;
    if (rc == 0 && !old)
        rc = egctl_fail(ctl, "out of memory");

    char tmp[4096] = "", *edited = NULL;
    if (rc == 0)
        rc = edit_text(ctl, r->kind, name, old, tmp, sizeof tmp, &edited);
    egctl_spec *specs = NULL;
    size_t n = 0;
    if (rc == 0 && edited) {
        rc = load_edited(ctl, tmp, kind, name, &specs, &n);
        char *json = rc == 0 ? eg_node_to_json(specs[0].doc, false, NULL) : NULL;
        if (rc == 0 && !json)
            rc = egctl_fail(ctl, "out of memory");
        if (rc == 0)
            rc = egctl_call(ctl, "PUT", path, json, NULL);
        free(json);
        if (rc == 0) {
            printf("update %s %s successfully\n", kind, name);
            unlink(tmp);
        }
    }
    if (rc != 0) {
        char *what = NULL;
        if (asprintf(&what, "%s %s", r->kind, name) < 0)
            what = NULL;
        edit_failed(ctl, tmp, what ? what : r->kind);
        free(what);
    }
    egctl_free_specs(specs, n);
    free(edited);
    free(old);
    eg_node_free(obj);
    free(path);
    return rc;
}

/* ---- custom data (Easegress's EditCustomDataKind and EditCustomData) */

static char *cd_path(const char *fmt, const char *a, const char *b)
{
    char *ea = egctl_escape(a), *eb = b ? egctl_escape(b) : NULL, *p = NULL;
    if (!ea || (b && !eb) || asprintf(&p, fmt, ea, eb ? eb : "") < 0)
        p = NULL;
    free(ea);
    free(eb);
    return p;
}

/* Open `old` (a CustomDataKind or CustomData document) in the editor and submit what is
 * saved; on a failure the edited file is kept and named. */
static int edit_and_submit(egctl *ctl, const char *kind, const char *name, const char *old)
{
    char tmp[4096] = "", *edited = NULL;
    int rc = edit_text(ctl, kind, name, old, tmp, sizeof tmp, &edited);
    egctl_spec *specs = NULL;
    size_t n = 0;
    if (rc == 0 && edited) {
        rc = load_edited(ctl, tmp, kind, name, &specs, &n);
        if (rc == 0)
            rc = egctl_customdata_submit(ctl, &specs[0], true);
        if (rc == 0)
            unlink(tmp);
    }
    if (rc != 0) {
        char *what = NULL;
        if (asprintf(&what, "%s %s", kind, name) < 0)
            what = NULL;
        edit_failed(ctl, tmp, what ? what : kind);
        free(what);
    }
    egctl_free_specs(specs, n);
    free(edited);
    return rc;
}

/* edit customdatakind NAME: the kind as YAML (name, kind: CustomDataKind, the rest);
 * saved changes are applied (PUT /customdatakinds). */
static int edit_data_kind(egctl *ctl, const char *name)
{
    char *path = cd_path("/customdatakinds/%s%s", name, NULL);
    if (!path)
        return egctl_fail(ctl, "out of memory");
    eg_node *kind = NULL;
    int rc = egctl_call_json(ctl, "GET", path, NULL, &kind);
    free(path);
    if (rc == 0 && (!kind || kind->type != EG_NODE_MAP))
        rc = egctl_fail(ctl, "the admin API answered with no custom data kind");
    char *old = NULL;
    if (rc == 0) {
        eg_node_map_set(kind, "kind", eg_node_new_str("CustomDataKind"));
        if (!(old = object_yaml(kind)))
            rc = egctl_fail(ctl, "out of memory");
    }
    if (rc == 0)
        rc = edit_and_submit(ctl, "CustomDataKind", name, old);   /* prints "update ..." */
    free(old);
    eg_node_free(kind);
    return rc;
}

/* edit customdata KIND: every item of the kind as one change request {name: KIND, kind:
 * CustomData, list, rebuild: true}; saved, it replaces the kind's items (POST .../items),
 * so an item removed from the list is deleted. */
static int edit_data_batch(egctl *ctl, const char *kind_name)
{
    char *path = cd_path("/customdata/%s%s", kind_name, NULL);
    if (!path)
        return egctl_fail(ctl, "out of memory");
    eg_node *list = NULL;
    int rc = egctl_call_json(ctl, "GET", path, NULL, &list);
    free(path);
    if (rc == 0 && list && list->type != EG_NODE_SEQ)
        rc = egctl_fail(ctl, "the admin API answered with no list of custom data");
    char *old = NULL;
    if (rc == 0) {
        eg_node *doc = eg_node_new(EG_NODE_MAP);
        eg_node *items = list ? egctl_sorted_clone(list) : eg_node_new(EG_NODE_SEQ);
        if (doc && items) {
            eg_node_map_set(doc, "name", eg_node_new_str(kind_name));
            eg_node_map_set(doc, "kind", eg_node_new_str("CustomData"));
            eg_node_map_set(doc, "list", items);
            eg_node_map_set(doc, "rebuild", eg_node_new_bool(true));
            old = eg_node_to_yaml(doc, NULL);
        } else {
            eg_node_free(items);
        }
        eg_node_free(doc);
        if (!old)
            rc = egctl_fail(ctl, "out of memory");
    }
    if (rc == 0)
        rc = edit_and_submit(ctl, "CustomData", kind_name, old);  /* prints "apply ..." */
    free(old);
    eg_node_free(list);
    return rc;
}

/* edit customdata KIND ID: the one item as YAML; saved, it is PUT to /customdata/KIND.
 * Its id (the kind's idField) may not change: that would be another item. */
static int edit_data_item(egctl *ctl, const char *kind_name, const char *id)
{
    char *path = cd_path("/customdata/%s/%s", kind_name, id);
    char *kind_path = cd_path("/customdatakinds/%s%s", kind_name, NULL);
    char *put_path = cd_path("/customdata/%s%s", kind_name, NULL);
    eg_node *item = NULL, *kind = NULL, *doc = NULL;
    int rc = path && kind_path && put_path ? 0 : egctl_fail(ctl, "out of memory");
    if (rc == 0)
        rc = egctl_call_json(ctl, "GET", path, NULL, &item);
    if (rc == 0 && (!item || item->type != EG_NODE_MAP))
        rc = egctl_fail(ctl, "the admin API answered with no custom data item");
    if (rc == 0)
        rc = egctl_call_json(ctl, "GET", kind_path, NULL, &kind);
    const char *id_field = kind && kind->type == EG_NODE_MAP ? eg_node_str(kind, "idField") : NULL;
    if (!id_field || !*id_field)
        id_field = "name";
    char *old = NULL, *body = NULL;
    if (rc == 0) {
        char *yaml = egctl_yaml_sorted(item);
        if (!yaml || asprintf(&old, "# edit CustomData for kind %s\n\n%s", kind_name, yaml) < 0) {
            old = NULL;
            rc = egctl_fail(ctl, "out of memory");
        }
        free(yaml);
    }
    char tmp[4096] = "", *edited = NULL;
    if (rc == 0)
        rc = edit_text(ctl, "CustomData", kind_name, old, tmp, sizeof tmp, &edited);
    if (rc == 0 && edited) {
        char perr[256];
        doc = eg_yaml_parse(edited, strlen(edited), perr, sizeof perr);
        if (!doc)
            rc = egctl_fail(ctl, "%s", perr);
        else if (doc->type != EG_NODE_MAP)
            rc = egctl_fail(ctl, "the edited custom data is not a map of fields");
        const eg_node *was = rc == 0 ? eg_node_get(item, id_field) : NULL;
        const eg_node *now = rc == 0 ? eg_node_get(doc, id_field) : NULL;
        if (rc == 0 && (!now || !was || !eg_node_equal(was, now)))
            rc = egctl_fail(ctl, "edit cannot change the %s of custom data", id_field);
        if (rc == 0 && !(body = eg_node_to_json(doc, false, NULL)))
            rc = egctl_fail(ctl, "out of memory");
        if (rc == 0)
            rc = egctl_call(ctl, "PUT", put_path, body, NULL);
        if (rc == 0) {
            printf("edit CustomData %s %s successfully\n", kind_name, id);
            unlink(tmp);
        }
    }
    if (rc != 0) {
        char *what = NULL;
        if (asprintf(&what, "CustomData %s %s", kind_name, id) < 0)
            what = NULL;
        edit_failed(ctl, tmp, what ? what : "CustomData");
        free(what);
    }
    free(body);
    free(edited);
    free(old);
    eg_node_free(doc);
    eg_node_free(kind);
    eg_node_free(item);
    free(put_path);
    free(kind_path);
    free(path);
    return rc;
}

int egctl_customdata_edit(egctl *ctl, int which, int argc, char **argv)
{
    if (which == EGCTL_CDK)
        return argc == 1 ? edit_data_kind(ctl, argv[0]) : egctl_fail(ctl, "invalid args");
    if (argc == 1)
        return edit_data_batch(ctl, argv[0]);
    if (argc == 2)
        return edit_data_item(ctl, argv[0], argv[1]);
    return egctl_fail(ctl, "invalid args");
}

int egctl_cmd_edit(egctl *ctl, int argc, char **argv)
{
    if (argc <= 1)
        return egctl_fail(ctl, "no resource and name specified");
    if (egctl_customdata_resource(argv[0]))
        return egctl_customdata_edit(ctl, egctl_customdata_resource(argv[0]), argc - 1, argv + 1);
    if (argc != 2)
        return egctl_fail(ctl, "invalid args");
    if (egctl_is_member(argv[0]))
        return egctl_fail(ctl, "members cannot be edited");
    const egctl_resource *r;
    if (egctl_resolve(ctl, argv[0], &r) != 0)
        return -1;
    return edit_object(ctl, r, argv[1]);
}
