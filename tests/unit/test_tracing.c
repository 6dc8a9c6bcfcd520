/* test_tracing.c — the `tracing` spec (defaults, errors naming the field), traceparent and
 * B3 parsing, sampling by trace id, the trace of a request (incoming context kept, sampling
 * honoured, headers for backends). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpserver_fixture.h"
#include "tracing.h"
#include "unit.h"

static char *server_yaml(const char *tracing)
{
    static const char head[] = "kind: HTTPServer\nname: s\nport: 10080\nrules: []\ntracing:\n";
    size_t n = strlen(head) + strlen(tracing) + 1;
    char *y = malloc(n);
    snprintf(y, n, "%s%s", head, tracing);
    return y;
}

/* The decode error of a tracing block ("" when it decodes). */
static char *tracing_error(const char *tracing)
{
    char *y = server_yaml(tracing);
    loaded l = load(y);
    free(y);
    char *e = strdup(l.err ? l.err : "");
    unload(&l);
    return e;
}

#define CHECK_TERR(tracing, expect) do { \
    char *e_ = tracing_error(tracing); \
    if (!strstr(e_, expect)) { \
        fprintf(stderr, "  %s:%d: error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, e_, expect); \
        unit_case_failed = 1; \
    } \
    free(e_); } while (0)

static void test_spec_defaults(void)
{
    char *y = server_yaml("  serviceName: svc\n"
                          "  exporter:\n"
                          "    otlp: {protocol: http, endpoint: \"http://collector:4318\"}\n");
    loaded l = load(y);
    free(y);
    CHECK(l.s && l.s->tracing);
    if (l.s && l.s->tracing) {
        const eg_tracing_spec *t = l.s->tracing;
        CHECK_STR(t->service_name, "svc");
        CHECK(t->sample_rate == 1);
        CHECK(t->header_format == EG_TRACE_HEADERS_W3C);
        CHECK_INT(t->max_queue, 2048);
        CHECK_INT(t->max_batch, 512);
        CHECK_INT(t->batch_timeout_ms, 5000);
        CHECK_INT(t->export_timeout_ms, 30000);
        CHECK_INT(t->attr_count_limit, 128);
        CHECK_INT(t->attr_value_limit, -1);
        CHECK_INT(t->nexporters, 1);
        CHECK(t->exporters[0].kind == EG_TRACE_EXPORT_OTLP);
        CHECK_STR(t->exporters[0].host, "collector");
        CHECK_INT(t->exporters[0].port, 4318);
        CHECK_STR(t->exporters[0].path, "/v1/traces");
        CHECK_STR(t->exporters[0].host_header, "collector:4318");
        CHECK(!t->exporters[0].gzip);
    }
    unload(&l);
}

static void test_spec_all_fields(void)
{
    char *y = server_yaml("  serviceName: svc\n"
                          "  attributes: {zone: b, env: prod}\n"
                          "  sampleRate: 0.25\n"
                          "  headerFormat: b3\n"
                          "  spanLimits: {attributeValueLengthLimit: 10, attributeCountLimit: 5, eventCountLimit: 1,\n"
                          "               linkCountLimit: 1, attributePerEventCountLimit: 1, attributePerLinkCountLimit: 1}\n"
                          "  batchLimits: {maxQueueSize: 100, batchTimeout: 200, exportTimeout: 300, maxExportBatchSize: 500}\n"
                          "  exporter:\n"
                          "    otlp: {protocol: http, endpoint: \"127.0.0.1:4318\", insecure: true, compression: gzip}\n"
                          "    zipkin: {endpoint: \"http://[::1]/api/v2/spans\"}\n");
    loaded l = load(y);
    free(y);
    CHECK(l.s && l.s->tracing);
    CHECK_INT(l.nwarnings, 0);
    if (l.s && l.s->tracing) {
        const eg_tracing_spec *t = l.s->tracing;
        CHECK(t->sample_rate == 0.25);
        CHECK(t->header_format == EG_TRACE_HEADERS_B3);
        CHECK_INT(t->nattrs, 2);
        CHECK_STR(t->attr_keys[0], "env"); /* sorted */
        CHECK_STR(t->attr_values[0], "prod");
        CHECK_STR(t->attr_keys[1], "zone");
        CHECK_INT(t->attr_value_limit, 10);
        CHECK_INT(t->attr_count_limit, 5);
        CHECK_INT(t->max_queue, 100);
        CHECK_INT(t->max_batch, 100); /* never more than the queue */
        CHECK_INT(t->batch_timeout_ms, 200);
        CHECK_INT(t->export_timeout_ms, 300);
        CHECK_INT(t->nexporters, 2);
        const eg_trace_exporter_spec *z = &t->exporters[0], *o = &t->exporters[1];
        CHECK(z->kind == EG_TRACE_EXPORT_ZIPKIN);
        CHECK_STR(z->host, "::1");
        CHECK_INT(z->port, 80);
        CHECK_STR(z->host_header, "[::1]");
        CHECK_STR(z->path, "/api/v2/spans");
        CHECK(o->kind == EG_TRACE_EXPORT_OTLP && o->gzip);
        CHECK_STR(o->host, "127.0.0.1");
        CHECK_STR(o->path, "/v1/traces");
    }
    unload(&l);
}

static void test_spec_deprecated_zipkin(void)
{
    char *y = server_yaml("  serviceName: svc\n"
                          "  tags: {a: b}\n"
                          "  zipkin: {hostport: \"0.0.0.0:10080\", serverURL: \"http://zipkin:9411/api/v2/spans\",\n"
                          "           sampleRate: 0.5, sameSpan: true, id128Bit: false}\n");
    loaded l = load(y);
    free(y);
    CHECK(l.s && l.s->tracing);
    if (l.s && l.s->tracing) {
        const eg_tracing_spec *t = l.s->tracing;
        CHECK(t->sample_rate == 0.5);
        CHECK(t->header_format == EG_TRACE_HEADERS_B3);
        CHECK_INT(t->nattrs, 1);
        CHECK(t->exporters[0].kind == EG_TRACE_EXPORT_ZIPKIN);
        CHECK_INT(t->exporters[0].port, 9411);
    }
    unload(&l);
}

static void test_spec_errors(void)
{
    CHECK_TERR("  sampleRate: 1\n  exporter: {otlp: {protocol: http, endpoint: \"http://c\"}}\n",
               "tracing.serviceName");
    CHECK_TERR("  serviceName: \"\"\n  exporter: {otlp: {protocol: http, endpoint: \"http://c\"}}\n",
               "tracing.serviceName: must not be empty");
    CHECK_TERR("  serviceName: s\n  sampleRate: 1.5\n  exporter: {otlp: {protocol: http, endpoint: \"http://c\"}}\n",
               "tracing.sampleRate: must be between 0 and 1");
    CHECK_TERR("  serviceName: s\n  sampleRate: x\n  exporter: {otlp: {protocol: http, endpoint: \"http://c\"}}\n",
               "tracing.sampleRate");
    CHECK_TERR("  serviceName: s\n", "exporter and zipkin cannot both be empty");
    CHECK_TERR("  serviceName: s\n  exporter: {}\n", "tracing.exporter: exporter cannot be empty");
    CHECK_TERR("  serviceName: s\n  exporter: {otlp: {protocol: http, endpoint: \"http://c\"}}\n"
               "  zipkin: {serverURL: \"http://z\", sampleRate: 1}\n",
               "cannot exist at the same time");
    CHECK_TERR("  serviceName: s\n  tags: {a: b}\n  attributes: {a: b}\n"
               "  exporter: {otlp: {protocol: http, endpoint: \"http://c\"}}\n",
               "tags and attributes cannot be configured at the same time");
    CHECK_TERR("  serviceName: s\n  exporter: {otlp: {protocol: grpc, endpoint: \"c:4317\", insecure: true}}\n",
               "tracing.exporter.otlp.protocol: grpc is not supported");
    CHECK_TERR("  serviceName: s\n  exporter: {otlp: {protocol: udp, endpoint: \"http://c\"}}\n",
               "tracing.exporter.otlp.protocol: must be one of http, grpc");
    CHECK_TERR("  serviceName: s\n  exporter: {otlp: {protocol: http}}\n", "tracing.exporter.otlp.endpoint");
    CHECK_TERR("  serviceName: s\n  exporter: {otlp: {protocol: http, endpoint: \"c:4318\"}}\n",
               "tracing.exporter.otlp.endpoint: without insecure: true");
    CHECK_TERR("  serviceName: s\n  exporter: {otlp: {protocol: http, endpoint: \"https://c\"}}\n",
               "tracing.exporter.otlp.endpoint: https endpoints are not supported");
    CHECK_TERR("  serviceName: s\n  exporter: {otlp: {protocol: http, endpoint: \"http://c:99999\"}}\n",
               "tracing.exporter.otlp.endpoint: bad port");
    CHECK_TERR("  serviceName: s\n  exporter: {otlp: {protocol: http, endpoint: \"http://c\", compression: br}}\n",
               "tracing.exporter.otlp.compression: must be one of");
    CHECK_TERR("  serviceName: s\n  exporter: {jaeger: {mode: agent, endpoint: \"j:6831\"}}\n",
               "tracing.exporter.jaeger: the jaeger exporter is not supported");
    CHECK_TERR("  serviceName: s\n  exporter: {zipkin: {endpoint: \"zipkin:9411\"}}\n",
               "tracing.exporter.zipkin.endpoint: must be an http:// URL");
    CHECK_TERR("  serviceName: s\n  headerFormat: jaeger\n  exporter: {zipkin: {endpoint: \"http://z\"}}\n",
               "tracing.headerFormat: must be one of trace-context, b3");
    CHECK_TERR("  serviceName: s\n  batchLimits: {maxQueueSize: -1}\n  exporter: {zipkin: {endpoint: \"http://z\"}}\n",
               "tracing.batchLimits.maxQueueSize: must not be negative");
    CHECK_TERR("  serviceName: s\n  attributes: {a: [1]}\n  exporter: {zipkin: {endpoint: \"http://z\"}}\n",
               "tracing.attributes.a");
    CHECK_TERR("  serviceName: s\n  zipkin: {serverURL: \"http://z\", sampleRate: 2}\n",
               "tracing.zipkin.sampleRate: must be between 0 and 1");
}

static void test_spec_unknown_field_warns(void)
{
    char *y = server_yaml("  serviceName: s\n  sampelRate: 1\n"
                          "  exporter: {otlp: {protocol: http, endpoint: \"http://c\", endpont: x}}\n");
    loaded l = load(y);
    free(y);
    CHECK(l.s != NULL);
    CHECK_INT(l.nwarnings, 2);
    if (l.nwarnings == 2) {
        CHECK(strstr(l.warnings[0], "tracing.exporter.otlp.endpont") || strstr(l.warnings[1], "tracing.exporter.otlp.endpont"));
        CHECK(strstr(l.warnings[0], "tracing.sampelRate") || strstr(l.warnings[1], "tracing.sampelRate"));
    }
    unload(&l);
}

static void test_traceparent(void)
{
    eg_trace_parent p;
    const char *ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    CHECK(eg_traceparent_parse(ok, strlen(ok), &p));
    char hex[33];
    eg_trace_hex(p.trace_id, 16, hex);
    CHECK_STR(hex, "4bf92f3577b34da6a3ce929d0e0e4736");
    eg_trace_hex(p.span_id, 8, hex);
    CHECK_STR(hex, "00f067aa0ba902b7");
    CHECK(p.sampled && p.has_sampled);
    const char *unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    CHECK(eg_traceparent_parse(unsampled, strlen(unsampled), &p) && !p.sampled);
    const char *future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra";
    CHECK(eg_traceparent_parse(future, strlen(future), &p) && p.sampled);
    static const char *const bad[] = {
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  /* v00 with extra */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    /* upper case */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    /* zero span id */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    /* version ff */
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",    /* dash misplaced */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",     /* short */
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   /* future, no dash */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bg-01",    /* not hex */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (eg_traceparent_parse(bad[i], strlen(bad[i]), &p)) {
            fprintf(stderr, "  accepted bad traceparent %s\n", bad[i]);
            unit_case_failed = 1;
        }
}

static void test_b3_single(void)
{
    eg_trace_parent p;
    const char *full = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90";
    CHECK(eg_b3_single_parse(full, strlen(full), &p) && p.sampled && p.has_sampled);
    char hex[33];
    eg_trace_hex(p.span_id, 8, hex);
    CHECK_STR(hex, "e457b5a2e4d86bd1");
    const char *short_id = "64fe8b2a57d3eff7-e457b5a2e4d86bd1";
    CHECK(eg_b3_single_parse(short_id, strlen(short_id), &p) && !p.has_sampled);
    eg_trace_hex(p.trace_id, 16, hex);
    CHECK_STR(hex, "000000000000000064fe8b2a57d3eff7");
    const char *debug = "64fe8b2a57d3eff7-e457b5a2e4d86bd1-d";
    CHECK(eg_b3_single_parse(debug, strlen(debug), &p) && p.sampled);
    const char *bad = "64fe8b2a57d3eff7-e457b5a2e4d86bd1-x";
    CHECK(!eg_b3_single_parse(bad, strlen(bad), &p));
    const char *bad2 = "64fe8b2a57d3ef-e457b5a2e4d86bd1";
    CHECK(!eg_b3_single_parse(bad2, strlen(bad2), &p));
}

static void test_sampling_by_trace_id(void)
{
    uint8_t id[16] = { 0 };
    uint64_t half = eg_trace_sample_bound(0.5);
    /* low 8 bytes 0x7fff.. >> 1 = 0x3fff.. < 2^62: sampled at 0.5; 0xffff.. is not */
    memset(id + 8, 0x7f, 8);
    CHECK(eg_trace_id_sampled(id, half));
    memset(id + 8, 0xff, 8);
    CHECK(!eg_trace_id_sampled(id, half));
    CHECK(eg_trace_id_sampled(id, eg_trace_sample_bound(1)));
    CHECK(!eg_trace_id_sampled(id, eg_trace_sample_bound(0)));
    /* Random ids: about the rate, and never zero. */
    int hits = 0;
    for (int i = 0; i < 20000; i++) {
        eg_trace_random_id(id, 16);
        hits += eg_trace_id_sampled(id, eg_trace_sample_bound(0.25));
    }
    CHECK(hits > 4500 && hits < 5500);
}

static eg_tracing_spec *spec_with(double rate, eg_trace_header_format f)
{
    eg_tracing_spec *s = calloc(1, sizeof *s);
    s->service_name = strdup("svc");
    s->sample_rate = rate;
    s->sample_bound = eg_trace_sample_bound(rate);
    s->header_format = f;
    return s;
}

static eg_request *request_with(eg_arena *a, const char *name, const char *value)
{
    eg_request *r = eg_arena_alloc(a, sizeof *r);
    memset(r, 0, sizeof *r);
    r->method = eg_arena_strndup(a, "GET", 3);
    r->path = eg_arena_strndup(a, "/p", 2);
    r->host = eg_arena_strndup(a, "h", 1);
    snprintf(r->client_ip, sizeof r->client_ip, "10.0.0.1");
    if (name)
        eg_headers_add(a, &r->headers, name, strlen(name), value, strlen(value));
    return r;
}

static void test_trace_begin(void)
{
    eg_arena a;
    eg_arena_init(&a, 4096);
    eg_tracing_spec *w3c = spec_with(1, EG_TRACE_HEADERS_W3C);
    /* A parent: same trace id, its span as our parent, its decision kept. */
    eg_request *r = request_with(&a, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    eg_trace *t = eg_trace_begin(&a, w3c, "srv", r);
    char hex[33];
    eg_trace_hex(t->trace_id, 16, hex);
    CHECK_STR(hex, "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(t->has_parent && !t->sampled);
    eg_trace_hex(t->parent_id, 8, hex);
    CHECK_STR(hex, "00f067aa0ba902b7");
    /* Unsampled: an id for the backend, no span recorded. */
    uint8_t sid[8];
    CHECK(eg_trace_client_begin(t, &a, "n", "GET", "http", "127.0.0.1", 80, "/", NULL, sid) == NULL);
    char line[EG_TRACE_HEADER_MAX];
    size_t n = eg_trace_format_header(t, sid, line);
    CHECK_INT(n, strlen("traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-0123456789abcdef-00\r\n"));
    CHECK(strncmp(line, "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-", 49) == 0);
    CHECK(strcmp(line + n - 5, "-00\r\n") == 0);
    CHECK(eg_trace_is_context_header(t, "TraceParent", 11));
    CHECK(!eg_trace_is_context_header(t, "tracestate", 10));

    /* No parent: a new trace, sampled at rate 1, with a recorded client span. */
    r = request_with(&a, NULL, NULL);
    t = eg_trace_begin(&a, w3c, "srv", r);
    CHECK(!t->has_parent && t->sampled);
    eg_client_span *cs = eg_trace_client_begin(t, &a, "proxy#p#main", "GET", "http", "127.0.0.1", 9095, "/x", "a=1", sid);
    CHECK(cs != NULL);
    if (cs) {
        CHECK_STR(cs->url, "http://127.0.0.1:9095/x?a=1");
        CHECK(memcmp(cs->span_id, sid, 8) == 0);
        eg_client_span_end(cs, 200, 1, NULL);
        CHECK(cs->ended && cs->status == 200 && cs->resend_count == 1 && !cs->error);
    }

    /* sampleRate 0: nothing recorded, even under a sampled parent. */
    eg_tracing_spec *off = spec_with(0, EG_TRACE_HEADERS_W3C);
    r = request_with(&a, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    t = eg_trace_begin(&a, off, "srv", r);
    CHECK(!t->sampled && t->has_parent);

    /* B3: multi headers in, single header out. */
    eg_tracing_spec *b3 = spec_with(0.5, EG_TRACE_HEADERS_B3);
    r = request_with(&a, "X-B3-TraceId", "463ac35c9f6413ad48485a3953bb6124");
    eg_headers_add(&a, &r->headers, "X-B3-SpanId", 11, "a2fb4a1d1a96d312", 16);
    eg_headers_add(&a, &r->headers, "X-B3-Sampled", 12, "1", 1);
    t = eg_trace_begin(&a, b3, "srv", r);
    CHECK(t->has_parent && t->sampled);
    eg_trace_hex(t->trace_id, 16, hex);
    CHECK_STR(hex, "463ac35c9f6413ad48485a3953bb6124");
    n = eg_trace_format_header(t, sid, line);
    CHECK(strncmp(line, "b3: 463ac35c9f6413ad48485a3953bb6124-", 37) == 0);
    CHECK(strcmp(line + n - 4, "-1\r\n") == 0);
    CHECK(eg_trace_is_context_header(t, "X-B3-SpanId", 11));
    CHECK(eg_trace_is_context_header(t, "b3", 2));
    CHECK(!eg_trace_is_context_header(t, "traceparent", 11));
    r = request_with(&a, "b3", "0");
    t = eg_trace_begin(&a, b3, "srv", r);
    CHECK(!t->sampled && !t->has_parent);

    eg_tracing_spec_free(w3c);
    eg_tracing_spec_free(off);
    eg_tracing_spec_free(b3);
    eg_arena_free(&a);
}

int main(void)
{
    RUN(test_spec_defaults);
    RUN(test_spec_all_fields);
    RUN(test_spec_deprecated_zipkin);
    RUN(test_spec_errors);
    RUN(test_spec_unknown_field_warns);
    RUN(test_traceparent);
    RUN(test_b3_single);
    RUN(test_sampling_by_trace_id);
    RUN(test_trace_begin);
    UNIT_END("tracing");
}
