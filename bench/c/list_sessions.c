/*
 * ccorc-abi-bench: times ccorc_list_sessions through the C ABI, every call on one handle.
 * ccorc-bench drives it in rounds, interleaved with `ccorc list --json` processes over the same
 * sessions, so that both see the same engine load.
 *
 * Usage: ccorc-abi-bench HOME TMUX_SERVER
 * Reads a count N per line on stdin; for each, makes N calls and prints one line:
 * "BYTES SECONDS_1 ... SECONDS_N" (the size of the last result, then each call's wall time).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <ccorc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec spec;
    clock_gettime(CLOCK_MONOTONIC, &spec);
    return (double)spec.tv_sec + (double)spec.tv_nsec / 1e9;
}

/* One list call; returns its wall time, or a negative number after printing the error. */
static double timed_list(ccorc_handle *handle, size_t *bytes) {
    ccorc_error error;
    char *json = NULL;
    double start = now_seconds(), elapsed;
    if (ccorc_list_sessions(handle, 0, &json, &error) != CCORC_OK) {
        fprintf(stderr, "ccorc_list_sessions: %s\n", error.message);
        return -1;
    }
    elapsed = now_seconds() - start;
    *bytes = strlen(json);
    ccorc_free(json);
    return elapsed;
}

int main(int argc, char **argv) {
    ccorc_options options;
    ccorc_handle *handle = NULL;
    ccorc_error error;
    char line[64];
    size_t bytes = 0;
    long calls, index;
    double *samples;

    if (argc != 3) {
        fprintf(stderr, "usage: %s HOME TMUX_SERVER < counts\n", argv[0]);
        return 2;
    }
    ccorc_options_init(&options);
    options.home = argv[1];
    options.tmux_server = argv[2];
    if (ccorc_open(&options, &handle, &error) != CCORC_OK) {
        fprintf(stderr, "ccorc_open: %s\n", error.message);
        return 1;
    }
    /* One call first: the engine connection and the tmux pipe are made lazily. */
    if (timed_list(handle, &bytes) < 0) return 1;
    while (fgets(line, sizeof line, stdin) != NULL) {
        calls = strtol(line, NULL, 10);
        if (calls <= 0) break;
        samples = malloc(sizeof *samples * (size_t)calls);
        if (samples == NULL) return 1;
        for (index = 0; index < calls; index++) {
            if ((samples[index] = timed_list(handle, &bytes)) < 0) return 1;
        }
        printf("%zu", bytes);
        for (index = 0; index < calls; index++) printf(" %.6f", samples[index]);
        printf("\n");
        fflush(stdout);
        free(samples);
    }
    ccorc_close(handle);
    return 0;
}
