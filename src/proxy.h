/* proxy.h — the Proxy filter kind (C). */
#ifndef EG_PROXY_H
#define EG_PROXY_H

#include "pipeline.h"

extern const eg_filter_kind eg_proxy_kind;

#endif
