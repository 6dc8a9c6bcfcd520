/* easegress-server: the gateway's entry point. */
#include <stdio.h>
#include <sys/resource.h>
#include "log.h"
#include "lua_vm.h"
#include "options.h"
#include "server.h"

/* A gateway holds a descriptor per connection: take every descriptor the hard limit allows
 * (as Go's runtime does for Easegress) rather than the shell's usual 1024. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    eg_options o;
    int rc = eg_options_parse(&o, argc, argv);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    eg_log_set_level(o.debug ? EG_LOG_DEBUG : EG_LOG_INFO);
    raise_fd_limit();
    if (o.busted_dir)
        return eg_busted_run(&o);
    if (o.no_master)
        return eg_lock_data_dir(o.data_dir) < 0 ? 1 : eg_server_run(&o, -1);
    return eg_master_run(&o);
}
