/* main.c — egctl's entry point: parse the line, pick the command, report one error.
 *
 * Exit status: 0 on success, 1 on any failure, after exactly one "Error: <reason>" line
 * on stderr (Easegress's ExitWithError). Warnings the server sends are printed to stderr
 * as they arrive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_convert.h"
#include "egctl.h"

typedef int (*cmd_fn)(egctl *, int, char **);

typedef struct {
    const char *name;
    const char *aliases[3];
    cmd_fn run;
    unsigned flags;         /* EGCTL_FLAG_* the command accepts */
    bool local;             /* works without the admin API (no server needed) */
    const char *short_help;
} command;

#define NS_FLAGS (EGCTL_FLAG_NAMESPACE | EGCTL_FLAG_ALL_NAMESPACES)
#define HTTPPROXY_FLAGS (EGCTL_FLAG_PORT | EGCTL_FLAG_RULE | EGCTL_FLAG_TLS)

/* In help order: basic commands, then other commands, then deprecated ones. */
static const command commands[] = {
    {"create", {0}, egctl_cmd_create, EGCTL_FLAG_FILE | HTTPPROXY_FLAGS, false,
     "Create a resource from a file or from stdin."},
    {"delete", {0}, egctl_cmd_delete, EGCTL_FLAG_ALL, false, "Delete a resource or group of resources"},
    {"get", {0}, egctl_cmd_get, NS_FLAGS, false, "Display one or many resources"},
    {"describe", {0}, egctl_cmd_describe, EGCTL_FLAG_VERBOSE | NS_FLAGS, false,
     "Show details of a specific resource or group of resources"},
    {"apply", {0}, egctl_cmd_apply, EGCTL_FLAG_FILE, false, "Apply a configuration to a resource by filename or stdin"},
    {"edit", {0}, egctl_cmd_edit, 0, false, "Edit a resource"},
#define NBASIC 6
    {"health", {0}, egctl_cmd_health, 0, false, "Probe Easegress health"},
    {"api-resources", {0}, egctl_cmd_api_resources, 0, false, "View all API resources"},
    {"apis", {0}, egctl_cmd_apis, 0, false, "View Easegress APIs"},
    {"logs", {0}, egctl_cmd_logs, EGCTL_FLAG_TAIL | EGCTL_FLAG_FOLLOW, false,
     "Print the logs of Easegress server"},
    {"metrics", {0}, egctl_cmd_metrics, 0, false, "Print the metrics of Easegress server"},
    {"config", {0}, egctl_cmd_config, 0, true, "View egctl config"},
    {"completion", {0}, egctl_cmd_completion, 0, true, "Generate completion script"},
#define NOTHER 13
    /* Deprecated in Easegress, still there; they check their own flags. */
    {"object", {"o", "obj"}, egctl_cmd_object, ~0u, false, "(Deprecated) View and change objects"},
    {"member", {0}, egctl_cmd_member, ~0u, false, "(Deprecated) View Easegress members"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const char *const *egctl_command_names(size_t *n)
{
    static const char *names[NCOMMANDS];
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    *n = NCOMMANDS;
    return names;
}

/* Exact name or alias first, then a unique prefix (cobra.EnablePrefixMatching). */
static const command *find_command(const char *word)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(word, commands[i].name) == 0)
            return &commands[i];
        for (size_t j = 0; j < 3 && commands[i].aliases[j]; j++)
            if (strcmp(word, commands[i].aliases[j]) == 0)
                return &commands[i];
    }
    const command *found = NULL;
    size_t len = strlen(word);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strncmp(word, commands[i].name, len) == 0) {
            if (found)
                return NULL; /* ambiguous */
            found = &commands[i];
        }
    }
    return found;
}

static const char global_flags[] =
    "Global Flags:\n"
    "  -h, --help                     help for egctl\n"
    "      --force-tls                Whether to forcibly use https, if not, client will use http firstly\n"
    "                                 and retry with https on demand (the server refused plain HTTP)\n"
    "      --insecure-skip-verify     Do not verify the server's certificate chain and host name\n"
    "  -o, --output string            Output format(default, json, yaml) (default \"default\")\n"
    "      --server string            The address of the Easegress endpoint (default "
    EGCTL_DEFAULT_SERVER ", or $EGCTL_SERVER,\n"
    "                                 or the current context's server in ~/.egctlrc;\n"
    "                                 https://HOST:PORT for TLS)\n";

static void print_top_help(void)
{
    printf("A command line admin tool for Easegress.\n\n"
           "Usage:\n  egctl [command]\n\n"
           "Basic Commands:\n");
    for (size_t i = 0; i < NBASIC; i++)
        printf("  %-14s %s\n", commands[i].name, commands[i].short_help);
    printf("\nOther Commands:\n");
    for (size_t i = NBASIC; i < NOTHER; i++)
        printf("  %-14s %s\n", commands[i].name, commands[i].short_help);
    printf("  %-14s %s\n", "convert", "Convert other kinds of config to Easegress yaml file");
    printf("\nDeprecated Commands:\n");
    for (size_t i = NOTHER; i < NCOMMANDS; i++)
        printf("  %-14s %s\n", commands[i].name, commands[i].short_help);
    printf("\n%s\nUse \"egctl [command] --help\" for more information about a command.\n",
           global_flags);
}

typedef struct {
    const char *cmd, *sub;
    const char *text;
} help_entry;

static const help_entry helps[] = {
    {"create", NULL,
     "Create a resource from a file or from stdin.\n\n"
     "Usage:\n  egctl create -f FILE|-\n  egctl create httpproxy NAME --port PORT --rule HOST/PATH=URL1,URL2 [--rule ...]\n\n"
     "Examples:\n"
     "  # Create a resource from a file\n  egctl create -f <filename>.yaml\n\n"
     "  # Create a resource from stdin\n  cat <filename>.yaml | egctl create -f -\n\n"
     "  # An HTTPServer on port 10080 with Pipelines demo-0 (/bar to two backends) and demo-1\n"
     "  # (paths under foo.com/prefix)\n"
     "  egctl create httpproxy demo --port 10080 \\\n"
     "    --rule=\"/bar=http://127.0.0.1:8080,http://127.0.0.1:8081\" \\\n"
     "    --rule=\"foo.com/prefix*=http://127.0.0.1:8082\"\n\n"
     "Flags:\n  -f, --file string   A yaml file specifying the object.\n"
     "      --port int      Port of the HTTPServer (httpproxy)\n"
     "      --rule string   Rule HOST/PATH=URL1,URL2, repeatable; a PATH ending in '*' is a\n"
     "                      path prefix (httpproxy)\n"
     "      --tls, --auto-cert, --ca-cert-file, --cert-file, --key-file, --auto-cert-email,\n"
     "      --auto-cert-domain-name, --dns-provider: refused, this server has no HTTPS yet\n"},
    {"edit", NULL,
     "Edit a resource: its YAML opens in $EGCTL_EDITOR (default vi); saved changes are\n"
     "applied. On an error the edited file is kept and its path printed.\n\n"
     "Usage:\n  egctl edit <resource> <name>\n  egctl edit customdata <kind> [<id>]\n\n"
     "Examples:\n"
     "  # Edit a resource with name\n  egctl edit <resource> <name>\n\n"
     "  # Edit a resource with nano\n  env EGCTL_EDITOR=nano egctl edit <resource> <name>\n\n"
     "  # Edit a httpserver with name\n  egctl edit httpserver httpserver-demo\n\n"
     "  # Edit all custom data with kind name\n  egctl edit customdata kind1\n\n"
     "  # Edit custom data with kind name and id name\n  egctl edit customdata kind1 data1\n"},
    {"logs", NULL,
     "Print the logs of Easegress server\n\n"
     "Usage:\n  egctl logs [--tail N] [-f]\n  egctl logs get-level\n  egctl logs set-level debug|info\n\n"
     "Examples:\n"
     "  # Print the most recent 500 logs by default.\n  egctl logs\n\n"
     "  # Print the most recent 100 logs.\n  egctl logs --tail 100\n\n"
     "  # Print all logs.\n  egctl logs --tail -1\n\n"
     "  # Print the most recent 500 logs and streaming the log.\n  egctl logs -f\n\n"
     "Flags:\n  -f, --follow     Specify if the logs should be streamed.\n"
     "      --tail int   Lines of recent log file to display. Defaults to 500, use -1 to show all lines\n"},
    {"config", NULL,
     "View egctl config (~/.egctlrc)\n\n"
     "Usage:\n  egctl config [command]\n\n"
     "Available Commands:\n"
     "  current-context Show current used egctl config\n"
     "  get-contexts    Display one or many contexts\n"
     "  use-context     Sets the current-context in egctl config file (NAME)\n"
     "  view            Display merged egctl config settings\n"},
    {"completion", NULL,
     "Generate completion script\n\n"
     "Usage:\n  egctl completion bash|zsh\n\n"
     "Examples:\n"
     "  # Load completions in the current bash shell\n  source <(egctl completion bash)\n\n"
     "  # Load completions in the current zsh shell\n  source <(egctl completion zsh)\n"},
    {"apis", NULL, "View Easegress APIs\n\nUsage:\n  egctl apis\n"},
    {"metrics", NULL, "Print the metrics of Easegress server (GET /apis/v2/metrics)\n\nUsage:\n  egctl metrics\n"},
    {"apply", NULL,
     "Apply a configuration to a resource by filename or stdin: objects that exist are\n"
     "updated, the others created.\n\n"
     "Usage:\n  egctl apply -f FILE|-\n\n"
     "Examples:\n"
     "  # Apply a configuration to a resource by filename\n  egctl apply -f <filename>.yaml\n\n"
     "  # Apply a configuration to a resource from stdin\n  cat <filename>.yaml | egctl apply -f -\n\n"
     "Flags:\n  -f, --file string   A yaml file specifying the object.\n"},
    {"get", NULL,
     "Display one or many resources\n\n"
     "Usage:\n  egctl get all|<resource> [name] [--namespace NS | --all-namespaces]\n\n"
     "Examples:\n"
     "  # Get a resource with name\n  egctl get <resource> <name>\n\n"
     "  # Get all resource\n  egctl get all\n\n"
     "  # Get a resource with yaml output\n  egctl get <resource> <name> -o yaml\n\n"
     "  # Get all pipelines\n  egctl get pipeline\n\n"
     "  # Get all members\n  egctl get member\n\n"
     "  # Check all possible api resources\n  egctl api-resources\n\n"
     "Flags:\n      --all-namespaces     get all resources in all namespaces\n"
     "      --namespace string   the namespace of the objects (only \"default\" holds any here)\n"},
    {"describe", NULL,
     "Show details of a specific resource or group of resources\n\n"
     "Usage:\n  egctl describe <resource> [name] [-v]\n\n"
     "Examples:\n"
     "  # Describe a resource with name\n  egctl describe <resource> <name>\n\n"
     "  # Describe all pipelines\n  egctl describe pipeline\n\n"
     "  # Describe pipelines with verbose information\n  egctl describe pipeline -v\n\n"
     "  # Describe all members\n  egctl describe member\n\n"
     "  # Describe a customdata kind\n  egctl describe customdatakind <name>\n\n"
     "  # Describe a customdata of given kind\n  egctl describe customdata <kind> <name>\n\n"
     "Flags:\n  -v, --verbose   Print verbose information\n"
     "      --all-namespaces     describe resources in all namespaces\n"
     "      --namespace string   the namespace of the objects\n"},
    {"delete", NULL,
     "Delete a resource or group of resources\n\n"
     "Usage:\n  egctl delete <resource> <name>... | <resource> --all\n\n"
     "Examples:\n"
     "  # Delete a resource with name\n  egctl delete <resource> <name>\n\n"
     "  # Delete multiple resources of the same kind\n  egctl delete <resource> <name1> <name2>\n\n"
     "  # Delete all instances in that resource\n  egctl delete <resource> --all\n\n"
     "  # Purge an Easegress member after its node was uninstalled\n  egctl delete member <name>\n\n"
     "Flags:\n      --all   delete all resources in given kind\n"},
    {"health", NULL, "Probe Easegress health\n\nUsage:\n  egctl health\n"},
    {"api-resources", NULL, "View all API resources\n\nUsage:\n  egctl api-resources\n"},
    {"object", NULL,
     "(Deprecated) View and change objects\n\n"
     "Usage:\n  egctl object [command]\n\n"
     "Available Commands:\n"
     "  create      Create an object from a yaml file or stdin (-f FILE)\n"
     "  delete      Delete an object from a yaml file or name (NAME | --all | -f FILE)\n"
     "  get         Get an object (NAME)\n"
     "  kinds       List available object kinds.\n"
     "  list        List all objects\n"
     "  status      View status of object (get NAME | list)\n"
     "  update      Update an object from a yaml file or stdin (-f FILE)\n"},
    {"object", "status",
     "View status of object\n\n"
     "Usage:\n  egctl object status [command]\n\n"
     "Available Commands:\n"
     "  get         Get status of an object (NAME)\n"
     "  list        List all status of objects\n"},
    {"member", NULL,
     "(Deprecated) View Easegress members\n\n"
     "Usage:\n  egctl member [command]\n\n"
     "Available Commands:\n"
     "  list        List Easegress members\n"
     "  purge       Purge a Easegress member (NAME)\n"},
};

bool egctl_print_help(const char *cmd, const char *sub)
{
    if (!cmd) {
        print_top_help();
        return true;
    }
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        if (strcmp(helps[i].cmd, cmd) != 0)
            continue;
        if ((sub == NULL) != (helps[i].sub == NULL) || (sub && strcmp(sub, helps[i].sub) != 0))
            continue;
        printf("%s\n%s", helps[i].text, global_flags);
        return true;
    }
    return false;
}

static void free_ctl(egctl *ctl)
{
    for (size_t i = 0; i < ctl->nresources; i++)
        free(ctl->resources[i].aliases);
    free(ctl->resources);
    eg_node_free(ctl->resources_doc);
    free(ctl->authorization);
    free(ctl->config_server);
    egctl_tls_settings_free(&ctl->tls);
    SSL_CTX_free(ctl->tls_ctx);
    free(ctl->err);
    egctl_opts_free(&ctl->opts);
}

static int finish(egctl *ctl, int rc)
{
    if (fflush(stdout) != 0 && rc == 0)
        rc = egctl_fail(ctl, "writing output failed");
    if (rc != 0)
        fprintf(stderr, "Error: %s\n", ctl->err ? ctl->err : "failed");
    free_ctl(ctl);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (egctl_convert_requested(argc, argv)) /* its own flags: -o is a file there */
        return egctl_convert_main(argc, argv);
    egctl ctl;
    memset(&ctl, 0, sizeof ctl);
    char err[512];
    if (egctl_parse_args(argc, argv, getenv("EGCTL_SERVER"), &ctl.opts, err, sizeof err) != 0)
        return finish(&ctl, egctl_fail(&ctl, "%s", err));

    egctl_opts *o = &ctl.opts;
    if (o->nargs == 0) {
        print_top_help();
        return finish(&ctl, 0);
    }
    if (strcmp(o->args[0], "help") == 0) { /* cobra's "egctl help [command]" */
        const command *hc = o->nargs > 1 ? find_command(o->args[1]) : NULL;
        if (!hc || !egctl_print_help(hc->name, NULL))
            print_top_help();
        return finish(&ctl, 0);
    }
    const command *c = find_command(o->args[0]);
    if (!c)
        return finish(&ctl, egctl_fail(&ctl, "unknown command \"%s\" for \"egctl\"", o->args[0]));
    if (o->help) {
        const char *sub = NULL;
        if (c->run == egctl_cmd_object && o->nargs > 1 &&
            (strcmp(o->args[1], "status") == 0 || strcmp(o->args[1], "stat") == 0))
            sub = "status";
        if (!egctl_print_help(c->name, sub))
            print_top_help();
        return finish(&ctl, 0);
    }
    const char *bad = egctl_flag_name(o->flags_seen, c->flags);
    if (bad)
        return finish(&ctl, egctl_fail(&ctl, "unknown flag: %s", bad));
    if (c->local)
        return finish(&ctl, c->run(&ctl, o->nargs - 1, o->args + 1));
    if (egctl_config_apply(&ctl) != 0)
        return finish(&ctl, -1);
    bool https = false;
    if (egctl_parse_server(o->server, ctl.host, sizeof ctl.host, &ctl.port, &https, err,
                           sizeof err) != 0)
        return finish(&ctl, egctl_fail(&ctl, "%s", err));
    /* Easegress's MakeURL: https:// wins, else --force-tls or a context with TLS settings. */
    ctl.tls.insecure_skip_verify = o->insecure_skip_verify;
    ctl.use_tls = https || o->force_tls || egctl_tls_settings_want_tls(&ctl.tls);
    return finish(&ctl, c->run(&ctl, o->nargs - 1, o->args + 1));
}
