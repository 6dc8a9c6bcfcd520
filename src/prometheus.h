/* prometheus.h — the statistics as Prometheus text (see prometheus.c). */
#ifndef EG_PROMETHEUS_H
#define EG_PROMETHEUS_H

#include <stddef.h>
#include "supervisor.h"

/* Every object's figures, labelled with the cluster and member names (main thread; the
 * caller frees the text). */
char *eg_prometheus_render(eg_supervisor *s, const char *cluster, const char *member, size_t *len);

#endif
