/*
 * ccorc.h: the C interface of the ccorc driver (libccorc).
 *
 * Team sessions (one tmux session, one Docker container per agent, one registry entry) driven from
 * C or C++ without spawning the `ccorc` command. Build a client with
 *
 *     cc client.c $(pkg-config --cflags --libs ccorc)
 *
 * Conventions shared by every function:
 *
 * - Status. Every function that can fail returns a ccorc_status: CCORC_OK (0) on success, else one
 *   of the CCORC_ERR_ codes. When `error` is not NULL it receives the same code and a one-line,
 *   NUL-terminated message (truncated to fit, on a UTF-8 character boundary); on success its code is
 *   CCORC_OK and its message empty. `error` may always be NULL.
 * - Results. Results are JSON strings in UTF-8, allocated by the library and returned through a
 *   `char **` out-parameter. Release every one with ccorc_free(). The out-parameter is set to NULL
 *   first, so calling ccorc_free() on it after any call, whatever it returned, is always correct
 *   (ccorc_free(NULL) does nothing). The bulk calls (ccorc_launch, ccorc_stop) also return their
 *   per-name JSON when some names failed; the other calls return NULL on failure.
 * - Strings passed in are NUL-terminated UTF-8 and are only read during the call.
 * - Nothing in this library aborts the process on bad input or on a failure of the engine, tmux or
 *   the registry: every failure is a status code. NULL where a value is required is
 *   CCORC_ERR_INVALID_ARGUMENT.
 *
 * Threading: a handle may be used from any number of threads at once. Every call except
 * ccorc_close() may run concurrently with any other call on the same handle (its engine
 * connections, tmux control pipe and registry are shared safely, and concurrent launches of one name
 * have exactly one winner). ccorc_close() must not overlap any other call on that handle, and the
 * handle must not be used after it. Calls block the calling thread until they finish (ccorc_watch()
 * until ccorc_watch_stop()); they must not be made from inside a Swift concurrency task (Swift programs use the CCOrcKit library
 * directly). ccorc_version(), ccorc_status_name(), ccorc_free() and the *_init() functions take
 * no handle and are safe from any thread.
 *
 * The header is C99 and C++ clean; no type of the implementation language appears in it.
 */
#ifndef CCORC_H
#define CCORC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this header; ccorc_version() returns the library's. */
#define CCORC_VERSION "0.3.0"

/** Outcome of a call. New codes may be added; treat unknown non-zero codes as failures. */
typedef enum ccorc_status {
    CCORC_OK = 0,
    /** A NULL, malformed or out-of-range argument: a session name, role, mount, limit or option. */
    CCORC_ERR_INVALID_ARGUMENT = 1,
    /** No such session, container, image or tmux target. */
    CCORC_ERR_NOT_FOUND = 2,
    /** A session of that name is already registered (or being launched). */
    CCORC_ERR_ALREADY_EXISTS = 3,
    /** The engine or tmux refused because of the current state (a name in use, a foreign tmux session). */
    CCORC_ERR_CONFLICT = 4,
    /** Nothing answers on the engine's socket. */
    CCORC_ERR_ENGINE_UNREACHABLE = 5,
    /** Any other engine failure; the message carries the engine's own text. */
    CCORC_ERR_ENGINE = 6,
    /** tmux failed (no server, a broken control pipe, a command tmux rejected). */
    CCORC_ERR_TMUX = 7,
    /** The SQLite registry failed (locked, corrupt, unwritable, newer schema). */
    CCORC_ERR_REGISTRY = 8,
    /** A session operation failed at a step (creating containers, containers missing on resume). */
    CCORC_ERR_SESSION = 9,
    /** This build of the library does not provide the operation. */
    CCORC_ERR_UNSUPPORTED = 10,
    /** Anything else; the message says what. */
    CCORC_ERR_INTERNAL = 11
} ccorc_status;

/** Capacity of ccorc_error.message, including the terminating NUL. */
#define CCORC_ERROR_MESSAGE_SIZE 1024

/** A call's error: its code and a one-line message. Owned by the caller (no allocation). */
typedef struct ccorc_error {
    ccorc_status code;
    char message[CCORC_ERROR_MESSAGE_SIZE];
} ccorc_error;

/** An open connection to one engine, one tmux server and one registry. Opaque. */
typedef struct ccorc_handle ccorc_handle;

/**
 * How to open a handle. Initialize with ccorc_options_init(), then set what differs; a NULL field
 * takes the default shown, which follows the same environment variables as the `ccorc` command.
 */
typedef struct ccorc_options {
    /** sizeof(ccorc_options), set by ccorc_options_init(). */
    size_t size;
    /** The current engine, as DOCKER_HOST would name it: "unix:///path/docker.sock", an absolute socket path or
     *  "tcp://HOST:PORT" (TLS from $DOCKER_TLS_VERIFY and $DOCKER_CERT_PATH). NULL: $DOCKER_HOST, else the current docker
     *  context, else /var/run/docker.sock. Sessions on other engines are reached through their docker contexts. */
    const char *engine_host;
    /** A tmux server name (tmux -L). NULL: $CCORC_TMUX_SERVER, else the default server (unless tmux_socket is set). */
    const char *tmux_server;
    /** A tmux socket path (tmux -S); wins over tmux_server. NULL: $CCORC_TMUX_SOCKET. */
    const char *tmux_socket;
    /** The registry directory (holds registry.db). NULL: $CCORC_HOME, else ~/.ccorc. */
    const char *home;
    /** The ccdk executable each agent's tmux window runs. NULL: "ccdk", looked up on tmux's PATH. */
    const char *ccdk_path;
} ccorc_options;

/**
 * How to launch sessions. Initialize with ccorc_launch_options_init(); a NULL field takes the
 * default shown (unlike the `ccorc` command, no environment variable is consulted).
 */
typedef struct ccorc_launch_options {
    /** sizeof(ccorc_launch_options), set by ccorc_launch_options_init(). */
    size_t size;
    /** Agent roles, one container and tmux window each. NULL or 0: leader, researcher, writer. */
    const char *const *roles;
    size_t role_count;
    /** The image every agent runs. NULL: "ccorc-agent:latest". */
    const char *image;
    /** The command each agent window runs in its container (through sh -c). NULL: "claude". */
    const char *agent_command;
    /** Memory limit per container, e.g. "512m", "4g". NULL: unlimited. */
    const char *memory;
    /** CPU limit per container, e.g. "0.5", "2". NULL: unlimited. */
    const char *cpus;
    /** Extra mounts, "SOURCE:/path[:ro]". */
    const char *const *mounts;
    size_t mount_count;
    /** Extra environment, "KEY=VALUE". */
    const char *const *environment;
    size_t environment_count;
    /** The containers' working directory. NULL: the image's. */
    const char *working_directory;
    /** The containers' network mode, e.g. "none". NULL: the engine's default. */
    const char *network_mode;
    /** Where each agent's state volume is mounted. NULL: "~/.claude" of the image's user (its
        HOME, else its home in the image's /etc/passwd, else /root). */
    const char *state_directory;
    /** Non-zero: replace a tmux session of the same name that ccorc does not track. */
    int force;
} ccorc_launch_options;

/** What ccorc_cleanup() removes. Initialize with ccorc_cleanup_options_init(). */
typedef struct ccorc_cleanup_options {
    /** sizeof(ccorc_cleanup_options), set by ccorc_cleanup_options_init(). */
    size_t size;
    /** Session names to remove. */
    const char *const *names;
    size_t name_count;
    /** Glob patterns ("feature-*") matched against registered session names. */
    const char *const *patterns;
    size_t pattern_count;
    /** Non-zero: only sessions none of whose containers is running. */
    int stopped_only;
    /** Non-zero: report what would be removed, remove nothing. */
    int dry_run;
    /** Non-zero: keep the agents' state volumes. */
    int keep_volumes;
    /* Added in 0.2.0. A caller built against 0.1.0 passes the older, smaller size: these fields
       then take their defaults. */
    /** Only sessions neither launched nor resumed for at least this many seconds (as `cleanup
        --older-than`); narrows the names and patterns, or selects by itself. 0: no age condition. */
    double older_than_seconds;
    /** Non-zero: the sessions with missing containers (within the names and patterns, if any),
        repaired by recreating those containers from the registry (as `cleanup --fix-broken`). */
    int fix_broken;
    /** With fix_broken: remove the broken sessions instead of repairing them (`--fix-broken --drop`). */
    int drop;
    /** Non-zero: also remove containers and volumes labelled by ccorc that no registered session
        claims (as `cleanup --orphans`); with names or patterns, only those whose session label
        they match. */
    int orphans;
    /** Engine requests in flight (as `cleanup --jobs`). 0: the default, 16. */
    int jobs;
} ccorc_cleanup_options;

/** How to import export files. Initialize with ccorc_import_options_init(). */
typedef struct ccorc_import_options {
    /** sizeof(ccorc_import_options), set by ccorc_import_options_init(). */
    size_t size;
    /** Non-zero: also create missing containers and volumes exactly as exported (`import --create`). */
    int create;
    /** Non-zero: replace the registry entries of names already registered (`import --force`). */
    int force;
} ccorc_import_options;

/* ---------------------------------------------------------------------------------------------- */
/* Library                                                                                        */

/** The library's version, e.g. "0.3.0". A static string: do not free it. */
const char *ccorc_version(void);

/** The name of a status code, e.g. "CCORC_ERR_NOT_FOUND"; "CCORC_ERR_UNKNOWN" for others. Static. */
const char *ccorc_status_name(ccorc_status status);

/** Frees a string the library returned. NULL does nothing. */
void ccorc_free(char *string);

/** Sets every field of `options` to its default (NULL, 0) and `size` to sizeof(ccorc_options). */
void ccorc_options_init(ccorc_options *options);

/** Sets every field of `options` to its default (NULL, 0) and `size` to sizeof(ccorc_launch_options). */
void ccorc_launch_options_init(ccorc_launch_options *options);

/** Sets every field of `options` to its default (NULL, 0) and `size` to sizeof(ccorc_cleanup_options). */
void ccorc_cleanup_options_init(ccorc_cleanup_options *options);

/** Sets every field of `options` to its default (0) and `size` to sizeof(ccorc_import_options). */
void ccorc_import_options_init(ccorc_import_options *options);

/* ---------------------------------------------------------------------------------------------- */
/* Handles                                                                                        */

/**
 * Opens a handle: validates the options and opens (or creates) the registry. The engine and tmux
 * are contacted lazily, by the first call that needs them. The registry directory is made (or
 * tightened to) mode 0700 and registry.db with its -wal and -shm 0600; what cannot be tightened
 * is left as it is, with one "ccorc: warning:" line on stderr.
 *
 * @param options  NULL for every default.
 * @param handle   receives the handle (NULL on failure); close it with ccorc_close().
 */
ccorc_status ccorc_open(const ccorc_options *options, ccorc_handle **handle, ccorc_error *error);

/** Closes a handle: its tmux control pipe and engine connections. NULL does nothing. */
void ccorc_close(ccorc_handle *handle);

/* ---------------------------------------------------------------------------------------------- */
/* Sessions                                                                                       */

/**
 * Every registered session with its live state: `{"sessions": [SESSION...]}`, plus
 * `"orphans": [CONTAINER...]` (containers labelled by ccorc that no session claims) when
 * `include_orphans` is non-zero. The same JSON as `ccorc list --json [--all]`.
 *
 * SESSION is {"name", "status" ("ready" | "launching": the registry row's), "condition" ("running" |
 * "stopped" | "partlyRunning" | "broken" | "launching": what the session is, as `ccorc list` says
 * it), "created", "updated", "lastResumed" (RFC 3339 or null), "image", "agentCommand" (secrets masked, as everywhere ccorc shows
 * them; see the README's Secrets), "memory", "nanoCpus" (numbers or null), "running", "total",
 * "tmux" ({"id", "windows", "attached"} or null), "agents": [{"role", "container", "containerId",
 * "state" ("running" | "stopped" | "missing" | ...), "volume", "window"}]}.
 *
 * A registry row that cannot be decoded is left out of "sessions" and listed in
 * `"warnings": [{"row", "reason", "message", "fix"}]` (present only when there is one); "fix" is
 * the `ccorc forget` command that drops it.
 */
ccorc_status ccorc_list_sessions(ccorc_handle *handle, int include_orphans, char **sessions_json, ccorc_error *error);

/**
 * One session in detail: SESSION with "panes" ([{"id", "window", "pid", "dead", "exitStatus",
 * "command"}]) and "volumes" added, as `ccorc info NAME --json`. CCORC_ERR_NOT_FOUND when no session
 * of that name is registered.
 */
ccorc_status ccorc_session_info(ccorc_handle *handle, const char *name, char **session_json, ccorc_error *error);

/**
 * Launches sessions, several names concurrently: each claims its name in the registry, creates and
 * starts one container (with a state volume) per agent and opens a tmux session with one window per
 * agent. A launch that fails removes everything it made.
 *
 * @param options  NULL for the defaults.
 * @param result_json  `{"launched": [NAME...], "failed": [{"name", "code", "message"}...]}`, set
 *                 whenever the launches ran, also when some failed.
 * @return CCORC_OK when every name launched; else the code and message of the first failure (an
 *         invalid option fails before anything is made, with no result).
 */
ccorc_status ccorc_launch(ccorc_handle *handle, const char *const *names, size_t name_count,
                          const ccorc_launch_options *options, char **result_json, ccorc_error *error);

/**
 * Brings a stopped session back: starts its stopped containers and recreates its tmux session if
 * tmux lost it, or else reopens the agent windows it lacks, in the agents' order. Returns the session's SESSION JSON. CCORC_ERR_SESSION when containers are missing.
 */
ccorc_status ccorc_resume(ccorc_handle *handle, const char *name, char **session_json, ccorc_error *error);

/**
 * Stops sessions: closes their tmux sessions unless `keep_tmux` is non-zero, then stops all their
 * containers at once (they persist, with their volumes).
 *
 * @param timeout_seconds  grace period before a container is killed; negative: the engine's default.
 * @param result_json  `{"stopped": [NAME...], "failed": [{"name", "code", "message"}...]}`, set
 *                     whenever the stop ran, also when some names failed.
 * @return CCORC_OK when every session stopped; else the code and message of the first failure.
 */
ccorc_status ccorc_stop(ccorc_handle *handle, const char *const *names, size_t name_count, int timeout_seconds,
                        int keep_tmux, char **result_json, ccorc_error *error);

/**
 * Health of sessions: of every registered session when `name_count` is 0, else of the named ones.
 * Returns a JSON health report, as `ccorc health --json`: each session's "verdict" is "healthy",
 * "stopped" (stopped on purpose: no issue), "degraded" or "broken", the report's the worst of them
 * with "stopped" ranked below "healthy".
 */
ccorc_status ccorc_health(ccorc_handle *handle, const char *const *names, size_t name_count, char **report_json,
                          ccorc_error *error);

/**
 * Removes sessions (containers, tmux sessions, registry entries and, unless keep_volumes, state
 * volumes) chosen by name, by pattern, stopped-only and/or older-than; repairs (or, with drop,
 * removes) broken sessions with fix_broken; removes orphans with orphans. Returns a JSON summary of
 * what was (or, with dry_run, would be) done: the plan of `ccorc cleanup --dry-run --json`
 * (`{"sessions": [{"name", "action" ("remove" | "repair"), "running", "containers", "volumes",
 * "tmux", "disk", "missing", "blocker", "legacyContainers"}], "orphans": {"containers",
 * "volumes"}, "unknown", "skipped": [{"name", "reason"}], "totals": {...}}`), or the report of
 * `ccorc cleanup --yes --json` (`{"results": [{"subject" ("session" | "container" | "volume"),
 * "name", "outcome" ("removed" | "repaired" | "skipped" | "failed"), "detail", "containers",
 * "volumes"}], "counts": {"removed", "repaired", "skipped", "failed", "containers", "volumes"},
 * "interrupted", "seconds"}`). CCORC_ERR_INVALID_ARGUMENT when nothing is selected, for drop
 * without fix_broken, a negative older_than_seconds or jobs, or a size no header ever had. An
 * unknown name fails the call before anything changes. When some sessions fail, the summary is
 * still returned and the status is that of the first failure, as for ccorc_launch() and
 * ccorc_stop().
 */
ccorc_status ccorc_cleanup(ccorc_handle *handle, const ccorc_cleanup_options *options, char **summary_json,
                           ccorc_error *error);

/* ---------------------------------------------------------------------------------------------- */
/* Backup and recovery                                                                            */

/**
 * Exports sessions, as `ccorc export [NAME...|--all]` prints them: `{"format": "ccorc-export",
 * "schemaVersion": 1, "exportedAt" (RFC 3339), "secretsMasked", "sessions": [EXPORT...]}` with
 * EXPORT {"name", "registry" (the registry row: "name", "tmuxSession", "createdAt", "updatedAt",
 * "lastResumedAt" (unix seconds or null), "image", "agentCommand", "memoryBytes", "nanoCpus",
 * "networkMode", "mounts", "environment", "workingDirectory", "config", "status", "agents":
 * [{"role", "containerName", "containerId", "stateVolume", "model", "tmuxWindow", "position"}]),
 * "containers": [{"role", "name", "missing", and unless missing "id", "config" (the engine's:
 * "image", "cmd", "entrypoint", "env", "labels", "workingDir", "user", "tty", "openStdin",
 * "stdinOnce", "memory", "memorySwap", "nanoCpus", "networkMode", "binds", "mounts",
 * "restartPolicy") and "live" ("state", "exitCode", "oomKilled", "startedAt", "finishedAt",
 * "restartCount")}], "volumes": [{"name", "missing", and unless missing "driver", "labels"}],
 * "tmux" ({"session", "id", "windows"} or null)}. Written to a file, it is what ccorc_import() and
 * `ccorc import` read.
 *
 * @param names, name_count  the sessions; none (0): every registered session (damaged registry
 *                 rows are left out).
 * @param include_secrets  non-zero: secret values (environment, agent command, cmd, entrypoint,
 *                 labels) in clear; else masked as "<masked>", as `ccorc export` does without
 *                 --include-secrets. A masked export can be imported, but not with create.
 * @return CCORC_ERR_NOT_FOUND for a name that is not registered.
 */
ccorc_status ccorc_export(ccorc_handle *handle, const char *const *names, size_t name_count, int include_secrets,
                          char **export_json, ccorc_error *error);

/**
 * Registers the sessions of export files (written from ccorc_export() or `ccorc export`), as
 * `ccorc import FILE...`. Every file is read and checked before anything changes, and the import
 * is all or nothing.
 *
 * @param paths, path_count  the export files; at least one.
 * @param options  NULL for the defaults (register only; an existing name is refused).
 * @param result_json  `{"imported": [{"name", "replaced" (an existing entry was replaced: force),
 *                 "createdContainers": [NAME...], "createdVolumes": [NAME...] (made by create),
 *                 "warnings": [TEXT...]}]}`.
 * @return CCORC_ERR_NOT_FOUND for a file that does not exist; CCORC_ERR_INVALID_ARGUMENT for one
 *         that cannot be read or is not a ccorc export (the message names the file and why);
 *         CCORC_ERR_ALREADY_EXISTS for a registered name without force, or with create a
 *         container name held by another session; CCORC_ERR_SESSION for create from an export
 *         with masked secrets, or a container that could not be made.
 */
ccorc_status ccorc_import(ccorc_handle *handle, const char *const *paths, size_t path_count,
                          const ccorc_import_options *options, char **result_json, ccorc_error *error);

/**
 * Rebuilds the registry entries of sessions whose containers or volumes carry ccorc's labels and
 * that the registry lacks, as `ccorc recover [--dry-run]`; an existing entry is never overwritten.
 * Every labelled container on the engine counts, also those of sessions in other registries.
 *
 * @param dry_run  non-zero: report what would be added, add nothing.
 * @param report_json  `{"sessions": [{"name", "added" (false on a dry run, or when another process
 *                 registered the name meanwhile), "image", "tmuxSession", "agents": [{"role",
 *                 "container", "volume"}], "notes": [TEXT...]}], "alreadyRegistered": [NAME...],
 *                 "skipped": [{"label", "reason"}]}`, and `"warnings": [{"row", "reason",
 *                 "message", "fix"}]` when damaged registry rows were found.
 */
ccorc_status ccorc_recover(ccorc_handle *handle, int dry_run, char **report_json, ccorc_error *error);

/* ---------------------------------------------------------------------------------------------- */
/* Watching                                                                                       */

/**
 * Receives one change of a watch: `change_json` is one JSON object, NUL-terminated, valid only
 * until the callback returns (copy what you keep; do not free it). `user_data` is ccorc_watch()'s.
 */
typedef void (*ccorc_watch_callback)(const char *change_json, void *user_data);

/**
 * Follows sessions as they change (added 0.3.0), as `ccorc watch --json` does: blocks the calling
 * thread and calls `callback` on that same thread, once per change, with the object that command
 * prints as one line: first `{"type": "snapshot", "sessions": [SESSION...]}`, then
 * `{"type": "session-added", "session": SESSION}`, `{"type": "session-removed", "name": NAME}`,
 * `{"type": "session-changed", "session": SESSION, "changed": [MEMBER...]}` (the members of
 * SESSION that differ) and `{"type": "resync", "source": "engine" | "tmux", "reason": TEXT}`
 * (after a lost connection; the changes it finds follow as their own objects), each with "time"
 * (RFC 3339, when the library received the change). SESSION is ccorc_list_sessions()'s with
 * "verdict" and "issues" of ccorc_health() added. Changes come from the engine's events, tmux's
 * notifications and the registry's change counter: while nothing happens no engine request is
 * sent. Changes that arrive while the callback runs are queued, in order, for the next calls.
 *
 * The call returns CCORC_OK after ccorc_watch_stop() (see there), and no callback of it runs once
 * it has returned. It fails without calling `callback` for a bad argument or when the first
 * snapshot cannot be read (a registry error, CCORC_ERR_ENGINE_UNREACHABLE, a tmux failure), and
 * with the error's status when the watch fails later (after the changes before the failure were
 * delivered). A lost engine or tmux connection is not a failure: the watch reconnects and reports
 * a "resync".
 *
 * The callback may call any function of this library on the handle, ccorc_watch_stop() included
 * (the watch then ends as the callback returns: it is the last callback), but not ccorc_close().
 * Several watches may run on one handle at once, each on its own thread with its own filter and
 * callback; ccorc_watch_stop() ends all of them.
 *
 * @param filter  NULL or "": every registered session; else a glob pattern on session names
 *                ("feature-*": `*`, `?`, `[a-z]`, `[!x]`, `\` escapes), as `ccorc watch --pattern`.
 *                A malformed pattern (an unclosed `[`) is CCORC_ERR_INVALID_ARGUMENT.
 * @param callback  required: NULL is CCORC_ERR_INVALID_ARGUMENT.
 * @param user_data  passed to `callback` as it is; may be NULL.
 */
ccorc_status ccorc_watch(ccorc_handle *handle, const char *filter, ccorc_watch_callback callback, void *user_data,
                         ccorc_error *error);

/**
 * Ends every ccorc_watch() under way on `handle` (added 0.3.0); safe from any thread, from inside
 * a callback, and with a NULL handle (which does nothing). Each watch returns CCORC_OK once its
 * callback in progress, if any, returns; when the stop comes from another thread, a watch that
 * was just about to call back may still do so once. A watch counts as under way from the moment
 * its ccorc_watch() call begins (before its snapshot is read), so a stop made after its first
 * callback always reaches it. A stop is not remembered: with no watch under way it does nothing,
 * and a watch that begins afterwards runs until the next stop. A thread that must stop a watch
 * another thread is about to begin can call again while this returns 0.
 *
 * @return the number of watches asked to end: 0 when none was under way.
 */
int ccorc_watch_stop(ccorc_handle *handle);

/* ---------------------------------------------------------------------------------------------- */
/* Containers                                                                                     */

/**
 * The containers ccorc and ccdk manage, stopped ones too, sorted by name; every container on the
 * engine when `every` is non-zero. `[CONTAINER...]` with CONTAINER {"id", "name", "image", "state",
 * "status", "created", "labels", "session", "role"}, as `ccdk list --json [--every]`. "image" is a
 * name, also for session containers, which are created from the image's ID.
 */
ccorc_status ccorc_list_containers(ccorc_handle *handle, int every, char **containers_json, ccorc_error *error);

#ifdef __cplusplus
}
#endif

#endif /* CCORC_H */
