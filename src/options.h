/* options.h — easegress-server's command line (Easegress's flags where they apply). */
#ifndef EG_OPTIONS_H
#define EG_OPTIONS_H

#include <stdbool.h>

typedef struct {
    const char *name;
    const char *cluster_name;
    const char *api_addr;        /* host:port */
    char api_host[256];
    unsigned api_port;
    const char *data_dir;
    const char *filter_dirs[16];
    int nfilter_dirs;
    const char *busted_dir;
    int workers;
    bool strict;
    bool debug;
    bool no_master;
    unsigned drain_seconds;
    const char *access_log;      /* path, "-" for stdout */
    const char *init_script;     /* Lua run in every worker at start */
    unsigned lua_memory_mb;      /* per VM; 0 = no limit */
    unsigned watchdog_seconds;   /* a worker busy this long without a break: restart; 0 = off */
    struct {                     /* numeric flags as given, before conversion */
        const char *workers, *drain, *lua_memory, *watchdog;
    } raw;
    bool disable_access_log;
    const char *shared_dicts[32]; /* --shared-dict NAME=CAPACITY (checked when parsed) */
    int nshared_dicts;
} eg_options;

/* Parses argv (after EASEGRESS_* environment defaults). Returns 0, 1 for --help/--version
 * (already printed), or -1 with a message printed. */
int eg_options_parse(eg_options *o, int argc, char **argv);

#endif
