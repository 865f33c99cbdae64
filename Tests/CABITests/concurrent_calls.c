/*
 * The C ABI's threading rule, end to end against the real engine and a private tmux server: many
 * threads on ONE handle, each phase's threads started together behind a barrier, while two reader
 * threads list sessions and containers, inspect a session and check health until the phase's
 * other threads are done.
 *
 *   1. launch four sessions one per thread, two more in one bulk call, and the same name from two
 *      threads (exactly one wins, the other gets CCORC_ERR_ALREADY_EXISTS);
 *   2. stop two sessions, clean up the bulk pair by pattern, launch a new session, wait for two
 *      others to be healthy;
 *   3. resume the two stopped sessions, stop another, wait for the new one to be healthy;
 *   4. clean up everything by three patterns at once.
 *
 * After each phase the listing must show exactly the sessions that should exist, in the state they
 * should be in; at the end nothing named after the prefix is left (no session, no orphan, no
 * container). Every return value is checked; any mismatch is reported with its line and the
 * program exits 1. Made to run under ThreadSanitizer (make test-c-threads) as well as plainly.
 *
 * Usage: concurrent_calls PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE
 * (the engine is $DOCKER_HOST or /var/run/docker.sock). Everything it makes is named PREFIX-...
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, pthread_barrier_t */
#include <ccorc.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Checks run on many threads at once, so the count of failures is behind a lock. */
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;
static int failures = 0;

static void fail(int line, const char *format, ...) {
    va_list arguments;
    pthread_mutex_lock(&failures_lock);
    failures++;
    fprintf(stderr, "%s:%d: ", __FILE__, line);
    va_start(arguments, format);
    vfprintf(stderr, format, arguments);
    va_end(arguments);
    fputc('\n', stderr);
    pthread_mutex_unlock(&failures_lock);
}

static int failure_count(void) {
    int count;
    pthread_mutex_lock(&failures_lock);
    count = failures;
    pthread_mutex_unlock(&failures_lock);
    return count;
}

#define CHECK(condition)                                                   \
    do {                                                                   \
        if (!(condition)) fail(__LINE__, "check failed: %s", #condition); \
    } while (0)

/* A call that must succeed; on failure prints the library's message. */
#define CHECK_OK(call, error)                                                                                 \
    do {                                                                                                      \
        ccorc_status status_ = (call);                                                                        \
        if (status_ != CCORC_OK) fail(__LINE__, "%s returned %s: %s", #call, ccorc_status_name(status_), (error).message); \
        CHECK((error).code == CCORC_OK && (error).message[0] == '\0');                                        \
    } while (0)

/* Parses a JSON result and frees the string; NULL (reported) when there is none or it is not JSON. */
static json_t *parse_result(char *text, int line) {
    json_error_t parse_error;
    json_t *value;
    if (text == NULL) {
        fail(line, "no JSON result");
        return NULL;
    }
    value = json_loads(text, 0, &parse_error);
    ccorc_free(text);
    if (value == NULL) fail(line, "result is not JSON: %s", parse_error.text);
    return value;
}
#define PARSE(text) parse_result((text), __LINE__)

static const char *string_member(json_t *value, const char *key) {
    const char *text = json_string_value(json_object_get(value, key));
    return text != NULL ? text : "";
}

static int json_string_is(json_t *value, const char *key, const char *expected) {
    const char *actual = json_string_value(json_object_get(value, key));
    return actual != NULL && strcmp(actual, expected) == 0;
}

static int json_int_is(json_t *value, const char *key, json_int_t expected) {
    json_t *member = json_object_get(value, key);
    return json_is_integer(member) && json_integer_value(member) == expected;
}

/* Whether a JSON array of strings holds exactly `names` (in any order). */
static int string_array_is(json_t *array, const char *const *names, size_t count) {
    size_t index, other;
    if (!json_is_array(array) || json_array_size(array) != count) return 0;
    for (index = 0; index < count; index++) {
        int found = 0;
        for (other = 0; other < count; other++) {
            if (strcmp(json_string_value(json_array_get(array, other)) ? json_string_value(json_array_get(array, other)) : "", names[index]) == 0) found = 1;
        }
        if (!found) return 0;
    }
    return 1;
}

static int has_prefix(const char *text, const char *prefix) { return strncmp(text, prefix, strlen(prefix)) == 0; }

/* ---------------------------------------------------------------------------------------------- */
/* The run's sessions                                                                              */

enum { S0, S1, S2, S3, X0, X1, DUP, N0, SESSION_COUNT };
static const char *const suffixes[SESSION_COUNT] = {"s0", "s1", "s2", "s3", "x0", "x1", "dup", "n0"};
static char session_names[SESSION_COUNT][200];
#define NAME(index) ((const char *)session_names[index])
static const char *prefix;

/* What a session should look like after a phase. */
enum expected_state { ABSENT, RUNNING, STOPPED };

static const char *const roles[] = {"leader", "writer"};
#define ROLE_COUNT 2

/* Checks one listed SESSION against its expected state. */
static void check_session(json_t *session, const char *name, enum expected_state state, const char *image) {
    size_t index;
    json_t *agents = json_object_get(session, "agents"), *agent;
    json_t *tmux = json_object_get(session, "tmux");
    CHECK(json_string_is(session, "status", "ready"));
    CHECK(json_string_is(session, "image", image));
    CHECK(json_int_is(session, "total", ROLE_COUNT));
    if (!json_int_is(session, "running", state == RUNNING ? ROLE_COUNT : 0)) {
        fail(__LINE__, "%s: %" JSON_INTEGER_FORMAT " of its agents run, expected %s", name,
             json_integer_value(json_object_get(session, "running")), state == RUNNING ? "all" : "none");
    }
    if (state == RUNNING ? !(json_is_object(tmux) && json_int_is(tmux, "windows", ROLE_COUNT)) : !json_is_null(tmux)) {
        char *dump = json_dumps(session, JSON_COMPACT);
        fail(__LINE__, "%s: expected %s, listed as %s", name, state == RUNNING ? "a tmux session with a window per agent" : "no tmux session", dump ? dump : "?");
        free(dump);
    }
    CHECK(json_array_size(agents) == ROLE_COUNT);
    json_array_foreach(agents, index, agent) {
        char container[256];
        snprintf(container, sizeof container, "%s-%s", name, index < ROLE_COUNT ? roles[index] : "?");
        CHECK(json_string_is(agent, "container", container));
        CHECK(json_string_is(agent, "state", state == RUNNING ? "running" : "stopped"));
    }
}

/* The listing holds exactly the sessions not ABSENT in `expected`, each in its state. */
static void check_listing(ccorc_handle *handle, const enum expected_state expected[SESSION_COUNT], const char *image,
                          const char *phase) {
    char *text = NULL;
    ccorc_error error;
    json_t *listing, *sessions, *session;
    size_t index, wanted = 0;
    int which;
    CHECK_OK(ccorc_list_sessions(handle, 0, &text, &error), error);
    listing = PARSE(text);
    if (listing == NULL) return;
    sessions = json_object_get(listing, "sessions");
    for (which = 0; which < SESSION_COUNT; which++) {
        json_t *found = NULL;
        if (expected[which] != ABSENT) wanted++;
        json_array_foreach(sessions, index, session) {
            if (json_string_is(session, "name", NAME(which))) found = session;
        }
        if (expected[which] == ABSENT && found != NULL) fail(__LINE__, "after %s: %s is still listed", phase, NAME(which));
        if (expected[which] != ABSENT && found == NULL) fail(__LINE__, "after %s: %s is not listed", phase, NAME(which));
        if (expected[which] != ABSENT && found != NULL) check_session(found, NAME(which), expected[which], image);
    }
    if (json_array_size(sessions) != wanted) {
        char *dump = json_dumps(sessions, JSON_COMPACT);
        fail(__LINE__, "after %s: %zu sessions listed, expected %zu: %s", phase, json_array_size(sessions), wanted, dump);
        free(dump);
    }
    json_decref(listing);
}

/* ---------------------------------------------------------------------------------------------- */
/* Threads                                                                                         */

enum action { LAUNCH, STOP, RESUME, CLEANUP, HEALTHY, READ };

/* One thread's work in a phase and what came of it. */
struct task {
    enum action action;
    const char *names[2]; /* LAUNCH, STOP, HEALTHY: the sessions; RESUME: names[0] */
    size_t name_count;
    const char *pattern; /* CLEANUP */
    const char *stable;  /* READ: a session no other thread changes in this phase, or NULL */
    int health_of_all;   /* READ: also check the health of every session (see read_once) */
    /* Filled by the thread. */
    ccorc_status status;
    ccorc_error error;
    json_t *result;
    int rounds;
};

/* What every thread of a phase shares: the handle, the options, the start line and the stop flag. */
static ccorc_handle *shared_handle;
static ccorc_launch_options launch_options;
static pthread_barrier_t start_line;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static int stop_reading = 0;

static int readers_should_stop(void) {
    int stop;
    pthread_mutex_lock(&stop_lock);
    stop = stop_reading;
    pthread_mutex_unlock(&stop_lock);
    return stop;
}

static int is_known_name(const char *name) {
    int which;
    for (which = 0; which < SESSION_COUNT; which++) {
        if (strcmp(name, NAME(which)) == 0) return 1;
    }
    return 0;
}

/* One round of reads while other threads change sessions: every call succeeds and every session
 * listed is one of this run's. The health of every session is read only in phases that remove no
 * container: its probe (HEAD /containers/ID/archive) racing the engine's forced removal of the same
 * container can make dockerd 20.10 fail that removal ("driver overlay2 failed to remove root
 * filesystem ... directory not empty"), a fault of the engine that this test is not about. */
static void read_once(struct task *task) {
    char *text = NULL;
    ccorc_error error;
    json_t *value, *session;
    size_t index;
    CHECK_OK(ccorc_list_sessions(shared_handle, 0, &text, &error), error);
    value = PARSE(text);
    json_array_foreach(json_object_get(value, "sessions"), index, session) {
        if (!is_known_name(string_member(session, "name"))) fail(__LINE__, "unexpected session %s listed", string_member(session, "name"));
    }
    json_decref(value);
    if (task->health_of_all) {
        CHECK_OK(ccorc_health(shared_handle, NULL, 0, &text, &error), error);
        value = PARSE(text);
        CHECK(json_is_array(json_object_get(value, "sessions")));
        json_decref(value);
    }
    CHECK_OK(ccorc_list_containers(shared_handle, 0, &text, &error), error);
    value = PARSE(text);
    CHECK(json_is_array(value));
    json_decref(value);
    if (task->stable != NULL) {
        CHECK_OK(ccorc_session_info(shared_handle, task->stable, &text, &error), error);
        value = PARSE(text);
        CHECK(json_string_is(value, "name", task->stable));
        CHECK(json_array_size(json_object_get(value, "agents")) == ROLE_COUNT);
        json_decref(value);
        CHECK_OK(ccorc_health(shared_handle, &task->stable, 1, &text, &error), error);
        value = PARSE(text);
        CHECK(json_array_size(json_object_get(value, "sessions")) == 1);
        json_decref(value);
    }
}

/* Waits for the named sessions' health verdict to be "healthy": the agents' shells start a moment
 * after launch or resume (longer on a loaded machine, and under a race detector). */
static void wait_until_healthy(struct task *task) {
    struct timespec pause = {0, 250000000L};
    int attempt;
    for (attempt = 0; attempt < 240; attempt++) {
        char *text = NULL;
        json_t *report;
        int healthy;
        if (attempt > 0) nanosleep(&pause, NULL);
        task->status = ccorc_health(shared_handle, task->names, task->name_count, &text, &task->error);
        if (task->status != CCORC_OK) {
            ccorc_free(text);
            return;
        }
        report = PARSE(text);
        healthy = json_string_is(report, "verdict", "healthy") &&
                  json_array_size(json_object_get(report, "sessions")) == task->name_count;
        if (healthy || attempt == 239) {
            json_decref(task->result);
            task->result = report;
            if (healthy) return;
        } else {
            json_decref(report);
        }
    }
}

static void *run_task(void *argument) {
    struct task *task = (struct task *)argument;
    char *text = NULL;
    int waited = pthread_barrier_wait(&start_line);
    if (waited != 0 && waited != PTHREAD_BARRIER_SERIAL_THREAD) fail(__LINE__, "pthread_barrier_wait returned %d", waited);
    switch (task->action) {
    case LAUNCH:
        task->status = ccorc_launch(shared_handle, task->names, task->name_count, &launch_options, &text, &task->error);
        task->result = PARSE(text);
        break;
    case STOP:
        task->status = ccorc_stop(shared_handle, task->names, task->name_count, 1, 0, &text, &task->error);
        task->result = PARSE(text);
        break;
    case RESUME:
        task->status = ccorc_resume(shared_handle, task->names[0], &text, &task->error);
        task->result = PARSE(text);
        break;
    case CLEANUP: {
        ccorc_cleanup_options options;
        const char *patterns[1];
        patterns[0] = task->pattern;
        ccorc_cleanup_options_init(&options);
        options.patterns = patterns;
        options.pattern_count = 1;
        task->status = ccorc_cleanup(shared_handle, &options, &text, &task->error);
        task->result = PARSE(text);
        break;
    }
    case HEALTHY:
        wait_until_healthy(task);
        break;
    case READ:
        /* At least one round, so that reads overlap the first changes; then until told to stop. */
        do {
            read_once(task);
            task->rounds++;
        } while (!readers_should_stop());
        task->status = CCORC_OK;
        break;
    }
    return NULL;
}

/* Starts every task on its own thread at once, waits for the writers, then stops the readers. */
static void run_phase(struct task *tasks, size_t count) {
    pthread_t threads[16];
    size_t index;
    if (count > 16) {
        fail(__LINE__, "a phase has at most 16 threads");
        exit(1);
    }
    CHECK(pthread_barrier_init(&start_line, NULL, (unsigned)count) == 0);
    pthread_mutex_lock(&stop_lock);
    stop_reading = 0;
    pthread_mutex_unlock(&stop_lock);
    for (index = 0; index < count; index++) {
        tasks[index].status = (ccorc_status)-1;
        tasks[index].result = NULL;
        tasks[index].rounds = 0;
        memset(&tasks[index].error, 0, sizeof tasks[index].error);
        if (pthread_create(&threads[index], NULL, run_task, &tasks[index]) != 0) {
            fail(__LINE__, "pthread_create failed");
            exit(1); /* the barrier would never open */
        }
    }
    for (index = 0; index < count; index++) {
        if (tasks[index].action != READ) CHECK(pthread_join(threads[index], NULL) == 0);
    }
    pthread_mutex_lock(&stop_lock);
    stop_reading = 1;
    pthread_mutex_unlock(&stop_lock);
    for (index = 0; index < count; index++) {
        if (tasks[index].action == READ) {
            CHECK(pthread_join(threads[index], NULL) == 0);
            CHECK(tasks[index].rounds >= 1);
        }
    }
    CHECK(pthread_barrier_destroy(&start_line) == 0);
}

static void release_tasks(struct task *tasks, size_t count) {
    size_t index;
    for (index = 0; index < count; index++) json_decref(tasks[index].result);
}

/* A task that must have returned CCORC_OK. */
static void check_task_ok(const struct task *task, int line) {
    if (task->status != CCORC_OK) {
        fail(line, "%s of %s returned %s: %s", task->action == LAUNCH ? "launch" : task->action == STOP ? "stop" :
             task->action == RESUME ? "resume" : task->action == CLEANUP ? "cleanup" : "health",
             task->pattern != NULL ? task->pattern : task->names[0], ccorc_status_name(task->status), task->error.message);
    }
    if (task->error.code != CCORC_OK || task->error.message[0] != '\0') fail(line, "error not cleared on success");
}
#define CHECK_TASK_OK(task) check_task_ok((task), __LINE__)

/* A cleanup by pattern that removed exactly `sessions` sessions, all of them this run's. */
static void check_cleanup_report(const struct task *task, json_int_t sessions) {
    json_t *counts = json_object_get(task->result, "counts"), *result;
    size_t index;
    CHECK_TASK_OK(task);
    if (!json_int_is(counts, "removed", sessions)) {
        char *dump = json_dumps(task->result, JSON_COMPACT);
        fail(__LINE__, "cleanup %s: expected %d sessions removed: %s", task->pattern, (int)sessions, dump ? dump : "(none)");
        free(dump);
    }
    CHECK(json_int_is(counts, "failed", 0));
    CHECK(json_int_is(counts, "containers", sessions * ROLE_COUNT));
    CHECK(json_int_is(counts, "volumes", sessions * ROLE_COUNT));
    CHECK(json_is_false(json_object_get(task->result, "interrupted")));
    json_array_foreach(json_object_get(task->result, "results"), index, result) {
        CHECK(json_string_is(result, "outcome", "removed"));
        CHECK(has_prefix(string_member(result, "name"), prefix));
    }
}

static void init_task(struct task *task, enum action action, const char *first, const char *second) {
    memset(task, 0, sizeof *task);
    task->action = action;
    task->names[0] = first;
    task->names[1] = second;
    task->name_count = second != NULL ? 2 : first != NULL ? 1 : 0;
}

/* ---------------------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    const char *image;
    char patterns[3][220];
    ccorc_options options;
    ccorc_error error;
    struct task tasks[12];
    enum expected_state expected[SESSION_COUNT];
    char *text = NULL;
    json_t *value, *item;
    size_t index;
    int which;

    if (argc != 6) {
        fprintf(stderr, "usage: %s PREFIX TMUX_SERVER HOME CCDK_PATH IMAGE\n", argv[0]);
        return 2;
    }
    prefix = argv[1];
    image = argv[5];
    for (which = 0; which < SESSION_COUNT; which++) snprintf(session_names[which], sizeof session_names[which], "%s-%s", prefix, suffixes[which]);

    ccorc_options_init(&options);
    options.tmux_server = argv[2];
    options.home = argv[3];
    options.ccdk_path = argv[4];
    CHECK_OK(ccorc_open(&options, &shared_handle, &error), error);
    if (shared_handle == NULL) return 1;

    ccorc_launch_options_init(&launch_options);
    launch_options.roles = roles;
    launch_options.role_count = ROLE_COUNT;
    launch_options.image = image;
    launch_options.agent_command = "sh";
    launch_options.memory = "64m";
    launch_options.network_mode = "none";

    /* 1. Launches: four single, one bulk pair, one name from two threads; two readers throughout. */
    init_task(&tasks[0], LAUNCH, NAME(S0), NULL);
    init_task(&tasks[1], LAUNCH, NAME(S1), NULL);
    init_task(&tasks[2], LAUNCH, NAME(S2), NULL);
    init_task(&tasks[3], LAUNCH, NAME(S3), NULL);
    init_task(&tasks[4], LAUNCH, NAME(X0), NAME(X1));
    init_task(&tasks[5], LAUNCH, NAME(DUP), NULL);
    init_task(&tasks[6], LAUNCH, NAME(DUP), NULL);
    init_task(&tasks[7], READ, NULL, NULL);
    tasks[7].health_of_all = 1;
    init_task(&tasks[8], READ, NULL, NULL);
    tasks[8].health_of_all = 1;
    run_phase(tasks, 9);
    for (index = 0; index < 5; index++) {
        CHECK_TASK_OK(&tasks[index]);
        CHECK(string_array_is(json_object_get(tasks[index].result, "launched"), tasks[index].names, tasks[index].name_count));
        CHECK(json_array_size(json_object_get(tasks[index].result, "failed")) == 0);
    }
    {
        /* Exactly one of the two launches of one name wins; the other is refused by name. */
        int winner = tasks[5].status == CCORC_OK ? 5 : 6, loser = winner == 5 ? 6 : 5;
        json_t *failed = json_object_get(tasks[loser].result, "failed");
        CHECK_TASK_OK(&tasks[winner]);
        CHECK(string_array_is(json_object_get(tasks[winner].result, "launched"), tasks[winner].names, 1));
        if (tasks[loser].status != CCORC_ERR_ALREADY_EXISTS) {
            fail(__LINE__, "the second launch of %s returned %s, not CCORC_ERR_ALREADY_EXISTS: %s", NAME(DUP),
                 ccorc_status_name(tasks[loser].status), tasks[loser].error.message);
        }
        CHECK(tasks[loser].error.code == CCORC_ERR_ALREADY_EXISTS && strstr(tasks[loser].error.message, "already exists") != NULL);
        CHECK(json_array_size(json_object_get(tasks[loser].result, "launched")) == 0);
        CHECK(json_array_size(failed) == 1);
        CHECK(json_string_is(json_array_get(failed, 0), "name", NAME(DUP)));
        CHECK(json_int_is(json_array_get(failed, 0), "code", CCORC_ERR_ALREADY_EXISTS));
    }
    release_tasks(tasks, 9);
    for (which = 0; which < SESSION_COUNT; which++) expected[which] = RUNNING;
    expected[N0] = ABSENT;
    check_listing(shared_handle, expected, image, "the launches");

    /* 2. Stop two, clean up the bulk pair by pattern, launch a new one, wait for two to be healthy. */
    snprintf(patterns[0], sizeof patterns[0], "%s-x*", prefix);
    init_task(&tasks[0], STOP, NAME(S0), NULL);
    init_task(&tasks[1], STOP, NAME(S1), NULL);
    init_task(&tasks[2], CLEANUP, NULL, NULL);
    tasks[2].pattern = patterns[0];
    init_task(&tasks[3], LAUNCH, NAME(N0), NULL);
    init_task(&tasks[4], HEALTHY, NAME(S2), NAME(S3));
    init_task(&tasks[5], READ, NULL, NULL);
    tasks[5].stable = NAME(DUP);
    init_task(&tasks[6], READ, NULL, NULL);
    tasks[6].stable = NAME(S2);
    run_phase(tasks, 7);
    for (index = 0; index < 2; index++) {
        CHECK_TASK_OK(&tasks[index]);
        CHECK(string_array_is(json_object_get(tasks[index].result, "stopped"), tasks[index].names, 1));
        CHECK(json_array_size(json_object_get(tasks[index].result, "failed")) == 0);
    }
    check_cleanup_report(&tasks[2], 2);
    CHECK_TASK_OK(&tasks[3]);
    CHECK(string_array_is(json_object_get(tasks[3].result, "launched"), tasks[3].names, 1));
    CHECK_TASK_OK(&tasks[4]);
    if (!json_string_is(tasks[4].result, "verdict", "healthy")) {
        char *dump = json_dumps(tasks[4].result, JSON_COMPACT);
        fail(__LINE__, "%s and %s never became healthy: %s", NAME(S2), NAME(S3), dump ? dump : "(no report)");
        free(dump);
    }
    release_tasks(tasks, 7);
    expected[S0] = expected[S1] = STOPPED;
    expected[X0] = expected[X1] = ABSENT;
    expected[N0] = RUNNING;
    check_listing(shared_handle, expected, image, "the stops, the cleanup and the launch");

    /* 3. Resume the two stopped, stop another, wait for the new one to be healthy. */
    init_task(&tasks[0], RESUME, NAME(S0), NULL);
    init_task(&tasks[1], RESUME, NAME(S1), NULL);
    init_task(&tasks[2], STOP, NAME(DUP), NULL);
    init_task(&tasks[3], HEALTHY, NAME(N0), NULL);
    init_task(&tasks[4], READ, NULL, NULL);
    tasks[4].stable = NAME(S3);
    tasks[4].health_of_all = 1;
    init_task(&tasks[5], READ, NULL, NULL);
    tasks[5].stable = NAME(N0);
    tasks[5].health_of_all = 1;
    run_phase(tasks, 6);
    for (index = 0; index < 2; index++) {
        CHECK_TASK_OK(&tasks[index]);
        CHECK(json_string_is(tasks[index].result, "name", tasks[index].names[0]));
        CHECK(json_int_is(tasks[index].result, "running", ROLE_COUNT));
        CHECK(json_is_string(json_object_get(tasks[index].result, "lastResumed")));
    }
    CHECK_TASK_OK(&tasks[2]);
    CHECK(string_array_is(json_object_get(tasks[2].result, "stopped"), tasks[2].names, 1));
    CHECK_TASK_OK(&tasks[3]);
    CHECK(json_string_is(tasks[3].result, "verdict", "healthy"));
    release_tasks(tasks, 6);
    expected[S0] = expected[S1] = RUNNING;
    expected[DUP] = STOPPED;
    check_listing(shared_handle, expected, image, "the resumes and the stop");

    /* 4. Clean up everything, by three patterns at once, with readers still going. */
    snprintf(patterns[0], sizeof patterns[0], "%s-s*", prefix);
    snprintf(patterns[1], sizeof patterns[1], "%s-d?p", prefix);
    snprintf(patterns[2], sizeof patterns[2], "%s-n[0-9]", prefix);
    for (index = 0; index < 3; index++) {
        init_task(&tasks[index], CLEANUP, NULL, NULL);
        tasks[index].pattern = patterns[index];
    }
    init_task(&tasks[3], READ, NULL, NULL);
    init_task(&tasks[4], READ, NULL, NULL);
    run_phase(tasks, 5);
    check_cleanup_report(&tasks[0], 4);
    check_cleanup_report(&tasks[1], 1);
    check_cleanup_report(&tasks[2], 1);
    release_tasks(tasks, 5);
    for (which = 0; which < SESSION_COUNT; which++) expected[which] = ABSENT;
    check_listing(shared_handle, expected, image, "the final cleanup");

    /* Nothing of this run is left: no session or orphan, no container, no session to inspect. */
    CHECK_OK(ccorc_list_sessions(shared_handle, 1, &text, &error), error);
    value = PARSE(text);
    CHECK(json_array_size(json_object_get(value, "sessions")) == 0);
    json_array_foreach(json_object_get(value, "orphans"), index, item) {
        if (has_prefix(string_member(item, "name"), prefix)) fail(__LINE__, "orphan %s left", string_member(item, "name"));
    }
    json_decref(value);
    CHECK_OK(ccorc_list_containers(shared_handle, 1, &text, &error), error);
    value = PARSE(text);
    CHECK(json_is_array(value));
    json_array_foreach(value, index, item) {
        if (has_prefix(string_member(item, "name"), prefix)) fail(__LINE__, "container %s left", string_member(item, "name"));
    }
    json_decref(value);
    for (which = 0; which < SESSION_COUNT; which++) {
        CHECK(ccorc_session_info(shared_handle, NAME(which), &text, &error) == CCORC_ERR_NOT_FOUND && text == NULL);
    }

    ccorc_close(shared_handle);
    if (failure_count() > 0) {
        fprintf(stderr, "concurrent_calls: %d checks failed\n", failure_count());
        return 1;
    }
    printf("concurrent_calls: all checks passed (libccorc %s)\n", ccorc_version());
    return 0;
}
