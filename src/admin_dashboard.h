/* admin_dashboard.h — the web dashboard's files, served by the admin API under /dashboard.
 *
 * The files (web/dashboard/) are compiled into the binary by the Makefile, which turns each
 * into a byte array of build/gen/dashboard_assets.c: the binary needs nothing beside it, and
 * a request can only ever name one of the files in the table. */
#ifndef EG_ADMIN_DASHBOARD_H
#define EG_ADMIN_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include "message.h"

typedef struct {
    const char *name;          /* file name in web/dashboard/, e.g. "app.js" */
    const unsigned char *data;
    size_t len;
} eg_dashboard_asset;

/* The generated table, ended by an entry whose name is NULL. */
extern const eg_dashboard_asset eg_dashboard_assets[];

/* The asset a request path names: "/dashboard" and "/dashboard/" are index.html,
 * "/dashboard/NAME" is NAME when the table has it; NULL otherwise. */
const eg_dashboard_asset *eg_dashboard_find(const char *path);
/* The Content-Type for a file name, by its extension. */
const char *eg_dashboard_content_type(const char *name);

/* Answers `req` when its path is /dashboard or under /dashboard/ (the asset, 404 or 405)
 * and returns true; returns false, touching nothing, for any other path. */
bool eg_admin_dashboard_route(eg_arena *arena, eg_response *resp, const eg_request *req);

#endif
