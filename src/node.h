/* node.h — the document tree every object, spec and admin-API body passes through.
 *
 * Objects arrive as YAML or JSON (libyaml reads both). Plain scalars are resolved as
 * Easegress resolves them (invopop/yaml -> yaml.v3 into interface{}): ~/null/empty null,
 * true/false booleans, Go ints (0x, 0o, 0b, 017, `_`), floats (1.5, 1e3, .inf, .nan); YAML
 * 1.1's yes/no/on/off stay STRING nodes (eg_dec_bool still takes them for a bool field).
 * Quoted and block scalars are strings. The original text is kept so a decoder can still
 * report it. Duplicate keys are an error (as in yaml.v3); `<<` merge keys are applied. A tree is owned by whoever parsed or built it and is
 * released with eg_node_free; once published it is immutable and may be read by any thread.
 */
#ifndef EG_NODE_H
#define EG_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    EG_NODE_NULL,
    EG_NODE_BOOL,
    EG_NODE_INT,
    EG_NODE_FLOAT,
    EG_NODE_STRING,
    EG_NODE_SEQ,
    EG_NODE_MAP,
} eg_node_type;

typedef struct eg_node eg_node;
struct eg_node {
    eg_node_type type;
    int line, col;      /* 1-based position in the source; 0 when built in code */
    bool used;          /* set by eg_dec_* when a decoder consumed this map value */
    char *text;         /* scalars: the text (NUL-terminated; for STRING the value) */
    size_t text_len;
    union {
        bool b;
        int64_t i;
        double f;
    } v;
    size_t count;       /* SEQ and MAP: number of items */
    size_t cap;
    eg_node **items;    /* SEQ: the items; MAP: the values */
    char **keys;        /* MAP: the keys, as text (NUL-terminated) */
};

/* Parsing. `err` receives "line L, column C: reason" on failure (NULL returned). */
eg_node *eg_yaml_parse(const char *text, size_t len, char *err, size_t errlen);
/* Multi-document input: documents separated by a line that is exactly `---` plus optional
 * trailing whitespace (as the k8s YAML reader egctl uses; `------` is not a separator).
 * Empty documents are skipped. Returns the number of documents, or -1 with `err` set. */
int eg_yaml_parse_docs(const char *text, size_t len, eg_node ***docs, char *err, size_t errlen);
void eg_node_free(eg_node *n);
void eg_node_free_docs(eg_node **docs, int n);
eg_node *eg_node_clone(const eg_node *n);
bool eg_node_equal(const eg_node *a, const eg_node *b);

/* Lookup in a MAP: an exact key match wins, else the first case-insensitive match (Go's
 * encoding/json rule). Returns NULL when absent or when `map` is not a MAP. */
eg_node *eg_node_get(const eg_node *map, const char *key);
const char *eg_node_str(const eg_node *map, const char *key); /* STRING value or NULL */

/* Building (for status documents, admin API answers). Ownership of `child` passes to the
 * container. eg_node_map_set replaces an existing key with the same exact spelling. */
eg_node *eg_node_new(eg_node_type type);
eg_node *eg_node_new_str(const char *s);
eg_node *eg_node_new_strn(const char *s, size_t len);
eg_node *eg_node_new_int(int64_t i);
eg_node *eg_node_new_float(double f);
eg_node *eg_node_new_bool(bool b);
void eg_node_map_set(eg_node *map, const char *key, eg_node *child);
void eg_node_map_del(eg_node *map, const char *key);
void eg_node_seq_push(eg_node *seq, eg_node *child);

/* Serialising. Both return malloc'd NUL-terminated text; *len (if not NULL) gets its length.
 * JSON: compact unless `pretty`; map keys in their stored order; floats that are whole
 * numbers printed without a fraction (as Go prints float64 JSON). YAML: block style. */
char *eg_node_to_json(const eg_node *n, bool pretty, size_t *len);
char *eg_node_to_yaml(const eg_node *n, size_t *len);
/* A float64 as Go's encoding/json writes it: shortest text that reads back exactly, "1" for
 * 1.0, "0.5", "1e+21", "1e-7"; NaN/Inf give "NaN", "+Inf", "-Inf" (not JSON). Writes at most
 * len-1 characters plus a NUL; returns the full length (always < 32). */
size_t eg_node_format_float(double f, char *buf, size_t len);

/* Go time.ParseDuration: "300ms", "1.5h", "1m30s", "-2s", units ns us µs ms s m h.
 * Returns 0 and nanoseconds in *ns, or -1 on a malformed string. */
int eg_parse_duration(const char *s, int64_t *ns);

/* ---- Decoding a spec into C structs --------------------------------------------------
 * A decoder walks a tree, keeps the field path ("rules[0].paths[1].pathPrefix") for error
 * messages, marks the map keys it consumed, and collects a warning per unknown field.
 * The first error wins; after it every eg_dec_* call returns false and does nothing. */
typedef struct eg_dec {
    char path[512];
    size_t path_len;
    char *error;          /* malloc'd "field path: reason", NULL while no error */
    char **warnings;      /* malloc'd strings: "unknown field rules[0].foo" */
    size_t nwarnings;
    bool strict;          /* unknown fields are errors instead of warnings */
} eg_dec;

void eg_dec_init(eg_dec *d, bool strict);
void eg_dec_free(eg_dec *d);
bool eg_dec_ok(const eg_dec *d);
/* Record an error at the current path (or at path + "." + field when field != NULL). */
bool eg_dec_fail(eg_dec *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Path segments: eg_dec_enter(d, "rules") / eg_dec_enter_index(d, 0) ... eg_dec_leave(d). */
void eg_dec_enter(eg_dec *d, const char *field);
void eg_dec_enter_index(eg_dec *d, size_t index);
void eg_dec_leave(eg_dec *d);

/* Field readers. `map` must be a MAP (else an error "must be an object"). A missing field
 * leaves *out untouched (callers pre-set defaults) and fails only when `required`. A field
 * present with YAML null counts as missing. Each marks the field used. */
bool eg_dec_string(eg_dec *d, const eg_node *map, const char *key, char **out, bool required);
bool eg_dec_int(eg_dec *d, const eg_node *map, const char *key, int64_t *out, bool required);
bool eg_dec_bool(eg_dec *d, const eg_node *map, const char *key, bool *out, bool required);
bool eg_dec_float(eg_dec *d, const eg_node *map, const char *key, double *out, bool required);
/* Go duration string -> milliseconds (rounded down; "1us" -> 0 is allowed). */
bool eg_dec_duration_ms(eg_dec *d, const eg_node *map, const char *key, int64_t *out_ms, bool required);
/* A list of strings -> malloc'd array of malloc'd strings, *n set. */
bool eg_dec_string_list(eg_dec *d, const eg_node *map, const char *key, char ***out, size_t *n, bool required);
/* A SEQ, MAP or any node by key: returns it (marked used) or NULL; a wrong type is an error. */
const eg_node *eg_dec_seq(eg_dec *d, const eg_node *map, const char *key, bool required);
const eg_node *eg_dec_map(eg_dec *d, const eg_node *map, const char *key, bool required);
const eg_node *eg_dec_any(eg_dec *d, const eg_node *map, const char *key);
/* After decoding a MAP: every key not marked used becomes a warning (or an error if strict),
 * named with the current path. */
void eg_dec_check_unknown(eg_dec *d, const eg_node *map);

void eg_strv_free(char **v, size_t n);

/* One UTF-8 sequence at s (no overlongs, no surrogates, <= U+10FFFF): its length, with the
 * code point in *cp, or 0 when invalid. */
size_t eg_utf8_decode(const unsigned char *s, size_t left, unsigned *cp);

#endif
