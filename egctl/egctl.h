/* egctl.h — what egctl's commands share: the run's context, admin-API calls, output.
 *
 * A command returns 0 on success or -1 after recording one line in ctl->err; main prints
 * it as "Error: <reason>" and exits 1. Nothing here is global: the context is passed.
 */
#ifndef EGCTL_EGCTL_H
#define EGCTL_EGCTL_H

#include <stdbool.h>
#include <stddef.h>

#include "args.h"
#include "node.h"
#include "tls.h"

typedef struct {
    egctl_opts opts;
    char host[256];
    int port;
    char *err;              /* the one-line reason of a failure (malloc'd) */
    bool err_final;         /* a transport failure: commands do not prefix it */
    char *authorization;    /* "Basic ..." from ~/.egctlrc's user, NULL for none */
    char *config_server;    /* the server ~/.egctlrc named (opts.server may point here) */
    egctl_tls_settings tls; /* CA, client certificate, --insecure-skip-verify */
    bool use_tls;           /* speak HTTPS: https:// server, --force-tls, a context with a
                             * CA or client certificate, or a plain request refused */
    SSL_CTX *tls_ctx;       /* built from `tls` when first needed */
    eg_node *resources_doc; /* cached answer of /object-api-resources */
    egctl_resource *resources;
    size_t nresources;
} egctl;

/* ---- errors (api.c) */
int egctl_fail(egctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the recorded reason as Easegress does: "<action> <what> failed, <reason>".
 * Transport failures (cannot connect) are left as they are. Returns -1. */
int egctl_fail_wrap(egctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the admin API (api.c) */
typedef struct {
    int status;
    char *body;
    size_t body_len;
} egctl_answer;

/* Send one request to /apis/v2<path> (`path` starts with "/"); a non-NULL `json` is sent as
 * the JSON body. Warning headers are printed to stderr. A 2xx answer returns 0 and fills
 * `ans` (free with egctl_answer_free; `ans` may be NULL). Otherwise -1 with ctl->err set to
 * "<status>: <message>" (the message of the {"code","message"} body when there is one). */
int egctl_call(egctl *ctl, const char *method, const char *path, const char *json,
               egctl_answer *ans);
void egctl_answer_free(egctl_answer *ans);
/* Like egctl_call without a body, but a 2xx answer's body goes to stdout as it arrives,
 * with no time limit on the wait (logs -f). */
int egctl_call_stream(egctl *ctl, const char *method, const char *path);
/* Like egctl_call, then parse the body as JSON. *out is NULL for an empty body. */
int egctl_call_json(egctl *ctl, const char *method, const char *path, const char *json,
                    eg_node **out);
/* Path segment escaping for object names. Returns malloc'd text or NULL. */
char *egctl_escape(const char *segment);

/* The object kinds the server knows (cached for the run). */
int egctl_load_resources(egctl *ctl);
/* Resolve a kind, plural name or alias; "Member" resources are handled by callers. */
int egctl_resolve(egctl *ctl, const char *arg, const egctl_resource **out);

/* ---- input files (spec.c) */
typedef struct {
    eg_node *doc;
    const char *kind;   /* borrowed from doc */
    const char *name;
} egctl_spec;

/* Read `file` ("-" or NULL: stdin), split into documents, require kind (and name when
 * `need_name`). Returns 0 with a malloc'd array, or -1 with ctl->err set. */
int egctl_load_specs(egctl *ctl, const char *file, bool need_name, egctl_spec **specs,
                     size_t *n);
void egctl_free_specs(egctl_spec *specs, size_t n);

/* ---- output (output.c) */
/* Print a document the way Easegress's PrintBody does: pretty JSON for -o json, YAML
 * otherwise. `keep_order` keeps map keys in their stored order for JSON (a body printed
 * as the server sent it); otherwise keys are sorted, as Go marshals maps. */
int egctl_print_doc(const egctl *ctl, const eg_node *doc, bool keep_order);
/* Pretty JSON with Go's json.Indent layout (two spaces), no trailing newline. */
char *egctl_json_pretty(const eg_node *n, bool sort_keys);
/* A clone with every map's keys sorted (NULL when out of memory). */
eg_node *egctl_sorted_clone(const eg_node *n);
/* Block YAML with map keys sorted. */
char *egctl_yaml_sorted(const eg_node *n);
/* Easegress's describe layout (PrintMapInterface) for a list of maps. */
int egctl_print_described(const egctl *ctl, eg_node *const *maps, size_t n,
                          const char *const *fronts, size_t nfronts,
                          const char *const *backs, size_t nbacks);
/* AGE text of an RFC3339 time (or Unix seconds), "unknown" when there is none. */
void egctl_age_of(const eg_node *value, char *buf, size_t len);

/* ---- ~/.egctlrc (config.c) */
/* Use the current context of ~/.egctlrc, if there is one: its server (unless --server or
 * EGCTL_SERVER was given), its user's basic auth, and its TLS settings (into ctl->tls). */
int egctl_config_apply(egctl *ctl);

/* ---- commands: each gets the positional arguments after its own name */
int egctl_cmd_config(egctl *ctl, int argc, char **argv);
int egctl_cmd_logs(egctl *ctl, int argc, char **argv);
int egctl_cmd_metrics(egctl *ctl, int argc, char **argv);
int egctl_cmd_apis(egctl *ctl, int argc, char **argv);
int egctl_cmd_edit(egctl *ctl, int argc, char **argv);
int egctl_cmd_completion(egctl *ctl, int argc, char **argv);
/* create httpproxy NAME --port P --rule HOST/PATH=URL,... (cmd_httpproxy.c) */
int egctl_create_httpproxy(egctl *ctl, int argc, char **argv);
int egctl_cmd_create(egctl *ctl, int argc, char **argv);
int egctl_cmd_apply(egctl *ctl, int argc, char **argv);
int egctl_cmd_get(egctl *ctl, int argc, char **argv);
int egctl_cmd_describe(egctl *ctl, int argc, char **argv);
int egctl_cmd_delete(egctl *ctl, int argc, char **argv);
int egctl_cmd_health(egctl *ctl, int argc, char **argv);
int egctl_cmd_api_resources(egctl *ctl, int argc, char **argv);
int egctl_cmd_member(egctl *ctl, int argc, char **argv);
int egctl_cmd_object(egctl *ctl, int argc, char **argv);

/* Custom data (cmd_customdata.c): which resource an argument or document kind names
 * (0: neither), and its create/apply, get, describe and delete. */
enum { EGCTL_CDK = 1, EGCTL_CD = 2 };
int egctl_customdata_resource(const char *arg);
int egctl_customdata_submit(egctl *ctl, const egctl_spec *s, bool apply);
int egctl_customdata_get(egctl *ctl, int which, int argc, char **argv);
int egctl_customdata_delete(egctl *ctl, int which, int argc, char **argv);
int egctl_customdata_describe(egctl *ctl, int which, int argc, char **argv);
/* edit customdatakind NAME, edit customdata KIND [ID] (cmd_edit.c). */
int egctl_customdata_edit(egctl *ctl, int which, int argc, char **argv);

/* The members table and description, shared by get/describe and the old member command. */
int egctl_get_members(egctl *ctl, const char *name);
int egctl_describe_members(egctl *ctl, const char *name);
int egctl_delete_members(egctl *ctl, int argc, char **argv);

/* The names of egctl's commands (for completion). */
const char *const *egctl_command_names(size_t *n);

/* Help text of a command (NULL: the top level). Returns false if there is none. */
bool egctl_print_help(const char *cmd, const char *sub);

#endif
