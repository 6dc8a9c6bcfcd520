/* table.c — Go text/tabwriter layout (padchar '\t', tabwidth 8, padding 2), see table.h. */
#include "table.h"

#include <stdlib.h>
#include <string.h>

void egctl_table_init(egctl_table *t, size_t ncols)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
}

int egctl_table_add(egctl_table *t, const char *const *row)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **cells = realloc(t->cells, cap * t->ncols * sizeof *cells);
        if (!cells)
            return -1;
        t->cells = cells;
        t->cap = cap;
    }
    char **dst = t->cells + t->nrows * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        dst[c] = strdup(row[c] ? row[c] : "");
        if (!dst[c]) {
            for (size_t k = 0; k < c; k++)
                free(dst[k]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

/* Rows are moved as whole blocks of ncols pointers; a stable insertion sort suffices for
 * the tens or hundreds of rows a gateway lists, and needs no comparison context. */
void egctl_table_sort(egctl_table *t, size_t from, size_t col)
{
    size_t nc = t->ncols;
    if (col >= nc || t->nrows < 2)
        return;
    char **tmp = malloc(nc * sizeof *tmp);
    if (!tmp)
        return; /* unsorted output is still correct output */
    for (size_t i = from + 1; i < t->nrows; i++) {
        memcpy(tmp, t->cells + i * nc, nc * sizeof *tmp);
        size_t j = i;
        while (j > from && strcmp(t->cells[(j - 1) * nc + col], tmp[col]) > 0) {
            memcpy(t->cells + j * nc, t->cells + (j - 1) * nc, nc * sizeof *tmp);
            j--;
        }
        memcpy(t->cells + j * nc, tmp, nc * sizeof *tmp);
    }
    free(tmp);
}

/* tabwriter measures text in runes. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

int egctl_table_print(const egctl_table *t, FILE *out)
{
    size_t nc = t->ncols;
    size_t *width = calloc(nc ? nc : 1, sizeof *width);
    if (!width)
        return -1;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < nc; c++) {
            size_t w = text_width(t->cells[r * nc + c]) + 2; /* padding 2 */
            if (w > width[c])
                width[c] = w;
        }
    /* With '\t' padding a cell spans a whole number of 8-column tab stops. */
    for (size_t c = 0; c < nc; c++)
        width[c] = (width[c] + 7) / 8 * 8;

    int rc = 0;
    for (size_t r = 0; r < t->nrows && rc == 0; r++) {
        for (size_t c = 0; c < nc; c++) {
            const char *cell = t->cells[r * nc + c];
            size_t tabs = (width[c] - text_width(cell) + 7) / 8;
            if (fputs(cell, out) == EOF) {
                rc = -1;
                break;
            }
            for (size_t k = 0; k < tabs; k++)
                if (fputc('\t', out) == EOF)
                    rc = -1;
        }
        if (fputc('\n', out) == EOF)
            rc = -1;
    }
    free(width);
    return rc;
}

void egctl_table_free(egctl_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
