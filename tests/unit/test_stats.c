/* test_stats.c — the latency histogram, per-worker merging, top-N paths and meters. */
#include <math.h>
#include <stdlib.h>
#include "stats.h"
#include "unit.h"

/* Every value falls in the bucket whose range holds it, and buckets tile the line. */
static void test_buckets_tile(void)
{
    for (uint64_t v = 0; v < 5000000; v = v < 100 ? v + 1 : v + v / 7) {
        size_t b = eg_hist_bucket(v);
        CHECK(eg_hist_bucket_low(b) <= v);
        CHECK(b + 1 >= EG_HIST_BUCKETS || eg_hist_bucket_low(b + 1) > v);
    }
    for (size_t b = 0; b + 1 < EG_HIST_BUCKETS; b++)
        CHECK(eg_hist_bucket(eg_hist_bucket_low(b)) == b);
    CHECK_INT(eg_hist_bucket(UINT64_MAX), EG_HIST_BUCKETS - 1);
}

/* Quantiles of a known distribution are within the bucket precision (~3%). */
static void test_quantiles(void)
{
    eg_hist *h = malloc(sizeof *h);
    eg_hist_init(h);
    for (uint64_t v = 1; v <= 100000; v++)
        eg_hist_record(h, v);
    const double qs[] = { 0.25, 0.5, 0.75, 0.95, 0.99, 0.999 };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double want = qs[i] * 100000, got = (double)eg_hist_quantile(h, qs[i]);
        CHECK(fabs(got - want) / want < 0.035);
    }
    CHECK_INT(h->min, 1);
    CHECK_INT(h->max, 100000);
    CHECK_INT(h->count, 100000);
    CHECK_INT(eg_hist_quantile(h, 1.0), 100000);
    eg_hist_init(h);
    CHECK_INT(eg_hist_quantile(h, 0.5), 0);
    eg_hist_record(h, 7);
    CHECK_INT(eg_hist_quantile(h, 0.99), 7);   /* exact below 32 */
    free(h);
}

static const eg_stat_labels server_labels = { "httpserver", { "name" }, { "a" } };

static eg_stat_sample sample(int status, uint64_t us)
{
    eg_stat_sample s = { .status = status, .duration_us = us, .req_bytes = 10, .resp_bytes = 100 };
    return s;
}

/* Figures written by different workers add up when read. */
static void test_merge_across_workers(void)
{
    eg_stats_registry r;
    eg_stats_registry_init(&r, 3);
    eg_stat_set *s = eg_stats_acquire(&r, "HTTPServer/a", &server_labels, false);
    for (int w = 0; w < 3; w++)
        for (int i = 0; i < 10; i++) {
            eg_stat_sample sm = sample(i < 2 ? 503 : 200, 1000 * (uint64_t)(w + 1));
            eg_stat_record(s, w, &sm, NULL, 0);
        }
    eg_stat_sample bad = sample(200, 5);
    eg_stat_record(s, 7, &bad, NULL, 0);   /* no such worker: ignored */
    eg_http_stat *t = eg_stat_set_total(s);
    CHECK_INT(t->count, 30);
    CHECK_INT(t->errors, 6);
    CHECK_INT(t->codes[200], 24);
    CHECK_INT(t->codes[503], 6);
    CHECK_INT(t->req_bytes, 300);
    CHECK_INT(t->resp_bytes, 3000);
    CHECK_INT(t->latency.min, 1000);
    CHECK_INT(t->latency.max, 3000);
    CHECK(eg_hist_quantile(&t->latency, 0.5) >= 1940 && eg_hist_quantile(&t->latency, 0.5) <= 2060);
    free(t);
    eg_stat_set_unref(s);
    eg_stats_registry_free(&r);
}

static void test_path_pattern(void)
{
    char out[64];
    eg_stats_path_pattern("/users/123/orders/ab12", 22, out, sizeof out);
    CHECK_STR(out, "/users/*/orders/*");
    eg_stats_path_pattern("/", 1, out, sizeof out);
    CHECK_STR(out, "/");
    eg_stats_path_pattern("/a/", 3, out, sizeof out);
    CHECK_STR(out, "/a/");
    eg_stats_path_pattern("/x/0123456789abcdefghijklmnopqrstuvwxyz", 39, out, sizeof out);
    CHECK_STR(out, "/x/*");
    eg_stats_path_pattern("/abcdefgh", 9, out, 5);
    CHECK_STR(out, "/abc");
}

/* The top-N table is bounded: a flood of distinct patterns ends in the overflow entry, and
 * the status lists at most ten, biggest first. */
static void test_topn_bounded(void)
{
    eg_stats_registry r;
    eg_stats_registry_init(&r, 1);
    eg_stat_set *s = eg_stats_acquire(&r, "HTTPServer/t", &server_labels, true);
    for (int i = 0; i < 50; i++) {
        eg_stat_sample sm = sample(404, 100);
        eg_stat_record(s, 0, &sm, "/hot/42", 7);
    }
    char path[64];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(path, sizeof path, "/p%c%c", 'a' + i % 26, 'a' + (i / 26) % 26);
        eg_stat_sample sm = sample(200, 100);
        eg_stat_record(s, 0, &sm, path, (size_t)n);
    }
    size_t used = 0;
    for (size_t k = 0; k < EG_TOPN_SLOTS; k++)
        used += atomic_load(&atomic_load(&s->shards[0])->paths[k].path) != NULL;
    CHECK_INT(used, EG_TOPN_SLOTS);
    eg_node *st = eg_node_new(EG_NODE_MAP);
    eg_stat_set_status(s, st);
    CHECK_INT(eg_node_get(st, "count")->v.i, 1050);
    const eg_node *top = eg_node_get(st, "topN");
    CHECK(top && top->type == EG_NODE_SEQ);
    CHECK_INT(top->count, 10);
    const eg_node *first = top->items[0];
    CHECK_STR(eg_node_str(first, "path"), "(other paths)");   /* the overflow got the most */
    CHECK_STR(eg_node_str(top->items[1], "path"), "/hot/*");
    CHECK_INT(eg_node_get(top->items[1], "errCount")->v.i, 50);
    eg_node_free(st);
    eg_stat_set_unref(s);
    eg_stats_registry_free(&r);
}

/* Meters follow go-metrics: the first tick takes the rate, later ones decay towards it; a set
 * no object holds any more is forgotten at the next tick. */
static void test_meters_and_forgetting(void)
{
    eg_stats_registry r;
    eg_stats_registry_init(&r, 1);
    eg_stat_set *s = eg_stats_acquire(&r, "Pipeline/p", &server_labels, false);
    for (int i = 0; i < 50; i++) {
        eg_stat_sample sm = sample(i < 10 ? 500 : 200, 100);
        eg_stat_record(s, 0, &sm, NULL, 0);
    }
    eg_stats_tick(&r);
    CHECK(fabs(s->rate.m1 - 10.0) < 1e-9);      /* 50 requests in 5 s */
    CHECK(fabs(s->err_rate.m1 - 2.0) < 1e-9);
    eg_stats_tick(&r);                           /* nothing new: rates decay */
    CHECK(s->rate.m1 < 10.0 && s->rate.m1 > 8.0);
    CHECK(s->rate.m15 > s->rate.m1);
    eg_node *st = eg_node_new(EG_NODE_MAP);
    eg_stat_set_status(s, st);
    CHECK(fabs(eg_node_get(st, "m1ErrPercent")->v.f - 20.0) < 1e-6);
    CHECK(!eg_node_get(st, "topN"));
    eg_node_free(st);
    CHECK(eg_stats_find(&r, "Pipeline/p") == s);
    eg_stat_set_unref(s);
    eg_stats_tick(&r);
    CHECK(eg_stats_find(&r, "Pipeline/p") == NULL);
    eg_stats_registry_free(&r);
}

/* A set costs nothing per worker until that worker records into it, and a worker that never
 * did is simply absent from the sums. */
static void test_idle_workers_cost_nothing(void)
{
    eg_stats_registry r;
    eg_stats_registry_init(&r, 4);
    eg_stat_set *s = eg_stats_acquire(&r, "Pipeline/idle", &server_labels, false);
    for (int w = 0; w < 4; w++)
        CHECK(atomic_load(&s->shards[w]) == NULL);
    eg_stat_sample sm = sample(200, 10);
    eg_stat_record(s, 2, &sm, NULL, 0);
    eg_stat_record(s, 2, &sm, NULL, 0);
    CHECK(atomic_load(&s->shards[0]) == NULL && atomic_load(&s->shards[2]) != NULL);
    eg_http_stat *t = eg_stat_set_total(s);
    CHECK_INT(t->count, 2);
    free(t);
    eg_stats_tick(&r);
    CHECK(fabs(s->rate.m1 - 0.4) < 1e-9);
    eg_stat_set_unref(s);
    eg_stats_registry_free(&r);
}

int main(void)
{
    RUN(test_buckets_tile);
    RUN(test_quantiles);
    RUN(test_merge_across_workers);
    RUN(test_path_pattern);
    RUN(test_topn_bounded);
    RUN(test_meters_and_forgetting);
    RUN(test_idle_workers_cost_nothing);
    UNIT_END("stats");
}
