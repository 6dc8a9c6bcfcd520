/* strmap.h — string-keyed hash map (open addressing) owning copies of its keys. */
#ifndef EG_STRMAP_H
#define EG_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *key;
    size_t key_len;
    uint32_t hash;
    void *value;
} eg_strmap_slot;

typedef struct {
    eg_strmap_slot *slots;
    size_t cap, count, tombstones;
} eg_strmap;

void eg_strmap_init(eg_strmap *m);
void eg_strmap_free(eg_strmap *m);  /* frees keys, not values */
void *eg_strmap_get(const eg_strmap *m, const char *key, size_t len);
/* Returns the previous value (or NULL). */
void *eg_strmap_put(eg_strmap *m, const char *key, size_t len, void *value);
void *eg_strmap_del(eg_strmap *m, const char *key, size_t len);
/* Iteration: for (size_t i = 0; eg_strmap_next(m, &i, &slot);) */
int eg_strmap_next(const eg_strmap *m, size_t *iter, const eg_strmap_slot **slot);

#endif
