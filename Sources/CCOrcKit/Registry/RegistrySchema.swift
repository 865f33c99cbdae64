/// The registry's tables and the migrations between their versions.
///
/// `PRAGMA user_version` holds the version a database is at. Migration N (1-based) takes a
/// database from version N-1 to N; a new version only ever appends to `migrations`, so an older
/// database is brought forward step by step and a newer one is refused rather than misread.
enum RegistrySchema {
    /// The version this code writes and understands.
    static var currentVersion: Int { migrations.count }

    static let migrations: [String] = [
        // 1: sessions and their agents. Dates are unix seconds; `mounts`, `environment` and
        // `config` are JSON text (arrays of strings, and an object).
        """
        CREATE TABLE sessions (
            name              TEXT PRIMARY KEY NOT NULL,
            tmux_session      TEXT NOT NULL,
            created_at        REAL NOT NULL,
            updated_at        REAL NOT NULL,
            last_resumed_at   REAL,
            image             TEXT NOT NULL,
            agent_command     TEXT NOT NULL,
            memory_bytes      INTEGER,
            nano_cpus         INTEGER,
            network_mode      TEXT,
            mounts            TEXT NOT NULL DEFAULT '[]',
            environment       TEXT NOT NULL DEFAULT '[]',
            working_directory TEXT,
            config            TEXT NOT NULL DEFAULT '{}',
            status            TEXT NOT NULL CHECK (status IN ('launching', 'ready'))
        ) WITHOUT ROWID;
        CREATE TABLE agents (
            session        TEXT NOT NULL REFERENCES sessions (name) ON DELETE CASCADE,
            role           TEXT NOT NULL,
            position       INTEGER NOT NULL,
            container_name TEXT NOT NULL,
            container_id   TEXT,
            state_volume   TEXT NOT NULL,
            model          TEXT,
            tmux_window    TEXT,
            PRIMARY KEY (session, role)
        ) WITHOUT ROWID;
        """,
        // 2: the engine (docker context name) that holds each session's containers; NULL for
        // sessions registered before engines had names: they live on the current engine.
        "ALTER TABLE sessions ADD COLUMN engine TEXT;",
    ]

    static let sessionColumns = """
        name, tmux_session, created_at, updated_at, last_resumed_at, image, agent_command, memory_bytes, \
        nano_cpus, network_mode, mounts, environment, working_directory, config, status, engine
        """
    static let agentColumns = "session, role, position, container_name, container_id, state_volume, model, tmux_window"

    static let insertSession =
        "INSERT INTO sessions (\(sessionColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    static let insertSessionIfAbsent = insertSession + " ON CONFLICT (name) DO NOTHING"
    static let updateSession = """
        UPDATE sessions SET tmux_session = ?2, created_at = ?3, updated_at = ?4, last_resumed_at = ?5, image = ?6, \
        agent_command = ?7, memory_bytes = ?8, nano_cpus = ?9, network_mode = ?10, mounts = ?11, environment = ?12, \
        working_directory = ?13, config = ?14, status = ?15, engine = ?16 WHERE name = ?1
        """
    static let insertAgent = "INSERT INTO agents (\(agentColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    static let deleteAgents = "DELETE FROM agents WHERE session = ?1"
    static let sessionExists = "SELECT 1 FROM sessions WHERE name = ?1"
    static let selectSession = "SELECT \(sessionColumns) FROM sessions WHERE name = ?1"
    static let selectAgentsOfSession = "SELECT \(agentColumns) FROM agents WHERE session = ?1 ORDER BY position, role"
    static let selectAllSessions = "SELECT \(sessionColumns) FROM sessions ORDER BY name"
    static let selectAllAgents = "SELECT \(agentColumns) FROM agents ORDER BY session, position, role"
    static let selectEngines = "SELECT DISTINCT engine FROM sessions"
    static let deleteSession = "DELETE FROM sessions WHERE name = ?1"
    static let deleteLaunchingSession = "DELETE FROM sessions WHERE name = ?1 AND status = 'launching'"
    static let markResumed = "UPDATE sessions SET last_resumed_at = ?2, updated_at = ?2 WHERE name = ?1"
    static let touchSession = "UPDATE sessions SET updated_at = ?2 WHERE name = ?1"
}
