// SQLite shims. Only what Swift cannot call well is shimmed: SQLITE_TRANSIENT is a macro that
// casts -1 to a function pointer, which Swift cannot express, and binding text with SQLITE_STATIC
// would require the Swift string to outlive the statement's execution. Everything else in
// sqlite3.h is called directly.
#ifndef CSHIMS_SQLITE_H
#define CSHIMS_SQLITE_H

#include <sqlite3.h>

#pragma clang assume_nonnull begin

/// sqlite3_bind_text with SQLITE_TRANSIENT, so SQLite copies the bytes before returning.
/// `length` is the byte count (the text may hold NUL bytes); returns SQLite's result code.
int cshims_sqlite3_bind_text(sqlite3_stmt *statement, int index, const char *text, int length);

#pragma clang assume_nonnull end

#endif
