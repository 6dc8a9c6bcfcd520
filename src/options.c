#include "options.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "shared_dict.h"

static const char usage[] =
    "Usage: easegress-server [flags]\n"
    "  --name NAME                   member name (default eg-default-name)\n"
    "  --cluster-name NAME           cluster name (default eg-cluster-default-name)\n"
    "  --api-addr HOST:PORT          admin API address (default 127.0.0.1:2381)\n"
    "  --data-dir DIR                data directory (default ./data)\n"
    "  --workers N                   worker threads (default: number of CPUs)\n"
    "  --filter-dir DIR              directory of Lua filters (repeatable)\n"
    "  --busted DIR                  run busted specs in DIR inside the runtime and exit\n"
    "  --strict                      reject unknown fields instead of warning\n"
    "  --drain-timeout SECONDS       graceful shutdown limit (default 30)\n"
    "  --access-log PATH             default access log: a file (reopened on SIGHUP), - or\n"
    "                                stdout, stderr (default -); accessLogOutput overrides it\n"
    "  --init-script FILE            Lua run in every worker at start (timers, warm-up)\n"
    "  --lua-memory-limit MB         memory each worker's Lua VM may hold (default 256, 0 = none)\n"
    "  --watchdog-timeout SECONDS    restart the server process when a worker is busy this\n"
    "                                long without a break, e.g. a filter in an endless loop\n"
    "                                (default 10, 0 = off)\n"
    "  --disable-access-log          no default access log (servers with accessLogOutput still log)\n"
    "  --shared-dict NAME=CAPACITY   a Lua shared dictionary eg.shared.NAME of CAPACITY entries\n"
    "                                (repeatable; `default`, 10000 entries, always exists)\n"
    "  --debug                       debug logging\n"
    "  --no-master                   run the server without the supervising master process\n"
    "  -v, --version                 print the version\n"
    "These flags may also come from the environment as EASEGRESS_<FLAG> (--api-addr ->\n"
    "EASEGRESS_API_ADDR): name, cluster-name, api-addr, data-dir, workers, drain-timeout,\n"
    "strict, debug, access-log, disable-access-log. Flags on the command line win.\n";

/* Flags that take a value, and where it goes. */
static const char **value_slot(eg_options *o, const char *flag)
{
    if (!strcmp(flag, "name")) return &o->name;
    if (!strcmp(flag, "cluster-name")) return &o->cluster_name;
    if (!strcmp(flag, "api-addr")) return &o->api_addr;
    if (!strcmp(flag, "data-dir")) return &o->data_dir;
    if (!strcmp(flag, "busted")) return &o->busted_dir;
    if (!strcmp(flag, "workers")) return &o->raw.workers;
    if (!strcmp(flag, "drain-timeout")) return &o->raw.drain;
    if (!strcmp(flag, "access-log")) return &o->access_log;
    if (!strcmp(flag, "init-script")) return &o->init_script;
    if (!strcmp(flag, "lua-memory-limit")) return &o->raw.lua_memory;
    if (!strcmp(flag, "watchdog-timeout")) return &o->raw.watchdog;
    if (!strcmp(flag, "filter-dir") && o->nfilter_dirs < 16) return &o->filter_dirs[o->nfilter_dirs++];
    if (!strcmp(flag, "shared-dict") && o->nshared_dicts < 32) return &o->shared_dicts[o->nshared_dicts++];
    return NULL;
}

static bool *bool_slot(eg_options *o, const char *flag)
{
    if (!strcmp(flag, "strict")) return &o->strict;
    if (!strcmp(flag, "debug")) return &o->debug;
    if (!strcmp(flag, "no-master")) return &o->no_master;
    if (!strcmp(flag, "disable-access-log")) return &o->disable_access_log;
    return NULL;
}

static void from_env(eg_options *o)
{
    static const char *const flags[] = { "name", "cluster-name", "api-addr", "data-dir", "workers",
                                         "drain-timeout", "strict", "debug", "access-log", "disable-access-log" };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        char env[64] = "EASEGRESS_";
        size_t n = strlen(env);
        for (const char *p = flags[i]; *p && n < sizeof env - 1; p++)
            env[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        env[n] = 0;
        const char *v = getenv(env);
        if (!v)
            continue;
        bool *b = bool_slot(o, flags[i]);
        if (b)
            *b = !strcmp(v, "1") || !strcasecmp(v, "true");
        else
            *value_slot(o, flags[i]) = v;
    }
}

int eg_options_parse(eg_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->name = "eg-default-name";
    o->cluster_name = "eg-cluster-default-name";
    o->api_addr = "127.0.0.1:2381";
    o->data_dir = "./data";
    o->access_log = "-";
    from_env(o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 1;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
            puts("easegress-server (Easegress-C) 0.1.0");
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "easegress-server: unexpected argument %s\n%s", a, usage);
            return -1;
        }
        char flag[64];
        const char *eq = strchr(a + 2, '=');
        size_t fl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        snprintf(flag, sizeof flag, "%.*s", (int)fl, a + 2);
        bool *b = bool_slot(o, flag);
        if (b) {
            *b = eq ? (!strcmp(eq + 1, "true") || !strcmp(eq + 1, "1")) : true;
            continue;
        }
        const char **slot = value_slot(o, flag);
        if (!slot) {
            fprintf(stderr, "easegress-server: unknown flag --%s\n%s", flag, usage);
            return -1;
        }
        if (eq)
            *slot = eq + 1;
        else if (i + 1 < argc)
            *slot = argv[++i];
        else {
            fprintf(stderr, "easegress-server: --%s needs a value\n", flag);
            return -1;
        }
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    o->workers = o->raw.workers ? atoi(o->raw.workers) : (int)(n > 0 ? n : 1);
    if (o->workers < 1 || o->workers > 256) {
        fprintf(stderr, "easegress-server: --workers must be 1..256\n");
        return -1;
    }
    o->drain_seconds = o->raw.drain ? (unsigned)atoi(o->raw.drain) : 30;
    o->lua_memory_mb = o->raw.lua_memory ? (unsigned)atoi(o->raw.lua_memory) : 256;
    o->watchdog_seconds = o->raw.watchdog ? (unsigned)atoi(o->raw.watchdog) : 10;
    for (int i = 0; i < o->nshared_dicts; i++) {
        char name[EG_SHARED_DICT_MAX_NAME + 1], err[256];
        size_t cap;
        if (!eg_shared_dict_parse_spec(o->shared_dicts[i], name, sizeof name, &cap, err, sizeof err)) {
            fprintf(stderr, "easegress-server: %s\n", err);
            return -1;
        }
    }
    const char *colon = strrchr(o->api_addr, ':');
    if (!colon || sscanf(colon + 1, "%u", &o->api_port) != 1 || o->api_port == 0 || o->api_port > 65535) {
        fprintf(stderr, "easegress-server: --api-addr must be HOST:PORT, not %s\n", o->api_addr);
        return -1;
    }
    size_t hl = (size_t)(colon - o->api_addr);
    if (hl >= sizeof o->api_host)
        hl = sizeof o->api_host - 1;
    memcpy(o->api_host, o->api_addr, hl);
    o->api_host[hl] = 0;
    /* [::1]:2381 */
    if (o->api_host[0] == '[') {
        memmove(o->api_host, o->api_host + 1, strlen(o->api_host));
        char *rb = strchr(o->api_host, ']');
        if (rb)
            *rb = 0;
    }
    if (!strcmp(o->api_host, "localhost"))
        snprintf(o->api_host, sizeof o->api_host, "127.0.0.1");
    return 0;
}
