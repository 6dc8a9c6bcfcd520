/* custom_data.c — see custom_data.h. */
#define _GNU_SOURCE
#include "custom_data.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_schema.h"
#include "log.h"
#include "object.h"
#include "strmap.h"

#define KIND_PREFIX "/customdatakinds/"
#define DATA_PREFIX "/customdata/"

/* ---- the published set ------------------------------------------------------------------- */

typedef struct {
    atomic_int refs;
    eg_strmap items;           /* id -> char* JSON (owned) */
} set_kind;

struct eg_custom_data_set {
    atomic_int refs;
    uint64_t version;
    eg_strmap kinds;           /* name -> set_kind* */
};

static void set_kind_unref(set_kind *k)
{
    if (!k || atomic_fetch_sub(&k->refs, 1) != 1)
        return;
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&k->items, &i, &slot);)
        free(slot->value);
    eg_strmap_free(&k->items);
    free(k);
}

void eg_custom_data_set_ref(eg_custom_data_set *s)
{
    if (s)
        atomic_fetch_add(&s->refs, 1);
}

void eg_custom_data_set_unref(eg_custom_data_set *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&s->kinds, &i, &slot);)
        set_kind_unref(slot->value);
    eg_strmap_free(&s->kinds);
    free(s);
}

const char *eg_custom_data_set_get(const eg_custom_data_set *s, const char *kind, size_t kind_len,
                                   const char *id, size_t id_len, size_t *len)
{
    const set_kind *k = s ? eg_strmap_get(&s->kinds, kind, kind_len) : NULL;
    const char *json = k ? eg_strmap_get(&k->items, id, id_len) : NULL;
    if (json && len)
        *len = strlen(json);
    return json;
}

uint64_t eg_custom_data_set_version(const eg_custom_data_set *s)
{
    return s ? s->version : 0;
}

/* ---- the manager ------------------------------------------------------------------------- */

typedef struct {
    char *name;
    char *id_field;            /* NULL: "name" */
    eg_node *schema;           /* NULL: none */
    eg_strmap items;           /* id -> eg_node* */
} cd_kind;

struct eg_custom_data {
    eg_store *store;
    eg_strmap kinds;           /* name -> cd_kind* */
    eg_custom_data_set *current;
    uint64_t version;
    void (*on_change)(void *ud);
    void *on_change_ud;
};

static const char *id_field(const cd_kind *k)
{
    return k->id_field ? k->id_field : "name";
}

static void kind_free(cd_kind *k)
{
    if (!k)
        return;
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&k->items, &i, &slot);)
        eg_node_free(slot->value);
    eg_strmap_free(&k->items);
    free(k->name);
    free(k->id_field);
    eg_node_free(k->schema);
    free(k);
}

static cd_kind *kind_get(eg_custom_data *cd, const char *name)
{
    return eg_strmap_get(&cd->kinds, name, strlen(name));
}

/* Keys of a map, sorted (caller frees the array, not the strings). */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char **sorted_keys(const eg_strmap *m, size_t *n)
{
    const char **keys = malloc((m->count ? m->count : 1) * sizeof *keys);
    *n = 0;
    if (!keys)
        return NULL;
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(m, &i, &slot);)
        keys[(*n)++] = slot->key;
    qsort(keys, *n, sizeof *keys, cmp_str);
    return keys;
}

static set_kind *set_kind_build(const cd_kind *k)
{
    set_kind *sk = calloc(1, sizeof *sk);
    if (!sk)
        return NULL;
    atomic_init(&sk->refs, 1);
    eg_strmap_init(&sk->items);
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&k->items, &i, &slot);) {
        char *json = eg_node_to_json(slot->value, false, NULL);
        if (json)
            eg_strmap_put(&sk->items, slot->key, slot->key_len, json);
    }
    return sk;
}

/* A new current set: kinds other than `changed` are shared with the previous one (all are
 * rebuilt when changed is NULL); then the change callback. */
static void republish(eg_custom_data *cd, const char *changed)
{
    eg_custom_data_set *s = calloc(1, sizeof *s);
    if (!s) {
        eg_error("custom data: out of memory publishing a change");
        return;
    }
    atomic_init(&s->refs, 1);
    s->version = ++cd->version;
    eg_strmap_init(&s->kinds);
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&cd->kinds, &i, &slot);) {
        set_kind *prev = cd->current ? eg_strmap_get(&cd->current->kinds, slot->key, slot->key_len) : NULL;
        set_kind *sk;
        if (prev && changed && strcmp(changed, slot->key) != 0) {
            atomic_fetch_add(&prev->refs, 1);
            sk = prev;
        } else {
            sk = set_kind_build(slot->value);
        }
        if (sk)
            eg_strmap_put(&s->kinds, slot->key, slot->key_len, sk);
    }
    eg_custom_data_set *old = cd->current;
    cd->current = s;
    eg_custom_data_set_unref(old);
    if (cd->on_change)
        cd->on_change(cd->on_change_ud);
}

eg_custom_data_set *eg_custom_data_current(eg_custom_data *cd)
{
    if (!cd)
        return NULL;
    eg_custom_data_set_ref(cd->current);
    return cd->current;
}

void eg_custom_data_on_change(eg_custom_data *cd, void (*fn)(void *ud), void *ud)
{
    cd->on_change = fn;
    cd->on_change_ud = ud;
}

void eg_custom_data_free(eg_custom_data *cd)
{
    if (!cd)
        return;
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&cd->kinds, &i, &slot);)
        kind_free(slot->value);
    eg_strmap_free(&cd->kinds);
    eg_custom_data_set_unref(cd->current);
    free(cd);
}

/* ---- decoding kinds and items -------------------------------------------------------------- */

static int failf(eg_custom_data_reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(eg_custom_data_reply *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->status = status;
    return status;
}

static bool id_valid(const char *id)
{
    return *id && !strchr(id, '/');
}

/* A kind document -> a new cd_kind (no items), or NULL with the error in r. */
static cd_kind *kind_decode(const eg_node *doc, eg_custom_data_reply *r)
{
    if (!doc || doc->type != EG_NODE_MAP) {
        failf(r, 400, "a custom data kind must be an object with name, idField and jsonSchema");
        return NULL;
    }
    const eg_node *name = eg_node_get(doc, "name"), *idf = eg_node_get(doc, "idField");
    const eg_node *schema = eg_node_get(doc, "jsonSchema");
    if (!name || name->type != EG_NODE_STRING || !*name->text) {
        failf(r, 400, "name: required");
        return NULL;
    }
    if (!eg_object_name_valid(name->text)) {
        failf(r, 400, "name: \"%s\" is not a valid name (letters, digits, '-', '_', '.', '~'; at most 253)",
              name->text);
        return NULL;
    }
    if (idf && idf->type != EG_NODE_NULL && idf->type != EG_NODE_STRING) {
        failf(r, 400, "idField: must be a string");
        return NULL;
    }
    if (schema && schema->type == EG_NODE_NULL)
        schema = NULL;
    char err[600];
    if (schema && schema->type != EG_NODE_MAP) {
        failf(r, 400, "jsonSchema: must be an object");
        return NULL;
    }
    if (schema && !eg_json_schema_check(schema, err, sizeof err)) {
        failf(r, 400, "invalid JSONSchema: %s", err);
        return NULL;
    }
    cd_kind *k = calloc(1, sizeof *k);
    if (!k) {
        failf(r, 500, "out of memory");
        return NULL;
    }
    eg_strmap_init(&k->items);
    k->name = strdup(name->text);
    if (idf && idf->type == EG_NODE_STRING && *idf->text)
        k->id_field = strdup(idf->text);
    if (schema && schema->count)
        k->schema = eg_node_clone(schema);
    if (!k->name || (idf && idf->type == EG_NODE_STRING && *idf->text && !k->id_field) ||
        (schema && schema->count && !k->schema)) {
        kind_free(k);
        failf(r, 500, "out of memory");
        return NULL;
    }
    return k;
}

/* The kind as stored and shown: {name, idField?, jsonSchema?}. */
static eg_node *kind_doc(const cd_kind *k, bool with_len)
{
    eg_node *n = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(n, "name", eg_node_new_str(k->name));
    if (k->id_field)
        eg_node_map_set(n, "idField", eg_node_new_str(k->id_field));
    if (k->schema)
        eg_node_map_set(n, "jsonSchema", eg_node_clone(k->schema));
    if (with_len)
        eg_node_map_set(n, "len", eg_node_new_int((int64_t)k->items.count));
    return n;
}

/* An item's id (its idField, a string), or NULL with the error in r. */
static const char *item_id(const cd_kind *k, const eg_node *item, eg_custom_data_reply *r, const char *where)
{
    if (!item || item->type != EG_NODE_MAP) {
        failf(r, 400, "%sa custom data item must be an object", where);
        return NULL;
    }
    const eg_node *id = NULL;
    for (size_t i = 0; i < item->count && !id; i++)
        if (strcmp(item->keys[i], id_field(k)) == 0)
            id = item->items[i];
    if (!id || id->type != EG_NODE_STRING || !*id->text) {
        failf(r, 400, "%sdata id is empty: field \"%s\" must be a non-empty string", where, id_field(k));
        return NULL;
    }
    if (!id_valid(id->text)) {
        failf(r, 400, "%sdata id \"%s\" must not contain '/'", where, id->text);
        return NULL;
    }
    return id->text;
}

static bool item_check(const cd_kind *k, const eg_node *item, eg_custom_data_reply *r, const char *where)
{
    if (!item_id(k, item, r, where))
        return false;
    char err[900];
    if (k->schema && !eg_json_schema_validate(k->schema, item, err, sizeof err)) {
        failf(r, 400, "%svalidation failed: %s", where, err);
        return false;
    }
    return true;
}

/* ---- the store ------------------------------------------------------------------------------ */

static int store_put(eg_custom_data *cd, const char *key, const eg_node *doc, eg_custom_data_reply *r)
{
    size_t len;
    char *json = eg_node_to_json(doc, false, &len);
    if (!json)
        return failf(r, 500, "out of memory");
    int rc = eg_store_put(cd->store, key, json, len, &r->revision);
    free(json);
    if (rc < 0)
        return failf(r, 500, "store: %s", strerror(-rc));
    return 0;
}

static int store_del(eg_custom_data *cd, const char *key, eg_custom_data_reply *r)
{
    int rc = eg_store_delete(cd->store, key, &r->revision);
    if (rc < 0 && rc != -ENOENT)
        return failf(r, 500, "store: %s", strerror(-rc));
    return 0;
}

static char *data_key(const char *kind, const char *id)
{
    char *k = NULL;
    return asprintf(&k, DATA_PREFIX "%s/%s", kind, id) < 0 ? NULL : k;
}

static int put_item(eg_custom_data *cd, cd_kind *k, const eg_node *item, eg_custom_data_reply *r)
{
    const char *id = item_id(k, item, r, "");
    char *key = id ? data_key(k->name, id) : NULL;
    if (!key)
        return r->status ? r->status : failf(r, 500, "out of memory");
    int rc = store_put(cd, key, item, r);
    free(key);
    if (rc)
        return rc;
    eg_node *copy = eg_node_clone(item);
    eg_node_free(eg_strmap_put(&k->items, id, strlen(id), copy));
    return 0;
}

static int del_item(eg_custom_data *cd, cd_kind *k, const char *id, eg_custom_data_reply *r)
{
    char *key = data_key(k->name, id);
    if (!key)
        return failf(r, 500, "out of memory");
    int rc = store_del(cd, key, r);
    free(key);
    if (rc)
        return rc;
    eg_node_free(eg_strmap_del(&k->items, id, strlen(id)));
    return 0;
}

static int del_all_items(eg_custom_data *cd, cd_kind *k, eg_custom_data_reply *r)
{
    size_t n;
    const char **ids = sorted_keys(&k->items, &n);
    if (!ids)
        return failf(r, 500, "out of memory");
    char **copy = calloc(n ? n : 1, sizeof *copy);
    for (size_t i = 0; copy && i < n; i++)
        copy[i] = strdup(ids[i]);
    free(ids);
    int rc = copy ? 0 : failf(r, 500, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = copy[i] ? del_item(cd, k, copy[i], r) : failf(r, 500, "out of memory");
    for (size_t i = 0; copy && i < n; i++)
        free(copy[i]);
    free(copy);
    return rc;
}

static int del_kind(eg_custom_data *cd, cd_kind *k, eg_custom_data_reply *r)
{
    int rc = del_all_items(cd, k, r);
    if (rc)
        return rc;
    char key[600];
    snprintf(key, sizeof key, KIND_PREFIX "%s", k->name);
    if ((rc = store_del(cd, key, r)))
        return rc;
    eg_strmap_del(&cd->kinds, k->name, strlen(k->name));
    kind_free(k);
    return 0;
}

eg_custom_data *eg_custom_data_open(eg_store *store, char *err, size_t errlen)
{
    eg_custom_data *cd = calloc(1, sizeof *cd);
    if (!cd) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    cd->store = store;
    eg_strmap_init(&cd->kinds);
    eg_kv *kvs = NULL;
    size_t n = 0;
    int rc = eg_store_list(store, KIND_PREFIX, &kvs, &n);
    if (rc < 0) {
        snprintf(err, errlen, "reading custom data kinds: %s", strerror(-rc));
        eg_custom_data_free(cd);
        return NULL;
    }
    eg_custom_data_reply r;
    for (size_t i = 0; i < n; i++) {
        char perr[256];
        eg_node *doc = eg_yaml_parse(kvs[i].value, kvs[i].value_len, perr, sizeof perr);
        memset(&r, 0, sizeof r);
        cd_kind *k = doc ? kind_decode(doc, &r) : NULL;
        eg_node_free(doc);
        if (!k) {
            eg_error("custom data: stored kind %s is unreadable, skipped: %s", kvs[i].key, doc ? r.message : perr);
            continue;
        }
        kind_free(eg_strmap_put(&cd->kinds, k->name, strlen(k->name), k));
    }
    eg_kv_free_all(kvs, n);
    kvs = NULL;
    if ((rc = eg_store_list(store, DATA_PREFIX, &kvs, &n)) < 0) {
        snprintf(err, errlen, "reading custom data: %s", strerror(-rc));
        eg_custom_data_free(cd);
        return NULL;
    }
    size_t items = 0;
    for (size_t i = 0; i < n; i++) {
        const char *kind = kvs[i].key + strlen(DATA_PREFIX), *slash = strchr(kind, '/');
        cd_kind *k = slash ? eg_strmap_get(&cd->kinds, kind, (size_t)(slash - kind)) : NULL;
        char perr[256];
        eg_node *doc = k ? eg_yaml_parse(kvs[i].value, kvs[i].value_len, perr, sizeof perr) : NULL;
        if (!doc) {
            eg_error("custom data: stored item %s is unreadable or has no kind, skipped", kvs[i].key);
            continue;
        }
        eg_node_free(eg_strmap_put(&k->items, slash + 1, strlen(slash + 1), doc));
        items++;
    }
    eg_kv_free_all(kvs, n);
    if (cd->kinds.count)
        eg_info("loaded %zu custom data kinds, %zu items", cd->kinds.count, items);
    republish(cd, NULL);
    return cd;
}

/* ---- the API ----------------------------------------------------------------------------------- */

static eg_node *parse_one(const char *body, size_t len, eg_custom_data_reply *r)
{
    if (!body || !len) {
        failf(r, 400, "empty body: send one YAML or JSON document");
        return NULL;
    }
    char err[400];
    eg_node **docs = NULL;
    int n = eg_yaml_parse_docs(body, len, &docs, err, sizeof err);
    if (n < 0) {
        failf(r, 400, "invalid YAML or JSON: %s", err);
        return NULL;
    }
    if (n != 1) {
        eg_node_free_docs(docs, n);
        failf(r, 400, "send exactly one document");
        return NULL;
    }
    eg_node *doc = docs[0];
    free(docs);
    return doc;
}

static cd_kind *need_kind(eg_custom_data *cd, const char *name, eg_custom_data_reply *r)
{
    cd_kind *k = kind_get(cd, name);
    if (!k)
        failf(r, 404, "custom data kind %s not found", name);
    return k;
}

static void kinds_list(eg_custom_data *cd, eg_custom_data_reply *r)
{
    size_t n;
    const char **names = sorted_keys(&cd->kinds, &n);
    r->body = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; names && i < n; i++)
        eg_node_seq_push(r->body, kind_doc(kind_get(cd, names[i]), true));
    free(names);
    r->status = 200;
}

static void kind_put(eg_custom_data *cd, const char *body, size_t len, bool create, const char *base,
                     eg_custom_data_reply *r)
{
    eg_node *doc = parse_one(body, len, r);
    cd_kind *k = doc ? kind_decode(doc, r) : NULL;
    eg_node_free(doc);
    if (!k)
        return;
    cd_kind *old = kind_get(cd, k->name);
    if (create && old) {
        failf(r, 409, "custom data kind %s existed", k->name);
    } else if (!create && !old) {
        failf(r, 404, "custom data kind %s not found", k->name);
    } else {
        char key[600];
        snprintf(key, sizeof key, KIND_PREFIX "%s", k->name);
        eg_node *stored = kind_doc(k, false);
        int rc = store_put(cd, key, stored, r);
        eg_node_free(stored);
        if (rc == 0) {
            if (old) {
                /* the items stay (Easegress does not re-validate them against a new schema) */
                eg_strmap tmp = k->items;
                k->items = old->items;
                old->items = tmp;
            }
            kind_free(eg_strmap_put(&cd->kinds, k->name, strlen(k->name), k));
            r->status = create ? 201 : 200;
            if (create)
                snprintf(r->location, sizeof r->location, "%.500s/%.500s", base, k->name);
            republish(cd, k->name);
            return;
        }
    }
    kind_free(k);
}

static void items_list(cd_kind *k, eg_custom_data_reply *r)
{
    size_t n;
    const char **ids = sorted_keys(&k->items, &n);
    r->body = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; ids && i < n; i++)
        eg_node_seq_push(r->body, eg_node_clone(eg_strmap_get(&k->items, ids[i], strlen(ids[i]))));
    free(ids);
    r->status = 200;
}

static void item_put(eg_custom_data *cd, cd_kind *k, const char *body, size_t len, bool create,
                     const char *base, eg_custom_data_reply *r)
{
    eg_node *doc = parse_one(body, len, r);
    if (!doc)
        return;
    if (item_check(k, doc, r, "")) {
        const char *id = item_id(k, doc, r, "");
        bool exists = eg_strmap_get(&k->items, id, strlen(id)) != NULL;
        if (create && exists) {
            failf(r, 409, "%s/%s existed", k->name, id);
        } else if (!create && !exists) {
            failf(r, 404, "%s/%s not found", k->name, id);
        } else {
            char location[1100];
            snprintf(location, sizeof location, "%.500s/%.500s", base, id);
            if (put_item(cd, k, doc, r) == 0) {
                r->status = create ? 201 : 200;
                if (create)
                    snprintf(r->location, sizeof r->location, "%s", location);
                republish(cd, k->name);
            }
        }
    }
    eg_node_free(doc);
}

/* POST .../items: {rebuild, delete: [ids], list: [items]}; everything is checked before
 * anything is written. */
static void items_batch(eg_custom_data *cd, cd_kind *k, const char *body, size_t len, eg_custom_data_reply *r)
{
    eg_node *doc = parse_one(body, len, r);
    if (!doc)
        return;
    const eg_node *rebuild = NULL, *del = NULL, *list = NULL;
    if (doc->type != EG_NODE_MAP) {
        failf(r, 400, "a change request must be an object with rebuild, delete and list");
        goto out;
    }
    rebuild = eg_node_get(doc, "rebuild");
    del = eg_node_get(doc, "delete");
    list = eg_node_get(doc, "list");
    if (rebuild && rebuild->type != EG_NODE_BOOL && rebuild->type != EG_NODE_NULL) {
        failf(r, 400, "rebuild: must be a boolean");
        goto out;
    }
    if (del && del->type != EG_NODE_SEQ && del->type != EG_NODE_NULL) {
        failf(r, 400, "delete: must be an array of ids");
        goto out;
    }
    for (size_t i = 0; del && del->type == EG_NODE_SEQ && i < del->count; i++)
        if (del->items[i]->type != EG_NODE_STRING) {
            failf(r, 400, "delete[%zu]: must be a string", i);
            goto out;
        }
    if (list && list->type != EG_NODE_SEQ && list->type != EG_NODE_NULL) {
        failf(r, 400, "list: must be an array of items");
        goto out;
    }
    for (size_t i = 0; list && list->type == EG_NODE_SEQ && i < list->count; i++) {
        char where[64];
        snprintf(where, sizeof where, "list[%zu]: ", i);
        if (!item_check(k, list->items[i], r, where))
            goto out;
    }
    if (rebuild && rebuild->type == EG_NODE_BOOL && rebuild->v.b && del_all_items(cd, k, r))
        goto done;
    for (size_t i = 0; del && del->type == EG_NODE_SEQ && i < del->count; i++)
        if (del_item(cd, k, del->items[i]->text, r))
            goto done;
    for (size_t i = 0; list && list->type == EG_NODE_SEQ && i < list->count; i++)
        if (put_item(cd, k, list->items[i], r))
            goto done;
    r->status = 200;
done:
    republish(cd, k->name);   /* also after a store failure part way: show what was written */
out:
    eg_node_free(doc);
}

static void send_ok(eg_custom_data_reply *r)
{
    r->status = 200;
}

bool eg_custom_data_api(eg_custom_data *cd, const char *method, const char *path, const char *body,
                        size_t body_len, eg_custom_data_reply *r)
{
    static const char kinds_p[] = "/customdatakinds", data_p[] = "/customdata/";
    memset(r, 0, sizeof *r);
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    bool post = !strcmp(method, "POST"), put = !strcmp(method, "PUT"), del = !strcmp(method, "DELETE");
    char base[600];
    snprintf(base, sizeof base, "/apis/v2%s", path);
    if (!strcmp(path, kinds_p)) {
        if (get) {
            kinds_list(cd, r);
        } else if (post || put) {
            kind_put(cd, body, body_len, post, base, r);
        } else if (del) {
            size_t n;
            const char **names = sorted_keys(&cd->kinds, &n);
            char **copy = calloc(n ? n : 1, sizeof *copy);
            for (size_t i = 0; copy && names && i < n; i++)
                copy[i] = strdup(names[i]);
            free(names);
            int rc = 0;
            for (size_t i = 0; copy && i < n && rc == 0; i++) {
                cd_kind *k = copy[i] ? kind_get(cd, copy[i]) : NULL;
                rc = k ? del_kind(cd, k, r) : 0;
            }
            for (size_t i = 0; copy && i < n; i++)
                free(copy[i]);
            free(copy);
            if (rc == 0)
                send_ok(r);
            republish(cd, NULL);
        } else {
            failf(r, 405, "method not allowed");
        }
        return true;
    }
    if (!strncmp(path, kinds_p, sizeof kinds_p - 1) && path[sizeof kinds_p - 1] == '/') {
        const char *name = path + sizeof kinds_p;
        cd_kind *k;
        if (!*name || strchr(name, '/')) {
            failf(r, 404, "not found");
        } else if (!get && !del) {
            failf(r, 405, "method not allowed");
        } else if ((k = need_kind(cd, name, r))) {
            if (get) {
                r->body = kind_doc(k, true);
                r->status = 200;
            } else if (del_kind(cd, k, r) == 0) {
                send_ok(r);
                republish(cd, NULL);
            }
        }
        return true;
    }
    if (strncmp(path, data_p, sizeof data_p - 1) != 0)
        return false;
    const char *rest = path + sizeof data_p - 1, *slash = strchr(rest, '/');
    char kind[300];
    size_t kl = slash ? (size_t)(slash - rest) : strlen(rest);
    if (kl == 0 || kl >= sizeof kind) {
        failf(r, 404, "not found");
        return true;
    }
    memcpy(kind, rest, kl);
    kind[kl] = '\0';
    const char *id = slash ? slash + 1 : NULL;
    cd_kind *k = need_kind(cd, kind, r);
    if (!k)
        return true;
    if (!id || !*id) {
        if (get)
            items_list(k, r);
        else if (post || put)
            item_put(cd, k, body, body_len, post, base, r);
        else if (del) {
            if (del_all_items(cd, k, r) == 0)
                send_ok(r);
            republish(cd, k->name);
        } else
            failf(r, 405, "method not allowed");
    } else if (strchr(id, '/')) {
        failf(r, 404, "not found");
    } else if (!strcmp(id, "items") && (post || del)) {
        if (post) {
            items_batch(cd, k, body, body_len, r);
        } else {
            if (del_all_items(cd, k, r) == 0)
                send_ok(r);
            republish(cd, k->name);
        }
    } else if (get) {
        const eg_node *item = eg_strmap_get(&k->items, id, strlen(id));
        if (!item) {
            failf(r, 404, "%s/%s not found", kind, id);
        } else {
            r->body = eg_node_clone(item);
            r->status = 200;
        }
    } else if (del) {
        if (!eg_strmap_get(&k->items, id, strlen(id))) {
            failf(r, 404, "%s/%s not found", kind, id);
        } else if (del_item(cd, k, id, r) == 0) {
            send_ok(r);
            republish(cd, k->name);
        }
    } else {
        failf(r, 405, "method not allowed");
    }
    return true;
}
