// The projection declared in include/json_projection.h. It finds where strings, objects, arrays
// and scalars end and copies the wanted spans; jansson still parses (and validates) everything
// that is kept.
#include "json_projection.h"

#include <string.h>

/// Deeper nesting than this inside a skipped value is refused (the caller falls back to jansson).
enum { max_depth = 128 };

static const char *skip_space(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

/// `p` is at an opening quote; returns the position after the closing one, or NULL.
static const char *skip_string(const char *p, const char *end) {
    const char *start = p + 1;
    const char *search = start;
    for (;;) {
        const char *quote = memchr(search, '"', (size_t)(end - search));
        if (quote == NULL) return NULL;
        // The quote is escaped when an odd number of backslashes precedes it.
        size_t backslashes = 0;
        for (const char *b = quote; b > start && b[-1] == '\\'; b--) backslashes++;
        if (backslashes % 2 == 0) return quote + 1;
        search = quote + 1;
    }
}

/// `p` is at the first byte of a value; returns the position after it, or NULL.
static const char *skip_value(const char *p, const char *end) {
    if (p == end) return NULL;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        char closers[max_depth];
        int depth = 0;
        while (p < end) {
            switch (*p) {
            case '"':
                p = skip_string(p, end);
                if (p == NULL) return NULL;
                continue;
            case '{':
            case '[':
                if (depth == max_depth) return NULL;
                closers[depth++] = *p == '{' ? '}' : ']';
                break;
            case '}':
            case ']':
                if (depth == 0 || closers[depth - 1] != *p) return NULL;
                if (--depth == 0) return p + 1;
                break;
            default:
                break;
            }
            p++;
        }
        return NULL;
    }
    // A number, true, false or null: it runs to the next delimiter.
    const char *start = p;
    while (p < end && !strchr(",}] \t\r\n", *p)) p++;
    return p == start ? NULL : p;
}

/// Whether the `length` bytes at `name` are one of the '\n'-ended entries of `list`.
static int listed(const char *list, const char *name, size_t length) {
    for (const char *entry = list; *entry != '\0';) {
        const char *entry_end = strchr(entry, '\n');
        if (entry_end == NULL) entry_end = entry + strlen(entry);
        if ((size_t)(entry_end - entry) == length && memcmp(entry, name, length) == 0) return 1;
        entry = *entry_end == '\0' ? entry_end : entry_end + 1;
    }
    return 0;
}

/// Copies the object at `p` to `*out`, keeping the members listed in `keys`; the member named
/// `nested_member` (when not NULL) is itself projected onto `nested_keys`. Returns the position
/// after the object, or NULL.
static const char *copy_object(const char *p, const char *end, const char *keys, const char *nested_member,
                               const char *nested_keys, char **out) {
    char *o = *out;
    int first = 1;
    *o++ = '{';
    p = skip_space(p + 1, end);
    if (p < end && *p == '}') {
        *o++ = '}';
        *out = o;
        return p + 1;
    }
    for (;;) {
        if (p == end || *p != '"') return NULL;
        const char *key = p;
        const char *key_end = skip_string(p, end);
        if (key_end == NULL) return NULL;
        p = skip_space(key_end, end);
        if (p == end || *p != ':') return NULL;
        const char *value = skip_space(p + 1, end);
        size_t name_length = (size_t)(key_end - key) - 2;
        int keep = listed(keys, key + 1, name_length);
        if (keep) {
            if (!first) *o++ = ',';
            first = 0;
            memcpy(o, key, (size_t)(key_end - key));
            o += key_end - key;
            *o++ = ':';
        }
        if (keep && nested_member != NULL && value < end && *value == '{' && strlen(nested_member) == name_length &&
            memcmp(nested_member, key + 1, name_length) == 0) {
            p = copy_object(value, end, nested_keys, NULL, "", &o);
            if (p == NULL) return NULL;
        } else {
            p = skip_value(value, end);
            if (p == NULL) return NULL;
            if (keep) {
                memcpy(o, value, (size_t)(p - value));
                o += p - value;
            }
        }
        p = skip_space(p, end);
        if (p == end) return NULL;
        if (*p == ',') {
            p = skip_space(p + 1, end);
            continue;
        }
        if (*p != '}') return NULL;
        *o++ = '}';
        *out = o;
        return p + 1;
    }
}

long cshims_json_project(const char *text, size_t length, const char *members, const char *nested_member,
                         const char *nested_keys, char *out, size_t *cuts, size_t cut_count) {
    const char *p = text, *end = text + length;
    char *o = out;
    size_t next_cut = 0;
    for (size_t k = 0; k < cut_count; k++) cuts[k] = 0;
    p = skip_space(p, end);
    if (p == end || *p != '[') return -1;
    *o++ = '[';
    p = skip_space(p + 1, end);
    if (p < end && *p == ']') {
        *o++ = ']';
        p++;
    } else {
        for (;;) {
            if (p == end || *p != '{') return -1;
            while (next_cut < cut_count && (size_t)(p - text) >= (next_cut + 1) * (length / (cut_count + 1))) {
                cuts[next_cut++] = (size_t)(o - out);
            }
            p = copy_object(p, end, members, nested_member, nested_keys, &o);
            if (p == NULL) return -1;
            p = skip_space(p, end);
            if (p == end) return -1;
            if (*p == ']') {
                *o++ = ']';
                p++;
                break;
            }
            if (*p != ',') return -1;
            *o++ = ',';
            p = skip_space(p + 1, end);
        }
    }
    return skip_space(p, end) == end ? (long)(o - out) : -1;
}
