/* Starts and stops `rws sim` for the C tests: each test gets its own simulator on 127.0.0.1
 * with a free port and the flags it needs. The binary comes from $RWS_BIN (default
 * .build/debug/rws). */
#ifndef RWS_TEST_SIM_H
#define RWS_TEST_SIM_H

#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct sim {
    pid_t pid;
    int port;
    int stdout_fd; /* kept open so the simulator never writes into a closed pipe */
    char base_url[64];
} sim;

/* argv-style extra flags, NULL-terminated. Returns 0 on success. */
static inline int sim_start(sim *s, const char *const *flags) {
    const char *bin = getenv("RWS_BIN") ? getenv("RWS_BIN") : ".build/debug/rws";
    const char *argv[32];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "sim";
    argv[n++] = "--port";
    argv[n++] = "0";
    for (int i = 0; flags && flags[i] && n < 30; i++) argv[n++] = flags[i];
    argv[n] = NULL;
    int out[2];
    if (pipe(out) != 0) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    int rc = posix_spawn(&s->pid, bin, &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s: %s (set RWS_BIN)\n", bin, strerror(rc));
        close(out[0]);
        return -1;
    }
    char line[256];
    size_t len = 0;
    while (len + 1 < sizeof line) { /* read the first line byte by byte: nothing after it */
        ssize_t r = read(out[0], line + len, 1);
        if (r <= 0) break;
        if (line[len] == '\n') break;
        len++;
    }
    line[len] = '\0';
    s->stdout_fd = out[0];
    const char *colon = strrchr(line, ':');
    if ((strncmp(line, "listening ws://", 15) != 0 && strncmp(line, "listening wss://", 16) != 0) || !colon) {
        fprintf(stderr, "unexpected first line from rws sim: '%s'\n", line);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        close(out[0]);
        return -1;
    }
    s->port = atoi(colon + 1);
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d/v1", s->port);
    return 0;
}

/* Stops the simulator. With `stats` (and the --stats flag given at start), receives what it
 * printed after its first line: the JSON summary of its counters. */
static inline void sim_stop_with_stats(sim *s, char *stats, size_t stats_len) {
    if (s->pid <= 0) return;
    kill(s->pid, SIGTERM);
    size_t n = 0;
    if (stats && stats_len > 0) {
        ssize_t r;
        while (n + 1 < stats_len && (r = read(s->stdout_fd, stats + n, stats_len - 1 - n)) > 0) n += (size_t)r;
        stats[n] = '\0';
    }
    waitpid(s->pid, NULL, 0);
    close(s->stdout_fd);
    s->pid = 0;
}

static inline void sim_stop(sim *s) { sim_stop_with_stats(s, NULL, 0); }

/* The integer after "\"key\":" in a JSON text (the first occurrence), or -1. */
static inline long json_int(const char *json, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    return p ? strtol(p + strlen(pattern), NULL, 10) : -1;
}

/* Resident memory of this process in KiB (VmRSS), or -1. */
static inline long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    }
    if (f) fclose(f);
    return kib;
}

#endif
