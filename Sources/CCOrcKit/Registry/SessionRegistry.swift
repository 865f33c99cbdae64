import CShims
import FoundationEssentials
import Glibc
import Synchronization

/// The registry of team sessions: an embedded SQLite database at `HOME/registry.db`.
///
/// Many ccorc processes may use one registry at once. The database runs in WAL mode, so readers
/// never wait for writers, and every write is one transaction that waits up to
/// `busyTimeoutMilliseconds` for another process's. Within a process, one `SessionRegistry` may be
/// shared by any number of tasks: its connection sits behind a mutex, one call at a time.
///
/// A launch claims its name first (`claim`, which only one process can win), creates its
/// containers and tmux session, then `commit`s the full record or `release`s the claim.
public final class SessionRegistry: Sendable {
    /// The directory holding the registry (`$CCORC_HOME`, by default `~/.ccorc`).
    public let home: String
    /// The database file, `home/registry.db`.
    public let path: String
    private let connection: Mutex<SQLiteDatabase>
    private let faults: FaultInjection

    /// How long a statement waits for another process's lock before failing with `.busy`.
    public static let busyTimeoutMilliseconds: Int32 = 5000

    /// The registry's directory: `$CCORC_HOME` when set and not empty, else `~/.ccorc`.
    public static func defaultHome(environment: [String: String] = ProcessEnvironment.current) -> String {
        if let home = environment["CCORC_HOME"], !home.isEmpty { return home }
        return Path.join(ProcessEnvironment.homeDirectory(environment), ".ccorc")
    }

    /// What opening found wrong with the files' modes and could not fix, one line each (a
    /// `CCORC_HOME` that is shared or another user's): the CLI prints them as warnings.
    public let warnings: [String]

    /// Opens the registry in `home`, creating the directory and the database as needed, and
    /// migrates it to the current schema.
    ///
    /// The registry holds every session's environment and agent command in clear, so it is
    /// private: `home` is created with mode 0700 or tightened to it, and `registry.db` is
    /// created with mode 0600 (its `-wal` and `-shm` take its mode) or tightened to it, with
    /// its `-wal` and `-shm`. What cannot be tightened is left as it is and named in `warnings`.
    ///
    /// - Throws: `RegistryError`: `.corrupt` when the file is not a database or fails
    ///   `PRAGMA quick_check` (it has then been moved to `registry.db.corrupt-<UTC timestamp>`,
    ///   with its `-wal` and `-shm`, and the next open starts an empty registry); `.schemaTooNew`
    ///   when a newer ccorc wrote it; `.io` when the directory or file cannot be created or opened;
    ///   `.busy` when another process held it locked throughout the busy timeout.
    /// - Parameter faults: writes to fail on purpose, for tests (see `FaultInjection`); none by default.
    public init(home: String, faults: FaultInjection = FaultInjection()) throws(RegistryError) {
        self.home = home
        self.faults = faults
        path = Path.join(home, "registry.db")
        do {
            try PrivateFiles.createDirectory(home)
        } catch {
            throw RegistryError(.io, error.description, path: path)
        }
        // SQLite creates the file 0644 and its -wal and -shm with the file's mode; made here
        // first, it is 0600 from the start. Where this fails (a directory in its place), SQLite's
        // open below fails too and says why in its own words.
        try? PrivateFiles.createFileIfAbsent(path)
        warnings = ([home, path, path + "-wal", path + "-shm"]).compactMap(PrivateFiles.tighten)
        connection = Mutex(try Self.open(path: path))
    }

    // MARK: - Opening

    private static func open(path: String) throws(RegistryError) -> SQLiteDatabase {
        // Closing a connection to a file that is not a database makes SQLite delete the file's
        // -wal and -shm, which may hold the only good copy of recent commits; so a file whose
        // header is not SQLite's is moved aside before SQLite ever opens it.
        if hasForeignHeader(path) {
            let movedTo = try moveAside(path)
            throw RegistryError.corrupt(
                path: path, movedTo: movedTo, sqliteCode: SQLITE_NOTADB, sqliteMessage: "file is not a database")
        }
        let failure: RegistryError
        do {
            let database = try SQLiteDatabase(path: path)
            try prepare(database)
            return database
        } catch {
            failure = error
        }
        // The connection is closed by now (it went out of scope above), so the files can move.
        guard failure.code == .corrupt else { throw failure }
        let movedTo = try moveAside(path)
        throw RegistryError.corrupt(
            path: path, movedTo: movedTo, sqliteCode: failure.sqliteCode, sqliteMessage: failure.sqliteMessage)
    }

    /// True when `path` exists, is not empty (SQLite treats an empty file as an empty database),
    /// and does not start with SQLite's magic string.
    private static func hasForeignHeader(_ path: String) -> Bool {
        guard let header = readFilePrefix(path, count: 16), !header.isEmpty else { return false }
        return header != Array("SQLite format 3\u{0}".utf8)
    }

    /// Configures a fresh connection, checks the file and migrates it.
    private static func prepare(_ database: SQLiteDatabase) throws(RegistryError) {
        database.setBusyTimeout(milliseconds: busyTimeoutMilliseconds)
        try enableWAL(database)
        let problems = try database.withStatement("PRAGMA quick_check", "checking its integrity") {
            statement throws(RegistryError) in
            var rows: [String] = []
            while try statement.step(), rows.count < 5 { rows.append(statement.text(0) ?? "") }
            return rows
        }
        if problems != ["ok"] {
            throw RegistryError(
                .corrupt, "integrity check failed", sqliteCode: SQLITE_CORRUPT,
                sqliteMessage: "quick_check: " + problems.joined(separator: "; "), path: database.path)
        }
        // In WAL mode NORMAL cannot corrupt the file; it only lets the last commits before a power
        // loss roll back, and it spares every claim an fsync.
        try database.execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", "configuring the connection")
        try migrate(database)
    }

    /// Switches the file to WAL mode, which is persistent, so only the first open of a new file
    /// changes anything.
    ///
    /// The switch needs an exclusive lock and SQLite reports SQLITE_BUSY at once rather than
    /// calling the busy handler, so when several processes create the registry together the
    /// losers retry here for up to the busy timeout.
    private static func enableWAL(_ database: SQLiteDatabase) throws(RegistryError) {
        let current = try database.withStatement("PRAGMA journal_mode", "reading its journal mode") {
            statement throws(RegistryError) in try statement.step() ? statement.text(0) : nil
        }
        if current?.lowercased() == "wal" { return }
        let deadline = ContinuousClock.now + .milliseconds(Int(busyTimeoutMilliseconds))
        var pause = 0.001
        while true {
            do throws(RegistryError) {
                _ = try database.withStatement("PRAGMA journal_mode = WAL", "switching it to WAL mode") {
                    statement throws(RegistryError) in try statement.step()
                }
                return
            } catch  where error.code == .busy && ContinuousClock.now < deadline {
                sleepThread(seconds: pause)
                pause = min(pause * 2, 0.05)
            }
        }
    }

    /// Reads `PRAGMA user_version`.
    static func schemaVersion(of database: SQLiteDatabase) throws(RegistryError) -> Int {
        try database.withStatement("PRAGMA user_version", "reading its schema version") {
            statement throws(RegistryError) in
            try statement.step()
            return Int(statement.int64(0) ?? 0)
        }
    }

    private static func migrate(_ database: SQLiteDatabase) throws(RegistryError) {
        let known = RegistrySchema.currentVersion
        let found = try schemaVersion(of: database)
        if found > known { throw .schemaTooNew(path: database.path, found: found, known: known) }
        if found == known { return }
        try database.transaction("migrating its schema") { () throws(RegistryError) in
            // Re-read under the write lock: another process may have migrated meanwhile.
            let version = try schemaVersion(of: database)
            if version > known { throw .schemaTooNew(path: database.path, found: version, known: known) }
            for step in version..<known {
                try database.execute(RegistrySchema.migrations[step], "migrating its schema to version \(step + 1)")
            }
            try database.execute("PRAGMA user_version = \(known)", "recording its schema version")
        }
    }

    /// Moves a corrupt database and its `-wal` and `-shm` files aside, returning the new path of
    /// the database (`PATH.corrupt-YYYYMMDDTHHMMSSZ`, with a counter if that exists).
    private static func moveAside(_ path: String) throws(RegistryError) -> String {
        let stamp = RFC3339.compactUTC(Date())
        var target = "\(path).corrupt-\(stamp)"
        var counter = 1
        while fileExists(target) {
            target = "\(path).corrupt-\(stamp)-\(counter)"
            counter += 1
        }
        guard rename(path, target) == 0 else {
            let reason = String(cString: strerror(errno))
            throw RegistryError(
                .corrupt,
                "the registry at \(path) is corrupt and could not be moved aside (\(reason)); move it away by hand, then run `ccorc recover` to rebuild it from the engine",
                path: path)
        }
        for suffix in ["-wal", "-shm"] where fileExists(path + suffix) {
            _ = rename(path + suffix, target + suffix)
        }
        return target
    }

    // MARK: - Access

    /// Runs `body` with the connection, one caller at a time.
    /// `withDatabase` for a write, which a test can make fail (see `FaultInjection`).
    private func writing<Result: Sendable>(
        _ operation: @autoclosure () -> String, _ body: (SQLiteDatabase) throws(RegistryError) -> Result
    ) throws(RegistryError) -> Result {
        if let message = faults.failure(of: .registry, operation()) { throw RegistryError(.io, message, path: path) }
        return try withDatabase(body)
    }

    private func withDatabase<Result: Sendable>(
        _ body: (SQLiteDatabase) throws(RegistryError) -> Result
    ) throws(RegistryError) -> Result {
        try connection.withLock { (database: inout SQLiteDatabase) throws(RegistryError) -> Result in
            try body(database)
        }
    }
}

// MARK: - Writing

extension SessionRegistry {
    /// Claims `record.name` for a launch: inserts the record with status `launching` (and its
    /// agents, so that a crashed launch still says what it meant to create), in one
    /// `BEGIN IMMEDIATE` transaction.
    ///
    /// Of any number of concurrent claims of one name, in this process or others, exactly one
    /// succeeds; the others throw `.alreadyExists` ("session NAME already exists") and change
    /// nothing.
    public func claim(_ record: SessionRecord) throws(RegistryError) {
        try Self.checkAgents(of: record)
        try writing("claiming session \(record.name)") { database throws(RegistryError) in
            try database.transaction("claiming session \(record.name)") { () throws(RegistryError) in
                if try Self.exists(record.name, in: database) { throw .alreadyExists(record.name) }
                var claimed = record
                claimed.status = .launching
                do throws(RegistryError) {
                    try Self.write(claimed, using: RegistrySchema.insertSession, in: database)
                } catch {
                    throw error.sqlitePrimaryCode == SQLITE_CONSTRAINT ? .alreadyExists(record.name) : error
                }
                try Self.insertAgents(record.agents, of: record.name, in: database)
            }
        }
    }

    /// Writes the whole record of a claimed (or registered) session with status `ready`,
    /// replacing its agents, in one transaction.
    /// - Throws: `.notFound` when no row has that name (the claim was released or removed).
    public func commit(_ record: SessionRecord) throws(RegistryError) {
        try Self.checkAgents(of: record)
        try writing("committing session \(record.name)") { database throws(RegistryError) in
            try database.transaction("committing session \(record.name)") { () throws(RegistryError) in
                var ready = record
                ready.status = .ready
                try Self.write(ready, using: RegistrySchema.updateSession, in: database)
                guard database.changes == 1 else { throw .notFound(record.name) }
                try Self.replaceAgents(record.agents, of: record.name, in: database)
            }
        }
    }

    /// Undoes a claim: deletes the row of `name` and its agents if it is still `launching`.
    ///
    /// A `ready` row is never touched, so a rollback cannot delete a committed session.
    /// - Returns: true when a claimed row was deleted, false when there was none.
    @discardableResult
    public func release(_ name: SessionName) throws(RegistryError) -> Bool {
        try writing("releasing session \(name)") { database throws(RegistryError) in
            try database.transaction("releasing session \(name)") { () throws(RegistryError) in
                try Self.delete(name, sql: RegistrySchema.deleteLaunchingSession, in: database)
            }
        }
    }

    /// Deletes the rows of `names` and their agents in one transaction, whatever their status.
    /// - Returns: the names that were registered and are now deleted; absent names are skipped.
    @discardableResult
    public func remove(_ names: [SessionName]) throws(RegistryError) -> [SessionName] {
        if names.isEmpty { return [] }
        return try writing("removing \(names.count) session(s)") { database throws(RegistryError) in
            try database.transaction("removing \(names.count) session(s)") { () throws(RegistryError) in
                var removed: [SessionName] = []
                for name in names where try Self.delete(name, sql: RegistrySchema.deleteSession, in: database) {
                    removed.append(name)
                }
                return removed
            }
        }
    }

    /// Drops the rows stored under `keys` and their agents in one transaction, whatever their
    /// status and whether or not they decode (`ccorc forget`); touches nothing outside the registry.
    ///
    /// Keys are matched as stored, so a damaged row whose name breaks the naming rule can go too.
    /// - Throws: `.notFound` when a key is not registered; then nothing is deleted.
    public func forget(_ keys: [String]) throws(RegistryError) {
        if keys.isEmpty { return }
        try writing("forgetting \(keys.count) row(s)") { database throws(RegistryError) in
            try database.transaction("forgetting \(keys.count) row(s)") { () throws(RegistryError) in
                for key in keys where try !Self.delete(key: key, sql: RegistrySchema.deleteSession, in: database) {
                    // Thrown inside the transaction, which rolls back the rows already deleted.
                    throw RegistryError(
                        .notFound, "no registry row \"\(key)\" (see `ccorc list`); nothing changed", path: database.path
                    )
                }
            }
        }
    }

    /// Inserts `record` as given (status included) unless its name is registered; for `recover`
    /// and `import`, which must never overwrite a row.
    /// - Returns: true when the record was inserted, false when the name was already taken.
    @discardableResult
    public func insertIfAbsent(_ record: SessionRecord) throws(RegistryError) -> Bool {
        try Self.checkAgents(of: record)
        return try writing("importing session \(record.name)") { database throws(RegistryError) in
            try database.transaction("importing session \(record.name)") { () throws(RegistryError) in
                try Self.write(record, using: RegistrySchema.insertSessionIfAbsent, in: database)
                guard database.changes == 1 else { return false }
                try Self.insertAgents(record.agents, of: record.name, in: database)
                return true
            }
        }
    }

    /// Records that `name` was resumed at `date` (which also becomes its `updatedAt`).
    /// - Throws: `.notFound` when `name` is not registered.
    public func markResumed(_ name: SessionName, at date: Date = Date()) throws(RegistryError) {
        try writing("recording the resume of \(name)") { database throws(RegistryError) in
            try database.withStatement(RegistrySchema.markResumed, "recording the resume of \(name)") {
                statement throws(RegistryError) in
                try statement.bind(1, name.rawValue)
                try statement.bind(2, date.timeIntervalSince1970)
                try statement.step()
            }
            guard database.changes == 1 else { throw .notFound(name) }
        }
    }

    /// Replaces the agents of `name` (e.g. with new container ids after a recreate) and sets its
    /// `updatedAt` to `date`, in one transaction.
    /// - Throws: `.notFound` when `name` is not registered.
    public func updateAgents(_ name: SessionName, _ agents: [AgentRecord], at date: Date = Date()) throws(RegistryError)
    {
        try Self.checkRoles(agents, of: name)
        try writing("updating the agents of \(name)") { database throws(RegistryError) in
            try database.transaction("updating the agents of \(name)") { () throws(RegistryError) in
                try database.withStatement(RegistrySchema.touchSession, "updating session \(name)") {
                    statement throws(RegistryError) in
                    try statement.bind(1, name.rawValue)
                    try statement.bind(2, date.timeIntervalSince1970)
                    try statement.step()
                }
                guard database.changes == 1 else { throw .notFound(name) }
                try Self.replaceAgents(agents, of: name, in: database)
            }
        }
    }

    // MARK: Statements

    private static func checkAgents(of record: SessionRecord) throws(RegistryError) {
        try checkRoles(record.agents, of: record.name)
    }

    private static func checkRoles(_ agents: [AgentRecord], of name: SessionName) throws(RegistryError) {
        var seen = Set<AgentRole>()
        for agent in agents where !seen.insert(agent.role).inserted {
            throw RegistryError(.other, "session \(name) lists agent role \(agent.role) more than once")
        }
    }

    private static func exists(_ name: SessionName, in database: SQLiteDatabase) throws(RegistryError) -> Bool {
        try database.withStatement(RegistrySchema.sessionExists, "looking up session \(name)") {
            statement throws(RegistryError) in
            try statement.bind(1, name.rawValue)
            return try statement.step()
        }
    }

    /// Runs an INSERT or UPDATE whose parameters are the session columns in order.
    private static func write(
        _ record: SessionRecord, using sql: String, in database: SQLiteDatabase
    ) throws(RegistryError) {
        try database.withStatement(sql, "writing session \(record.name)") { statement throws(RegistryError) in
            try statement.bind(1, record.name.rawValue)
            try statement.bind(2, record.tmuxSession)
            try statement.bind(3, record.createdAt.timeIntervalSince1970)
            try statement.bind(4, record.updatedAt.timeIntervalSince1970)
            try statement.bind(5, record.lastResumedAt?.timeIntervalSince1970)
            try statement.bind(6, record.image)
            try statement.bind(7, record.agentCommand)
            try statement.bind(8, record.memoryBytes)
            try statement.bind(9, record.nanoCPUs)
            try statement.bind(10, record.networkMode)
            try statement.bind(11, JSONValue(strings: record.mounts).serialized())
            try statement.bind(12, JSONValue(strings: record.environment).serialized())
            try statement.bind(13, record.workingDirectory)
            try statement.bind(14, record.config.serialized())
            try statement.bind(15, record.status.rawValue)
            try statement.bind(16, record.engine)
            try statement.step()
        }
    }

    private static func insertAgents(
        _ agents: [AgentRecord], of name: SessionName, in database: SQLiteDatabase
    ) throws(RegistryError) {
        for agent in agents {
            try database.withStatement(RegistrySchema.insertAgent, "writing agent \(agent.role) of \(name)") {
                statement throws(RegistryError) in
                try statement.bind(1, name.rawValue)
                try statement.bind(2, agent.role.rawValue)
                try statement.bind(3, Int64(agent.position))
                try statement.bind(4, agent.containerName)
                try statement.bind(5, agent.containerID)
                try statement.bind(6, agent.stateVolume)
                try statement.bind(7, agent.model)
                try statement.bind(8, agent.tmuxWindow)
                try statement.step()
            }
        }
    }

    private static func replaceAgents(
        _ agents: [AgentRecord], of name: SessionName, in database: SQLiteDatabase
    ) throws(RegistryError) {
        try database.withStatement(RegistrySchema.deleteAgents, "replacing the agents of \(name)") {
            statement throws(RegistryError) in
            try statement.bind(1, name.rawValue)
            try statement.step()
        }
        try insertAgents(agents, of: name, in: database)
    }

    /// Deletes one session row with `sql` and, if it went, its agents (explicitly, so that the
    /// result does not depend on `foreign_keys`). Returns whether a row went.
    private static func delete(
        _ name: SessionName, sql: String, in database: SQLiteDatabase
    ) throws(RegistryError) -> Bool {
        try delete(key: name.rawValue, sql: sql, in: database)
    }

    /// `delete(_:sql:in:)` by the stored key, which need not be a valid session name.
    private static func delete(key name: String, sql: String, in database: SQLiteDatabase) throws(RegistryError) -> Bool
    {
        try database.withStatement(sql, "deleting session \(name)") { statement throws(RegistryError) in
            try statement.bind(1, name)
            try statement.step()
        }
        guard database.changes == 1 else { return false }
        try database.withStatement(RegistrySchema.deleteAgents, "deleting the agents of \(name)") {
            statement throws(RegistryError) in
            try statement.bind(1, name)
            try statement.step()
        }
        return true
    }
}

// MARK: - Reading

extension SessionRegistry {
    /// The record of `name`, or nil when it is not registered.
    /// - Throws: `.corrupt` when the row of `name` (or one of its agents) cannot be decoded; the
    ///   message names the damage and `ccorc forget NAME`.
    public func session(named name: SessionName) throws(RegistryError) -> SessionRecord? {
        try withDatabase { database throws(RegistryError) in
            // One read transaction, so the session and its agents come from one snapshot.
            try database.transaction(immediate: false, "reading session \(name)") {
                () throws(RegistryError) -> SessionRecord? in
                let found = try database.withStatement(RegistrySchema.selectSession, "reading session \(name)") {
                    statement throws(RegistryError) -> SessionRecord? in
                    try statement.bind(1, name.rawValue)
                    guard try statement.step() else { return nil }
                    do throws(DamagedRegistryRow) {
                        return try Self.session(from: statement)
                    } catch {
                        throw .damagedRow(error, path: database.path)
                    }
                }
                guard var record = found else { return nil }
                record.agents = try database.withStatement(
                    RegistrySchema.selectAgentsOfSession, "reading the agents of \(name)"
                ) {
                    statement throws(RegistryError) in
                    try statement.bind(1, name.rawValue)
                    var agents: [AgentRecord] = []
                    while try statement.step() {
                        do throws(DamagedRegistryRow) {
                            agents.append(try Self.agent(from: statement).agent)
                        } catch {
                            throw .damagedRow(error, path: database.path)
                        }
                    }
                    return agents
                }
                return record
            }
        }
    }

    /// Every registered session whose row decodes (both `launching` and `ready`), by name, with
    /// its agents; see `rows()` for the damaged rows it leaves out.
    public func allSessions() throws(RegistryError) -> [SessionRecord] {
        try rows().sessions
    }

    /// A value that differs whenever the registry has changed since it was last read: a commit by
    /// another process (`PRAGMA data_version`) or by this one. Cheap (no table is read), so a
    /// watcher can ask on every event.
    public func changeToken() throws(RegistryError) -> [Int64] {
        try withDatabase { database throws(RegistryError) in
            let version = try database.withStatement("PRAGMA data_version", "reading its change counter") {
                statement throws(RegistryError) -> Int64 in
                _ = try statement.step()
                return statement.int64(0) ?? 0
            }
            return [version, database.totalChanges]
        }
    }

    /// The engines the registered sessions name, each once; nil stands for rows that name none
    /// (the current engine). One index-free scan of the sessions table, far cheaper than `rows`,
    /// so that a listing can ask every engine before it reads the rows.
    public func engineNames() throws(RegistryError) -> [String?] {
        try withDatabase { database throws(RegistryError) in
            try database.withStatement(RegistrySchema.selectEngines, "reading the engines") {
                statement throws(RegistryError) -> [String?] in
                var names: [String?] = []
                while try statement.step() { names.append(statement.text(0)) }
                return names
            }
        }
    }

    /// Every registered session (both `launching` and `ready`), by name, with its agents, and
    /// apart from them the rows that cannot be decoded.
    ///
    /// A damaged row (a name that breaks the naming rule, an unknown status, a JSON column that
    /// does not parse, an agent with an invalid role) is skipped rather than failing the read, so
    /// that one bad row does not block every registry-wide command; `ccorc forget` drops it.
    /// Two queries whatever the count, one for the sessions and one for all agents, read from one
    /// snapshot and joined in memory.
    /// - Throws: `RegistryError` only when SQLite fails.
    public func rows() throws(RegistryError) -> RegistryRows {
        try withDatabase { database throws(RegistryError) in
            try database.transaction(immediate: false, "reading the sessions") {
                () throws(RegistryError) -> RegistryRows in
                var agentsBySession: [String: [AgentRecord]] = [:]
                var damagedAgents: [String: DamagedRegistryRow] = [:]
                try database.withStatement(RegistrySchema.selectAllAgents, "reading the agents") {
                    statement throws(RegistryError) in
                    while try statement.step() {
                        do throws(DamagedRegistryRow) {
                            let (session, agent) = try Self.agent(from: statement)
                            agentsBySession[session, default: []].append(agent)
                        } catch {
                            if damagedAgents[error.key] == nil { damagedAgents[error.key] = error }
                        }
                    }
                }
                return try database.withStatement(RegistrySchema.selectAllSessions, "reading the sessions") {
                    statement throws(RegistryError) in
                    var result = RegistryRows(sessions: [], damaged: [])
                    while try statement.step() {
                        do throws(DamagedRegistryRow) {
                            var record = try Self.session(from: statement)
                            if let damage = damagedAgents[record.name.rawValue] { throw damage }
                            record.agents = agentsBySession[record.name.rawValue] ?? []
                            result.sessions.append(record)
                        } catch {
                            result.damaged.append(error)
                        }
                    }
                    return result
                }
            }
        }
    }

    // MARK: Rows

    private static func session(from row: SQLiteStatement) throws(DamagedRegistryRow) -> SessionRecord {
        let rawName = row.text(0) ?? ""
        func damaged(_ what: String) -> DamagedRegistryRow { DamagedRegistryRow(key: rawName, reason: what) }
        guard let name = SessionName(rawValue: rawName) else { throw damaged("invalid name") }
        guard let status = SessionRecord.Status(rawValue: row.text(14) ?? "") else { throw damaged("unknown status") }
        func strings(_ column: Int32, _ label: String) throws(DamagedRegistryRow) -> [String] {
            let text = row.text(column) ?? "[]"
            if text == "[]" { return [] }
            guard let value = try? JSONValue.parse(text), let items = value.array else { throw damaged("bad \(label)") }
            var result: [String] = []
            result.reserveCapacity(items.count)
            for item in items {
                guard let string = item.string else { throw damaged("bad \(label)") }
                result.append(string)
            }
            return result
        }
        let configText = row.text(13) ?? "{}"
        let config: JSONValue
        if configText == "{}" {
            config = [:]
        } else {
            guard let parsed = try? JSONValue.parse(configText) else { throw damaged("bad config") }
            config = parsed
        }
        return SessionRecord(
            name: name,
            tmuxSession: row.text(1) ?? rawName,
            createdAt: Date(timeIntervalSince1970: row.double(2) ?? 0),
            updatedAt: Date(timeIntervalSince1970: row.double(3) ?? 0),
            lastResumedAt: row.double(4).map { Date(timeIntervalSince1970: $0) },
            image: row.text(5) ?? "",
            agentCommand: row.text(6) ?? "",
            memoryBytes: row.int64(7),
            nanoCPUs: row.int64(8),
            networkMode: row.text(9),
            mounts: try strings(10, "mounts"),
            environment: try strings(11, "environment"),
            workingDirectory: row.text(12),
            config: config,
            status: status,
            engine: row.text(15),
            agents: [])
    }

    private static func agent(
        from row: SQLiteStatement
    ) throws(DamagedRegistryRow) -> (session: String, agent: AgentRecord) {
        let session = row.text(0) ?? ""
        guard let role = AgentRole(rawValue: row.text(1) ?? "") else {
            throw DamagedRegistryRow(key: session, reason: "an agent has an invalid role \"\(row.text(1) ?? "")\"")
        }
        let agent = AgentRecord(
            role: role,
            containerName: row.text(3) ?? "",
            containerID: row.text(4),
            stateVolume: row.text(5) ?? "",
            model: row.text(6),
            tmuxWindow: row.text(7),
            position: Int(row.int64(2) ?? 0))
        return (session, agent)
    }
}
