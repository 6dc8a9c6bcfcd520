/* fuzz_yaml.c — libFuzzer target for the document tree: any input must parse or fail
 * cleanly, and every parsed document must serialise to JSON and to YAML, with the YAML
 * reading back to an equal tree (a crash here means a round-trip bug, not just a crash).
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *     tests/fuzz/fuzz_yaml.c src/node.c src/node_json.c src/node_dec.c -lyaml -lm */
#include "node.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    eg_node **docs = NULL;
    int n = eg_yaml_parse_docs((const char *)data, size, &docs, err, sizeof err);
    if (n < 0) {
        if (strncmp(err, "line ", 5) != 0) /* every error names its place */
            abort();
        return 0;
    }
    for (int i = 0; i < n; i++) {
        size_t len;
        char *json = eg_node_to_json(docs[i], false, &len);
        if (!json || strlen(json) != len)
            abort();
        free(json);
        json = eg_node_to_json(docs[i], true, NULL);
        free(json);

        char *yaml = eg_node_to_yaml(docs[i], &len);
        if (!yaml)
            abort();
        eg_node *back = eg_yaml_parse(yaml, len, err, sizeof err);
        if (!back || !eg_node_equal(docs[i], back)) {
            fprintf(stderr, "YAML round trip failed (%s):\n%s\n", back ? "differs" : err, yaml);
            abort();
        }
        eg_node *copy = eg_node_clone(back);
        if (!eg_node_equal(copy, back))
            abort();
        eg_node_free(copy);
        eg_node_free(back);
        free(yaml);
    }
    eg_node_free_docs(docs, n);

    /* the single-document entry point on the same bytes */
    eg_node *one = eg_yaml_parse((const char *)data, size, err, sizeof err);
    eg_node_free(one);

    /* durations take arbitrary text */
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t ns;
    eg_parse_duration(s, &ns);
    free(s);
    return 0;
}
