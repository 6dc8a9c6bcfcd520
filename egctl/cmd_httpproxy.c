/* cmd_httpproxy.c — `create httpproxy NAME --port P --rule HOST/PATH=URL1,URL2 ...`
 * (Easegress's commandv2/create/createhttpproxy.go): one HTTPServer NAME whose rules route
 * to Pipelines NAME-0, NAME-1, ... (one per --rule, in order), each a Proxy filter named
 * `proxy` balancing round-robin over the rule's URLs. Consecutive rules with the same host
 * share one HTTPServer rule, as Easegress groups them. */
#define _GNU_SOURCE
#include "egctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static eg_node *map_with(const char *k1, eg_node *v1)
{
    eg_node *m = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(m, k1, v1);
    return m;
}

static eg_node *pipeline_of(const char *name, const egctl_proxy_rule *r)
{
    eg_node *servers = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; i < r->nendpoints; i++)
        eg_node_seq_push(servers, map_with("url", eg_node_new_str(r->endpoints[i])));
    eg_node *pool = map_with("servers", servers);
    eg_node_map_set(pool, "loadBalance", map_with("policy", eg_node_new_str("roundRobin")));
    eg_node *pools = eg_node_new(EG_NODE_SEQ);
    eg_node_seq_push(pools, pool);
    eg_node *proxy = map_with("name", eg_node_new_str("proxy"));
    eg_node_map_set(proxy, "kind", eg_node_new_str("Proxy"));
    eg_node_map_set(proxy, "pools", pools);
    eg_node *filters = eg_node_new(EG_NODE_SEQ);
    eg_node_seq_push(filters, proxy);
    eg_node *flow = eg_node_new(EG_NODE_SEQ);
    eg_node_seq_push(flow, map_with("filter", eg_node_new_str("proxy")));
    eg_node *p = map_with("name", eg_node_new_str(name));
    eg_node_map_set(p, "kind", eg_node_new_str("Pipeline"));
    eg_node_map_set(p, "flow", flow);
    eg_node_map_set(p, "filters", filters);
    return p;
}

static int create_one(egctl *ctl, const eg_node *obj)
{
    const char *kind = eg_node_str(obj, "kind"), *name = eg_node_str(obj, "name");
    char *json = eg_node_to_json(obj, false, NULL);
    if (!json)
        return egctl_fail(ctl, "out of memory");
    int rc = egctl_call(ctl, "POST", "/objects", json, NULL);
    free(json);
    if (rc != 0)
        return egctl_fail_wrap(ctl, "create %s %s", kind, name);
    printf("create %s %s successfully\n", kind, name);
    fflush(stdout);
    return 0;
}

int egctl_create_httpproxy(egctl *ctl, int argc, char **argv)
{
    const egctl_opts *o = &ctl->opts;
    if (argc != 1)
        return egctl_fail(ctl, "create httpproxy requires a name");
    if (o->tls_flag)
        return egctl_fail(ctl, "--%s: this easegress-server does not serve HTTPS yet, so "
                          "create httpproxy cannot make a TLS HTTPServer", o->tls_flag);
    if (o->port == 0)
        return egctl_fail(ctl, "port is required (--port)");
    if (o->nrules == 0)
        return egctl_fail(ctl, "rule is required");
    const char *name = argv[0];
    egctl_proxy_rule *rules = calloc((size_t)o->nrules, sizeof *rules);
    if (!rules)
        return egctl_fail(ctl, "out of memory");
    int rc = 0, nparsed = 0;
    for (int i = 0; i < o->nrules && rc == 0; i++) {
        char err[512];
        if (egctl_parse_proxy_rule(o->rules[i], &rules[i], err, sizeof err) != 0)
            rc = egctl_fail(ctl, "%s", err);
        else
            nparsed++;
    }

    eg_node *server = NULL, **pipelines = NULL;
    if (rc == 0) {
        server = map_with("name", eg_node_new_str(name));
        eg_node_map_set(server, "kind", eg_node_new_str("HTTPServer"));
        eg_node_map_set(server, "port", eg_node_new_int(o->port));
        eg_node_map_set(server, "https", eg_node_new_bool(false));
        eg_node_map_set(server, "keepAlive", eg_node_new_bool(true));
        eg_node *srules = eg_node_new(EG_NODE_SEQ);
        pipelines = calloc((size_t)o->nrules, sizeof *pipelines);
        if (!pipelines)
            rc = egctl_fail(ctl, "out of memory");
        eg_node *paths = NULL;
        for (int i = 0; i < o->nrules && rc == 0; i++) {
            char *pname = NULL;
            if (asprintf(&pname, "%s-%d", name, i) < 0) {
                rc = egctl_fail(ctl, "out of memory");
                break;
            }
            pipelines[i] = pipeline_of(pname, &rules[i]);
            eg_node *path = eg_node_new(EG_NODE_MAP);
            if (rules[i].path_prefix)
                eg_node_map_set(path, "pathPrefix", eg_node_new_str(rules[i].path_prefix));
            else
                eg_node_map_set(path, "path", eg_node_new_str(rules[i].path));
            eg_node_map_set(path, "backend", eg_node_new_str(pname));
            free(pname);
            if (!paths || strcmp(rules[i].host, rules[i - 1].host) != 0) {
                eg_node *rule = eg_node_new(EG_NODE_MAP);
                if (*rules[i].host)
                    eg_node_map_set(rule, "host", eg_node_new_str(rules[i].host));
                paths = eg_node_new(EG_NODE_SEQ);
                eg_node_map_set(rule, "paths", paths);
                eg_node_seq_push(srules, rule);
            }
            eg_node_seq_push(paths, path);
        }
        eg_node_map_set(server, "rules", srules);
    }
    if (rc == 0)
        rc = create_one(ctl, server);
    for (int i = 0; i < o->nrules && rc == 0; i++)
        rc = create_one(ctl, pipelines[i]);

    eg_node_free(server);
    for (int i = 0; pipelines && i < o->nrules; i++)
        eg_node_free(pipelines[i]);
    free(pipelines);
    for (int i = 0; i < nparsed; i++)
        egctl_proxy_rule_free(&rules[i]);
    free(rules);
    return rc;
}
