// A lexical pre-pass over engine list replies.
//
// A container list reply carries about a kilobyte per container (network settings, host config,
// mounts, ports) of which a caller reads a few members. Building jansson nodes for the rest, and
// freeing them again, costs more than the engine took to answer. The projection below copies
// only the wanted members of each element into a second buffer, which jansson then parses; it
// never interprets values, only finds where they end.
#ifndef CSHIMS_JSON_PROJECTION_H
#define CSHIMS_JSON_PROJECTION_H

#include <stddef.h>

#pragma clang assume_nonnull begin

/// Copies the JSON array of objects in `text` into `out` (which must hold `length` bytes), keeping
/// in each element only the members whose names appear in `members`, a list of names each ended
/// by '\n'. When `nested_member` names one of them and its value is an object, only the keys
/// listed in `nested_keys` (same format) are kept inside it; a NULL `nested_member` keeps that
/// member whole. Returns the bytes written, or -1 when `text` is not an array of objects or is
/// malformed (the caller then parses the original, so that jansson describes the fault).
///
/// So that the copy can be parsed in `cut_count + 1` parts at once, `cuts[k]` receives the offset
/// in `out` of the first element that starts at or after (k + 1) / (cut_count + 1) of `text`, or
/// 0 when there is none; the comma before that offset ends the previous part.
long cshims_json_project(const char *text, size_t length, const char *members,
                         const char *_Nullable nested_member, const char *nested_keys,
                         char *out, size_t *_Nullable cuts, size_t cut_count);

#pragma clang assume_nonnull end

#endif
