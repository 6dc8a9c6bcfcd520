/* admin_meta.h — admin API answers about the API itself rather than objects: the API list
 * (GET /apis/v2), object YAML templates (GET /objects-yaml/{kind}/{name}) and each filter
 * kind's description and JSON Schema (GET /metadata/objects/pipeline/filters/{kind}/...). */
#ifndef EG_ADMIN_META_H
#define EG_ADMIN_META_H

#include <stddef.h>
#include "arena.h"
#include "message.h"

/* Answer `method path` (path after /apis/v2) into resp. Returns -1 when the path is not
 * one of these, 0 when resp is set, or an HTTP error status with the reason in err. */
int eg_admin_meta_handle(const char *method, const char *path, bool yaml, eg_arena *arena,
                         eg_response *resp, char *err, size_t errlen);

#endif
