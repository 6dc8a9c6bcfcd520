/* config.c — ~/.egctlrc, in Easegress's format (cmd/client/general/config.go):
 *
 *   kind: Config
 *   current-context: ctx
 *   contexts: [{name, context: {cluster, user}}]
 *   clusters: [{name, cluster: {server, certificate-authority(-data)}}]
 *   users:    [{name, user: {username, password, client-certificate(-data), client-key(-data)}}]
 *
 * The current context gives the server (unless --server or EGCTL_SERVER says otherwise,
 * Easegress's "flag > config > default"), the user, whose username/password go as basic
 * auth on every request, and the TLS settings (tls.h): the cluster's CA, the user's client
 * certificate and key, each a file name or base64 PEM (-data). A context with a CA or a
 * client certificate makes egctl speak HTTPS, as Easegress's UseHTTPS does.
 */
#define _GNU_SOURCE
#include "egctl.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "table.h"

static char *config_path(void)
{
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    char *p = NULL;
    if (!home || asprintf(&p, "%s/.egctlrc", home) < 0)
        return NULL;
    return p;
}

/* Read and parse the file: 1 loaded, 0 there is none, -1 error (ctl->err set). */
static int load_file(egctl *ctl, eg_node **doc, char **path_out)
{
    *doc = NULL;
    char *path = config_path();
    if (!path)
        return egctl_fail(ctl, "cannot find the home directory for ~/.egctlrc");
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        if (e == ENOENT) {
            free(path);
            return 0;
        }
        egctl_fail(ctl, "read config file %s failed: %s", path, strerror(e));
        free(path);
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[8192];
    size_t n;
    while (mem && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, mem);
    bool read_err = ferror(f);
    fclose(f);
    if (!mem || fclose(mem) != 0 || read_err) {
        free(text);
        egctl_fail(ctl, "read config file %s failed", path);
        free(path);
        return -1;
    }
    char perr[256];
    eg_node *d = len ? eg_yaml_parse(text, len, perr, sizeof perr) : eg_node_new(EG_NODE_MAP);
    free(text);
    if (!d || d->type != EG_NODE_MAP) {
        egctl_fail(ctl, "unmarshal config file %s failed: %s", path,
                   d ? "not a map of settings" : perr);
        eg_node_free(d);
        free(path);
        return -1;
    }
    *doc = d;
    if (path_out)
        *path_out = path;
    else
        free(path);
    return 1;
}

/* The entry named `name` of the list `key` ({name, <inner>: {...}}), NULL when absent. */
static const eg_node *named(const eg_node *doc, const char *key, const char *name)
{
    const eg_node *list = eg_node_get(doc, key);
    for (size_t i = 0; list && list->type == EG_NODE_SEQ && i < list->count; i++) {
        const eg_node *item = list->items[i];
        const char *n = item->type == EG_NODE_MAP ? eg_node_str(item, "name") : NULL;
        if (n && name && strcmp(n, name) == 0)
            return item;
    }
    return NULL;
}

static const char *inner_str(const eg_node *entry, const char *inner, const char *key)
{
    const eg_node *m = entry ? eg_node_get(entry, inner) : NULL;
    const char *s = m && m->type == EG_NODE_MAP ? eg_node_str(m, key) : NULL;
    return s && *s ? s : NULL;
}

/* The current context resolved as Easegress's GetCurrentConfig does; 0 or -1. */
static int current(egctl *ctl, const eg_node *doc, const eg_node **ctx, const eg_node **cluster,
                   const eg_node **user)
{
    const char *cur = eg_node_str(doc, "current-context");
    if (!cur || !*cur)
        return egctl_fail(ctl, "current context not found in .egctlrc file");
    *ctx = named(doc, "contexts", cur);
    if (!*ctx)
        return egctl_fail(ctl, "current context %s not found in .egctlrc file", cur);
    const char *cname = inner_str(*ctx, "context", "cluster");
    *cluster = named(doc, "clusters", cname);
    if (!*cluster)
        return egctl_fail(ctl, "cluster %s not found in .egctlrc file", cname ? cname : "");
    const char *uname = inner_str(*ctx, "context", "user");
    *user = named(doc, "users", uname);
    if (!*user)
        return egctl_fail(ctl, "user %s not found in .egctlrc file", uname ? uname : "");
    return 0;
}

static char *basic_auth(const char *user, const char *pass)
{
    char *plain = NULL;
    if (asprintf(&plain, "%s:%s", user, pass ? pass : "") < 0)
        return NULL;
    size_t n = strlen(plain);
    char *out = malloc(6 + 4 * ((n + 2) / 3) + 1);
    if (out) {
        memcpy(out, "Basic ", 6);
        EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)plain, (int)n);
    }
    free(plain);
    return out;
}

/* A file name setting, copied into *dst. */
static int take_file(egctl *ctl, const eg_node *entry, const char *inner, const char *key,
                     char **dst)
{
    const char *v = inner_str(entry, inner, key);
    if (v && !(*dst = strdup(v)))
        return egctl_fail(ctl, "out of memory");
    return 0;
}

/* A -data setting: base64 PEM, decoded into *dst (as Go decodes a []byte field). */
static int take_data(egctl *ctl, const eg_node *entry, const char *inner, const char *key,
                     unsigned char **dst, size_t *len)
{
    const char *v = inner_str(entry, inner, key);
    if (v && egctl_base64_decode(v, strlen(v), dst, len) != 0)
        return egctl_fail(ctl, "%s of %s %s in ~/.egctlrc is not valid base64", key, inner,
                          eg_node_str(entry, "name"));
    return 0;
}

static int take_tls(egctl *ctl, const eg_node *cluster, const eg_node *user)
{
    egctl_tls_settings *t = &ctl->tls;
    if (take_file(ctl, cluster, "cluster", "certificate-authority", &t->ca_file) != 0 ||
        take_data(ctl, cluster, "cluster", "certificate-authority-data", &t->ca_pem,
                  &t->ca_pem_len) != 0 ||
        take_file(ctl, user, "user", "client-certificate", &t->cert_file) != 0 ||
        take_data(ctl, user, "user", "client-certificate-data", &t->cert_pem,
                  &t->cert_pem_len) != 0 ||
        take_file(ctl, user, "user", "client-key", &t->key_file) != 0 ||
        take_data(ctl, user, "user", "client-key-data", &t->key_pem, &t->key_pem_len) != 0)
        return -1;
    return 0;
}

int egctl_config_apply(egctl *ctl)
{
    eg_node *doc;
    int rc = load_file(ctl, &doc, NULL);
    if (rc <= 0)
        return rc;
    const eg_node *ctx, *cluster, *user;
    rc = current(ctl, doc, &ctx, &cluster, &user);
    if (rc == 0) {
        const char *server = inner_str(cluster, "cluster", "server");
        rc = take_tls(ctl, cluster, user);
        if (rc == 0) {
            if (server && !ctl->opts.server_given) {
                free(ctl->config_server);
                ctl->config_server = strdup(server);
                ctl->opts.server = ctl->config_server;
            }
            const char *username = inner_str(user, "user", "username");
            if (username && !(ctl->authorization =
                                  basic_auth(username, inner_str(user, "user", "password"))))
                rc = egctl_fail(ctl, "out of memory");
        }
    }
    eg_node_free(doc);
    return rc;
}

/* ---- egctl config ... */

static int not_found(void)
{
    puts("not find config file at ~/.egctlrc");
    return 0;
}

/* {name, context} / {name, cluster} / {name, user}: the entry as stored. */
static eg_node *clone_or_null(const eg_node *n)
{
    return n ? eg_node_clone(n) : eg_node_new(EG_NODE_NULL);
}

static int current_context(egctl *ctl)
{
    eg_node *doc;
    int rc = load_file(ctl, &doc, NULL);
    if (rc <= 0)
        return rc < 0 ? -1 : not_found();
    const eg_node *ctx, *cluster, *user;
    rc = current(ctl, doc, &ctx, &cluster, &user);
    if (rc == 0) {
        eg_node *out = eg_node_new(EG_NODE_MAP);
        eg_node_map_set(out, "current-context", eg_node_new_str(eg_node_str(doc, "current-context")));
        eg_node_map_set(out, "context", clone_or_null(ctx));
        eg_node_map_set(out, "cluster", clone_or_null(cluster));
        eg_node *u = eg_node_clone(user);
        const eg_node *inner = u ? eg_node_get(u, "user") : NULL;
        if (inner && inner->type == EG_NODE_MAP && eg_node_get(inner, "password"))
            eg_node_map_set((eg_node *)inner, "password", eg_node_new_str("REDACTED"));
        eg_node_map_set(out, "user", u ? u : eg_node_new(EG_NODE_NULL));
        rc = egctl_print_doc(ctl, out, true);
        eg_node_free(out);
    }
    eg_node_free(doc);
    return rc;
}

/* The file with passwords and inline key material replaced, as Easegress's view shows it. */
static void redact(eg_node *doc)
{
    static const char *const user_secrets[] = {"password", "client-certificate-data",
                                               "client-key-data"};
    eg_node *users = eg_node_get(doc, "users");
    for (size_t i = 0; users && users->type == EG_NODE_SEQ && i < users->count; i++) {
        eg_node *u = users->items[i]->type == EG_NODE_MAP ? eg_node_get(users->items[i], "user") : NULL;
        for (size_t j = 0; u && u->type == EG_NODE_MAP && j < 3; j++)
            if (eg_node_get(u, user_secrets[j]))
                eg_node_map_set(u, user_secrets[j], eg_node_new_str("REDACTED"));
    }
    eg_node *clusters = eg_node_get(doc, "clusters");
    for (size_t i = 0; clusters && clusters->type == EG_NODE_SEQ && i < clusters->count; i++) {
        eg_node *c = clusters->items[i]->type == EG_NODE_MAP ? eg_node_get(clusters->items[i], "cluster") : NULL;
        if (c && c->type == EG_NODE_MAP && eg_node_get(c, "certificate-authority-data"))
            eg_node_map_set(c, "certificate-authority-data", eg_node_new_str("REDACTED"));
    }
}

static int view(egctl *ctl)
{
    eg_node *doc;
    int rc = load_file(ctl, &doc, NULL);
    if (rc <= 0)
        return rc < 0 ? -1 : not_found();
    redact(doc);
    rc = egctl_print_doc(ctl, doc, true);
    eg_node_free(doc);
    return rc;
}

static int get_contexts(egctl *ctl)
{
    eg_node *doc;
    int rc = load_file(ctl, &doc, NULL);
    if (rc <= 0)
        return rc < 0 ? -1 : not_found();
    const eg_node *list = eg_node_get(doc, "contexts");
    if (ctl->opts.output != EGCTL_OUT_DEFAULT) {
        eg_node *l = list ? eg_node_clone(list) : eg_node_new(EG_NODE_SEQ);
        rc = egctl_print_doc(ctl, l, true);
        eg_node_free(l);
        eg_node_free(doc);
        return rc;
    }
    const char *cur = eg_node_str(doc, "current-context");
    egctl_table t;
    egctl_table_init(&t, 4);
    const char *head[] = {"CURRENT", "NAME", "CLUSTER", "USER"};
    rc = egctl_table_add(&t, head);
    for (size_t i = 0; rc == 0 && list && list->type == EG_NODE_SEQ && i < list->count; i++) {
        const eg_node *c = list->items[i];
        const char *name = c->type == EG_NODE_MAP ? eg_node_str(c, "name") : NULL;
        const char *cluster = inner_str(c, "context", "cluster");
        const char *user = inner_str(c, "context", "user");
        const char *row[] = {name && cur && strcmp(name, cur) == 0 ? "*" : "", name, cluster, user};
        rc = egctl_table_add(&t, row);
    }
    if (rc == 0)
        rc = egctl_table_print(&t, stdout);
    egctl_table_free(&t);
    eg_node_free(doc);
    return rc ? egctl_fail(ctl, "out of memory") : 0;
}

/* Rewrite the file with the new current-context, keeping its mode; written to a temporary
 * file and renamed, so a failure never leaves half a config. */
static int use_context(egctl *ctl, const char *name)
{
    eg_node *doc;
    char *path = NULL;
    int rc = load_file(ctl, &doc, &path);
    if (rc <= 0)
        return rc < 0 ? -1 : egctl_fail(ctl, "not find config file at ~/.egctlrc");
    rc = 0;
    if (!named(doc, "contexts", name)) {
        rc = egctl_fail(ctl, "not find context %s", name);
    } else {
        eg_node_map_set(doc, "current-context", eg_node_new_str(name));
        size_t len;
        char *yaml = eg_node_to_yaml(doc, &len), *tmp = NULL;
        struct stat st;
        mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0600;
        if (!yaml || asprintf(&tmp, "%s.tmp-%d", path, (int)getpid()) < 0) {
            rc = egctl_fail(ctl, "out of memory");
        } else {
            FILE *f = fopen(tmp, "wb");
            bool ok = f && fwrite(yaml, 1, len, f) == len;
            if (f && fclose(f) != 0)
                ok = false;
            if (ok && chmod(tmp, mode) == 0 && rename(tmp, path) == 0) {
                printf("Switched to context %s\n", name);
            } else {
                rc = egctl_fail(ctl, "write config file failed: %s", strerror(errno));
                unlink(tmp);
            }
        }
        free(tmp);
        free(yaml);
    }
    free(path);
    eg_node_free(doc);
    return rc;
}

int egctl_cmd_config(egctl *ctl, int argc, char **argv)
{
    if (argc == 0)
        return egctl_print_help("config", NULL) ? 0 : -1;
    const char *sub = argv[0];
    if (strcmp(sub, "use-context") == 0) {
        if (argc != 2)
            return egctl_fail(ctl, "accepts 1 arg(s), received %d", argc - 1);
        return use_context(ctl, argv[1]);
    }
    if (argc > 1)
        return egctl_fail(ctl, "unknown command \"%s\" for \"egctl config %s\"", argv[1], sub);
    if (strcmp(sub, "current-context") == 0)
        return current_context(ctl);
    if (strcmp(sub, "get-contexts") == 0)
        return get_contexts(ctl);
    if (strcmp(sub, "view") == 0)
        return view(ctl);
    return egctl_fail(ctl, "unknown command \"%s\" for \"egctl config\"", sub);
}
