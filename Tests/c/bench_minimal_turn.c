/*
 * The cost of a minimal chained turn through libresponsesws, next to its floor: a raw blocking
 * C WebSocket client (no JSON parser, no threads) doing the same exchange on the same simulator.
 *
 * Each turn sends {"model":"gpt-5.6","store":false,"input":"hi"} chained to the previous
 * response (previous_response_id) and ends at the terminal event. Modes:
 *   callback    rws_turn_start with a callback that does nothing, then rws_turn_wait
 *   pull        rws_turn_start in pull mode, rws_turn_next_event until RWS_DONE
 *   pull-batch  the same with rws_turn_next_events (32 at a time)
 *   pull-spin   rws_turn_next_event with timeout 0 in a busy loop: what a caller that spins
 *               instead of sleeping on a futex would gain (an experiment; it burns a core)
 *   cb-late-free  callback, but each block's turns are freed after the block, outside its
 *               counts: what a free that need not hop to the I/O thread would save per turn
 *   raw         the floor (raw_ws_* below)
 *   handoff     no network: the caller wakes a helper thread and sleeps until it wakes the
 *               caller back (two eventfds). The least any design pays per turn when the
 *               socket I/O runs on another thread than the caller (a reference row)
 * A turn is timed from the start call to the moment the caller knows it ended (wait/pull
 * returned, or the raw client read the terminal event); rws_turn_free is outside the timed
 * interval but inside the context-switch count. Modes run in alternating blocks (4 rounds) so
 * that the VM's drifting speed hits all of them alike.
 *
 * Prints per mode: p50/p90/p99 in µs, p50 ours/floor, CPU time per turn of the whole process
 * (user/sys from getrusage) and context switches per turn (getrusage), both also per thread
 * (/proc/self/task/.../schedstat and .../status). Also one machine-readable
 * "RESULT" line per mode for Tests/c/bench_minimal_turn.sh, which adds the system calls per turn
 * from separate runs under strace (--only MODE). Not a test: it fails only when a turn fails.
 *
 * usage: bench_minimal_turn [--port P] [--turns N] [--warmup N] [--only MODE]
 *   --port P: use the `rws sim` already listening on 127.0.0.1:P (else one is started via
 *   $RWS_BIN with --tokens-per-second 0 --output-tokens 1).
 */
#include "sim.h"
#include <responses_ws.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

static const char *const mode_names[] = {"callback", "pull", "pull-batch", "pull-spin", "cb-late-free", "raw", "handoff"};
/* The library modes come before MODE_RAW. */
enum { MODE_CALLBACK, MODE_PULL, MODE_PULL_BATCH, MODE_PULL_SPIN, MODE_LATE_FREE, MODE_RAW, MODE_HANDOFF, MODE_COUNT };

static void die(const char *what, const char *detail) {
    fprintf(stderr, "bench_minimal_turn: %s: %s\n", what, detail);
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------------------------
 * The floor: a raw blocking WebSocket client
 * ---------------------------------------------------------------------------------------- */

typedef struct raw_ws {
    int fd;
    char *in;                  /* bytes read and not parsed yet; grows to hold one whole frame */
    size_t in_len, in_cap;
    char *msg;                 /* the text message being assembled (fragments appended) */
    size_t msg_len, msg_cap;
    char last_id[128];         /* response id of the last completed turn, "" before the first */
    uint32_t mask_state;
} raw_ws;

static void write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("raw write", strerror(errno));
        p += w;
        len -= (size_t)w;
    }
}

/* Reads more bytes into the buffer (blocking), making room for at least `want` bytes in all;
 * dies on EOF. */
static void raw_fill(raw_ws *c, size_t want) {
    if (want < c->in_len + 1) want = c->in_len + 1;
    if (want > c->in_cap) {
        c->in_cap = want > 2 * c->in_cap ? want : 2 * c->in_cap;
        c->in = realloc(c->in, c->in_cap);
        if (!c->in) die("raw read", "out of memory");
    }
    ssize_t r;
    do r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    while (r < 0 && errno == EINTR);
    if (r <= 0) die("raw read", r == 0 ? "server closed the connection" : strerror(errno));
    c->in_len += (size_t)r;
}

/* One masked client frame. The mask only has to be unpredictable to the network, so a
 * xorshift is plenty here. */
static void raw_send_frame(raw_ws *c, int opcode, const char *payload, size_t len) {
    unsigned char head[14];
    size_t h = 0;
    head[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        head[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        head[h++] = 0x80 | 126;
        head[h++] = (unsigned char)(len >> 8);
        head[h++] = (unsigned char)len;
    } else {
        head[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) head[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    c->mask_state ^= c->mask_state << 13;
    c->mask_state ^= c->mask_state >> 17;
    c->mask_state ^= c->mask_state << 5;
    unsigned char key[4] = {(unsigned char)(c->mask_state >> 24), (unsigned char)(c->mask_state >> 16),
                            (unsigned char)(c->mask_state >> 8), (unsigned char)c->mask_state};
    memcpy(head + h, key, 4);
    h += 4;
    char frame[16384];
    if (h + len > sizeof frame) die("raw send", "request too big for the floor client");
    memcpy(frame, head, h);
    for (size_t i = 0; i < len; i++) frame[h + i] = (char)(payload[i] ^ key[i & 3]);
    write_all(c->fd, frame, h + len); /* one write: header and payload in one segment */
}

static void raw_connect(raw_ws *c, int port) {
    memset(c, 0, sizeof *c);
    c->in_cap = 1 << 16;
    c->in = malloc(c->in_cap);
    if (!c->in) die("raw connect", "out of memory");
    c->mask_state = 0x9e3779b9u;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) die("socket", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect", strerror(errno));
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /v1/responses HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer sk-local\r\n\r\n", port);
    write_all(c->fd, req, (size_t)n);
    char *end;
    for (;;) { /* the answer's head; frames may follow it in the same read */
        raw_fill(c, 0);
        if ((end = memmem(c->in, c->in_len, "\r\n\r\n", 4)) != NULL) break;
    }
    if (strncmp(c->in, "HTTP/1.1 101", 12) != 0) die("upgrade", "no 101 Switching Protocols");
    size_t head_len = (size_t)(end + 4 - c->in);
    memmove(c->in, c->in + head_len, c->in_len - head_len);
    c->in_len -= head_len;
}

/* Reads until one whole frame is buffered (however the bytes were split across reads), then
 * consumes it: a text or continuation payload is appended to c->msg, a ping is answered with
 * a pong. Returns 1 when a message ended (FIN on a data frame), 0 otherwise. */
static int raw_next_frame(raw_ws *c) {
    for (;;) {
        const unsigned char *b = (const unsigned char *)c->in;
        size_t need = 2;
        if (c->in_len >= 2) {
            uint64_t len = b[1] & 0x7f;
            size_t h = 2;
            if (len == 126) h = 4;
            else if (len == 127) h = 10;
            if (b[1] & 0x80) die("raw read", "masked server frame");
            need = h;
            if (c->in_len >= h) {
                if (len == 126) len = ((uint64_t)b[2] << 8) | b[3];
                else if (len == 127) {
                    len = 0;
                    for (int i = 0; i < 8; i++) len = (len << 8) | b[2 + i];
                }
                int fin = b[0] & 0x80, opcode = b[0] & 0x0f;
                if (len > (1u << 26)) die("raw read", "frame larger than 64 MiB");
                need = h + (size_t)len;
                if (c->in_len >= need) {
                    const char *payload = c->in + h;
                    int ended = 0;
                    if (opcode == 0x1 || opcode == 0x0) {
                        if (!c->msg || c->msg_len + len > c->msg_cap) {
                            c->msg_cap = (c->msg_len + (size_t)len) * 2;
                            c->msg = realloc(c->msg, c->msg_cap + 1);
                            if (!c->msg) die("raw read", "out of memory");
                        }
                        memcpy(c->msg + c->msg_len, payload, (size_t)len);
                        c->msg_len += (size_t)len;
                        c->msg[c->msg_len] = '\0';
                        ended = fin != 0;
                    } else if (opcode == 0x9) {
                        raw_send_frame(c, 0xA, payload, (size_t)len);
                    } else if (opcode == 0x8) {
                        die("raw read", "server sent a close frame");
                    } else if (opcode == 0x2) {
                        die("raw read", "binary frame");
                    } /* 0xA pong: ignored */
                    memmove(c->in, c->in + need, c->in_len - need);
                    c->in_len -= need;
                    return ended;
                }
            }
        }
        raw_fill(c, need);
    }
}

/* One chained turn; dies if it fails. */
static void raw_turn(raw_ws *c) {
    char req[512];
    int n;
    if (c->last_id[0])
        n = snprintf(req, sizeof req, "{\"type\":\"response.create\",\"model\":\"gpt-5.6\",\"store\":false,"
                     "\"input\":\"hi\",\"previous_response_id\":\"%s\"}", c->last_id);
    else
        n = snprintf(req, sizeof req, "{\"type\":\"response.create\",\"model\":\"gpt-5.6\",\"store\":false,"
                     "\"input\":\"hi\"}");
    raw_send_frame(c, 0x1, req, (size_t)n);
    for (;;) {
        c->msg_len = 0;
        while (!raw_next_frame(c)) {
        }
        if (strstr(c->msg, "\"type\":\"response.completed\"")) break;
        if (strstr(c->msg, "\"type\":\"error\"") || strstr(c->msg, "\"type\":\"response.failed\"") ||
            strstr(c->msg, "\"type\":\"response.incomplete\""))
            die("raw turn", c->msg);
    }
    const char *id = strstr(c->msg, "\"id\":\"resp_");
    if (!id) die("raw turn", "no response id in response.completed");
    id += 6;
    const char *q = strchr(id, '"');
    if (!q || (size_t)(q - id) >= sizeof c->last_id) die("raw turn", "bad response id");
    memcpy(c->last_id, id, (size_t)(q - id));
    c->last_id[q - id] = '\0';
}

/* ------------------------------------------------------------------------------------------
 * The reference hand-off: two cross-thread wake-ups
 * ---------------------------------------------------------------------------------------- */

static int handoff_to_helper = -1, handoff_to_caller = -1;

static void *handoff_helper(void *unused) {
    (void)unused;
    uint64_t v;
    while (read(handoff_to_helper, &v, sizeof v) == (ssize_t)sizeof v) {
        if (write(handoff_to_caller, &v, sizeof v) != (ssize_t)sizeof v) break;
    }
    return NULL;
}

static void handoff_start(void) {
    pthread_t thread;
    handoff_to_helper = eventfd(0, EFD_CLOEXEC);
    handoff_to_caller = eventfd(0, EFD_CLOEXEC);
    if (handoff_to_helper < 0 || handoff_to_caller < 0) die("eventfd", strerror(errno));
    if (pthread_create(&thread, NULL, handoff_helper, NULL) != 0) die("pthread_create", "failed");
    pthread_detach(thread);
}

static void handoff_round_trip(void) {
    uint64_t v = 1;
    if (write(handoff_to_helper, &v, sizeof v) != (ssize_t)sizeof v ||
        read(handoff_to_caller, &v, sizeof v) != (ssize_t)sizeof v)
        die("handoff", strerror(errno));
}

/* ------------------------------------------------------------------------------------------
 * Ours
 * ---------------------------------------------------------------------------------------- */

static int ignore_event(void *user_data, const rws_event *event) {
    (void)user_data;
    (void)event;
    return RWS_CONTINUE;
}

static const char request[] = "{\"input\":\"hi\"}";

static void check(int status, const char *what) {
    if (status != RWS_OK) {
        fprintf(stderr, "bench_minimal_turn: %s: %s: %s\n", what, rws_strerror(status), rws_last_error());
        exit(1);
    }
}

/* One turn of `mode` on `session`; returns its duration in ns. The turn is freed, or handed
 * to *keep when keep is not NULL. */
static uint64_t our_turn(rws_session *session, int mode, rws_turn **keep) {
    rws_turn *turn;
    rws_turn_options options = RWS_TURN_OPTIONS_INIT;
    if (mode == MODE_CALLBACK || mode == MODE_LATE_FREE) options.on_event = ignore_event;
    uint64_t started = now_ns();
    check(rws_turn_start(session, request, sizeof request - 1, &options, &turn), "rws_turn_start");
    int status;
    if (mode == MODE_CALLBACK || mode == MODE_LATE_FREE) {
        status = rws_turn_wait(turn, -1);
    } else if (mode == MODE_PULL) {
        const rws_event *event;
        while ((status = rws_turn_next_event(turn, -1, &event)) == RWS_OK) {
        }
        if (status == RWS_DONE) status = rws_turn_wait(turn, 0);
    } else if (mode == MODE_PULL_SPIN) {
        const rws_event *event;
        while ((status = rws_turn_next_event(turn, 0, &event)) == RWS_OK || status == RWS_E_AGAIN) {
        }
        if (status == RWS_DONE) status = rws_turn_wait(turn, 0);
    } else {
        const rws_event *events[32];
        size_t count;
        while ((status = rws_turn_next_events(turn, -1, events, 32, &count)) == RWS_OK) {
        }
        if (status == RWS_DONE) status = rws_turn_wait(turn, 0);
    }
    uint64_t took = now_ns() - started;
    check(status, "turn");
    rws_turn_result result;
    check(rws_turn_get_result(turn, &result, sizeof result), "rws_turn_get_result");
    if (keep) *keep = turn;
    else rws_turn_free(turn);
    return took;
}

/* ------------------------------------------------------------------------------------------
 * Context switches and CPU time: whole process and per thread
 * ---------------------------------------------------------------------------------------- */

typedef struct thread_switches {
    int tid;
    char name[32];
    long switches;   /* voluntary + involuntary */
    uint64_t cpu_ns; /* time on a CPU, user + kernel (/proc/.../schedstat, nanoseconds) */
} thread_switches;

typedef struct switch_snapshot {
    long process; /* getrusage(RUSAGE_SELF): every thread, also those that exited */
    long user_us, sys_us;
    int count;
    thread_switches threads[64];
} switch_snapshot;

static long status_field(const char *text, const char *key) {
    const char *p = strstr(text, key);
    return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

static void take_snapshot(switch_snapshot *s) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    s->process = ru.ru_nvcsw + ru.ru_nivcsw;
    s->user_us = ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec;
    s->sys_us = ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec;
    s->count = 0;
    DIR *dir = opendir("/proc/self/task");
    struct dirent *d;
    while (dir && (d = readdir(dir)) != NULL && s->count < 64) {
        if (d->d_name[0] == '.') continue;
        thread_switches *t = &s->threads[s->count];
        char path[300], text[4096];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", d->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        t->tid = atoi(d->d_name);
        const char *name = strstr(text, "Name:\t");
        snprintf(t->name, sizeof t->name, "%.*s", name ? (int)strcspn(name + 6, "\n") : 1, name ? name + 6 : "?");
        t->switches = status_field(text, "\nvoluntary_ctxt_switches:") + status_field(text, "\nnonvoluntary_ctxt_switches:");
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", d->d_name);
        t->cpu_ns = 0;
        if ((f = fopen(path, "r")) != NULL) {
            unsigned long long ns;
            if (fscanf(f, "%llu", &ns) == 1) t->cpu_ns = ns;
            fclose(f);
        }
        s->count++;
    }
    if (dir) closedir(dir);
}

typedef struct mode_stats {
    uint64_t *ns;       /* measured turn durations */
    size_t n;
    long process_switches;
    long user_us, sys_us; /* getrusage deltas */
    uint64_t cpu_ns;    /* CPU time of the whole process (all threads) over the measured turns */
    thread_switches threads[64]; /* per-thread switch deltas, by tid */
    int thread_count;
} mode_stats;

static void add_switches(mode_stats *m, const switch_snapshot *before, const switch_snapshot *after) {
    m->process_switches += after->process - before->process;
    m->user_us += after->user_us - before->user_us;
    m->sys_us += after->sys_us - before->sys_us;
    for (int i = 0; i < after->count; i++) {
        long base = 0;
        uint64_t cpu_base = 0;
        for (int j = 0; j < before->count; j++)
            if (before->threads[j].tid == after->threads[i].tid) {
                base = before->threads[j].switches;
                cpu_base = before->threads[j].cpu_ns;
            }
        long delta = after->threads[i].switches - base;
        uint64_t cpu_delta = after->threads[i].cpu_ns - cpu_base;
        if (delta <= 0 && cpu_delta == 0) continue;
        int k = 0;
        while (k < m->thread_count && m->threads[k].tid != after->threads[i].tid) k++;
        if (k == m->thread_count) {
            if (k == 64) continue;
            m->threads[k] = after->threads[i];
            m->threads[k].switches = 0;
            m->threads[k].cpu_ns = 0;
            m->thread_count++;
        }
        m->threads[k].switches += delta;
        m->threads[k].cpu_ns += cpu_delta;
    }
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_us(const mode_stats *m, double q) {
    size_t i = (size_t)(q * (double)(m->n - 1) + 0.5);
    return (double)m->ns[i] / 1e3;
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    long turns = 2000, warmup = 200;
    int port = 0, only = -1;
    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--turns") == 0 && next) turns = atol(argv[++i]);
        else if (strcmp(argv[i], "--warmup") == 0 && next) warmup = atol(argv[++i]);
        else if (strcmp(argv[i], "--port") == 0 && next) port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && next) {
            i++;
            for (int m = 0; m < MODE_COUNT; m++)
                if (strcmp(argv[i], mode_names[m]) == 0) only = m;
            if (only < 0) die("--only", "callback, pull, pull-batch, pull-spin, cb-late-free, raw or handoff");
        } else {
            fprintf(stderr, "usage: %s [--port P] [--turns N] [--warmup N] [--only callback|pull|pull-batch|pull-spin|cb-late-free|raw|handoff]\n",
                    argv[0]);
            return 2;
        }
    }
    if (turns < 1 || warmup < 0) die("usage", "--turns must be >= 1, --warmup >= 0");

    sim s = {0};
    if (port == 0) {
        const char *flags[] = {"--tokens-per-second", "0", "--output-tokens", "1", NULL};
        if (sim_start(&s, flags) != 0) return 1;
        port = s.port;
    }
    char base_url[64];
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d/v1", port);

    /* One session (one warm connection) per library mode, one raw connection: each mode keeps
     * its own chain, as one caller would. */
    rws_client_options co;
    rws_client_options_init(&co);
    co.base_url = base_url;
    co.api_key = "sk-local";
    co.fallback = RWS_FALLBACK_NEVER;
    rws_client *client = NULL;
    rws_session *sessions[MODE_RAW] = {NULL};
    if (only < MODE_RAW) { /* the floor (--only raw) and the hand-off run without the library */
        check(rws_client_new(&co, &client), "rws_client_new");
        rws_session_options so;
        rws_session_options_init(&so);
        so.defaults_json = "{\"model\":\"gpt-5.6\",\"store\":false}";
        for (int m = 0; m < MODE_RAW; m++) check(rws_session_new(client, &so, &sessions[m]), "rws_session_new");
    }
    static raw_ws raw;
    raw.fd = -1;
    if (only < 0 || only == MODE_RAW) raw_connect(&raw, port);
    if (only < 0 || only == MODE_HANDOFF) handoff_start();

    mode_stats stats[MODE_COUNT];
    memset(stats, 0, sizeof stats);
    for (int m = 0; m < MODE_COUNT; m++) {
        stats[m].ns = calloc((size_t)turns, sizeof(uint64_t));
        if (!stats[m].ns) die("calloc", "out of memory");
    }

    for (int m = 0; m < MODE_COUNT; m++) {
        if (only >= 0 && m != only) continue;
        for (long i = 0; i < warmup; i++) {
            if (m == MODE_RAW) raw_turn(&raw);
            else if (m == MODE_HANDOFF) handoff_round_trip();
            else our_turn(sessions[m], m, NULL);
        }
    }

    /* Markers for a trace (strace -f shows them as failed writes): the measured turns lie
     * between them. */
    if (write(-1, "measured turns begin", 20) < 0) {
    }
    rws_turn **late = calloc((size_t)turns, sizeof(rws_turn *)); /* cb-late-free's turns of a block */
    if (!late) die("calloc", "out of memory");
    /* Rounds of blocks: callback, pull, pull-batch, raw, callback, ... */
    const long rounds = turns >= 4 ? 4 : 1;
    for (long r = 0; r < rounds; r++) {
        long block = turns / rounds + (r < turns % rounds ? 1 : 0);
        for (int m = 0; m < MODE_COUNT; m++) {
            if (only >= 0 && m != only) continue;
            switch_snapshot before, after;
            if (only < 0) take_snapshot(&before); /* traced runs (--only) skip the /proc reads */
            uint64_t cpu_before = cpu_ns();
            long kept = 0;
            for (long i = 0; i < block; i++) {
                uint64_t took;
                if (m == MODE_RAW || m == MODE_HANDOFF) {
                    uint64_t started = now_ns();
                    if (m == MODE_RAW) raw_turn(&raw);
                    else handoff_round_trip();
                    took = now_ns() - started;
                } else {
                    took = our_turn(sessions[m], m, m == MODE_LATE_FREE ? &late[kept++] : NULL);
                }
                stats[m].ns[stats[m].n++] = took;
            }
            stats[m].cpu_ns += cpu_ns() - cpu_before;
            if (only < 0) {
                take_snapshot(&after);
                add_switches(&stats[m], &before, &after);
            }
            for (long i = 0; i < kept; i++) rws_turn_free(late[i]);
        }
    }

    if (write(-1, "measured turns end", 18) < 0) {
    }

    /* The chains really are chained: every library turn after the first went incremental. */
    for (int m = 0; m < MODE_RAW; m++) {
        if (only >= 0 && m != only) continue;
        rws_stats st;
        rws_session_stats(sessions[m], &st, sizeof st);
        if (st.incremental_sends + 1 < st.turns || st.turns_ok != st.turns) {
            fprintf(stderr, "bench_minimal_turn: %s: %llu of %llu turns incremental, %llu ok\n", mode_names[m],
                    (unsigned long long)st.incremental_sends, (unsigned long long)st.turns,
                    (unsigned long long)st.turns_ok);
            return 1;
        }
    }

    if (only < 0) {
        for (int m = 0; m < MODE_COUNT; m++) qsort(stats[m].ns, stats[m].n, sizeof(uint64_t), compare_u64);
        double floor_p50 = percentile_us(&stats[MODE_RAW], 0.5);
        printf("minimal chained turn, %ld turns per mode after %ld warm-up, rws sim on 127.0.0.1:%d\n", turns, warmup,
               port);
        printf("%-12s %9s %9s %9s %10s %12s %13s %11s  %s\n", "mode", "p50 us", "p90 us", "p99 us", "p50/floor",
               "cpu us/turn", "user/sys us", "ctxsw/turn", "per turn by thread: ctxsw, cpu us");
        for (int m = 0; m < MODE_COUNT; m++) {
            const mode_stats *st = &stats[m];
            double p50 = percentile_us(st, 0.5), p90 = percentile_us(st, 0.9), p99 = percentile_us(st, 0.99);
            double ctx = (double)st->process_switches / (double)st->n;
            double cpu = (double)st->cpu_ns / 1e3 / (double)st->n;
            double n = (double)st->n;
            printf("%-12s %9.1f %9.1f %9.1f %10.2f %12.1f %6.0f/%-6.0f %11.2f  ", mode_names[m], p50, p90, p99,
                   p50 / floor_p50, cpu, (double)st->user_us / n, (double)st->sys_us / n, ctx);
            for (int k = 0; k < st->thread_count; k++) {
                double per_turn = (double)st->threads[k].switches / n, cpu_us = (double)st->threads[k].cpu_ns / 1e3 / n;
                if (per_turn < 0.01 && cpu_us < 0.5) continue;
                if (st->threads[k].tid == (int)getpid()) printf("caller %.2f, %.0f; ", per_turn, cpu_us);
                else printf("thread %d %.2f, %.0f; ", st->threads[k].tid, per_turn, cpu_us);
            }
            printf("\n");
        }
        for (int m = 0; m < MODE_COUNT; m++) {
            const mode_stats *st = &stats[m];
            printf("RESULT %s %.1f %.1f %.1f %.2f %.1f %.2f\n", mode_names[m], percentile_us(st, 0.5),
                   percentile_us(st, 0.9), percentile_us(st, 0.99), percentile_us(st, 0.5) / floor_p50,
                   (double)st->cpu_ns / 1e3 / (double)st->n, (double)st->process_switches / (double)st->n);
        }
    } else {
        printf("%s: %ld turns ok\n", mode_names[only], turns + warmup);
    }

    if (raw.fd >= 0) close(raw.fd);
    free(raw.msg);
    free(raw.in);
    for (int m = 0; m < MODE_RAW; m++) rws_session_free(sessions[m]);
    rws_client_free(client);
    for (int m = 0; m < MODE_COUNT; m++) free(stats[m].ns);
    free(late);
    if (s.pid > 0) sim_stop(&s);
    return 0;
}
