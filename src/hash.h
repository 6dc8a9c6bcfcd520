/* hash.h — the one byte-string hash for in-memory tables (not for anything persisted or
 * compatible with Easegress: that is eg_fnv32 in proxy_spec.h). */
#ifndef EG_HASH_H
#define EG_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 64 bits, with the high half folded into the low bits that table masks use. */
static inline uint64_t eg_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 32);
}

#endif
