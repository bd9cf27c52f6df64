/*
 * Measures what a pull-mode caller that stops pulling costs in memory: one turn of N streamed
 * deltas from `rws sim`, nothing pulled for 8 s, then everything pulled. Prints the RSS growth,
 * the bytes the client had read and the read pauses. Not a test (no thresholds); the README's
 * numbers come from:
 *   cc -O2 -Iinclude Tests/c/measure_queue.c -L.build/release -lresponsesws \
 *      -Wl,-rpath,$PWD/.build/release -o .build/measure_queue
 *   RWS_BIN=.build/release/rws .build/measure_queue 0 1000000        # no limit
 *   RWS_BIN=.build/release/rws .build/measure_queue 4194304 1000000  # the default limit
 */
#include "sim.h"
#include <responses_ws.h>
#include <poll.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MAX_QUEUED_BYTES OUTPUT_TOKENS\n", argv[0]);
        return 2;
    }
    sim s;
    const char *flags[] = {"--tokens-per-second", "0", "--output-tokens", argv[2], NULL};
    if (sim_start(&s, flags) != 0) return 1;
    rws_client_options o;
    rws_client_options_init(&o);
    o.base_url = s.base_url;
    o.api_key = "sk-local";
    o.max_queued_bytes = strtoull(argv[1], NULL, 10);
    rws_client *c;
    rws_session *sess;
    rws_session_options so;
    rws_session_options_init(&so);
    so.defaults_json = "{\"model\":\"gpt-5.6\",\"store\":false}";
    if (rws_client_new(&o, &c) != RWS_OK || rws_session_new(c, &so, &sess) != RWS_OK) {
        fprintf(stderr, "%s\n", rws_last_error());
        return 1;
    }
    long before = rss_kib();
    rws_turn *t;
    const rws_event *e;
    if (rws_turn_start(sess, "{\"input\":\"a long answer\"}", 0, NULL, &t) != RWS_OK ||
        rws_turn_next_event(t, 30000, &e) != RWS_OK) {
        fprintf(stderr, "%s\n", rws_last_error());
        return 1;
    }
    poll(NULL, 0, 8000);   /* the caller is busy elsewhere for 8 s: the measured situation */
    rws_stats st;
    rws_session_stats(sess, &st, sizeof st);
    printf("max_queued_bytes=%s: after 8 s without pulling: RSS +%ld KiB, %llu bytes read, %llu pauses\n", argv[1],
           rss_kib() - before, (unsigned long long)st.bytes_received, (unsigned long long)st.read_pauses);
    long events = 1;
    while (rws_turn_next_event(t, 30000, &e) == RWS_OK) events++;
    int status = rws_turn_wait(t, 0);
    printf("then: %ld events in all, status %s\n", events, rws_strerror(status));
    rws_turn_free(t);
    rws_session_free(sess);
    rws_client_free(c);
    sim_stop(&s);
    return status == RWS_OK ? 0 : 1;
}
