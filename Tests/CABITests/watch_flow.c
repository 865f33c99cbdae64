/*
 * ccorc_watch and ccorc_watch_stop end to end, against the real engine and a private tmux server:
 * a session of three agents is launched through the C ABI and watched from the main thread while
 * a second thread, once the snapshot has arrived, stops one of its containers behind ccorc's back
 * (POST /containers/NAME/stop with libcurl on the engine's socket) and, once the change has come
 * through, calls ccorc_watch_stop. Every callback must run on the main thread; the first line must
 * be the snapshot with the session (3 of 3 running), a later one its session-changed with 2 of 3
 * (the researcher stopped); the watch must then return CCORC_OK. A second watch on the same
 * handle, from a thread of its own, must see the same on that thread and end by the same stop.
 * Then: a stop from inside the callback ends the watch after that one callback, a stop with no
 * watch under way is not remembered by the next watch, a NULL callback and a malformed pattern
 * are CCORC_ERR_INVALID_ARGUMENT, an engine that does not answer is CCORC_ERR_ENGINE_UNREACHABLE
 * before any callback. The session is removed with ccorc_cleanup and the private tmux server
 * killed at the end. Any mismatch is reported with its line and the program exits 1; a watch that
 * never returns is ended by an alarm. With WATCH_FLOW_VERBOSE set, every line the callbacks
 * receive is printed on stderr.
 *
 * Usage: watch_flow PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE
 * (the engine is $DOCKER_HOST or /var/run/docker.sock). Everything it makes is named PREFIX-...
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_cond_timedwait */
#include <ccorc.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

/* How long the stopping thread waits for each thing it waits for: generous, for valgrind. */
#define WAIT_SECONDS 180

/* What the callback saw, shared with the stopping thread under `lock`. */
struct watch_state {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t main_thread;
    ccorc_handle *handle;
    const char *session;
    /* The running count the snapshot must show. */
    int snapshot_running;
    /* Non-zero: call ccorc_watch_stop from the first callback. */
    int stop_inside;
    int stop_inside_result;
    /* Set by the stopping thread just before it stops the container. */
    int stopping;
    int lines;
    int off_main_thread;
    int malformed;
    int snapshot_ok;
    int two_of_three;
};

static void state_init(struct watch_state *state, ccorc_handle *handle, const char *session, int snapshot_running) {
    memset(state, 0, sizeof *state);
    pthread_mutex_init(&state->lock, NULL);
    pthread_cond_init(&state->changed, NULL);
    state->main_thread = pthread_self();
    state->handle = handle;
    state->session = session;
    state->snapshot_running = snapshot_running;
    state->stop_inside_result = -1;
}

static void state_destroy(struct watch_state *state) {
    pthread_cond_destroy(&state->changed);
    pthread_mutex_destroy(&state->lock);
}

/* Whether `session` is the watched session with `running` of its 3 agents running, and when
   `stopped_role` is not NULL, that agent the one stopped. */
static int session_is(json_t *session, const char *name, int running, const char *stopped_role) {
    json_t *agents = json_object_get(session, "agents"), *agent;
    size_t index;
    if (!string_is(session, "name", name) || !int_is(session, "running", running) || !int_is(session, "total", 3) ||
        !json_is_string(json_object_get(session, "verdict")) || !json_is_array(json_object_get(session, "issues")) ||
        json_array_size(agents) != 3)
        return 0;
    json_array_foreach(agents, index, agent) {
        int stopped = stopped_role != NULL && string_is(agent, "role", stopped_role);
        if (stopped_role != NULL && !string_is(agent, "state", stopped ? "stopped" : "running")) return 0;
    }
    return 1;
}

/* The callback: records what each line is. Only the main thread's CHECKs touch `failures`. */
static void on_change(const char *change_json, void *user_data) {
    struct watch_state *state = user_data;
    json_error_t parse_error;
    json_t *change = change_json != NULL ? json_loads(change_json, 0, &parse_error) : NULL;
    json_t *sessions = json_object_get(change, "sessions");
    if (getenv("WATCH_FLOW_VERBOSE") != NULL) fprintf(stderr, "watch_flow: %s\n", change_json);
    pthread_mutex_lock(&state->lock);
    state->lines++;
    if (!pthread_equal(pthread_self(), state->main_thread)) state->off_main_thread++;
    if (change == NULL || !json_is_string(json_object_get(change, "time"))) {
        state->malformed++;
    } else if (state->lines == 1) {
        state->snapshot_ok = string_is(change, "type", "snapshot") && json_array_size(sessions) == 1 &&
                             session_is(json_array_get(sessions, 0), state->session, state->snapshot_running,
                                        state->snapshot_running == 3 ? NULL : "researcher");
    } else if (state->stopping && string_is(change, "type", "session-changed") &&
               session_is(json_object_get(change, "session"), state->session, 2, "researcher") &&
               json_is_array(json_object_get(change, "changed"))) {
        state->two_of_three = 1;
    }
    pthread_cond_broadcast(&state->changed);
    pthread_mutex_unlock(&state->lock);
    if (state->stop_inside) state->stop_inside_result = ccorc_watch_stop(state->handle);
    json_decref(change);
}

/* Waits (holding state->lock) until `*flag` is non-zero or WAIT_SECONDS pass; whether it is. */
static int wait_for(struct watch_state *state, const int *flag) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_SECONDS;
    while (*flag == 0) {
        if (pthread_cond_timedwait(&state->changed, &state->lock, &deadline) != 0) break;
    }
    return *flag != 0;
}

/* POST /containers/NAME/stop on the engine's socket, behind ccorc's back: the HTTP status, or 0. */
static long stop_container_behind_ccorc(const char *name) {
    const char *host = getenv("DOCKER_HOST");
    const char *socket = host != NULL && strncmp(host, "unix://", 7) == 0 ? host + 7 : "/var/run/docker.sock";
    char url[512];
    long code = 0;
    CURL *curl = curl_easy_init();
    if (curl == NULL) return 0;
    snprintf(url, sizeof url, "http://localhost/containers/%s/stop?t=1", name);
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(curl);
    return code;
}

/* The stopping thread: after the snapshots, stops a container; after the change, stops the watches. */
struct stopper {
    struct watch_state *state;
    /* A second watch on the same handle, from a thread of its own. */
    struct watch_state *other;
    const char *container;
    int saw_snapshot;
    long stop_status;
    int saw_change;
    int watches_stopped;
};

static void *stop_after_change(void *argument) {
    struct stopper *stopper = argument;
    struct watch_state *state = stopper->state, *other = stopper->other;
    pthread_mutex_lock(&other->lock);
    stopper->saw_snapshot = wait_for(other, &other->lines);
    other->stopping = stopper->saw_snapshot;
    pthread_mutex_unlock(&other->lock);
    pthread_mutex_lock(&state->lock);
    stopper->saw_snapshot = stopper->saw_snapshot && wait_for(state, &state->lines);
    state->stopping = stopper->saw_snapshot;
    pthread_mutex_unlock(&state->lock);
    if (stopper->saw_snapshot) stopper->stop_status = stop_container_behind_ccorc(stopper->container);
    pthread_mutex_lock(&state->lock);
    stopper->saw_change = stopper->stop_status == 204 && wait_for(state, &state->two_of_three);
    pthread_mutex_unlock(&state->lock);
    pthread_mutex_lock(&other->lock);
    stopper->saw_change = stopper->saw_change && wait_for(other, &other->two_of_three);
    pthread_mutex_unlock(&other->lock);
    /* Stopped whatever happened, so that a failure above fails the checks instead of hanging. */
    stopper->watches_stopped = ccorc_watch_stop(state->handle);
    return NULL;
}

/* The other watch: every session (NULL), its callbacks on this thread. */
struct other_watch {
    struct watch_state *state;
    ccorc_status status;
    ccorc_error error;
};

static void *watch_from_other_thread(void *argument) {
    struct other_watch *watch = argument;
    watch->state->main_thread = pthread_self();
    watch->status = ccorc_watch(watch->state->handle, NULL, on_change, watch->state, &watch->error);
    return NULL;
}

int main(int argc, char **argv) {
    ccorc_options options;
    ccorc_launch_options launch;
    ccorc_cleanup_options cleanup;
    ccorc_handle *handle = NULL, *unreachable = NULL;
    ccorc_error error;
    char session[256], pattern[300], bad_pattern[300], container[300], engine_host[4200], command[512];
    const char *names[1];
    char *result = NULL;
    json_t *summary;
    struct watch_state state;
    struct watch_state other_state;
    struct other_watch other;
    struct stopper stopper;
    pthread_t thread, other_thread;

    if (argc != 6) {
        fprintf(stderr, "usage: %s PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE\n", argv[0]);
        return 2;
    }
    /* A watch that is never stopped fails the run instead of hanging it. */
    alarm(600);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(session, sizeof session, "%s-watch", argv[1]);
    snprintf(pattern, sizeof pattern, "%s-*", argv[1]);
    snprintf(bad_pattern, sizeof bad_pattern, "%s-[", argv[1]);
    snprintf(container, sizeof container, "%s-researcher", session);
    names[0] = session;

    ccorc_options_init(&options);
    options.tmux_server = argv[2];
    options.home = argv[3];
    options.ccdk_path = argv[4];
    CHECK_OK(ccorc_open(&options, &handle, &error), error);
    if (handle == NULL) return 1;

    /* Arguments, before anything runs: no callback is made (a watch started by mistake stops at
       its first callback instead of hanging the test). */
    state_init(&state, handle, session, 3);
    state.stop_inside = 1;
    CHECK(ccorc_watch(NULL, NULL, on_change, &state, &error) == CCORC_ERR_INVALID_ARGUMENT);
    CHECK(error.code == CCORC_ERR_INVALID_ARGUMENT && strstr(error.message, "handle") != NULL);
    CHECK(ccorc_watch(handle, NULL, NULL, &state, &error) == CCORC_ERR_INVALID_ARGUMENT);
    CHECK(error.code == CCORC_ERR_INVALID_ARGUMENT && strstr(error.message, "callback") != NULL);
    CHECK(ccorc_watch(handle, bad_pattern, on_change, &state, &error) == CCORC_ERR_INVALID_ARGUMENT);
    CHECK(error.code == CCORC_ERR_INVALID_ARGUMENT && strstr(error.message, "unclosed [") != NULL);
    CHECK(ccorc_watch(handle, bad_pattern, on_change, &state, NULL) == CCORC_ERR_INVALID_ARGUMENT);
    CHECK(state.lines == 0);
    state_destroy(&state);
    /* Stops with no watch under way do nothing, and are not remembered (the watch below runs). */
    CHECK(ccorc_watch_stop(NULL) == 0);
    CHECK(ccorc_watch_stop(handle) == 0);

    /* One session of three agents. */
    ccorc_launch_options_init(&launch);
    launch.image = argv[5];
    launch.agent_command = "sh";
    launch.network_mode = "none";
    CHECK_OK(ccorc_launch(handle, names, 1, &launch, &result, &error), error);
    ccorc_free(result);
    result = NULL;
    /* The watch follows the engine's events from a second before its snapshot, and replays them
       onto it: launch's own events would show passing states of the three agents. */
    sleep(2);

    /* The watch on the main thread, a container stopped behind ccorc's back meanwhile. */
    state_init(&state, handle, session, 3);
    state_init(&other_state, handle, session, 3);
    memset(&other, 0, sizeof other);
    other.state = &other_state;
    memset(&stopper, 0, sizeof stopper);
    stopper.state = &state;
    stopper.other = &other_state;
    stopper.container = container;
    CHECK(pthread_create(&other_thread, NULL, watch_from_other_thread, &other) == 0);
    CHECK(pthread_create(&thread, NULL, stop_after_change, &stopper) == 0);
    CHECK_OK(ccorc_watch(handle, pattern, on_change, &state, &error), error);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(pthread_join(other_thread, NULL) == 0);
    CHECK(stopper.saw_snapshot);
    CHECK(stopper.stop_status == 204);
    CHECK(stopper.saw_change);
    CHECK(stopper.watches_stopped == 2);
    CHECK(state.snapshot_ok);
    CHECK(state.two_of_three);
    CHECK(state.lines >= 2);
    CHECK(state.off_main_thread == 0);
    CHECK(state.malformed == 0);
    /* The other watch: the same changes, on its own thread, ended by the same stop. */
    CHECK_OK(other.status, other.error);
    CHECK(other_state.snapshot_ok);
    CHECK(other_state.two_of_three);
    CHECK(other_state.off_main_thread == 0);
    CHECK(other_state.malformed == 0);
    state_destroy(&other_state);
    state_destroy(&state);
    /* The watch is over: nothing is under way to stop. */
    CHECK(ccorc_watch_stop(handle) == 0);

    /* A stop from inside the callback: the snapshot is the one and last callback. "" is every session. */
    state_init(&state, handle, session, 2);
    state.stop_inside = 1;
    CHECK_OK(ccorc_watch(handle, "", on_change, &state, &error), error);
    CHECK(state.lines == 1);
    CHECK(state.snapshot_ok);
    CHECK(state.stop_inside_result == 1);
    CHECK(state.off_main_thread == 0 && state.malformed == 0);
    state_destroy(&state);

    /* An engine that does not answer: the snapshot cannot be read, and no callback is made. */
    snprintf(engine_host, sizeof engine_host, "unix://%s/no-engine.sock", argv[3]);
    options.engine_host = engine_host;
    CHECK_OK(ccorc_open(&options, &unreachable, &error), error);
    state_init(&state, unreachable, session, 2);
    state.stop_inside = 1;
    CHECK(ccorc_watch(unreachable, NULL, on_change, &state, &error) == CCORC_ERR_ENGINE_UNREACHABLE);
    CHECK(error.code == CCORC_ERR_ENGINE_UNREACHABLE && error.message[0] != '\0');
    CHECK(state.lines == 0);
    state_destroy(&state);
    ccorc_close(unreachable);

    /* Clean up: the session through the ABI, then the private tmux server. */
    ccorc_cleanup_options_init(&cleanup);
    cleanup.names = names;
    cleanup.name_count = 1;
    CHECK_OK(ccorc_cleanup(handle, &cleanup, &result, &error), error);
    summary = PARSE(result);
    CHECK(int_is(json_object_get(summary, "counts"), "removed", 1));
    CHECK(int_is(json_object_get(summary, "counts"), "failed", 0));
    json_decref(summary);
    ccorc_close(handle);
    snprintf(command, sizeof command, "tmux -L '%s' kill-server 2>/dev/null", argv[2]);
    if (system(command) != 0) {
        /* No server left is fine: the last session's end may have ended it. */
    }
    curl_global_cleanup();

    if (failures > 0) {
        fprintf(stderr, "watch_flow: %d check(s) failed\n", failures);
        return 1;
    }
    printf("watch_flow: all checks passed\n");
    return 0;
}
