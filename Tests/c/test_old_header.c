/* A program built against the 0.4.0 header runs with this library: its rws_client_options is
 * smaller, and it was linked against rws_client_options_init@RESPONSESWS_0, which must fill
 * exactly that struct (dlvsym gives this test the same version an old binary binds to). The
 * padding at the end of the old struct, where 0.5.0 appended fields, must not be read as them.
 * Build with -I Tests/c/old-headers/0.4.0; run with RWS_BIN set. */
#define _GNU_SOURCE
#include "sim.h"

#include <dlfcn.h>
#include <responses_ws.h>
#include <stddef.h>

static int failures;
#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            fprintf(stderr, "  FAIL %s:%d: %s -- ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
        }                                                                        \
    } while (0)

typedef void (*options_init_fn)(rws_client_options *);

int main(void) {
    CHECK(RWS_VERSION_NUMBER == 0x000400, "built against the 0.4.0 header");
    options_init_fn init_0_4 = (options_init_fn)dlvsym(RTLD_DEFAULT, "rws_client_options_init", "RESPONSESWS_0");
    CHECK(init_0_4 != NULL, "the library keeps rws_client_options_init@RESPONSESWS_0: %s", dlerror());
    if (!init_0_4) return 1;

    /* The old struct, followed by a canary that the init must not touch. */
    struct { rws_client_options o; unsigned char canary[64]; } block;
    memset(&block, 0xAB, sizeof block);
    init_0_4(&block.o);
    CHECK(block.o.struct_size == sizeof(rws_client_options), "struct_size %zu, the 0.4.0 size %zu", block.o.struct_size,
          sizeof(rws_client_options));
    int intact = 1;
    for (size_t i = 0; i < sizeof block.canary; i++) intact &= block.canary[i] == 0xAB;
    CHECK(intact, "nothing written past the 0.4.0 struct");
    CHECK(block.o.connect_timeout_ms == 15000 && block.o.permessage_deflate == 0, "defaults filled");

    /* Padding after the last 0.4.0 field holds garbage, as an initializer may leave it. */
    size_t end = offsetof(rws_client_options, permessage_deflate) + sizeof(int);
    memset((char *)&block.o + end, 0x7F, sizeof(rws_client_options) - end);

    sim s;
    CHECK(sim_start(&s, NULL) == 0, "sim");
    block.o.base_url = s.base_url;
    block.o.api_key = "sk-test";
    rws_client *c = NULL;
    int rc = rws_client_new(&block.o, &c);
    CHECK(rc == RWS_OK, "rws_client_new with the old struct: %s: %s", rws_strerror(rc), rws_last_error());
    if (rc == RWS_OK) {
        rws_session *sess = NULL;
        CHECK(rws_session_new(c, NULL, &sess) == RWS_OK, "session");
        rws_turn *t = NULL;
        CHECK(rws_turn_start(sess, "{\"model\":\"gpt-5.6\",\"input\":\"old program\"}", 0, NULL, &t) == RWS_OK, "start");
        CHECK(rws_turn_wait(t, 30000) == RWS_OK, "a turn runs");
        rws_stats st;
        CHECK(rws_client_stats(c, &st, sizeof st) == RWS_OK && st.turns_ok == 1, "the 0.4.0 rws_stats is filled");
        rws_turn_free(t);
        rws_session_free(sess);
        rws_client_free(c);
    }
    sim_stop(&s);
    printf("%s old_header_0_4_0\n", failures ? "FAIL" : "ok  ");
    return failures ? 1 : 0;
}
