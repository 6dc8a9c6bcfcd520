/* nginx_convert.h — nginx's http{} configuration turned into Easegress objects.
 *
 * One HTTPServer per listen port (`<prefix>-<port>`), one Pipeline per location that
 * proxies (`proxy_pass`, with `upstream` groups) or answers (`return`). What cannot be
 * converted is reported as a warning naming the file, line and directive; the rest is
 * still converted. docs/egctl.md describes the mapping and where it departs from nginx.
 */
#ifndef EGCTL_NGINX_CONVERT_H
#define EGCTL_NGINX_CONVERT_H

#include <stdio.h>

#include "nginx_conf.h"

typedef struct {
    const char *prefix;     /* resource-name prefix ("nginx") */
    const char *base_dir;   /* where relative certificate paths start ("" or ".../") */
    FILE *warnings;         /* one "Warning: file:line: ..." line each; NULL: discard */
} nginx_convert_opts;

/* The objects as multi-document YAML (malloc'd, documents separated by "---" lines):
 * HTTPServers first, then Pipelines. Returns 0, or -1 with "file:line: reason" in err
 * for what makes a conversion impossible (two addresses on one port, a bad listen). */
int nginx_convert(const nginx_conf *conf, const nginx_convert_opts *opts, char **yaml,
                  char *err, size_t errlen);

#endif
