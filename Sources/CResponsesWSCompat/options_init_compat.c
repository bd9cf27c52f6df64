/* rws_client_options_init in its two versions: the 0.5.0 layout, and the 0.4.0 layout for
 * programs built against an older header.
 *
 * An _init function writes the whole options struct it knows. A program built against the
 * 0.4.0 header has a smaller rws_client_options, so the 0.5.0 function, which also fills the
 * fields appended in 0.5.0, would write past the caller's struct. Such programs were linked
 * against rws_client_options_init@RESPONSESWS_0 and keep that version: it fills only the 0.4.0
 * layout and sets struct_size to its size. Programs built against 0.5.0 link the default
 * version, rws_client_options_init@@RESPONSESWS_0.5. Written in C because symbol versions are
 * set with an assembler directive; the body is Swift's (rwsi_client_options_init). */
#include "responses_ws.h"

#include <stddef.h>
#include <string.h>

void rwsi_client_options_init(rws_client_options *options); /* Sources/ResponsesWS */

/* sizeof(rws_client_options) in 0.4.0: up to permessage_deflate, padded to the alignment. */
#define RWSI_CLIENT_OPTIONS_SIZE_0_4 \
    ((offsetof(rws_client_options, lanes) + _Alignof(rws_client_options) - 1) & ~(_Alignof(rws_client_options) - 1))

void rwsi_client_options_init_0_4(rws_client_options *options);

/* `retain`: nothing in the library calls these, and the release link drops unreferenced
 * sections. */
__attribute__((used, retain)) void rwsi_client_options_init_0_4(rws_client_options *options) {
    if (!options) return;
    rws_client_options full;
    memset(&full, 0, sizeof full);
    rwsi_client_options_init(&full);
    full.struct_size = RWSI_CLIENT_OPTIONS_SIZE_0_4;
    memcpy(options, &full, RWSI_CLIENT_OPTIONS_SIZE_0_4);
}

#ifdef RWS_SYMBOL_VERSIONS
void rwsi_client_options_init_0_5(rws_client_options *options);

__attribute__((used, retain)) void rwsi_client_options_init_0_5(rws_client_options *options) {
    rwsi_client_options_init(options);
}

__asm__(".symver rwsi_client_options_init_0_4, rws_client_options_init@RESPONSESWS_0");
__asm__(".symver rwsi_client_options_init_0_5, rws_client_options_init@@RESPONSESWS_0.5");
#else
/* Debug builds (no version script): the current version only. */
void rws_client_options_init(rws_client_options *options) { rwsi_client_options_init(options); }
#endif
