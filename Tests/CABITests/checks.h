/*
 * What the single-threaded C ABI clients (session_flow.c, maintenance_flow.c) check with: a failure
 * count, CHECK and CHECK_OK that report the file and line and go on, and JSON result parsing.
 * Include it once, after <ccorc.h> and <jansson.h>. (concurrent_calls.c keeps its own, locked,
 * versions.)
 */
#ifndef CCORC_TEST_CHECKS_H
#define CCORC_TEST_CHECKS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(condition)                                                                   \
    do {                                                                                   \
        if (!(condition)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

/* A call that must succeed; on failure prints the library's message. */
#define CHECK_OK(call, error)                                                         \
    do {                                                                              \
        ccorc_status status_ = (call);                                                \
        if (status_ != CCORC_OK) {                                                    \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #call, \
                    ccorc_status_name(status_), (error).message);                     \
            failures++;                                                               \
        }                                                                             \
        CHECK((error).code == CCORC_OK && (error).message[0] == '\0');                \
    } while (0)

/* Parses a JSON result and frees the string; exits when it is not JSON at all. */
static inline json_t *parse_result(char *text, const char *file, int line) {
    json_error_t parse_error;
    json_t *value;
    if (text == NULL) {
        fprintf(stderr, "%s:%d: no JSON result\n", file, line);
        exit(1);
    }
    value = json_loads(text, 0, &parse_error);
    ccorc_free(text);
    if (value == NULL) {
        fprintf(stderr, "%s:%d: result is not JSON: %s\n", file, line, parse_error.text);
        exit(1);
    }
    return value;
}
#define PARSE(text) parse_result((text), __FILE__, __LINE__)

/* Whether member `key` of `value` is the string `expected`. */
static inline int string_is(json_t *value, const char *key, const char *expected) {
    const char *actual = json_string_value(json_object_get(value, key));
    return actual != NULL && strcmp(actual, expected) == 0;
}

/* Whether member `key` of `value` is the integer `expected`. */
static inline int int_is(json_t *value, const char *key, json_int_t expected) {
    json_t *member = json_object_get(value, key);
    return json_is_integer(member) && json_integer_value(member) == expected;
}

#endif
