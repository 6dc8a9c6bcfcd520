#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#define TOMBSTONE ((char *)1)

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

void eg_strmap_init(eg_strmap *m) { memset(m, 0, sizeof *m); }

void eg_strmap_free(eg_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
            free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static eg_strmap_slot *find(const eg_strmap *m, const char *key, size_t len, uint32_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        eg_strmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != TOMBSTONE && s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    }
}

void *eg_strmap_get(const eg_strmap *m, const char *key, size_t len)
{
    eg_strmap_slot *s = find(m, key, len, hash_bytes(key, len));
    return s ? s->value : NULL;
}

static void grow(eg_strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    if (m->count * 4 < m->cap * 2)
        ncap = m->cap; /* mostly tombstones: rehash in place size */
    eg_strmap_slot *old = m->slots;
    size_t ocap = m->cap;
    m->slots = calloc(ncap, sizeof *m->slots);
    if (!m->slots)
        abort();
    m->cap = ncap;
    m->tombstones = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key || old[i].key == TOMBSTONE)
            continue;
        size_t j = old[i].hash & (ncap - 1);
        while (m->slots[j].key)
            j = (j + 1) & (ncap - 1);
        m->slots[j] = old[i];
    }
    free(old);
}

void *eg_strmap_put(eg_strmap *m, const char *key, size_t len, void *value)
{
    uint32_t h = hash_bytes(key, len);
    eg_strmap_slot *s = find(m, key, len, h);
    if (s) {
        void *prev = s->value;
        s->value = value;
        return prev;
    }
    if ((m->count + m->tombstones + 1) * 4 > m->cap * 3)
        grow(m);
    size_t i = h & (m->cap - 1);
    while (m->slots[i].key && m->slots[i].key != TOMBSTONE)
        i = (i + 1) & (m->cap - 1);
    if (m->slots[i].key == TOMBSTONE)
        m->tombstones--;
    char *k = malloc(len + 1);
    if (!k)
        abort();
    memcpy(k, key, len);
    k[len] = 0;
    m->slots[i] = (eg_strmap_slot){ k, len, h, value };
    m->count++;
    return NULL;
}

void *eg_strmap_del(eg_strmap *m, const char *key, size_t len)
{
    eg_strmap_slot *s = find(m, key, len, hash_bytes(key, len));
    if (!s)
        return NULL;
    void *prev = s->value;
    free(s->key);
    s->key = TOMBSTONE;
    s->value = NULL;
    m->count--;
    m->tombstones++;
    return prev;
}

int eg_strmap_next(const eg_strmap *m, size_t *iter, const eg_strmap_slot **slot)
{
    for (; *iter < m->cap; (*iter)++) {
        const eg_strmap_slot *s = &m->slots[*iter];
        if (s->key && s->key != TOMBSTONE) {
            *slot = s;
            (*iter)++;
            return 1;
        }
    }
    return 0;
}
