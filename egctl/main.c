/* main.c — egctl's entry point: parse the line, pick the command, report one error.
 *
 * Exit status: 0 on success, 1 on any failure, after exactly one "Error: <reason>" line
 * on stderr (Easegress's ExitWithError). Warnings the server sends are printed to stderr
 * as they arrive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egctl.h"

typedef int (*cmd_fn)(egctl *, int, char **);

typedef struct {
    const char *name;
    const char *aliases[3];
    cmd_fn run;
    unsigned flags;         /* EGCTL_FLAG_* the command accepts */
    const char *short_help;
} command;

static const command commands[] = {
    {"create", {0}, egctl_cmd_create, EGCTL_FLAG_FILE, "Create a resource from a file or from stdin."},
    {"delete", {0}, egctl_cmd_delete, EGCTL_FLAG_ALL, "Delete a resource or group of resources"},
    {"get", {0}, egctl_cmd_get, 0, "Display one or many resources"},
    {"describe", {0}, egctl_cmd_describe, EGCTL_FLAG_VERBOSE,
     "Show details of a specific resource or group of resources"},
    {"apply", {0}, egctl_cmd_apply, EGCTL_FLAG_FILE, "Apply a configuration to a resource by filename or stdin"},
    {"health", {0}, egctl_cmd_health, 0, "Probe Easegress health"},
    {"api-resources", {0}, egctl_cmd_api_resources, 0, "View all API resources"},
    /* Deprecated in Easegress, still there; they check their own flags. */
    {"object", {"o", "obj"}, egctl_cmd_object, ~0u, "(Deprecated) View and change objects"},
    {"member", {0}, egctl_cmd_member, ~0u, "(Deprecated) View Easegress members"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

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
    "  -h, --help                 help for egctl\n"
    "  -o, --output string        Output format(default, json, yaml) (default \"default\")\n"
    "      --server string        The address of the Easegress endpoint (default "
    EGCTL_DEFAULT_SERVER ", or $EGCTL_SERVER)\n";

static void print_top_help(void)
{
    printf("A command line admin tool for Easegress.\n\n"
           "Usage:\n  egctl [command]\n\n"
           "Basic Commands:\n");
    for (size_t i = 0; i < 5; i++)
        printf("  %-14s %s\n", commands[i].name, commands[i].short_help);
    printf("\nOther Commands:\n");
    for (size_t i = 5; i < 7; i++)
        printf("  %-14s %s\n", commands[i].name, commands[i].short_help);
    printf("\nDeprecated Commands:\n");
    for (size_t i = 7; i < NCOMMANDS; i++)
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
     "Usage:\n  egctl create -f FILE|-\n\n"
     "Examples:\n"
     "  # Create a resource from a file\n  egctl create -f <filename>.yaml\n\n"
     "  # Create a resource from stdin\n  cat <filename>.yaml | egctl create -f -\n\n"
     "Flags:\n  -f, --file string   A yaml file specifying the object.\n"},
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
     "Usage:\n  egctl get all|<resource> [name]\n\n"
     "Examples:\n"
     "  # Get a resource with name\n  egctl get <resource> <name>\n\n"
     "  # Get all resource\n  egctl get all\n\n"
     "  # Get a resource with yaml output\n  egctl get <resource> <name> -o yaml\n\n"
     "  # Get all pipelines\n  egctl get pipeline\n\n"
     "  # Get all members\n  egctl get member\n\n"
     "  # Check all possible api resources\n  egctl api-resources\n"},
    {"describe", NULL,
     "Show details of a specific resource or group of resources\n\n"
     "Usage:\n  egctl describe <resource> [name] [-v]\n\n"
     "Examples:\n"
     "  # Describe a resource with name\n  egctl describe <resource> <name>\n\n"
     "  # Describe all pipelines\n  egctl describe pipeline\n\n"
     "  # Describe pipelines with verbose information\n  egctl describe pipeline -v\n\n"
     "  # Describe all members\n  egctl describe member\n\n"
     "Flags:\n  -v, --verbose   Print verbose information\n"},
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
    if (egctl_parse_server(o->server, ctl.host, sizeof ctl.host, &ctl.port, err, sizeof err) != 0)
        return finish(&ctl, egctl_fail(&ctl, "%s", err));
    return finish(&ctl, c->run(&ctl, o->nargs - 1, o->args + 1));
}
