// The SQLite shims declared in include/sqlite_shims.h.
// Each one is a single call; see the header for why it exists.
#include "sqlite_shims.h"

int cshims_sqlite3_bind_text(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}
