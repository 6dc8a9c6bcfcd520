/* tracing_spec.c — decoding an HTTPServer's `tracing` (Easegress's pkg/tracing Spec).
 *
 * Defaults are Easegress's: sampleRate 1, headerFormat trace-context, batchLimits
 * maxQueueSize 2048, batchTimeout 5000 ms, exportTimeout 30000 ms, maxExportBatchSize 512,
 * spanLimits attributeValueLengthLimit -1 and attributeCountLimit 128. Exporters that need
 * what we do not have (TLS, gRPC, Jaeger's Thrift) are refused with a message saying so,
 * rather than accepted and silently not exporting.
 */
#include "tracing.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "url.h"

static _Atomic uint64_t next_uid = 1;

/* "http://host[:port][/path]" or, with allow_bare, "host:port[/path]". */
static bool parse_endpoint(eg_dec *d, const char *field, const char *url, bool allow_bare, uint16_t default_port,
                           const char *default_path, eg_trace_exporter_spec *e)
{
    if (strncmp(url, "https://", 8) == 0)
        return eg_dec_fail(d, field, "https endpoints are not supported yet (no TLS client): use an http:// URL");
    eg_url_parts u;
    const char *why = eg_url_split(url, allow_bare, &u);
    if (u.scheme && !(u.scheme_len == 4 && !strncmp(u.scheme, "http", 4)))
        return eg_dec_fail(d, field, "must be an http:// URL");
    if (why && !strcmp(why, "missing scheme"))
        return eg_dec_fail(d, field, "must be an http:// URL");
    if (why)
        return eg_dec_fail(d, field, "%s in \"%s\"", why, url);
    const char *end = u.rest;
    if (strchr(end, '#'))
        return eg_dec_fail(d, field, "must not have a fragment");
    e->host = strndup(u.host, u.host_len);
    e->port = (uint16_t)(u.port > 0 ? u.port : default_port);
    size_t hl = strlen(e->host) + 16;
    e->host_header = malloc(hl);
    if (e->port == 80)
        snprintf(e->host_header, hl, u.host_v6 ? "[%s]" : "%s", e->host);
    else
        snprintf(e->host_header, hl, u.host_v6 ? "[%s]:%u" : "%s:%u", e->host, e->port);
    if (!*end || strcmp(end, "/") == 0) {
        e->path = strdup(default_path);
    } else if (*end == '?') { /* a query alone: the default path in front of it */
        size_t n = strlen(default_path) + strlen(end) + 1;
        e->path = malloc(n);
        snprintf(e->path, n, "%s%s", default_path, end);
    } else {
        e->path = strdup(end);
    }
    return true;
}

static void exporter_free(eg_trace_exporter_spec *e)
{
    free(e->host);
    free(e->host_header);
    free(e->path);
}

static bool dec_otlp(eg_dec *d, const eg_node *m, eg_tracing_spec *s)
{
    char *protocol = NULL, *endpoint = NULL, *compression = NULL;
    bool insecure = false, ok = false;
    eg_dec_enter(d, "otlp");
    if (!eg_dec_string(d, m, "protocol", &protocol, true) || !eg_dec_string(d, m, "endpoint", &endpoint, true) ||
        !eg_dec_bool(d, m, "insecure", &insecure, false) || !eg_dec_string(d, m, "compression", &compression, false))
        goto out;
    if (strcmp(protocol, "grpc") == 0) {
        eg_dec_fail(d, "protocol", "grpc is not supported yet: use protocol http (OTLP/HTTP, port 4318)");
        goto out;
    }
    if (strcmp(protocol, "http") != 0) {
        eg_dec_fail(d, "protocol", "must be one of http, grpc");
        goto out;
    }
    if (compression && *compression && strcmp(compression, "gzip") != 0) {
        eg_dec_fail(d, "compression", "must be one of \"\", gzip");
        goto out;
    }
    if (!*endpoint) {
        eg_dec_fail(d, "endpoint", "must not be empty");
        goto out;
    }
    /* Easegress passes endpoint to otlptracehttp.WithEndpoint: "host:port", https unless
     * insecure. We take that form when insecure is set, and http:// URLs in any case. */
    if (!strstr(endpoint, "://") && !insecure) {
        eg_dec_fail(d, "endpoint", "without insecure: true this endpoint is reached over https, which is "
                                   "not supported yet: set insecure: true or write an http:// URL");
        goto out;
    }
    eg_trace_exporter_spec *e = &s->exporters[s->nexporters];
    e->kind = EG_TRACE_EXPORT_OTLP;
    e->gzip = compression && strcmp(compression, "gzip") == 0;
    if (!parse_endpoint(d, "endpoint", endpoint, true, 4318, "/v1/traces", e)) {
        exporter_free(e);
        goto out;
    }
    s->nexporters++;
    eg_dec_check_unknown(d, m);
    ok = eg_dec_ok(d);
out:
    eg_dec_leave(d);
    free(protocol);
    free(endpoint);
    free(compression);
    return ok;
}

static bool dec_zipkin_url(eg_dec *d, const eg_node *m, const char *key, eg_tracing_spec *s)
{
    char *endpoint = NULL;
    if (!eg_dec_string(d, m, key, &endpoint, true))
        return false;
    eg_trace_exporter_spec *e = &s->exporters[s->nexporters];
    e->kind = EG_TRACE_EXPORT_ZIPKIN;
    bool ok = parse_endpoint(d, key, endpoint, false, 80, "/api/v2/spans", e);
    free(endpoint);
    if (!ok) {
        exporter_free(e);
        return false;
    }
    s->nexporters++;
    return true;
}

static bool dec_exporter(eg_dec *d, const eg_node *m, eg_tracing_spec *s)
{
    eg_dec_enter(d, "exporter");
    const eg_node *otlp = eg_dec_map(d, m, "otlp", false);
    const eg_node *zipkin = eg_dec_map(d, m, "zipkin", false);
    const eg_node *jaeger = eg_dec_map(d, m, "jaeger", false);
    bool ok = false;
    if (!eg_dec_ok(d))
        goto out;
    if (jaeger) {
        eg_dec_fail(d, "jaeger", "the jaeger exporter is not supported yet: Jaeger accepts OTLP, use otlp "
                                 "(protocol http, endpoint http://jaeger:4318/v1/traces)");
        goto out;
    }
    if (!otlp && !zipkin) {
        eg_dec_fail(d, NULL, "exporter cannot be empty (otlp or zipkin)");
        goto out;
    }
    if (zipkin) {
        eg_dec_enter(d, "zipkin");
        bool zok = dec_zipkin_url(d, zipkin, "endpoint", s);
        if (zok)
            eg_dec_check_unknown(d, zipkin);
        eg_dec_leave(d);
        if (!zok || !eg_dec_ok(d))
            goto out;
    }
    if (otlp && !dec_otlp(d, otlp, s))
        goto out;
    eg_dec_check_unknown(d, m);
    ok = eg_dec_ok(d);
out:
    eg_dec_leave(d);
    return ok;
}

/* The deprecated `zipkin: {serverURL, sampleRate, ...}`: a Zipkin exporter, B3 headers. */
static bool dec_zipkin_deprecated(eg_dec *d, const eg_node *m, eg_tracing_spec *s)
{
    eg_dec_enter(d, "zipkin");
    bool ok = false;
    double rate = 0;
    bool flag;
    char *ignored = NULL;
    if (!eg_dec_float(d, m, "sampleRate", &rate, true))
        goto out;
    if (!(rate >= 0 && rate <= 1)) {
        eg_dec_fail(d, "sampleRate", "must be between 0 and 1");
        goto out;
    }
    s->sample_rate = rate;
    /* Fields Easegress no longer uses either. */
    if (!eg_dec_string(d, m, "hostport", &ignored, false) || !eg_dec_bool(d, m, "disableReport", &flag, false) ||
        !eg_dec_bool(d, m, "sameSpan", &flag, false) || !eg_dec_bool(d, m, "id128Bit", &flag, false))
        goto out;
    if (!dec_zipkin_url(d, m, "serverURL", s))
        goto out;
    s->header_format = EG_TRACE_HEADERS_B3;
    eg_dec_check_unknown(d, m);
    ok = eg_dec_ok(d);
out:
    free(ignored);
    eg_dec_leave(d);
    return ok;
}

static bool dec_attributes(eg_dec *d, const eg_node *m, const char *key, eg_tracing_spec *s)
{
    eg_dec_enter(d, key);
    size_t n = m->count;
    s->attr_keys = calloc(n + 1, sizeof *s->attr_keys);
    s->attr_values = calloc(n + 1, sizeof *s->attr_values);
    for (size_t i = 0; i < n && eg_dec_ok(d); i++) {
        if (!eg_dec_string(d, m, m->keys[i], &s->attr_values[i], true))
            break;
        s->attr_keys[i] = strdup(m->keys[i]);
        s->nattrs++;
    }
    eg_dec_leave(d);
    if (!eg_dec_ok(d))
        return false;
    /* Sorted by key (insertion sort: a handful of entries), so the exported resource does
     * not depend on the document's order. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(s->attr_keys[j - 1], s->attr_keys[j]) > 0; j--) {
            char *k = s->attr_keys[j], *v = s->attr_values[j];
            s->attr_keys[j] = s->attr_keys[j - 1];
            s->attr_values[j] = s->attr_values[j - 1];
            s->attr_keys[j - 1] = k;
            s->attr_values[j - 1] = v;
        }
    return true;
}

static bool dec_positive(eg_dec *d, const eg_node *m, const char *key, int64_t *out)
{
    int64_t v = 0;
    if (!eg_dec_int(d, m, key, &v, false))
        return false;
    if (v < 0)
        return eg_dec_fail(d, key, "must not be negative");
    if (v > 0) /* 0 leaves the default, as an omitted field does */
        *out = v;
    return true;
}

static bool dec_limits(eg_dec *d, const eg_node *obj, eg_tracing_spec *s)
{
    const eg_node *sl = eg_dec_map(d, obj, "spanLimits", false);
    const eg_node *bl = eg_dec_map(d, obj, "batchLimits", false);
    if (!eg_dec_ok(d))
        return false;
    if (sl) {
        eg_dec_enter(d, "spanLimits");
        int64_t ignored;
        if (eg_dec_int(d, sl, "attributeValueLengthLimit", &s->attr_value_limit, false) &&
            eg_dec_int(d, sl, "attributeCountLimit", &s->attr_count_limit, false) &&
            /* We record no events or links: their limits have nothing to limit. */
            eg_dec_int(d, sl, "eventCountLimit", &ignored, false) && eg_dec_int(d, sl, "linkCountLimit", &ignored, false) &&
            eg_dec_int(d, sl, "attributePerEventCountLimit", &ignored, false) &&
            eg_dec_int(d, sl, "attributePerLinkCountLimit", &ignored, false))
            eg_dec_check_unknown(d, sl);
        eg_dec_leave(d);
    }
    if (bl && eg_dec_ok(d)) {
        eg_dec_enter(d, "batchLimits");
        if (dec_positive(d, bl, "maxQueueSize", &s->max_queue) && dec_positive(d, bl, "batchTimeout", &s->batch_timeout_ms) &&
            dec_positive(d, bl, "exportTimeout", &s->export_timeout_ms) &&
            dec_positive(d, bl, "maxExportBatchSize", &s->max_batch))
            eg_dec_check_unknown(d, bl);
        eg_dec_leave(d);
    }
    /* OpenTelemetry's batch processor: a batch is never larger than the queue. */
    if (s->max_batch > s->max_queue)
        s->max_batch = s->max_queue;
    return eg_dec_ok(d);
}

static bool dec_header_format(eg_dec *d, const eg_node *obj, eg_tracing_spec *s)
{
    char *f = NULL;
    if (!eg_dec_string(d, obj, "headerFormat", &f, false))
        return false;
    bool ok = true;
    if (!f || !*f || strcmp(f, "trace-context") == 0)
        s->header_format = EG_TRACE_HEADERS_W3C;
    else if (strcmp(f, "b3") == 0)
        s->header_format = EG_TRACE_HEADERS_B3;
    else
        ok = eg_dec_fail(d, "headerFormat", "must be one of trace-context, b3");
    free(f);
    return ok;
}

eg_tracing_spec *eg_tracing_spec_decode(eg_dec *d, const eg_node *obj)
{
    if (!eg_dec_ok(d))
        return NULL;
    eg_tracing_spec *s = calloc(1, sizeof *s);
    if (!s) {
        eg_dec_fail(d, NULL, "out of memory");
        return NULL;
    }
    s->uid = atomic_fetch_add(&next_uid, 1);
    s->sample_rate = 1;
    s->attr_value_limit = -1;
    s->attr_count_limit = 128;
    s->max_queue = 2048;
    s->max_batch = 512;
    s->batch_timeout_ms = 5000;
    s->export_timeout_ms = 30000;
    eg_dec_enter(d, "tracing");
    const eg_node *attrs, *tags, *exporter, *zipkin;
    if (!eg_dec_string(d, obj, "serviceName", &s->service_name, true))
        goto fail;
    if (!*s->service_name) {
        eg_dec_fail(d, "serviceName", "must not be empty");
        goto fail;
    }
    if (!eg_dec_float(d, obj, "sampleRate", &s->sample_rate, false))
        goto fail;
    if (!(s->sample_rate >= 0 && s->sample_rate <= 1)) {
        eg_dec_fail(d, "sampleRate", "must be between 0 and 1");
        goto fail;
    }
    attrs = eg_dec_map(d, obj, "attributes", false);
    tags = eg_dec_map(d, obj, "tags", false);
    exporter = eg_dec_map(d, obj, "exporter", false);
    zipkin = eg_dec_map(d, obj, "zipkin", false);
    if (!eg_dec_ok(d))
        goto fail;
    if (attrs && tags) {
        eg_dec_fail(d, "tags", "tags and attributes cannot be configured at the same time, please use attributes");
        goto fail;
    }
    if (!exporter && !zipkin) {
        eg_dec_fail(d, "exporter", "exporter and zipkin cannot both be empty");
        goto fail;
    }
    if (exporter && zipkin) {
        eg_dec_fail(d, "zipkin", "exporter and zipkin cannot exist at the same time");
        goto fail;
    }
    if ((attrs || tags) && !dec_attributes(d, attrs ? attrs : tags, attrs ? "attributes" : "tags", s))
        goto fail;
    if (!dec_header_format(d, obj, s) || !dec_limits(d, obj, s))
        goto fail;
    if (exporter ? !dec_exporter(d, exporter, s) : !dec_zipkin_deprecated(d, zipkin, s))
        goto fail;
    s->sample_bound = eg_trace_sample_bound(s->sample_rate);
    eg_dec_check_unknown(d, obj);
    if (!eg_dec_ok(d))
        goto fail;
    eg_dec_leave(d);
    return s;
fail:
    eg_dec_leave(d);
    eg_tracing_spec_free(s);
    return NULL;
}

void eg_tracing_spec_free(eg_tracing_spec *s)
{
    if (!s)
        return;
    free(s->service_name);
    for (size_t i = 0; i < s->nattrs; i++) {
        free(s->attr_keys[i]);
        free(s->attr_values[i]);
    }
    free(s->attr_keys);
    free(s->attr_values);
    for (size_t i = 0; i < s->nexporters; i++)
        exporter_free(&s->exporters[i]);
    free(s);
}
