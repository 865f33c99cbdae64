/*
 * The C ABI end to end, against the real engine and a private tmux server: open a handle, launch a
 * session, list it, read its details, check health, stop it, resume it, stop it again, clean it up
 * by pattern, with calls from several threads on the one handle. Every return value and every JSON field read is checked; any mismatch is reported
 * with its line and the program exits 1.
 *
 * Usage: session_flow PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE
 * (the engine is $DOCKER_HOST or /var/run/docker.sock). Everything it makes is named PREFIX-...
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <ccorc.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "checks.h"

/* The session named `name` in a {"sessions": [...]} listing, or NULL. Borrowed reference. */
static json_t *find_session(json_t *listing, const char *name) {
    size_t index;
    json_t *session;
    json_array_foreach(json_object_get(listing, "sessions"), index, session) {
        if (string_is(session, "name", name)) return session;
    }
    return NULL;
}

/* Checks one SESSION against what was launched; `running` is 2 or 0. */
static void check_session(json_t *session, const char *name, const char *image, json_int_t running) {
    static const char *const roles[] = {"leader", "writer"};
    char expected[256];
    size_t index;
    json_t *agents = json_object_get(session, "agents");
    json_t *tmux = json_object_get(session, "tmux");
    CHECK(string_is(session, "name", name));
    CHECK(string_is(session, "status", "ready"));
    CHECK(string_is(session, "image", image));
    CHECK(string_is(session, "agentCommand", "sh"));
    CHECK(int_is(session, "memory", 134217728));
    CHECK(json_is_null(json_object_get(session, "nanoCpus")));
    CHECK(json_is_string(json_object_get(session, "created")));
    CHECK(int_is(session, "running", running));
    CHECK(int_is(session, "total", 2));
    if (running > 0) {
        CHECK(json_is_object(tmux) && int_is(tmux, "windows", 2));
    } else {
        CHECK(json_is_null(tmux));
    }
    CHECK(json_is_array(agents) && json_array_size(agents) == 2);
    for (index = 0; index < json_array_size(agents) && index < 2; index++) {
        json_t *agent = json_array_get(agents, index);
        CHECK(string_is(agent, "role", roles[index]));
        snprintf(expected, sizeof expected, "%s-%s", name, roles[index]);
        CHECK(string_is(agent, "container", expected));
        CHECK(json_is_string(json_object_get(agent, "containerId")));
        CHECK(string_is(agent, "state", running > 0 ? "running" : "stopped"));
        snprintf(expected, sizeof expected, "%s-%s-state", name, roles[index]);
        CHECK(string_is(agent, "volume", expected));
        CHECK(string_is(agent, "window", roles[index]));
    }
}

/* What one of the concurrent threads reads and how many of its calls went wrong. */
struct reader {
    ccorc_handle *handle;
    const char *name;
    int bad_calls;
};

/* Lists and inspects the session on the shared handle, as the threading rule allows. */
static void *read_concurrently(void *argument) {
    struct reader *reader = (struct reader *)argument;
    ccorc_error error;
    char *text = NULL;
    json_t *value;
    int round;
    for (round = 0; round < 5; round++) {
        if (ccorc_list_sessions(reader->handle, 0, &text, &error) != CCORC_OK) reader->bad_calls++;
        value = text == NULL ? NULL : json_loads(text, 0, NULL);
        if (value == NULL || find_session(value, reader->name) == NULL) reader->bad_calls++;
        json_decref(value);
        ccorc_free(text);
        if (ccorc_session_info(reader->handle, reader->name, &text, &error) != CCORC_OK) reader->bad_calls++;
        value = text == NULL ? NULL : json_loads(text, 0, NULL);
        if (value == NULL || !string_is(value, "name", reader->name)) reader->bad_calls++;
        json_decref(value);
        ccorc_free(text);
    }
    return NULL;
}

/* ccorc_health on the launched session: "healthy" once its agents' shells run, which takes the
 * windows a moment after launch (up to 15 s on a loaded machine). */
static void check_health(ccorc_handle *handle, const char *name) {
    const char *names[1];
    char *report = NULL;
    ccorc_error error;
    ccorc_status status;
    int attempt, healthy = 0;
    struct timespec pause = {0, 250000000L};
    names[0] = name;
    for (attempt = 0; attempt < 60 && !healthy; attempt++) {
        json_t *value, *sessions, *session, *verdict;
        if (attempt > 0) nanosleep(&pause, NULL);
        status = ccorc_health(handle, names, 1, &report, &error);
        CHECK(status == CCORC_OK && error.code == CCORC_OK);
        value = PARSE(report);
        sessions = json_object_get(value, "sessions");
        CHECK(json_array_size(sessions) == 1);
        session = json_array_get(sessions, 0);
        CHECK(string_is(session, "name", name));
        CHECK(json_array_size(json_object_get(session, "containers")) == 2);
        CHECK(json_is_array(json_object_get(session, "issues")));
        CHECK(json_is_integer(json_object_get(value, "engineRequests")) && json_integer_value(json_object_get(value, "engineRequests")) > 0);
        verdict = json_object_get(value, "verdict");
        CHECK(json_is_string(verdict));
        healthy = strcmp(json_string_value(verdict), "healthy") == 0;
        if (healthy) {
            CHECK(string_is(session, "verdict", "healthy"));
            CHECK(json_array_size(json_object_get(session, "issues")) == 0);
        } else if (attempt == 59) {
            char *dump = json_dumps(value, JSON_COMPACT);
            fprintf(stderr, "session_flow: %s never became healthy: %s\n", name, dump);
            free(dump);
        }
        json_decref(value);
    }
    CHECK(healthy);
    /* An unknown name is an error with a message and no report. */
    names[0] = "no-such-session-anywhere";
    status = ccorc_health(handle, names, 1, &report, &error);
    CHECK(status == CCORC_ERR_NOT_FOUND && report == NULL && strstr(error.message, "not found") != NULL);
}

/* ccorc_cleanup by pattern (a dry run first). */
static void check_cleanup(ccorc_handle *handle, const char *prefix) {
    char pattern[256];
    const char *patterns[1];
    char *summary = NULL;
    ccorc_cleanup_options options;
    ccorc_error error;
    ccorc_status status;
    snprintf(pattern, sizeof pattern, "%s-*", prefix);
    patterns[0] = pattern;
    ccorc_cleanup_options_init(&options);
    CHECK(ccorc_cleanup(handle, &options, &summary, &error) == CCORC_ERR_INVALID_ARGUMENT && summary == NULL);
    options.patterns = patterns;
    options.pattern_count = 1;
    options.dry_run = 1;
    status = ccorc_cleanup(handle, &options, &summary, &error);
    CHECK(status == CCORC_OK && error.code == CCORC_OK);
    {
        json_t *plan = PARSE(summary);
        CHECK(json_array_size(json_object_get(plan, "sessions")) == 2);
        json_decref(plan);
    }
    options.dry_run = 0;
    status = ccorc_cleanup(handle, &options, &summary, &error);
    CHECK(status == CCORC_OK && error.code == CCORC_OK);
    {
        json_t *report = PARSE(summary), *counts = json_object_get(report, "counts"), *result;
        size_t index;
        CHECK(int_is(counts, "removed", 2));
        CHECK(int_is(counts, "failed", 0));
        CHECK(int_is(counts, "containers", 4));
        CHECK(int_is(counts, "volumes", 4));
        CHECK(json_is_false(json_object_get(report, "interrupted")));
        CHECK(json_array_size(json_object_get(report, "results")) == 2);
        json_array_foreach(json_object_get(report, "results"), index, result) {
            CHECK(string_is(result, "subject", "session"));
            CHECK(string_is(result, "outcome", "removed"));
            CHECK(strncmp(json_string_value(json_object_get(result, "name")) ? json_string_value(json_object_get(result, "name")) : "", prefix, strlen(prefix)) == 0);
        }
        json_decref(report);
    }
}

int main(int argc, char **argv) {
    const char *prefix, *image;
    char name[200], second[200];
    const char *names[1], *both[2];
    const char *roles[] = {"leader", "writer"};
    ccorc_options options;
    ccorc_launch_options launch;
    ccorc_handle *handle = NULL;
    ccorc_error error;
    char *text = NULL;
    json_t *value, *session, *failed;
    size_t index;
    int round;

    if (argc != 6) {
        fprintf(stderr, "usage: %s PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE\n", argv[0]);
        return 2;
    }
    prefix = argv[1];
    image = argv[5];
    snprintf(name, sizeof name, "%s-a", prefix);
    snprintf(second, sizeof second, "%s-b", prefix);

    /* Library functions without a handle. */
    CHECK(ccorc_version() != NULL && strcmp(ccorc_version(), CCORC_VERSION) == 0);
    CHECK(strcmp(ccorc_status_name(CCORC_ERR_NOT_FOUND), "CCORC_ERR_NOT_FOUND") == 0);
    CHECK(strcmp(ccorc_status_name((ccorc_status)999), "CCORC_ERR_UNKNOWN") == 0);
    ccorc_free(NULL);
    ccorc_close(NULL);

    /* Bad arguments are status codes, never crashes. */
    CHECK(ccorc_open(NULL, NULL, &error) == CCORC_ERR_INVALID_ARGUMENT);
    CHECK(error.code == CCORC_ERR_INVALID_ARGUMENT && strlen(error.message) > 0);
    memset(&options, 0, sizeof options);
    CHECK(ccorc_open(&options, &handle, &error) == CCORC_ERR_INVALID_ARGUMENT && handle == NULL);
    CHECK(strstr(error.message, "ccorc_options_init") != NULL);
    CHECK(ccorc_list_sessions(NULL, 0, &text, &error) == CCORC_ERR_INVALID_ARGUMENT && text == NULL);
    ccorc_options_init(&options);
    options.engine_host = "ssh://me@far.example";
    CHECK(ccorc_open(&options, &handle, NULL) == CCORC_ERR_INVALID_ARGUMENT && handle == NULL);
    /* tcp:// is an engine like any other: opening asks nothing of it. */
    options.engine_host = "tcp://127.0.0.1:1";
    CHECK_OK(ccorc_open(&options, &handle, &error), error);
    CHECK(handle != NULL);
    ccorc_close(handle);
    handle = NULL;

    ccorc_options_init(&options);
    options.tmux_server = argv[2];
    options.home = argv[3];
    options.ccdk_path = argv[4];
    /* A home as a mkdir or an earlier ccorc left it: opening makes it and the registry private. */
    CHECK(chmod(argv[3], 0755) == 0);
    CHECK_OK(ccorc_open(&options, &handle, &error), error);
    if (handle == NULL) return 1;
    {
        struct stat file_status;
        char database[4096];
        snprintf(database, sizeof database, "%s/registry.db", argv[3]);
        CHECK(stat(argv[3], &file_status) == 0 && (file_status.st_mode & 07777) == 0700);
        CHECK(stat(database, &file_status) == 0 && (file_status.st_mode & 07777) == 0600);
    }

    /* A fresh registry lists nothing; no orphans member unless asked for. */
    CHECK_OK(ccorc_list_sessions(handle, 0, &text, &error), error);
    value = PARSE(text);
    CHECK(json_is_array(json_object_get(value, "sessions")) && json_array_size(json_object_get(value, "sessions")) == 0);
    CHECK(json_object_get(value, "orphans") == NULL);
    json_decref(value);

    /* Launch. */
    ccorc_launch_options_init(&launch);
    launch.roles = roles;
    launch.role_count = 2;
    launch.image = image;
    launch.agent_command = "sh";
    launch.memory = "128m";
    launch.network_mode = "none";
    names[0] = name;
    CHECK_OK(ccorc_launch(handle, names, 1, &launch, &text, &error), error);
    value = PARSE(text);
    CHECK(json_array_size(json_object_get(value, "launched")) == 1);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(value, "launched"), 0)) ? json_string_value(json_array_get(json_object_get(value, "launched"), 0)) : "", name) == 0);
    CHECK(json_is_array(json_object_get(value, "failed")) && json_array_size(json_object_get(value, "failed")) == 0);
    json_decref(value);

    /* The same name again loses, in the status and in the per-name result; a second name wins. */
    both[0] = name;
    both[1] = second;
    CHECK(ccorc_launch(handle, both, 2, &launch, &text, &error) == CCORC_ERR_ALREADY_EXISTS);
    CHECK(error.code == CCORC_ERR_ALREADY_EXISTS && strstr(error.message, "already exists") != NULL);
    value = PARSE(text);
    CHECK(json_array_size(json_object_get(value, "launched")) == 1);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(value, "launched"), 0)) ? json_string_value(json_array_get(json_object_get(value, "launched"), 0)) : "", second) == 0);
    failed = json_object_get(value, "failed");
    CHECK(json_array_size(failed) == 1);
    CHECK(string_is(json_array_get(failed, 0), "name", name));
    CHECK(int_is(json_array_get(failed, 0), "code", CCORC_ERR_ALREADY_EXISTS));
    CHECK(strstr(json_string_value(json_object_get(json_array_get(failed, 0), "message")) ? json_string_value(json_object_get(json_array_get(failed, 0), "message")) : "", "already exists") != NULL);
    json_decref(value);

    /* Bad input is refused before anything is made. */
    names[0] = "bad.name";
    CHECK(ccorc_launch(handle, names, 1, &launch, &text, &error) == CCORC_ERR_INVALID_ARGUMENT && text == NULL);
    CHECK(strstr(error.message, "bad.name") != NULL);
    names[0] = name;
    launch.memory = "lots";
    CHECK(ccorc_launch(handle, names, 1, &launch, &text, &error) == CCORC_ERR_INVALID_ARGUMENT && text == NULL);
    CHECK(strstr(error.message, "invalid memory size") != NULL);
    launch.memory = "128m";
    CHECK(ccorc_launch(handle, NULL, 1, &launch, &text, &error) == CCORC_ERR_INVALID_ARGUMENT && text == NULL);
    CHECK(ccorc_launch(handle, names, 1, &launch, NULL, &error) == CCORC_ERR_INVALID_ARGUMENT);

    /* List: both sessions, live; repeated, so that a leak per call would show. */
    for (round = 0; round < 20; round++) {
        CHECK_OK(ccorc_list_sessions(handle, round % 2, &text, &error), error);
        value = PARSE(text);
        CHECK(json_array_size(json_object_get(value, "sessions")) == 2);
        CHECK(round % 2 == 0 ? json_object_get(value, "orphans") == NULL : json_is_array(json_object_get(value, "orphans")));
        session = find_session(value, name);
        CHECK(session != NULL);
        if (session != NULL && round == 0) check_session(session, name, image, 2);
        json_decref(value);
    }

    /* Four threads on the one handle at once. */
    {
        pthread_t threads[4];
        struct reader readers[4];
        int thread;
        for (thread = 0; thread < 4; thread++) {
            readers[thread].handle = handle;
            readers[thread].name = name;
            readers[thread].bad_calls = 0;
            CHECK(pthread_create(&threads[thread], NULL, read_concurrently, &readers[thread]) == 0);
        }
        for (thread = 0; thread < 4; thread++) {
            CHECK(pthread_join(threads[thread], NULL) == 0);
            CHECK(readers[thread].bad_calls == 0);
        }
    }

    /* Details: panes and volumes. */
    CHECK_OK(ccorc_session_info(handle, name, &text, &error), error);
    value = PARSE(text);
    check_session(value, name, image, 2);
    CHECK(json_array_size(json_object_get(value, "panes")) == 2);
    json_array_foreach(json_object_get(value, "panes"), index, session) {
        CHECK(json_is_false(json_object_get(session, "dead")));
        CHECK(json_is_integer(json_object_get(session, "pid")));
        CHECK(json_is_string(json_object_get(session, "window")));
    }
    CHECK(json_array_size(json_object_get(value, "volumes")) == 2);
    json_decref(value);
    CHECK(ccorc_session_info(handle, "no-such-session", &text, &error) == CCORC_ERR_NOT_FOUND && text == NULL);
    CHECK(strstr(error.message, "not found") != NULL);

    /* Containers: the agents, labelled with their session and role. */
    CHECK_OK(ccorc_list_containers(handle, 0, &text, &error), error);
    value = PARSE(text);
    {
        int seen = 0;
        char leader[256];
        snprintf(leader, sizeof leader, "%s-leader", name);
        json_array_foreach(value, index, session) {
            if (string_is(session, "name", leader)) {
                seen++;
                CHECK(string_is(session, "session", name));
                CHECK(string_is(session, "role", "leader"));
                CHECK(string_is(session, "state", "running"));
                CHECK(string_is(session, "image", image));
            }
        }
        CHECK(seen == 1);
    }
    json_decref(value);

    check_health(handle, name);

    /* Stop both: containers persist, stopped; tmux closes. */
    CHECK_OK(ccorc_stop(handle, both, 2, 1, 0, &text, &error), error);
    value = PARSE(text);
    CHECK(json_array_size(json_object_get(value, "stopped")) == 2);
    CHECK(json_array_size(json_object_get(value, "failed")) == 0);
    json_decref(value);
    CHECK_OK(ccorc_list_sessions(handle, 0, &text, &error), error);
    value = PARSE(text);
    session = find_session(value, name);
    CHECK(session != NULL);
    if (session != NULL) check_session(session, name, image, 0);
    json_decref(value);

    /* Resume brings one back, then it stops again; an unknown name is reported by name. */
    CHECK_OK(ccorc_resume(handle, name, &text, &error), error);
    value = PARSE(text);
    check_session(value, name, image, 2);
    CHECK(json_is_string(json_object_get(value, "lastResumed")));
    json_decref(value);
    both[1] = "no-such-session";
    CHECK(ccorc_stop(handle, both, 2, 1, 0, &text, &error) == CCORC_ERR_NOT_FOUND);
    value = PARSE(text);
    CHECK(json_array_size(json_object_get(value, "stopped")) == 1);
    CHECK(string_is(json_array_get(json_object_get(value, "failed"), 0), "name", "no-such-session"));
    CHECK(int_is(json_array_get(json_object_get(value, "failed"), 0), "code", CCORC_ERR_NOT_FOUND));
    json_decref(value);

    check_cleanup(handle, prefix);
    CHECK_OK(ccorc_list_sessions(handle, 0, &text, &error), error);
    value = PARSE(text);
    CHECK(json_array_size(json_object_get(value, "sessions")) == 0);
    json_decref(value);

    ccorc_close(handle);
    if (failures > 0) {
        fprintf(stderr, "session_flow: %d checks failed\n", failures);
        return 1;
    }
    printf("session_flow: all checks passed (libccorc %s)\n", ccorc_version());
    return 0;
}
