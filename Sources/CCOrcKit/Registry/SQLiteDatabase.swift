import CShims

// The only file of the registry that touches SQLite's pointers. A `SQLiteDatabase` owns one
// `sqlite3 *` connection and a `SQLiteStatement` owns one `sqlite3_stmt *`; both free their handle
// in `deinit`. Neither type is Sendable: `SessionRegistry` keeps its connection behind a mutex so
// that a transaction's statements never interleave with another task's.

/// One SQLite connection (`sqlite3_open_v2` … `sqlite3_close_v2`).
final class SQLiteDatabase {
    /// The database file.
    let path: String
    private let handle: OpaquePointer
    /// Prepared statements by SQL text, so that the registry's few queries are compiled once per
    /// connection.
    private var statements: [String: SQLiteStatement] = [:]

    /// Opens (and with `create`, creates) the database file.
    ///
    /// The connection is opened `SQLITE_OPEN_NOMUTEX`: the caller serialises every use, which
    /// it must do anyway so that transactions from different tasks do not interleave.
    init(path: String, create: Bool = true) throws(RegistryError) {
        self.path = path
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        if create { flags |= SQLITE_OPEN_CREATE }
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            // Even on failure SQLite usually returns a handle that holds the message; free it.
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(opened)
            throw RegistryError.sqlite(code: code, message: message, path: path, operation: "opening it")
        }
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        // Finalise the cached statements first; `sqlite3_close_v2` would otherwise keep the
        // connection as a zombie until the last one is finalised.
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// The rows this connection has changed since it opened (`sqlite3_total_changes64`).
    var totalChanges: Int64 { sqlite3_total_changes64(handle) }

    /// Sets how long a statement waits for another connection's lock (`sqlite3_busy_timeout`).
    func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(handle, milliseconds)
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE (`sqlite3_changes`).
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// True while an explicit transaction is open (`sqlite3_get_autocommit` is 0).
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// The error for a failed call on this connection, with `sqlite3_errmsg`'s text.
    func error(_ code: Int32, _ operation: String) -> RegistryError {
        RegistryError.sqlite(
            code: code, message: String(cString: sqlite3_errmsg(handle)), path: path, operation: operation)
    }

    /// Runs one or more statements that return no rows of interest (`sqlite3_exec`).
    func execute(_ sql: String, _ operation: String) throws(RegistryError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(code, operation) }
    }

    /// Compiles one statement (`sqlite3_prepare_v2`). Private so that every statement lives in
    /// the cache and is finalised before the connection closes.
    private func prepare(_ sql: String, _ operation: String) throws(RegistryError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, operation) }
        return SQLiteStatement(handle: statement, connection: handle, path: path, operation: operation)
    }

    /// Runs `body` with the cached statement for `sql`, then resets it and clears its bindings,
    /// so that no statement keeps a read snapshot open between calls.
    func withStatement<Result>(
        _ sql: String, _ operation: String, _ body: (SQLiteStatement) throws(RegistryError) -> Result
    ) throws(RegistryError) -> Result {
        let statement: SQLiteStatement
        if let cached = statements[sql] {
            statement = cached
        } else {
            statement = try prepare(sql, operation)
            statements[sql] = statement
        }
        statement.operation = operation
        defer { statement.reset() }
        return try body(statement)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE` (or a deferred `BEGIN`), committing when it returns
    /// and rolling back when it throws.
    ///
    /// An immediate transaction takes the write lock at once, waiting up to the busy timeout
    /// for other processes; that is what makes a check-then-insert atomic across processes.
    func transaction<Result>(
        immediate: Bool = true, _ operation: String, _ body: () throws(RegistryError) -> Result
    ) throws(RegistryError) -> Result {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN", operation)
        let result: Result
        do {
            result = try body()
        } catch {
            // A failed COMMIT or an error SQLite already rolled back leaves nothing to undo.
            if inTransaction { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
            throw error
        }
        do {
            try execute("COMMIT", operation)
        } catch {
            if inTransaction { sqlite3_exec(handle, "ROLLBACK", nil, nil, nil) }
            throw error
        }
        return result
    }
}

/// One prepared statement (`sqlite3_prepare_v2` … `sqlite3_finalize`). Parameter and column
/// indexes follow SQLite: parameters from 1, columns from 0.
final class SQLiteStatement {
    private let handle: OpaquePointer
    /// The owning connection, for `sqlite3_errmsg`. Not retained: the owning `SQLiteDatabase`
    /// keeps every statement in its cache and finalises them all before it closes.
    private let connection: OpaquePointer
    private let path: String
    /// What the statement is for, used in error messages.
    fileprivate(set) var operation: String

    fileprivate init(handle: OpaquePointer, connection: OpaquePointer, path: String, operation: String) {
        self.handle = handle
        self.connection = connection
        self.path = path
        self.operation = operation
    }

    deinit { sqlite3_finalize(handle) }

    private func error(_ code: Int32) -> RegistryError {
        RegistryError.sqlite(
            code: code, message: String(cString: sqlite3_errmsg(connection)), path: path, operation: operation)
    }

    private func check(_ code: Int32) throws(RegistryError) {
        guard code == SQLITE_OK else { throw error(code) }
    }

    /// Binds text, or NULL for nil.
    func bind(_ index: Int32, _ value: String?) throws(RegistryError) {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        let length = Int32(value.utf8.count)
        try check(value.withCString { cshims_sqlite3_bind_text(handle, index, $0, length) })
    }

    /// Binds a 64-bit integer, or NULL for nil.
    func bind(_ index: Int32, _ value: Int64?) throws(RegistryError) {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Binds an integer, or NULL for nil.
    func bind(_ index: Int32, _ value: Int?) throws(RegistryError) {
        try bind(index, value.map(Int64.init))
    }

    /// Binds a double, or NULL for nil.
    func bind(_ index: Int32, _ value: Double?) throws(RegistryError) {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        try check(sqlite3_bind_double(handle, index, value))
    }

    /// Advances to the next row (`sqlite3_step`): true for a row, false when done.
    @discardableResult
    func step() throws(RegistryError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw error(code)
        }
    }

    /// Rewinds the statement and clears its bindings for the next use.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// True when column `index` of the current row is NULL.
    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// Column `index` as text; nil for NULL.
    func text(_ index: Int32) -> String? {
        guard let bytes = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// Column `index` as a 64-bit integer; nil for NULL.
    func int64(_ index: Int32) -> Int64? {
        isNull(index) ? nil : sqlite3_column_int64(handle, index)
    }

    /// Column `index` as a double; nil for NULL.
    func double(_ index: Int32) -> Double? {
        isNull(index) ? nil : sqlite3_column_double(handle, index)
    }
}
