/* cmd_convert.c — `egctl convert nginx -f nginx.conf [-o out.yaml] [--resource-prefix P]`.
 *
 * Flags as Easegress's cobra command has them (-f/--file, -o/--output, --resource-prefix
 * defaulting to "nginx"); without -o (or with "-o -") the YAML goes to stdout. Warnings
 * go to stderr as they are found; a failure prints one "Error: ..." line and exits 1, and
 * then no output file is written.
 */
#include "cmd_convert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nginx_conf.h"
#include "nginx_convert.h"
#include "object.h"

static const char convert_help[] =
    "Convert other kinds of config to Easegress yaml file\n\n"
    "Usage:\n  egctl convert [command]\n\n"
    "Available Commands:\n"
    "  nginx       Convert nginx.conf to easegress yaml file\n";

static const char nginx_help[] =
    "Convert nginx.conf to easegress yaml file\n\n"
    "Usage:\n  egctl convert nginx -f FILE [-o FILE] [--resource-prefix PREFIX]\n\n"
    "Examples:\n"
    "  # Convert nginx config to easegress yamls\n"
    "  egctl convert nginx -f <nginx.conf> -o <output.yaml> --resource-prefix <prefix>\n\n"
    "Flags:\n"
    "  -f, --file string              nginx.conf file path\n"
    "  -o, --output string            output yaml file path (default: stdout)\n"
    "      --resource-prefix string   prefix of output yaml resources (default \"nginx\")\n";

bool egctl_convert_requested(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--server") == 0 || strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            i++; /* a global flag's value */
            continue;
        }
        if (a[0] == '-' && a[1])
            continue;
        return strcmp(a, "convert") == 0;
    }
    return false;
}

static int error_exit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One "Error: ..." line, as every egctl command ends a failure; the exit status. */
static int error_exit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("Error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

/* "--name value", "--name=value", "-x value", "-xvalue". *i advances past a value. */
static const char *flag_value(int argc, char **argv, int *i, const char *shortf, const char *longf,
                              bool *missing)
{
    const char *a = argv[*i];
    size_t ll = strlen(longf);
    *missing = false;
    if (strncmp(a, longf, ll) == 0 && a[ll] == '=')
        return a + ll + 1;
    if (strcmp(a, longf) == 0 || (shortf && strcmp(a, shortf) == 0)) {
        if (*i + 1 >= argc) {
            *missing = true;
            return NULL;
        }
        return argv[++*i];
    }
    if (shortf && strncmp(a, shortf, 2) == 0 && a[2])
        return a[2] == '=' ? a + 3 : a + 2;
    return NULL;
}

static int write_all(const char *path, const char *text)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    bool ok = fwrite(text, 1, n, f) == n;
    if (f == stdout)
        ok &= fflush(f) == 0;
    else
        ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

int egctl_convert_main(int argc, char **argv)
{
    const char *file = NULL, *output = "-", *prefix = "nginx";
    const char *words[4];
    int nwords = 0;
    bool help = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            help = true;
        } else if ((v = flag_value(argc, argv, &i, "-f", "--file", &missing)) || missing) {
            if (missing)
                return error_exit("flag needs an argument: %s", a);
            file = v;
        } else if ((v = flag_value(argc, argv, &i, "-o", "--output", &missing)) || missing) {
            if (missing)
                return error_exit("flag needs an argument: %s", a);
            output = v;
        } else if ((v = flag_value(argc, argv, &i, NULL, "--resource-prefix", &missing)) || missing) {
            if (missing)
                return error_exit("flag needs an argument: %s", a);
            prefix = v;
        } else if ((v = flag_value(argc, argv, &i, NULL, "--server", &missing)) || missing) {
            /* a global flag; convert talks to no server */
        } else if (a[0] == '-' && a[1]) {
            return error_exit("unknown flag: %s", a);
        } else if (nwords < 4) {
            words[nwords++] = a;
        } else {
            return error_exit("too many arguments: %s", a);
        }
    }
    /* words[0] is "convert" */
    if (nwords < 2 || help) {
        fputs(nwords >= 2 && strcmp(words[1], "nginx") == 0 ? nginx_help : convert_help, stdout);
        return 0; /* as cobra does for a command without a sub-command */
    }
    if (strcmp(words[1], "nginx") != 0)
        return error_exit("unknown command \"%s\" for \"egctl convert\"", words[1]);
    if (nwords > 2)
        return error_exit("unexpected argument \"%s\"", words[2]);
    if (!file)
        return error_exit("nginx.conf file path is required (-f FILE)");
    if (!eg_object_name_valid(prefix))
        return error_exit("invalid --resource-prefix \"%s\": names are letters, digits, '-', "
                          "'_', '.' and '~'", prefix);

    char err[1024];
    nginx_conf conf;
    if (nginx_conf_load(file, &conf, err, sizeof err) != 0)
        return error_exit("parse nginx.conf failed: %s", err);
    const char *slash = strrchr(file, '/');
    char *base_dir = strndup(file, slash ? (size_t)(slash - file) + 1 : 0);
    if (!base_dir) {
        nginx_conf_free(&conf);
        return error_exit("out of memory");
    }
    nginx_convert_opts opts = { prefix, base_dir, stderr };
    char *yaml = NULL;
    int rc = nginx_convert(&conf, &opts, &yaml, err, sizeof err);
    nginx_conf_free(&conf);
    free(base_dir);
    if (rc != 0)
        return error_exit("convert nginx.conf failed: %s", err);
    rc = write_all(output, yaml);
    free(yaml);
    if (rc != 0)
        return error_exit("cannot write %s", output);
    return 0;
}
