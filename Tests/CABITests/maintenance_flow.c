/*
 * The C ABI's backup, recovery and cleanup calls end to end, against the real engine and a private
 * tmux server: ccorc_export of a launched session, ccorc_import of it into a second registry (with
 * create, then with force over the entry it made) and of bad files, ccorc_recover (a dry run, then
 * for real) of a registry row deleted behind ccorc's back, and ccorc_cleanup's older_than_seconds,
 * orphans, fix_broken, drop and jobs, with an options struct of the older, smaller size. Every
 * field of every JSON result is checked; any mismatch is reported with its line and the program
 * exits 1.
 *
 * Usage: maintenance_flow PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE
 * (the engine is $DOCKER_HOST or /var/run/docker.sock). Everything it makes is named PREFIX-...;
 * its cleanups are all scoped to those names, since ccorc_recover also registers the labelled
 * sessions of other registries on the same engine.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <ccorc.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checks.h"

/* A call that must fail with `expected`, no result and a message containing `words`. */
#define CHECK_FAILS(call, expected, result, error, words)                                       \
    do {                                                                                        \
        ccorc_status status_ = (call);                                                          \
        if (status_ != (expected)) {                                                            \
            fprintf(stderr, "%s:%d: %s returned %s, not %s: %s\n", __FILE__, __LINE__, #call,   \
                    ccorc_status_name(status_), ccorc_status_name(expected), (error).message);  \
            failures++;                                                                         \
        }                                                                                       \
        CHECK((error).code == (expected) && strstr((error).message, (words)) != NULL);          \
        CHECK((result) == NULL);                                                                \
    } while (0)

/* The ccorc_cleanup_options of ccorc.h 0.1.0, before older_than_seconds and the fields after it. */
struct cleanup_options_0_1 {
    size_t size;
    const char *const *names;
    size_t name_count;
    const char *const *patterns;
    size_t pattern_count;
    int stopped_only;
    int dry_run;
    int keep_volumes;
};

static int is_null(json_t *value, const char *key) { return json_is_null(json_object_get(value, key)); }

/* Whether `value` is an object with exactly `count` members (so that no field goes unchecked). */
static int has_members(json_t *value, size_t count) { return json_is_object(value) && json_object_size(value) == count; }

/* Whether `array` is exactly the strings given (NULL-terminated list). */
static int strings_are(json_t *array, const char *const *expected) {
    size_t index = 0;
    if (!json_is_array(array)) return 0;
    for (; expected[index] != NULL; index++) {
        const char *actual = json_string_value(json_array_get(array, index));
        if (actual == NULL || strcmp(actual, expected[index]) != 0) return 0;
    }
    return json_array_size(array) == index;
}
#define STRINGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_STRINGS ((const char *const[]){NULL})

/* Whether the array of strings holds `expected`. */
static int strings_contain(json_t *array, const char *expected) {
    size_t index;
    json_t *item;
    json_array_foreach(array, index, item) {
        if (json_is_string(item) && strcmp(json_string_value(item), expected) == 0) return 1;
    }
    return 0;
}

/* The element of `array` whose "name" (or `key`) is `name`, or NULL. Borrowed. */
static json_t *find_by(json_t *array, const char *key, const char *name) {
    size_t index;
    json_t *item;
    json_array_foreach(array, index, item) {
        if (string_is(item, key, name)) return item;
    }
    return NULL;
}

static void pause_seconds(double seconds) {
    struct timespec pause;
    pause.tv_sec = (time_t)seconds;
    pause.tv_nsec = (long)((seconds - (double)pause.tv_sec) * 1e9);
    nanosleep(&pause, NULL);
}

static void write_file(const char *path, const char *text) {
    FILE *file = fopen(path, "w");
    CHECK(file != NULL);
    if (file == NULL) return;
    CHECK(fputs(text, file) >= 0);
    CHECK(fclose(file) == 0);
}

/* Removes a container with the engine's API behind ccorc's back (curl on the engine's socket). */
static void remove_container_behind_ccorc(const char *name) {
    const char *host = getenv("DOCKER_HOST");
    const char *socket = host != NULL && strncmp(host, "unix://", 7) == 0 ? host + 7 : "/var/run/docker.sock";
    char command[1024];
    snprintf(command, sizeof command,
             "curl -sf -o /dev/null -X DELETE --unix-socket '%s' 'http://localhost/containers/%s?force=1&v=1'", socket, name);
    CHECK(system(command) == 0);
}

/* Deletes a session's registry row behind ccorc's back, as a lost or damaged registry would. */
static void delete_registry_row(const char *home, const char *name) {
    char path[4096];
    sqlite3 *database = NULL;
    sqlite3_stmt *statement = NULL;
    const char *const sql[] = {"DELETE FROM agents WHERE session = ?1", "DELETE FROM sessions WHERE name = ?1"};
    size_t index;
    snprintf(path, sizeof path, "%s/registry.db", home);
    CHECK(sqlite3_open(path, &database) == SQLITE_OK);
    sqlite3_busy_timeout(database, 5000);
    for (index = 0; index < 2; index++) {
        CHECK(sqlite3_prepare_v2(database, sql[index], -1, &statement, NULL) == SQLITE_OK);
        sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);
        CHECK(sqlite3_step(statement) == SQLITE_DONE);
        CHECK(sqlite3_changes(database) >= 1);
        sqlite3_finalize(statement);
    }
    sqlite3_close(database);
}

/* Whether the label object {"K": "V"...} holds K with value V. */
static int has_label(json_t *labels, const char *key, const char *value) {
    const char *found = json_string_value(json_object_get(labels, key));
    return found != NULL && strcmp(found, value) == 0;
}

/* The value of label `key` in a {"K": "V"...} object, or NULL. Borrowed. */
static const char *label_value(json_t *labels, const char *key) {
    return json_string_value(json_object_get(labels, key));
}

/* The session `name` in a ccorc_list_sessions result on `handle`, as a new reference, or NULL. */
static json_t *listed_session(ccorc_handle *handle, const char *name) {
    ccorc_error error;
    char *text = NULL;
    json_t *listing, *session;
    CHECK_OK(ccorc_list_sessions(handle, 0, &text, &error), error);
    listing = PARSE(text);
    session = find_by(json_object_get(listing, "sessions"), "name", name);
    if (session != NULL) json_incref(session);
    json_decref(listing);
    return session;
}

/* The one ccorc_export session of the launched session `name` (one agent, "leader"). */
static void check_exported_session(json_t *session, const char *name, const char *image, int secrets) {
    char container[256], volume[256];
    const char *token = secrets ? "API_TOKEN=s3cret" : "API_TOKEN=<masked>";
    json_t *registry = json_object_get(session, "registry"), *agents, *agent, *containers, *entry, *config, *live;
    json_t *volumes, *volume_entry, *tmux, *mount, *restart;
    const char *created, *container_id;
    snprintf(container, sizeof container, "%s-leader", name);
    snprintf(volume, sizeof volume, "%s-leader-state", name);
    CHECK(has_members(session, 5));
    CHECK(string_is(session, "name", name));

    CHECK(has_members(registry, 16));
    CHECK(string_is(registry, "name", name));
    CHECK(string_is(registry, "tmuxSession", name));
    CHECK(json_is_number(json_object_get(registry, "createdAt")) && json_number_value(json_object_get(registry, "createdAt")) > 1.7e9);
    CHECK(json_is_number(json_object_get(registry, "updatedAt")) &&
          json_number_value(json_object_get(registry, "updatedAt")) >= json_number_value(json_object_get(registry, "createdAt")));
    CHECK(is_null(registry, "lastResumedAt"));
    CHECK(string_is(registry, "image", image));
    CHECK(string_is(registry, "agentCommand", "sh"));
    CHECK(int_is(registry, "memoryBytes", 67108864));
    CHECK(is_null(registry, "nanoCpus"));
    CHECK(string_is(registry, "networkMode", "none"));
    CHECK(strings_are(json_object_get(registry, "mounts"), NO_STRINGS));
    CHECK(strings_are(json_object_get(registry, "environment"), STRINGS("FOO=bar", token)));
    CHECK(string_is(registry, "workingDirectory", "/tmp"));
    config = json_object_get(registry, "config");
    CHECK(has_members(config, 1) && string_is(config, "stateDirectory", "/state"));
    CHECK(string_is(registry, "status", "ready"));
    agents = json_object_get(registry, "agents");
    CHECK(json_array_size(agents) == 1);
    agent = json_array_get(agents, 0);
    CHECK(has_members(agent, 7));
    CHECK(string_is(agent, "role", "leader"));
    CHECK(string_is(agent, "containerName", container));
    container_id = json_string_value(json_object_get(agent, "containerId"));
    CHECK(container_id != NULL && strlen(container_id) == 64);
    CHECK(string_is(agent, "stateVolume", volume));
    CHECK(is_null(agent, "model"));
    CHECK(string_is(agent, "tmuxWindow", "leader"));
    CHECK(int_is(agent, "position", 0));

    containers = json_object_get(session, "containers");
    CHECK(json_array_size(containers) == 1);
    entry = json_array_get(containers, 0);
    CHECK(has_members(entry, 6));
    CHECK(string_is(entry, "role", "leader"));
    CHECK(string_is(entry, "name", container));
    CHECK(json_is_false(json_object_get(entry, "missing")));
    CHECK(container_id != NULL && string_is(entry, "id", container_id));
    config = json_object_get(entry, "config");
    CHECK(has_members(config, 17));
    CHECK(string_is(config, "image", image));
    CHECK(strings_are(json_object_get(config, "cmd"),
                      STRINGS("sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done")));
    CHECK(is_null(config, "entrypoint"));
    CHECK(strings_contain(json_object_get(config, "env"), "FOO=bar"));
    CHECK(strings_contain(json_object_get(config, "env"), token));
    {
        char expected[300];
        snprintf(expected, sizeof expected, "CCORC_SESSION=%s", name);
        CHECK(strings_contain(json_object_get(config, "env"), expected));
        CHECK(strings_contain(json_object_get(config, "env"), "CCORC_ROLE=leader"));
    }
    {
        json_t *labels = json_object_get(config, "labels");
        const char *seconds = label_value(labels, "ccorc.created");
        created = label_value(labels, "ccorc.created-at");
        CHECK(has_label(labels, "ccorc.managed", "true"));
        CHECK(has_label(labels, "ccorc.session", name));
        CHECK(has_label(labels, "ccorc.role", "leader"));
        CHECK(has_label(labels, "ccorc.schema", "1"));
        CHECK(has_label(labels, "ccorc.agent-command", "sh"));
        CHECK(has_label(labels, "ccorc.state-dir", "/state"));
        CHECK(seconds != NULL && atof(seconds) > 1.7e9);
        CHECK(created != NULL && atof(created) == json_number_value(json_object_get(registry, "createdAt")));
        CHECK(has_label(labels, "ccorc.position", "0"));
        CHECK(has_label(labels, "ccorc.tmux-session", name));
        CHECK(has_label(labels, "ccorc.image", image));
        CHECK(has_label(labels, "ccorc.env-keys", "FOO,API_TOKEN"));
        CHECK(has_label(labels, "ccorc.workdir", "/tmp"));
    }
    CHECK(string_is(config, "workingDir", "/tmp"));
    CHECK(string_is(config, "user", ""));
    CHECK(json_is_true(json_object_get(config, "tty")));
    CHECK(json_is_true(json_object_get(config, "openStdin")));
    CHECK(json_is_false(json_object_get(config, "stdinOnce")));
    CHECK(int_is(config, "memory", 67108864));
    CHECK(int_is(config, "memorySwap", 2 * 67108864));
    CHECK(int_is(config, "nanoCpus", 0));
    CHECK(string_is(config, "networkMode", "none"));
    CHECK(is_null(config, "binds"));
    CHECK(json_array_size(json_object_get(config, "mounts")) == 1);
    mount = json_array_get(json_object_get(config, "mounts"), 0);
    CHECK(has_members(mount, 4));
    CHECK(string_is(mount, "type", "volume"));
    CHECK(string_is(mount, "source", volume));
    CHECK(string_is(mount, "target", "/state"));
    CHECK(json_is_false(json_object_get(mount, "readOnly")));
    restart = json_object_get(config, "restartPolicy");
    CHECK(has_members(restart, 2));
    CHECK(string_is(restart, "name", "no") || string_is(restart, "name", ""));
    CHECK(int_is(restart, "maximumRetryCount", 0));
    live = json_object_get(entry, "live");
    CHECK(has_members(live, 6));
    CHECK(string_is(live, "state", "running"));
    CHECK(int_is(live, "exitCode", 0));
    CHECK(json_is_false(json_object_get(live, "oomKilled")));
    CHECK(json_is_string(json_object_get(live, "startedAt")) && strncmp(json_string_value(json_object_get(live, "startedAt")), "20", 2) == 0);
    CHECK(is_null(live, "finishedAt"));
    CHECK(int_is(live, "restartCount", 0));

    volumes = json_object_get(session, "volumes");
    CHECK(json_array_size(volumes) == 1);
    volume_entry = json_array_get(volumes, 0);
    CHECK(has_members(volume_entry, 4));
    CHECK(string_is(volume_entry, "name", volume));
    CHECK(string_is(volume_entry, "driver", "local"));
    CHECK(has_label(json_object_get(volume_entry, "labels"), "ccorc.session", name));
    CHECK(has_label(json_object_get(volume_entry, "labels"), "ccorc.role", "leader"));
    CHECK(json_is_false(json_object_get(volume_entry, "missing")));

    tmux = json_object_get(session, "tmux");
    CHECK(has_members(tmux, 3));
    CHECK(string_is(tmux, "session", name));
    CHECK(json_is_string(json_object_get(tmux, "id")) && json_string_value(json_object_get(tmux, "id"))[0] == '$');
    CHECK(int_is(tmux, "windows", 1));
}

/* The export document around the sessions. */
static void check_export_document(json_t *document, int secrets, size_t sessions) {
    const char *exported = json_string_value(json_object_get(document, "exportedAt"));
    CHECK(has_members(document, 5));
    CHECK(string_is(document, "format", "ccorc-export"));
    CHECK(int_is(document, "schemaVersion", 1));
    CHECK(exported != NULL && strlen(exported) >= 20 && strncmp(exported, "20", 2) == 0 && exported[strlen(exported) - 1] == 'Z');
    CHECK(json_is_boolean(json_object_get(document, "secretsMasked")) &&
          json_is_true(json_object_get(document, "secretsMasked")) == !secrets);
    CHECK(json_array_size(json_object_get(document, "sessions")) == sessions);
}

/* One {"imported": [...]} entry. */
static void check_imported(json_t *result, const char *name, int replaced, const char *const *containers,
                           const char *const *volumes, const char *warning) {
    json_t *imported = json_object_get(result, "imported"), *entry;
    CHECK(has_members(result, 1));
    CHECK(json_array_size(imported) == 1);
    entry = json_array_get(imported, 0);
    CHECK(has_members(entry, 5));
    CHECK(string_is(entry, "name", name));
    CHECK(json_is_boolean(json_object_get(entry, "replaced")) && json_is_true(json_object_get(entry, "replaced")) == replaced);
    CHECK(strings_are(json_object_get(entry, "createdContainers"), containers));
    CHECK(strings_are(json_object_get(entry, "createdVolumes"), volumes));
    if (warning == NULL) {
        CHECK(strings_are(json_object_get(entry, "warnings"), NO_STRINGS));
    } else {
        json_t *warnings = json_object_get(entry, "warnings");
        CHECK(json_array_size(warnings) == 1 && json_is_string(json_array_get(warnings, 0)) &&
              strstr(json_string_value(json_array_get(warnings, 0)), warning) != NULL);
    }
}

/* One item of a cleanup plan: name, action, running count, container and volume names, tmux
 * session (NULL: none), missing containers. */
static void check_plan_item(json_t *item, const char *name, const char *action, json_int_t running, const char *const *containers,
                            const char *const *volumes, const char *tmux, const char *const *missing) {
    CHECK(has_members(item, 10));
    CHECK(string_is(item, "name", name));
    CHECK(string_is(item, "action", action));
    CHECK(int_is(item, "running", running));
    CHECK(strings_are(json_object_get(item, "containers"), containers));
    CHECK(strings_are(json_object_get(item, "volumes"), volumes));
    CHECK(tmux == NULL ? is_null(item, "tmux") : string_is(item, "tmux", tmux));
    CHECK(is_null(item, "disk"));
    CHECK(strings_are(json_object_get(item, "missing"), missing));
    CHECK(is_null(item, "blocker"));
    CHECK(strings_are(json_object_get(item, "legacyContainers"), NO_STRINGS));
}

/* The rest of a plan: orphans, unknown, skipped, totals (sessions, containers, volumes, tmux). */
static void check_plan(json_t *plan, size_t items, const char *const *orphan_containers, const char *const *orphan_volumes,
                       json_int_t containers, json_int_t volumes, json_int_t tmux) {
    json_t *orphans = json_object_get(plan, "orphans"), *totals = json_object_get(plan, "totals");
    CHECK(has_members(plan, 5));
    CHECK(json_array_size(json_object_get(plan, "sessions")) == items);
    CHECK(has_members(orphans, 2));
    CHECK(strings_are(json_object_get(orphans, "containers"), orphan_containers));
    CHECK(strings_are(json_object_get(orphans, "volumes"), orphan_volumes));
    CHECK(strings_are(json_object_get(plan, "unknown"), NO_STRINGS));
    CHECK(json_is_array(json_object_get(plan, "skipped")) && json_array_size(json_object_get(plan, "skipped")) == 0);
    CHECK(has_members(totals, 5));
    CHECK(int_is(totals, "sessions", (json_int_t)items));
    CHECK(int_is(totals, "containers", containers));
    CHECK(int_is(totals, "volumes", volumes));
    CHECK(int_is(totals, "tmux", tmux));
    CHECK(is_null(totals, "disk"));
}

/* One result of a cleanup report; `detail` NULL for null, else a word its text (or first note) holds. */
static void check_result(json_t *result, const char *subject, const char *name, const char *outcome, const char *detail,
                         json_int_t containers, json_int_t volumes) {
    json_t *value = json_object_get(result, "detail");
    CHECK(has_members(result, 6));
    CHECK(string_is(result, "subject", subject));
    CHECK(string_is(result, "name", name));
    CHECK(string_is(result, "outcome", outcome));
    if (detail == NULL) {
        CHECK(json_is_null(value));
    } else {
        if (json_is_array(value)) value = json_array_get(value, 0);
        CHECK(json_is_string(value) && strstr(json_string_value(value), detail) != NULL);
    }
    CHECK(int_is(result, "containers", containers));
    CHECK(int_is(result, "volumes", volumes));
}

/* The counts, interrupted and seconds of a cleanup report. */
static void check_report(json_t *report, size_t results, json_int_t removed, json_int_t repaired, json_int_t containers,
                         json_int_t volumes) {
    json_t *counts = json_object_get(report, "counts");
    CHECK(has_members(report, 4));
    CHECK(json_array_size(json_object_get(report, "results")) == results);
    CHECK(has_members(counts, 6));
    CHECK(int_is(counts, "removed", removed));
    CHECK(int_is(counts, "repaired", repaired));
    CHECK(int_is(counts, "skipped", 0));
    CHECK(int_is(counts, "failed", 0));
    CHECK(int_is(counts, "containers", containers));
    CHECK(int_is(counts, "volumes", volumes));
    CHECK(json_is_false(json_object_get(report, "interrupted")));
    CHECK(json_is_number(json_object_get(report, "seconds")) && json_number_value(json_object_get(report, "seconds")) >= 0);
}

/* Launches `name` with one agent, "leader", as the export checks expect. */
static void launch_one(ccorc_handle *handle, const char *name, const char *image) {
    static const char *const roles[] = {"leader"};
    static const char *const environment[] = {"FOO=bar", "API_TOKEN=s3cret"};
    const char *names[1];
    ccorc_launch_options launch;
    ccorc_error error;
    char *text = NULL;
    json_t *value;
    ccorc_launch_options_init(&launch);
    launch.roles = roles;
    launch.role_count = 1;
    launch.image = image;
    launch.agent_command = "sh";
    launch.memory = "64m";
    launch.network_mode = "none";
    launch.environment = environment;
    launch.environment_count = 2;
    launch.working_directory = "/tmp";
    launch.state_directory = "/state";
    names[0] = name;
    CHECK_OK(ccorc_launch(handle, names, 1, &launch, &text, &error), error);
    value = PARSE(text);
    CHECK(strings_are(json_object_get(value, "launched"), STRINGS(name)));
    json_decref(value);
}

int main(int argc, char **argv) {
    const char *prefix, *image, *home;
    char name[200], old[200], container[256], volume[256], old_container[256], old_volume[256], pattern[256];
    char second_home[4096], masked_file[4096], full_file[4096], bad_file[4096], missing_file[4096];
    const char *names[1], *paths[1], *patterns[1];
    ccorc_options options;
    ccorc_import_options import;
    ccorc_cleanup_options cleanup;
    ccorc_handle *handle = NULL, *second = NULL;
    ccorc_error error;
    char *text = NULL;
    json_t *value, *item;

    if (argc != 6) {
        fprintf(stderr, "usage: %s PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE\n", argv[0]);
        return 2;
    }
    prefix = argv[1];
    home = argv[3];
    image = argv[5];
    snprintf(name, sizeof name, "%s-exp", prefix);
    snprintf(old, sizeof old, "%s-old", prefix);
    snprintf(container, sizeof container, "%s-leader", name);
    snprintf(volume, sizeof volume, "%s-leader-state", name);
    snprintf(old_container, sizeof old_container, "%s-leader", old);
    snprintf(old_volume, sizeof old_volume, "%s-leader-state", old);
    snprintf(pattern, sizeof pattern, "%s-*", prefix);
    snprintf(second_home, sizeof second_home, "%s/second", home);
    snprintf(masked_file, sizeof masked_file, "%s/masked.json", home);
    snprintf(full_file, sizeof full_file, "%s/full.json", home);
    snprintf(bad_file, sizeof bad_file, "%s/bad.json", home);
    snprintf(missing_file, sizeof missing_file, "%s/no-such-export.json", home);
    patterns[0] = pattern;

    /* Two handles on the one engine and tmux server, each with its own registry. */
    ccorc_options_init(&options);
    options.tmux_server = argv[2];
    options.home = home;
    options.ccdk_path = argv[4];
    CHECK_OK(ccorc_open(&options, &handle, &error), error);
    options.home = second_home;
    CHECK_OK(ccorc_open(&options, &second, &error), error);
    if (handle == NULL || second == NULL) return 1;

    /* ---- ccorc_export ---- */
    launch_one(handle, name, image);
    names[0] = name;
    CHECK_OK(ccorc_export(handle, names, 1, 0, &text, &error), error);
    write_file(masked_file, text);
    value = PARSE(text);
    check_export_document(value, 0, 1);
    check_exported_session(json_array_get(json_object_get(value, "sessions"), 0), name, image, 0);
    json_decref(value);
    /* Every session (the one), secrets in clear. */
    CHECK_OK(ccorc_export(handle, NULL, 0, 1, &text, &error), error);
    write_file(full_file, text);
    value = PARSE(text);
    check_export_document(value, 1, 1);
    check_exported_session(json_array_get(json_object_get(value, "sessions"), 0), name, image, 1);
    json_decref(value);
    names[0] = "no-such-session";
    CHECK_FAILS(ccorc_export(handle, names, 1, 0, &text, &error), CCORC_ERR_NOT_FOUND, text, error, "no-such-session");
    CHECK_FAILS(ccorc_export(handle, names, 1, 0, NULL, &error), CCORC_ERR_INVALID_ARGUMENT, text, error, "result");

    /* The session goes (jobs: one engine request at a time); its export stays. */
    ccorc_cleanup_options_init(&cleanup);
    names[0] = name;
    cleanup.names = names;
    cleanup.name_count = 1;
    cleanup.jobs = 1;
    CHECK_OK(ccorc_cleanup(handle, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_report(value, 1, 1, 0, 1, 1);
    check_result(json_array_get(json_object_get(value, "results"), 0), "session", name, "removed", NULL, 1, 1);
    json_decref(value);
    cleanup.jobs = -1;
    CHECK_FAILS(ccorc_cleanup(handle, &cleanup, &text, &error), CCORC_ERR_INVALID_ARGUMENT, text, error, "jobs");

    /* ---- ccorc_import ---- */
    /* Bad files: missing, not an export, no files, an options struct not initialized. */
    write_file(bad_file, "{\"sessions\": []}\n");
    paths[0] = missing_file;
    CHECK_FAILS(ccorc_import(second, paths, 1, NULL, &text, &error), CCORC_ERR_NOT_FOUND, text, error, "No such file");
    CHECK(strstr(error.message, missing_file) != NULL);
    paths[0] = bad_file;
    CHECK_FAILS(ccorc_import(second, paths, 1, NULL, &text, &error), CCORC_ERR_INVALID_ARGUMENT, text, error, "not a ccorc export");
    CHECK(strstr(error.message, bad_file) != NULL);
    CHECK_FAILS(ccorc_import(second, NULL, 0, NULL, &text, &error), CCORC_ERR_INVALID_ARGUMENT, text, error, "export file");
    memset(&import, 0, sizeof import);
    CHECK_FAILS(ccorc_import(second, paths, 1, &import, &text, &error), CCORC_ERR_INVALID_ARGUMENT, text, error,
                "ccorc_import_options_init");
    /* A masked export cannot recreate containers, and changes nothing. */
    ccorc_import_options_init(&import);
    import.create = 1;
    paths[0] = masked_file;
    CHECK_FAILS(ccorc_import(second, paths, 1, &import, &text, &error), CCORC_ERR_SESSION, text, error, "--include-secrets");
    value = listed_session(second, name);
    CHECK(value == NULL);
    json_decref(value);
    /* Into the fresh registry with create: the container and volume are made again, stopped. */
    paths[0] = full_file;
    CHECK_OK(ccorc_import(second, paths, 1, &import, &text, &error), error);
    value = PARSE(text);
    check_imported(value, name, 0, STRINGS(container), STRINGS(volume), NULL);
    json_decref(value);
    value = listed_session(second, name);
    CHECK(value != NULL && string_is(value, "condition", "stopped") && int_is(value, "total", 1) &&
          string_is(json_array_get(json_object_get(value, "agents"), 0), "state", "stopped"));
    json_decref(value);
    /* Again: refused without force; with force (and no create) the entry is replaced. */
    import.create = 0;
    CHECK_FAILS(ccorc_import(second, paths, 1, &import, &text, &error), CCORC_ERR_ALREADY_EXISTS, text, error, "already exists");
    import.force = 1;
    paths[0] = masked_file;
    CHECK_OK(ccorc_import(second, paths, 1, &import, &text, &error), error);
    value = PARSE(text);
    check_imported(value, name, 1, NO_STRINGS, NO_STRINGS, "API_TOKEN");
    json_decref(value);

    /* ---- ccorc_cleanup: orphans ---- */
    /* The first registry does not know the imported session: its container and volume are orphans
     * there. A dry run lists them, changes nothing; then they go. */
    ccorc_cleanup_options_init(&cleanup);
    cleanup.patterns = patterns;
    cleanup.pattern_count = 1;
    cleanup.orphans = 1;
    cleanup.dry_run = 1;
    CHECK_OK(ccorc_cleanup(handle, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_plan(value, 0, STRINGS(container), STRINGS(volume), 1, 1, 0);
    json_decref(value);
    /* ... and in the second, which has the session, there are none (the pattern selects the session). */
    CHECK_OK(ccorc_cleanup(second, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_plan(value, 1, NO_STRINGS, NO_STRINGS, 1, 1, 0);
    check_plan_item(json_array_get(json_object_get(value, "sessions"), 0), name, "remove", 0, STRINGS(container), STRINGS(volume),
                    NULL, NO_STRINGS);
    json_decref(value);

    /* ---- ccorc_recover ---- */
    /* The second registry loses the session's row behind ccorc's back. */
    delete_registry_row(second_home, name);
    value = listed_session(second, name);
    CHECK(value == NULL);
    json_decref(value);
    /* A dry run reports it and adds nothing. */
    CHECK_OK(ccorc_recover(second, 1, &text, &error), error);
    value = PARSE(text);
    CHECK(has_members(value, 3));
    item = find_by(json_object_get(value, "sessions"), "name", name);
    CHECK(item != NULL);
    if (item != NULL) {
        json_t *agent = json_array_get(json_object_get(item, "agents"), 0);
        CHECK(has_members(item, 6));
        CHECK(json_is_false(json_object_get(item, "added")));
        CHECK(string_is(item, "image", image));
        CHECK(string_is(item, "tmuxSession", name));
        CHECK(json_array_size(json_object_get(item, "agents")) == 1);
        CHECK(has_members(agent, 3));
        CHECK(string_is(agent, "role", "leader"));
        CHECK(string_is(agent, "container", container));
        CHECK(string_is(agent, "volume", volume));
        CHECK(strings_are(json_object_get(item, "notes"), NO_STRINGS));
    }
    /* Nothing of ours is registered there or skipped (other sessions on the engine may be). */
    CHECK(json_is_array(json_object_get(value, "alreadyRegistered")) && !strings_contain(json_object_get(value, "alreadyRegistered"), name));
    CHECK(json_is_array(json_object_get(value, "skipped")) && find_by(json_object_get(value, "skipped"), "label", name) == NULL);
    json_decref(value);
    value = listed_session(second, name);
    CHECK(value == NULL);
    json_decref(value);
    /* For real: the row is back, and a second run finds it registered. */
    CHECK_OK(ccorc_recover(second, 0, &text, &error), error);
    value = PARSE(text);
    item = find_by(json_object_get(value, "sessions"), "name", name);
    CHECK(item != NULL && json_is_true(json_object_get(item, "added")) && string_is(item, "image", image) &&
          strings_are(json_object_get(item, "notes"), NO_STRINGS));
    json_decref(value);
    value = listed_session(second, name);
    CHECK(value != NULL && string_is(value, "image", image) && string_is(value, "agentCommand", "sh") && int_is(value, "memory", 67108864) &&
          string_is(json_array_get(json_object_get(value, "agents"), 0), "container", container) &&
          string_is(json_array_get(json_object_get(value, "agents"), 0), "volume", volume));
    json_decref(value);
    CHECK_OK(ccorc_recover(second, 1, &text, &error), error);
    value = PARSE(text);
    CHECK(find_by(json_object_get(value, "sessions"), "name", name) == NULL);
    CHECK(strings_contain(json_object_get(value, "alreadyRegistered"), name));
    json_decref(value);

    /* ---- ccorc_cleanup: orphans for real, then fix_broken ---- */
    cleanup.dry_run = 0;
    CHECK_OK(ccorc_cleanup(handle, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_report(value, 2, 2, 0, 1, 1);
    item = find_by(json_object_get(value, "results"), "subject", "container");
    CHECK(item != NULL);
    if (item != NULL) check_result(item, "container", container, "removed", NULL, 1, 0);
    item = find_by(json_object_get(value, "results"), "subject", "volume");
    CHECK(item != NULL);
    if (item != NULL) check_result(item, "volume", volume, "removed", NULL, 0, 1);
    json_decref(value);
    /* The second registry's session is broken now: fix_broken plans, then makes, its container. */
    ccorc_cleanup_options_init(&cleanup);
    names[0] = name;
    cleanup.names = names;
    cleanup.name_count = 1;
    cleanup.fix_broken = 1;
    cleanup.dry_run = 1;
    CHECK_OK(ccorc_cleanup(second, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_plan(value, 1, NO_STRINGS, NO_STRINGS, 0, 0, 0);
    check_plan_item(json_array_get(json_object_get(value, "sessions"), 0), name, "repair", 0, NO_STRINGS, NO_STRINGS, NULL,
                    STRINGS(container));
    json_decref(value);
    cleanup.dry_run = 0;
    CHECK_OK(ccorc_cleanup(second, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_report(value, 1, 0, 1, 0, 0);
    check_result(json_array_get(json_object_get(value, "results"), 0), "session", name, "repaired", container, 0, 0);
    json_decref(value);
    value = listed_session(second, name);
    CHECK(value != NULL && string_is(json_array_get(json_object_get(value, "agents"), 0), "container", container) &&
          !string_is(json_array_get(json_object_get(value, "agents"), 0), "state", "missing"));
    json_decref(value);
    /* drop goes with fix_broken only. */
    cleanup.fix_broken = 0;
    cleanup.drop = 1;
    CHECK_FAILS(ccorc_cleanup(second, &cleanup, &text, &error), CCORC_ERR_INVALID_ARGUMENT, text, error, "fix_broken");
    /* Broken again, by the engine's API: fix_broken with drop removes the session instead. */
    remove_container_behind_ccorc(container);
    cleanup.fix_broken = 1;
    cleanup.dry_run = 1;
    CHECK_OK(ccorc_cleanup(second, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_plan(value, 1, NO_STRINGS, NO_STRINGS, 0, 1, 0);
    check_plan_item(json_array_get(json_object_get(value, "sessions"), 0), name, "remove", 0, NO_STRINGS, STRINGS(volume), NULL,
                    STRINGS(container));
    json_decref(value);
    cleanup.dry_run = 0;
    CHECK_OK(ccorc_cleanup(second, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_report(value, 1, 1, 0, 0, 1);
    check_result(json_array_get(json_object_get(value, "results"), 0), "session", name, "removed", NULL, 0, 1);
    json_decref(value);
    value = listed_session(second, name);
    CHECK(value == NULL);
    json_decref(value);

    /* ---- ccorc_cleanup: older_than_seconds, and the 0.1.0 struct ---- */
    launch_one(handle, old, image);
    ccorc_cleanup_options_init(&cleanup);
    names[0] = old;
    cleanup.names = names;
    cleanup.name_count = 1;
    cleanup.dry_run = 1;
    cleanup.older_than_seconds = 3600;
    CHECK_OK(ccorc_cleanup(handle, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_plan(value, 0, NO_STRINGS, NO_STRINGS, 0, 0, 0); /* launched just now: kept */
    json_decref(value);
    /* A caller of the older header passes its smaller size: the fields after it are not read. */
    CHECK(sizeof(struct cleanup_options_0_1) == offsetof(ccorc_cleanup_options, older_than_seconds));
    cleanup.size = sizeof(struct cleanup_options_0_1);
    CHECK_OK(ccorc_cleanup(handle, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_plan(value, 1, NO_STRINGS, NO_STRINGS, 1, 1, 1);
    check_plan_item(json_array_get(json_object_get(value, "sessions"), 0), old, "remove", 1, STRINGS(old_container),
                    STRINGS(old_volume), old, NO_STRINGS);
    json_decref(value);
    cleanup.size = sizeof(struct cleanup_options_0_1) - sizeof(size_t);
    CHECK_FAILS(ccorc_cleanup(handle, &cleanup, &text, &error), CCORC_ERR_INVALID_ARGUMENT, text, error, "ccorc_cleanup_options_init");
    cleanup.size = sizeof(ccorc_cleanup_options) + 8;
    CHECK_FAILS(ccorc_cleanup(handle, &cleanup, &text, &error), CCORC_ERR_INVALID_ARGUMENT, text, error, "ccorc_cleanup_options_init");
    cleanup.size = sizeof(ccorc_cleanup_options);
    cleanup.older_than_seconds = -1;
    CHECK_FAILS(ccorc_cleanup(handle, &cleanup, &text, &error), CCORC_ERR_INVALID_ARGUMENT, text, error, "older_than_seconds");
    /* Older than one second, a little later: selected, by itself too, and removed. */
    pause_seconds(1.5);
    cleanup.older_than_seconds = 1;
    cleanup.names = NULL;
    cleanup.name_count = 0;
    cleanup.patterns = patterns;
    cleanup.pattern_count = 1;
    CHECK_OK(ccorc_cleanup(handle, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_plan(value, 1, NO_STRINGS, NO_STRINGS, 1, 1, 1);
    check_plan_item(json_array_get(json_object_get(value, "sessions"), 0), old, "remove", 1, STRINGS(old_container),
                    STRINGS(old_volume), old, NO_STRINGS);
    json_decref(value);
    cleanup.dry_run = 0;
    cleanup.jobs = 1;
    CHECK_OK(ccorc_cleanup(handle, &cleanup, &text, &error), error);
    value = PARSE(text);
    check_report(value, 1, 1, 0, 1, 1);
    check_result(json_array_get(json_object_get(value, "results"), 0), "session", old, "removed", NULL, 1, 1);
    json_decref(value);
    value = listed_session(handle, old);
    CHECK(value == NULL);
    json_decref(value);

    ccorc_close(second);
    ccorc_close(handle);
    if (failures > 0) {
        fprintf(stderr, "maintenance_flow: %d checks failed\n", failures);
        return 1;
    }
    printf("maintenance_flow: all checks passed (libccorc %s)\n", ccorc_version());
    return 0;
}
