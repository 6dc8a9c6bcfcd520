/* filter_watch.h — notice changes in a filter directory (main thread): inotify through
 * uv_fs_event for speed, plus a once-a-second scan, since editors replace files by rename
 * and some file systems send no events. A change is reported once the directory's
 * signature (names, sizes, mtimes of its *.lua files) differs from the last one seen. */
#ifndef EG_FILTER_WATCH_H
#define EG_FILTER_WATCH_H

#include <uv.h>

typedef struct eg_filter_watch eg_filter_watch;
typedef void (*eg_filter_watch_cb)(void *ud, const char *dir);

eg_filter_watch *eg_filter_watch_start(uv_loop_t *loop, const char *dir, eg_filter_watch_cb cb, void *ud);
void eg_filter_watch_stop(eg_filter_watch *w);

#endif
