// The static initializers of responses_ws.h compile as C++11 (positional, no designators).
// Compiled, not run, by Tests/run-all.sh's "C header" step; Tests/c/test_capi.c checks the values.
#include "responses_ws.h"

static const rws_client_options client_options = RWS_CLIENT_OPTIONS_INIT;
static const rws_session_options session_options = RWS_SESSION_OPTIONS_INIT;
static const rws_turn_options turn_options = RWS_TURN_OPTIONS_INIT;

int main() {
    return client_options.struct_size > 0 && session_options.struct_size > 0 && turn_options.struct_size > 0 ? 0 : 1;
}
