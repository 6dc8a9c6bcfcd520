/* table.h — the column layout of Easegress's egctl tables.
 *
 * Easegress prints tables through Go's text/tabwriter with minwidth 0, tabwidth 8,
 * padding 2 and '\t' as the padding character, each cell followed by a tab. The columns
 * are therefore separated by tabs, not spaces; reproducing that keeps `egctl get ... |
 * awk -F'\t'` scripts written for Easegress working. Library-free (unit-tested).
 */
#ifndef EGCTL_TABLE_H
#define EGCTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    size_t ncols;
    size_t nrows;
    size_t cap;
    char **cells;   /* row-major, malloc'd copies */
} egctl_table;

void egctl_table_init(egctl_table *t, size_t ncols);
/* Append a row of ncols cells (NULL cells print empty). Returns 0, -1 when out of memory. */
int egctl_table_add(egctl_table *t, const char *const *row);
/* Sort rows [from, nrows) by column `col`, byte order, keeping equal rows in order. */
void egctl_table_sort(egctl_table *t, size_t from, size_t col);
/* Write the table; returns -1 on a write error. */
int egctl_table_print(const egctl_table *t, FILE *out);
void egctl_table_free(egctl_table *t);

#endif
