#include "snapshot.h"
#include "custom_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "stats.h"

eg_server_obj *eg_server_obj_new(eg_httpserver_spec *spec)
{
    eg_server_obj *o = calloc(1, sizeof *o);
    atomic_init(&o->refs, 1);
    o->spec = spec;
    snprintf(o->listen_key, sizeof o->listen_key, "%s|%u", spec->address ? spec->address : "", spec->port);
    return o;
}

void eg_server_obj_ref(eg_server_obj *o) { atomic_fetch_add(&o->refs, 1); }

void eg_server_obj_unref(eg_server_obj *o)
{
    if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
        return;
    for (int i = 0; i < o->nfds; i++)
        if (o->fds[i] >= 0)
            close(o->fds[i]);
    free(o->fds);
    eg_stat_set_unref(o->stats);
    eg_httpserver_spec_free(o->spec);
    free(o);
}

void eg_globalfilter_ref(eg_globalfilter *g) { atomic_fetch_add(&g->refs, 1); }

void eg_globalfilter_unref(eg_globalfilter *g)
{
    if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
        return;
    eg_pipeline_unref(g->before);
    eg_pipeline_unref(g->after);
    free(g);
}

eg_snapshot *eg_snapshot_new(const eg_snapshot *prev, int nworkers, uint64_t generation)
{
    eg_snapshot *s = calloc(1, sizeof *s + (size_t)nworkers * sizeof(eg_snapshot_slot));
    atomic_init(&s->holders, nworkers);
    s->generation = generation;
    s->nworkers = nworkers;
    eg_strmap_init(&s->servers);
    eg_strmap_init(&s->pipelines);
    eg_strmap_init(&s->globalfilters);
    if (prev) {
        const eg_strmap_slot *slot;
        for (size_t i = 0; eg_strmap_next(&prev->servers, &i, &slot);) {
            eg_server_obj_ref(slot->value);
            eg_strmap_put(&s->servers, slot->key, slot->key_len, slot->value);
        }
        for (size_t i = 0; eg_strmap_next(&prev->globalfilters, &i, &slot);) {
            eg_globalfilter_ref(slot->value);
            eg_strmap_put(&s->globalfilters, slot->key, slot->key_len, slot->value);
        }
        for (size_t i = 0; eg_strmap_next(&prev->pipelines, &i, &slot);) {
            eg_pipeline_ref(slot->value);
            eg_strmap_put(&s->pipelines, slot->key, slot->key_len, slot->value);
        }
        eg_custom_data_set_ref(prev->custom_data);
        s->custom_data = prev->custom_data;
    }
    return s;
}

void eg_snapshot_put_pipeline(eg_snapshot *s, const char *name, eg_pipeline *p)
{
    eg_pipeline *old = p ? eg_strmap_put(&s->pipelines, name, strlen(name), p) : eg_strmap_del(&s->pipelines, name, strlen(name));
    eg_pipeline_unref(old);
}

void eg_snapshot_put_server(eg_snapshot *s, const char *name, eg_server_obj *o)
{
    eg_server_obj *old = o ? eg_strmap_put(&s->servers, name, strlen(name), o) : eg_strmap_del(&s->servers, name, strlen(name));
    eg_server_obj_unref(old);
}

void eg_snapshot_put_globalfilter(eg_snapshot *s, const char *name, eg_globalfilter *g)
{
    eg_globalfilter *old = g ? eg_strmap_put(&s->globalfilters, name, strlen(name), g)
                             : eg_strmap_del(&s->globalfilters, name, strlen(name));
    eg_globalfilter_unref(old);
}

void eg_snapshot_discard(eg_snapshot *s)
{
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&s->globalfilters, &i, &slot);)
        eg_globalfilter_unref(slot->value);
    eg_strmap_free(&s->globalfilters);
    for (size_t i = 0; eg_strmap_next(&s->servers, &i, &slot);)
        eg_server_obj_unref(slot->value);
    for (size_t i = 0; eg_strmap_next(&s->pipelines, &i, &slot);)
        eg_pipeline_unref(slot->value);
    eg_strmap_free(&s->servers);
    eg_strmap_free(&s->pipelines);
    eg_custom_data_set_unref(s->custom_data);
    free(s);
}

void eg_snapshot_release(eg_snapshot *s)
{
    if (s && atomic_fetch_sub(&s->holders, 1) == 1)
        eg_snapshot_discard(s);
}
