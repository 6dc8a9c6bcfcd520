/* prometheus.c — the statistics in the Prometheus text format (version 0.0.4), for the admin
 * API's /apis/v2/metrics and /metrics.
 *
 * Families follow Easegress's (httpserver_*, proxy_*), named the way Prometheus wants them
 * (counters end in _total, durations in seconds) so that `promtool check metrics` passes;
 * docs/observability.md maps them to Easegress's names. Labels name configured things only
 * (servers, pipelines, pools, backend URLs, status codes): never a request path. */
#include "prometheus.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "stats.h"
#include "tracing.h"

/* Upper bounds of the duration histogram, in microseconds and as printed. A recorded
 * bucket counts under a bound when its low edge is below it, so a bound may take values up
 * to one bucket width (~3%) above it. */
static const struct {
    uint64_t us;
    const char *text;
} bounds[] = {
    { 500, "0.0005" }, { 1000, "0.001" }, { 2500, "0.0025" }, { 5000, "0.005" }, { 10000, "0.01" },
    { 25000, "0.025" }, { 50000, "0.05" }, { 100000, "0.1" }, { 250000, "0.25" }, { 500000, "0.5" },
    { 1000000, "1" }, { 2500000, "2.5" }, { 5000000, "5" }, { 10000000, "10" },
};

static const struct {
    const char *family, *prefix, *what;
} families[] = {
    { "httpserver", "httpserver", "requests served by the HTTPServer" },
    { "pipeline", "pipeline", "requests routed to the Pipeline" },
    { "proxy_pool", "proxy", "backend calls made by the Proxy pool" },
    { "proxy_server", "proxy_server", "backend calls made to the Proxy pool's server" },
};

static void put_escaped(eg_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            eg_buf_append(b, "\\\\", 2);
        else if (*v == '"')
            eg_buf_append(b, "\\\"", 2);
        else if (*v == '\n')
            eg_buf_append(b, "\\n", 2);
        else
            eg_buf_append(b, v, 1);
    }
}

typedef struct {
    const char *cluster, *member;
} common_labels;

/* `{clusterName="..",instanceName="..",name=".."` plus `extra` (already formatted), closed. */
static void put_labels(eg_buf *b, const common_labels *c, const char *const *keys, char *const *values,
                       const char *extra)
{
    eg_buf_append(b, "{cluster_name=\"", 15);
    put_escaped(b, c->cluster);
    eg_buf_append(b, "\",instance_name=\"", 17);
    put_escaped(b, c->member);
    eg_buf_append(b, "\"", 1);
    for (size_t i = 0; i < EG_STAT_MAX_LABELS && keys[i]; i++) {
        eg_buf_printf(b, ",%s=\"", keys[i]);
        put_escaped(b, values[i]);
        eg_buf_append(b, "\"", 1);
    }
    if (extra)
        eg_buf_printf(b, ",%s", extra);
    eg_buf_append(b, "}", 1);
}

static void header(eg_buf *b, const char *prefix, const char *metric, const char *type, const char *help,
                   const char *what)
{
    eg_buf_printf(b, "# HELP %s_%s %s, %s.\n# TYPE %s_%s %s\n", prefix, metric, help, what, prefix, metric,
                  type);
}

typedef struct {
    eg_stat_set *set;
    eg_http_stat *total;
} member;

/* One counter per member: the eg_http_stat field at `field`. */
static void put_counter(eg_buf *b, const common_labels *c, const char *prefix, const char *metric, const char *help,
                        const char *what, const member *m, size_t n, size_t field)
{
    header(b, prefix, metric, "counter", help, what);
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, (const char *)m[i].total + field, sizeof v);
        eg_buf_printf(b, "%s_%s", prefix, metric);
        put_labels(b, c, m[i].set->label_keys, m[i].set->label_values, NULL);
        eg_buf_printf(b, " %llu\n", (unsigned long long)v);
    }
}

static void render_family(eg_buf *b, const common_labels *c, const char *prefix, const char *what, member *m,
                          size_t n)
{
    if (!n)
        return;
    put_counter(b, c, prefix, "requests_total", "Requests", what, m, n, offsetof(eg_http_stat, count));
    put_counter(b, c, prefix, "error_requests_total", "Requests answered with a status of 400 or more", what, m, n,
                offsetof(eg_http_stat, errors));
    header(b, prefix, "responses_total", "counter", "Responses by status code", what);
    for (size_t i = 0; i < n; i++)
        for (int code = 0; code < EG_STAT_CODES; code++) {
            uint64_t v = m[i].total->codes[code];
            if (!v)
                continue;
            char extra[32];
            snprintf(extra, sizeof extra, "code=\"%d\"", code);
            eg_buf_printf(b, "%s_responses_total", prefix);
            put_labels(b, c, m[i].set->label_keys, m[i].set->label_values, extra);
            eg_buf_printf(b, " %llu\n", (unsigned long long)v);
        }
    put_counter(b, c, prefix, "request_bytes_total", "Bytes received (headers and body)", what, m, n,
                offsetof(eg_http_stat, req_bytes));
    put_counter(b, c, prefix, "response_bytes_total", "Response body bytes sent", what, m, n,
                offsetof(eg_http_stat, resp_bytes));
    header(b, prefix, "request_duration_seconds", "histogram", "Request duration", what);
    for (size_t i = 0; i < n; i++) {
        const eg_hist *h = &m[i].total->latency;
        uint64_t cum = 0;
        size_t bucket = 0;
        for (size_t k = 0; k < sizeof bounds / sizeof bounds[0]; k++) {
            while (bucket < EG_HIST_BUCKETS && eg_hist_bucket_low(bucket) < bounds[k].us)
                cum += h->buckets[bucket++];
            char extra[32];
            snprintf(extra, sizeof extra, "le=\"%s\"", bounds[k].text);
            eg_buf_printf(b, "%s_request_duration_seconds_bucket", prefix);
            put_labels(b, c, m[i].set->label_keys, m[i].set->label_values, extra);
            eg_buf_printf(b, " %llu\n", (unsigned long long)cum);
        }
        uint64_t all = 0;
        for (size_t k = 0; k < EG_HIST_BUCKETS; k++)
            all += h->buckets[k];
        eg_buf_printf(b, "%s_request_duration_seconds_bucket", prefix);
        put_labels(b, c, m[i].set->label_keys, m[i].set->label_values, "le=\"+Inf\"");
        eg_buf_printf(b, " %llu\n", (unsigned long long)all);
        eg_buf_printf(b, "%s_request_duration_seconds_sum", prefix);
        put_labels(b, c, m[i].set->label_keys, m[i].set->label_values, NULL);
        eg_buf_printf(b, " %.6f\n", (double)h->sum / 1e6);
        eg_buf_printf(b, "%s_request_duration_seconds_count", prefix);
        put_labels(b, c, m[i].set->label_keys, m[i].set->label_values, NULL);
        eg_buf_printf(b, " %llu\n", (unsigned long long)all);
    }
}

static void render_health(eg_buf *b, const common_labels *c, eg_supervisor *s)
{
    size_t n;
    eg_object_entry **v = eg_supervisor_list(s, &n);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i]->kind, "HTTPServer") != 0)
            continue;
        if (!any)
            eg_buf_printf(b, "# HELP httpserver_health 1 when the HTTPServer is running, 0 when it is not.\n"
                             "# TYPE httpserver_health gauge\n");
        any = true;
        const char *keys[EG_STAT_MAX_LABELS] = { "name" };
        char *values[EG_STAT_MAX_LABELS] = { v[i]->name };
        eg_buf_printf(b, "httpserver_health");
        put_labels(b, c, keys, values, NULL);
        eg_buf_printf(b, " %d\n", v[i]->server ? 1 : 0);
    }
    free(v);
}

/* Tracing's export counters (process-wide), once anything was traced. */
static void render_tracing(eg_buf *b, const common_labels *c)
{
    eg_trace_counters t;
    eg_trace_counters_get(&t);
    if (!t.spans_exported && !t.spans_dropped && !t.batches_failed)
        return;
    static const char *const keys[EG_STAT_MAX_LABELS] = { NULL };
    char *const values[EG_STAT_MAX_LABELS] = { NULL };
    const struct {
        const char *name, *help;
        uint64_t v;
    } rows[] = {
        { "tracing_spans_exported_total", "Spans the collectors accepted.", t.spans_exported },
        { "tracing_spans_dropped_total", "Spans dropped: export queue full, or collector name not resolved.",
          t.spans_dropped },
        { "tracing_export_failures_total", "Batches of spans a collector refused or did not answer.",
          t.batches_failed },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        eg_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s", rows[i].name, rows[i].help, rows[i].name,
                      rows[i].name);
        put_labels(b, c, keys, values, NULL);
        eg_buf_printf(b, " %llu\n", (unsigned long long)rows[i].v);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const member *)a)->set->name, ((const member *)b)->set->name);
}

char *eg_prometheus_render(eg_supervisor *s, const char *cluster, const char *member_name, size_t *len)
{
    eg_buf b = { 0 };
    common_labels c = { cluster, member_name };
    render_health(&b, &c, s);
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        member *m = NULL;
        size_t n = 0, cap = 0;
        const eg_strmap_slot *sl;
        for (size_t i = 0; eg_strmap_next(&s->stats.sets, &i, &sl);) {
            eg_stat_set *set = sl->value;
            /* A set only the registry holds belongs to a deleted object. */
            if (strcmp(set->family, families[f].family) != 0 || atomic_load(&set->refs) <= 1)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                m = realloc(m, cap * sizeof *m);
            }
            m[n].set = set;
            m[n].total = eg_stat_set_total(set);
            if (m[n].total)
                n++;
        }
        if (n)
            qsort(m, n, sizeof *m, by_name);
        render_family(&b, &c, families[f].prefix, families[f].what, m, n);
        for (size_t i = 0; i < n; i++)
            free(m[i].total);
        free(m);
    }
    render_tracing(&b, &c);
    return eg_buf_steal(&b, len);
}
