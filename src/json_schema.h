/* json_schema.h — the JSON Schema subset custom data kinds use to validate their items.
 *
 * Keywords (draft 4 to 7 spellings): type (a name or a list; "integer" is a number with no
 * fraction), enum, const, properties, required, additionalProperties (bool or schema),
 * patternProperties, minProperties, maxProperties, items (one schema, or a list for tuples),
 * additionalItems (with a tuple), minItems, maxItems, uniqueItems, minLength, maxLength
 * (in characters), pattern, minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers, or
 * draft 4's booleans), multipleOf, allOf, anyOf, oneOf, not. Other keywords (title,
 * description, default, examples, format, $schema, $id...) are accepted and not checked;
 * $ref is refused, since nothing here resolves it. Patterns are PCRE2 searches (unanchored,
 * as JSON Schema says), with the router's limits. */
#ifndef EG_JSON_SCHEMA_H
#define EG_JSON_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include "node.h"

/* Is `schema` a schema this subset understands? false with "path: reason" in err. */
bool eg_json_schema_check(const eg_node *schema, char *err, size_t errlen);

/* Does doc satisfy schema (already checked)? false with the failures, "path: reason"
 * separated by "; " (the first few), in err. */
bool eg_json_schema_validate(const eg_node *schema, const eg_node *doc, char *err, size_t errlen);

#endif
