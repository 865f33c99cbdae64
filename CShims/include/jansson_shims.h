// jansson shims: its reference counting and type tests are macros and inline functions over
// macros, which Swift cannot call; each is wrapped once.
#ifndef CSHIMS_JANSSON_H
#define CSHIMS_JANSSON_H

#include <jansson.h>
#include <stddef.h>

#pragma clang assume_nonnull begin

// MARK: - jansson

/// The type of a JSON node (json_typeof is a macro).
json_type cshims_json_typeof(const json_t *json);
/// json_decref is an inline function over a macro-managed count.
void cshims_json_decref(json_t *_Nullable json);
/// Parses a buffer; on failure returns NULL and copies jansson's message into error_text.
json_t *_Nullable cshims_json_loadb(const char *buffer, size_t length, char *error_text,
                                    size_t error_capacity);
/// The key of an object iterator (json_object_iter_key returns a const char *).
const char *cshims_json_object_iter_key(void *iter);
/// The length of a string node, which may hold NUL bytes.
size_t cshims_json_string_length(const json_t *json);
/// The bytes of a string node.
const char *cshims_json_string_value(const json_t *json);
/// The value of an integer node.
long long cshims_json_integer_value(const json_t *json);

#pragma clang assume_nonnull end

#endif
