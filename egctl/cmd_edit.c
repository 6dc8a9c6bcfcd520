/* cmd_edit.c — `edit <kind> NAME` (Easegress's EditObject): the object as YAML (name and
 * kind first) in a temporary file, $EGCTL_EDITOR (default vi) on it, then a PUT of the
 * result. Nothing changed: nothing is sent (and the file is removed). A failure (the editor, a parse error, a changed
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

static int edit_object(egctl *ctl, const egctl_resource *r, const char *name)
{
    char *esc = egctl_escape(name), *path = NULL;
    if (!esc || asprintf(&path, "/objects/%s", esc) < 0) {
        free(esc);
        return egctl_fail(ctl, "out of memory");
    }
    eg_node *obj = NULL;
    int rc = egctl_call_json(ctl, "GET", path, NULL, &obj);
    const char *kind = obj && obj->type == EG_NODE_MAP ? eg_node_str(obj, "kind") : NULL;
    if (rc == 0 && (!kind || strcasecmp(kind, r->kind) != 0))
        rc = egctl_fail(ctl, "404: %s %s not found", r->kind, name);
    char *old = rc == 0 ? object_yaml(obj) : NULL;
    if (rc == 0 && !old)
        rc = egctl_fail(ctl, "out of memory");

    char tmp[4096] = "";
    if (rc == 0) {
        const char *dir = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/%s-%s-XXXXXX.yaml", dir && *dir ? dir : "/tmp", r->kind, esc);
        int fd = mkstemps(tmp, 5);
        if (fd < 0) {
            rc = egctl_fail(ctl, "cannot create a temporary file %s: %s", tmp, strerror(errno));
            tmp[0] = '\0';
        } else {
            close(fd);
            if (write_file(tmp, old) != 0)
                rc = egctl_fail(ctl, "cannot write %s: %s", tmp, strerror(errno));
        }
    }
    if (rc == 0)
        rc = run_editor(ctl, tmp);
    char *edited = NULL;
    if (rc == 0 && !(edited = read_file(tmp)))
        rc = egctl_fail(ctl, "cannot read %s back: %s", tmp, strerror(errno));
    bool changed = rc == 0 && strcmp(edited, old) != 0;
    if (rc == 0 && !changed) { /* Easegress keeps the untouched file; nothing is lost here */
        printf("nothing changed\n");
        unlink(tmp);
    }

    egctl_spec *specs = NULL;
    size_t n = 0;
    if (changed) {
        rc = egctl_load_specs(ctl, tmp, true, &specs, &n);
        if (rc == 0 && n != 1)
            rc = egctl_fail(ctl, "the edited file must hold one object, it holds %zu", n);
        else if (rc == 0 && strcmp(specs[0].kind, kind) != 0)
            rc = egctl_fail(ctl, "kind is not equal: %s, %s", kind, specs[0].kind);
        else if (rc == 0 && strcmp(specs[0].name, name) != 0)
            rc = egctl_fail(ctl, "name is not equal: %s, %s", name, specs[0].name);
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
        egctl_fail_wrap(ctl, "edit %s %s", r->kind, name);
        if (tmp[0] && ctl->err) { /* keep what was typed, and say where */
            char *with = NULL;
            if (asprintf(&with, "%s; yaml saved in %s", ctl->err, tmp) >= 0) {
                free(ctl->err);
                ctl->err = with;
            }
        }
    }
    egctl_free_specs(specs, n);
    free(edited);
    free(old);
    eg_node_free(obj);
    free(path);
    free(esc);
    return rc;
}

int egctl_cmd_edit(egctl *ctl, int argc, char **argv)
{
    if (argc == 0)
        return egctl_fail(ctl, "no resource specified");
    if (argc != 2)
        return egctl_fail(ctl, "requires a resource and a name: egctl edit <resource> <name>");
    if (egctl_is_member(argv[0]))
        return egctl_fail(ctl, "members cannot be edited");
    const egctl_resource *r;
    if (egctl_resolve(ctl, argv[0], &r) != 0)
        return -1;
    return edit_object(ctl, r, argv[1]);
}
