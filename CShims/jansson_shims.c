// The jansson shims declared in include/jansson_shims.h. Each one is a single call.
#include "jansson_shims.h"

#include <stdio.h>

json_type cshims_json_typeof(const json_t *json) { return json_typeof(json); }

void cshims_json_decref(json_t *json) { json_decref(json); }

json_t *cshims_json_loadb(const char *buffer, size_t length, char *error_text,
                          size_t error_capacity) {
    json_error_t error;
    json_t *root = json_loadb(buffer, length, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
    if (root == NULL && error_capacity > 0) {
        snprintf(error_text, error_capacity, "%s at line %d, column %d", error.text, error.line,
                 error.column);
    }
    return root;
}

const char *cshims_json_object_iter_key(void *iter) { return json_object_iter_key(iter); }

size_t cshims_json_string_length(const json_t *json) { return json_string_length(json); }

const char *cshims_json_string_value(const json_t *json) {
    const char *value = json_string_value(json);
    return value ? value : "";
}

long long cshims_json_integer_value(const json_t *json) {
    return (long long)json_integer_value(json);
}
