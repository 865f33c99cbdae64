// Implementations of the SQLite shims declared at the end of include/cshims.h.
// Each one is a single call; see the header for why it exists.
#include "cshims.h"

int cshims_sqlite3_bind_text(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}
