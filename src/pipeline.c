/* pipeline.c — building Pipeline versions and running the flow. */
#include "pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "object.h"
#include "stats.h"

#define END_FILTER SIZE_MAX

/* ---- filter kind registry (filled at start-up, read by every thread) ---- */

static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static const eg_filter_kind *kinds[256];
static size_t nkinds;

void eg_filter_kind_register(const eg_filter_kind *kind)
{
    pthread_mutex_lock(&kinds_lock);
    for (size_t i = 0; i < nkinds; i++)
        if (strcmp(kinds[i]->name, kind->name) == 0) {
            kinds[i] = kind;
            pthread_mutex_unlock(&kinds_lock);
            return;
        }
    if (nkinds < sizeof kinds / sizeof kinds[0])
        kinds[nkinds++] = kind;
    pthread_mutex_unlock(&kinds_lock);
}

const eg_filter_kind *eg_filter_kind_find(const char *name)
{
    const eg_filter_kind *k = NULL;
    pthread_mutex_lock(&kinds_lock);
    for (size_t i = 0; i < nkinds && !k; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            k = kinds[i];
    pthread_mutex_unlock(&kinds_lock);
    return k;
}

const eg_filter_kind *const *eg_filter_kinds(size_t *n)
{
    *n = nkinds;
    return kinds;
}

/* ---- building ---- */

static atomic_uint_fast64_t next_version_id = 1;

static bool filter_has_result(const eg_filter *f, const char *result)
{
    if (!*result)
        return true; /* "" (success) may always be routed */
    const char *const *results = f->kind->instance_results ? f->kind->instance_results(f->inst) : f->kind->results;
    for (const char *const *r = results; r && *r; r++)
        if (strcmp(*r, result) == 0)
            return true;
    return false;
}

static ssize_t find_filter(const eg_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->nfilters; i++)
        if (strcmp(p->filters[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

static bool build_filters(eg_dec *d, eg_pipeline *p, const eg_node *list)
{
    p->filters = calloc(list ? list->count + 1 : 1, sizeof *p->filters);
    if (!list)
        return true;
    eg_dec_enter(d, "filters");
    for (size_t i = 0; i < list->count && eg_dec_ok(d); i++) {
        const eg_node *spec = list->items[i];
        eg_dec_enter_index(d, i);
        char *name = NULL, *kind = NULL;
        eg_dec_string(d, spec, "name", &name, true);
        eg_dec_string(d, spec, "kind", &kind, true);
        /* The rest of Easegress's filter meta (supervisor.MetaSpec): known to every kind. */
        eg_dec_any(d, spec, "version");
        eg_dec_any(d, spec, "createdAt");
        if (eg_dec_ok(d)) {
            const eg_filter_kind *k = eg_filter_kind_find(kind);
            if (!eg_object_name_valid(name))
                eg_dec_fail(d, "name", "invalid filter name \"%s\"", name);
            else if (strcmp(name, "END") == 0)
                eg_dec_fail(d, "name", "END is a reserved name");
            else if (find_filter(p, name) >= 0)
                eg_dec_fail(d, "name", "duplicate filter name \"%s\"", name);
            else if (!k)
                eg_dec_fail(d, "kind", "unknown filter kind \"%s\"", kind);
            else {
                void *inst = k->create(d, spec, p->name);
                if (inst || eg_dec_ok(d)) {
                    p->filters[p->nfilters++] = (eg_filter){ name, k, inst };
                    name = NULL;
                    if (k->is_lua)
                        p->has_lua = true;
                }
            }
        }
        free(name);
        free(kind);
        eg_dec_leave(d);
    }
    eg_dec_leave(d);
    return eg_dec_ok(d);
}

static const char *node_alias(const eg_pipeline *p, const eg_flow_node *n)
{
    if (n->alias)
        return n->alias;
    return n->filter == END_FILTER ? "END" : p->filters[n->filter].name;
}

static bool build_flow(eg_dec *d, eg_pipeline *p, const eg_node *flow)
{
    if (!flow || flow->count == 0) {
        /* No flow: filters run in definition order. */
        p->nodes = calloc(p->nfilters + 1, sizeof *p->nodes);
        for (size_t i = 0; i < p->nfilters; i++) {
            p->nodes[i].filter = i;
            p->nodes[i].ns = strdup("DEFAULT");
        }
        p->nnodes = p->nfilters;
        return true;
    }
    p->nodes = calloc(flow->count, sizeof *p->nodes);
    eg_dec_enter(d, "flow");
    for (size_t i = 0; i < flow->count && eg_dec_ok(d); i++) {
        const eg_node *item = flow->items[i];
        eg_flow_node *n = &p->nodes[i];
        eg_dec_enter_index(d, i);
        char *fname = NULL;
        eg_dec_string(d, item, "filter", &fname, true);
        eg_dec_string(d, item, "alias", &n->alias, false);
        eg_dec_string(d, item, "namespace", &n->ns, false);
        if (!n->ns || !*n->ns) {
            free(n->ns);
            n->ns = strdup("DEFAULT");
        }
        const eg_node *jumps = eg_dec_map(d, item, "jumpIf", false);
        eg_dec_check_unknown(d, item);
        if (eg_dec_ok(d)) {
            if (strcmp(fname, "END") == 0)
                n->filter = END_FILTER;
            else {
                ssize_t fi = find_filter(p, fname);
                if (fi < 0)
                    eg_dec_fail(d, "filter", "filter \"%s\" is not defined in filters", fname);
                else
                    n->filter = (size_t)fi;
            }
        }
        p->nnodes = i + 1;
        /* END may stand in a flow several times; filters and aliases only once. */
        for (size_t j = 0; eg_dec_ok(d) && n->filter != END_FILTER && j < i; j++)
            if (strcmp(node_alias(p, &p->nodes[j]), node_alias(p, n)) == 0)
                eg_dec_fail(d, "alias", "duplicate alias \"%s\" (use alias to run a filter twice)", node_alias(p, n));
        if (eg_dec_ok(d) && jumps && jumps->count) {
            n->jumps = calloc(jumps->count, sizeof *n->jumps);
            for (size_t j = 0; j < jumps->count; j++) {
                n->jumps[j].result = strdup(jumps->keys[j]);
                n->njumps++;
                if (jumps->items[j]->type != EG_NODE_STRING) {
                    eg_dec_fail(d, "jumpIf", "target of \"%s\" must be a string", jumps->keys[j]);
                    break;
                }
                if (n->filter != END_FILTER && !filter_has_result(&p->filters[n->filter], jumps->keys[j])) {
                    eg_dec_fail(d, "jumpIf", "filter %s (%s) has no result \"%s\"", fname,
                                p->filters[n->filter].kind->name, jumps->keys[j]);
                    break;
                }
            }
        }
        free(fname);
        eg_dec_leave(d);
    }
    eg_dec_leave(d);
    if (!eg_dec_ok(d))
        return false;
    /* Jump targets: END or an alias later in the flow (forward only, so no loops). */
    for (size_t i = 0; i < p->nnodes; i++) {
        eg_flow_node *n = &p->nodes[i];
        for (size_t j = 0; j < n->njumps; j++) {
            const eg_node *jumps = eg_node_get(flow->items[i], "jumpIf");
            const char *target = jumps->items[j]->text;
            if (strcmp(target, "END") == 0) {
                n->jumps[j].target = p->nnodes;
                continue;
            }
            size_t t = p->nnodes + 1;
            for (size_t k = i + 1; k < p->nnodes && t > p->nnodes; k++)
                if (strcmp(node_alias(p, &p->nodes[k]), target) == 0)
                    t = k;
            if (t > p->nnodes) {
                eg_dec_enter(d, "flow");
                eg_dec_enter_index(d, i);
                eg_dec_fail(d, "jumpIf", "target \"%s\" is not END or an alias after this filter", target);
                return false;
            }
            n->jumps[j].target = t;
        }
    }
    return true;
}

eg_pipeline *eg_pipeline_build(eg_dec *d, const eg_node *obj)
{
    eg_pipeline *p = calloc(1, sizeof *p);
    atomic_init(&p->refs, 1);
    p->version_id = atomic_fetch_add(&next_version_id, 1);
    eg_object_mark_meta(obj);
    eg_dec_string(d, obj, "name", &p->name, true);
    const eg_node *filters = eg_dec_seq(d, obj, "filters", false);
    const eg_node *flow = eg_dec_seq(d, obj, "flow", false);
    eg_dec_any(d, obj, "resilience"); /* policies: used by Proxy pools (resilience issue) */
    const eg_node *data = eg_dec_any(d, obj, "data");
    eg_dec_check_unknown(d, obj);
    if (eg_dec_ok(d) && build_filters(d, p, filters) && build_flow(d, p, flow)) {
        if (data)
            p->data = eg_node_clone(data);
        return p;
    }
    eg_pipeline_unref(p);
    return NULL;
}

void eg_pipeline_ref(eg_pipeline *p) { atomic_fetch_add(&p->refs, 1); }

void eg_pipeline_bind(eg_pipeline *p, const eg_bind_ctx *ctx)
{
    eg_stats_registry *r = ctx->stats;
    size_t n = strlen(p->name) + 16;
    char *key = malloc(n);
    snprintf(key, n, "Pipeline/%s", p->name);
    eg_stat_set_unref(p->stats);
    eg_stat_labels labels = { "pipeline", { "name" }, { p->name } };
    p->stats = eg_stats_acquire(r, key, &labels, false);
    free(key);
    for (size_t i = 0; i < p->nfilters; i++)
        if (p->filters[i].kind->bind && p->filters[i].inst)
            p->filters[i].kind->bind(p->filters[i].inst, ctx);
}

void eg_pipeline_unref(eg_pipeline *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    for (size_t i = 0; i < p->nfilters; i++) {
        if (p->filters[i].kind->destroy && p->filters[i].inst)
            p->filters[i].kind->destroy(p->filters[i].inst);
        free(p->filters[i].name);
    }
    for (size_t i = 0; i < p->nnodes; i++) {
        for (size_t j = 0; j < p->nodes[i].njumps; j++)
            free(p->nodes[i].jumps[j].result);
        free(p->nodes[i].jumps);
        free(p->nodes[i].alias);
        free(p->nodes[i].ns);
    }
    free(p->nodes);
    free(p->filters);
    eg_node_free(p->data);
    eg_stat_set_unref(p->stats);
    free(p->name);
    free(p);
}

/* ---- running ---- */

eg_namespace *eg_exchange_namespace(eg_exchange *x, const char *name)
{
    for (size_t i = 0; i < x->nns; i++)
        if (strcmp(x->ns[i].name, name) == 0)
            return &x->ns[i];
    if (x->nns == x->ns_cap) {
        size_t cap = x->ns_cap ? x->ns_cap * 2 : 4;
        eg_namespace *ns = eg_arena_alloc(x->arena, cap * sizeof *ns);
        if (x->nns)
            memcpy(ns, x->ns, x->nns * sizeof *ns);
        x->ns = ns;
        x->ns_cap = cap;
    }
    eg_namespace *n = &x->ns[x->nns++];
    n->name = eg_arena_strndup(x->arena, name, strlen(name));
    n->req = eg_arena_alloc(x->arena, sizeof *n->req);
    memset(n->req, 0, sizeof *n->req);
    n->resp = eg_arena_alloc(x->arena, sizeof *n->resp);
    memset(n->resp, 0, sizeof *n->resp);
    return n;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void tag_filter(eg_exchange *x, const char *name, const char *result)
{
    if (eg_log_get_level() > EG_LOG_DEBUG)
        return;
    if (!x->tags.len)
        eg_buf_printf(&x->tags, "pipeline(%s): ", x->pipeline->name);
    else
        eg_buf_appends(&x->tags, "->");
    double ms = (double)(now_ns() - x->filter_start_ns) / 1e6;
    if (result && *result)
        eg_buf_printf(&x->tags, "%s(%s,%.3fms)", name, result, ms);
    else
        eg_buf_printf(&x->tags, "%s(%.3fms)", name, ms);
}

/* Take the result of the current node and move the flow on. false = the flow ends. */
static bool advance(eg_exchange *x, const char *result)
{
    const eg_pipeline *p = x->pipeline;
    const eg_flow_node *n = &p->nodes[x->node];
    x->result = result ? result : "";
    tag_filter(x, node_alias(p, n), x->result);
    if (x->trace)
        eg_buf_printf(x->trace, "%s=%s;", node_alias(p, n), x->result);
    for (size_t i = 0; i < n->njumps; i++)
        if (strcmp(n->jumps[i].result, x->result) == 0) {
            x->node = n->jumps[i].target;
            if (x->node >= p->nnodes)
                x->flow_ended = true; /* jumped to END */
            return x->node < p->nnodes;
        }
    if (*x->result) {
        x->node = p->nnodes;
        x->flow_ended = true;
        return false;
    }
    x->node++;
    return x->node < p->nnodes;
}

static void run(eg_exchange *x)
{
    const eg_pipeline *p = x->pipeline;
    while (x->node < p->nnodes && !x->aborted) {
        const eg_flow_node *n = &p->nodes[x->node];
        if (n->filter == END_FILTER) {
            x->node = p->nnodes;
            x->flow_ended = true;
            break;
        }
        eg_namespace *ns = eg_exchange_namespace(x, n->ns);
        x->cur = (size_t)(ns - x->ns);
        const eg_filter *f = &p->filters[n->filter];
        const char *result = "";
        if (eg_log_get_level() <= EG_LOG_DEBUG)
            x->filter_start_ns = now_ns();
        x->on_abort = NULL;
        if (f->kind->handle(f->inst, x, &result) == EG_FILTER_PENDING)
            return;
        if (!advance(x, result))
            break;
    }
    if (x->tags.len)
        eg_debug("%s", x->tags.data);
    x->flow_done(x);
}

void eg_flow_start(eg_exchange *x)
{
    x->node = 0;
    x->flow_ended = false;
    x->result = "";
    run(x);
}

void eg_flow_resume(eg_exchange *x, const char *result)
{
    x->on_abort = NULL;
    if (!x->aborted && advance(x, result)) {
        run(x);
        return;
    }
    if (x->tags.len)
        eg_debug("%s", x->tags.data);
    x->flow_done(x);
}
