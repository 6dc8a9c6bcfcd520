/* cmd_logs.c — logs (tail, follow, get-level, set-level), metrics and apis
 * (Easegress's commandv2/logs.go and general.go). */
#define _GNU_SOURCE
#include "egctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

int egctl_cmd_logs(egctl *ctl, int argc, char **argv)
{
    if (argc > 0 && (strcmp(argv[0], "get-level") == 0 || strcmp(argv[0], "set-level") == 0)) {
        const char *bad = egctl_flag_name(ctl->opts.flags_seen, 0);
        if (bad)
            return egctl_fail(ctl, "unknown flag: %s", bad);
    }
    if (argc > 0 && strcmp(argv[0], "get-level") == 0) {
        if (argc != 1)
            return egctl_fail(ctl, "unknown command \"%s\" for \"egctl logs get-level\"", argv[1]);
        egctl_answer ans;
        if (egctl_call(ctl, "GET", "/logs/level", NULL, &ans) != 0)
            return -1;
        printf("%.*s\n", (int)ans.body_len, ans.body);
        egctl_answer_free(&ans);
        return 0;
    }
    if (argc > 0 && strcmp(argv[0], "set-level") == 0) {
        if (argc != 2)
            return egctl_fail(ctl, "accepts 1 arg(s), received %d", argc - 1);
        char *esc = egctl_escape(argv[1]), *path = NULL;
        if (!esc || asprintf(&path, "/logs/level/%s", esc) < 0) {
            free(esc);
            return egctl_fail(ctl, "out of memory");
        }
        free(esc);
        int rc = egctl_call(ctl, "PUT", path, NULL, NULL);
        free(path);
        if (rc == 0)
            printf("Set log level to %s\n", argv[1]);
        return rc;
    }
    if (argc > 0)
        return egctl_fail(ctl, "unknown command \"%s\" for \"egctl logs\"", argv[0]);
    char path[96];
    snprintf(path, sizeof path, "/logs?tail=%ld&follow=%s", ctl->opts.tail,
             ctl->opts.follow ? "true" : "false");
    return egctl_call_stream(ctl, "GET", path);
}

int egctl_cmd_metrics(egctl *ctl, int argc, char **argv)
{
    if (argc > 0)
        return egctl_fail(ctl, "unknown command \"%s\" for \"egctl metrics\"", argv[0]);
    egctl_answer ans;
    if (egctl_call(ctl, "GET", "/metrics", NULL, &ans) != 0) {
        if (!ctl->err_final && ctl->err && strncmp(ctl->err, "404:", 4) == 0)
            return egctl_fail(ctl, "this easegress-server has no /apis/v2/metrics yet (404)");
        return -1;
    }
    if (fwrite(ans.body, 1, ans.body_len, stdout) != ans.body_len) {
        egctl_answer_free(&ans);
        return egctl_fail(ctl, "writing output failed");
    }
    egctl_answer_free(&ans);
    return 0;
}

static int row_cmp(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    int c = strcmp(x[0], y[0]);
    return c ? c : strcmp(x[1], y[1]);
}

/* PATH METHOD VERSION GROUP, sorted by path, from GET /apis/v2. */
int egctl_cmd_apis(egctl *ctl, int argc, char **argv)
{
    if (argc > 0)
        return egctl_fail(ctl, "unknown command \"%s\" for \"egctl apis\"", argv[0]);
    eg_node *doc = NULL;
    if (egctl_call_json(ctl, "GET", "", NULL, &doc) != 0)
        return -1;
    if (!doc || doc->type != EG_NODE_SEQ) {
        eg_node_free(doc);
        return egctl_fail(ctl, "the admin API answered /apis/v2 with no list of API groups");
    }
    if (ctl->opts.output != EGCTL_OUT_DEFAULT) {
        int rc = egctl_print_doc(ctl, doc, true);
        eg_node_free(doc);
        return rc;
    }
    size_t n = 0;
    for (size_t i = 0; i < doc->count; i++) {
        const eg_node *e = eg_node_get(doc->items[i], "Entries");
        n += e && e->type == EG_NODE_SEQ ? e->count : 0;
    }
    const char **rows = calloc(n ? n * 4 : 4, sizeof *rows);
    if (!rows) {
        eg_node_free(doc);
        return egctl_fail(ctl, "out of memory");
    }
    size_t r = 0;
    for (size_t i = 0; i < doc->count; i++) {
        const char *group = eg_node_str(doc->items[i], "Group");
        const eg_node *e = eg_node_get(doc->items[i], "Entries");
        for (size_t j = 0; e && e->type == EG_NODE_SEQ && j < e->count; j++) {
            const char *p = eg_node_str(e->items[j], "path"), *m = eg_node_str(e->items[j], "method");
            rows[r * 4] = p ? p : "";
            rows[r * 4 + 1] = m ? m : "";
            rows[r * 4 + 2] = "/apis/v2";
            rows[r * 4 + 3] = group ? group : "";
            r++;
        }
    }
    /* Easegress sorts by path only (sort.Slice, not stable); method breaks ties here. */
    qsort(rows, r, 4 * sizeof *rows, row_cmp);
    egctl_table t;
    egctl_table_init(&t, 4);
    const char *head[] = {"PATH", "METHOD", "VERSION", "GROUP"};
    int rc = egctl_table_add(&t, head);
    for (size_t i = 0; i < r && rc == 0; i++)
        rc = egctl_table_add(&t, rows + i * 4);
    if (rc == 0)
        rc = egctl_table_print(&t, stdout);
    egctl_table_free(&t);
    free(rows);
    eg_node_free(doc);
    return rc ? egctl_fail(ctl, "out of memory") : 0;
}
