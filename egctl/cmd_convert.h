/* cmd_convert.h — `egctl convert nginx`: reads files, talks to no server.
 *
 * It has flags of its own (-o is the output file here, not the output format), so main
 * hands it the command line before the global flag parser sees it. */
#ifndef EGCTL_CMD_CONVERT_H
#define EGCTL_CMD_CONVERT_H

#include <stdbool.h>

/* Whether the command line's first word is "convert". */
bool egctl_convert_requested(int argc, char **argv);
/* Runs the command; returns the process's exit status. */
int egctl_convert_main(int argc, char **argv);

#endif
