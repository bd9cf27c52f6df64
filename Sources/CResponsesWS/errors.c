/* Status names and the thread-local "last error" sentence.
 *
 * Written in C because C11 _Thread_local gives each thread its own buffer with no allocation
 * and no key management; everything else of the C API is implemented in Swift
 * (Sources/ResponsesWS). */
#include "responses_ws.h"
#include "rws_internal.h"

#include <string.h>

static _Thread_local char last_error[1024];

void rwsi_set_last_error(const char *message, size_t len) {
    if (len >= sizeof last_error) len = sizeof last_error - 1;
    if (message && len) memcpy(last_error, message, len);
    last_error[message ? len : 0] = '\0';
}

const char *rws_last_error(void) { return last_error; }

const char *rws_strerror(int status) {
    switch (status) {
    case RWS_OK: return "ok";
    case RWS_DONE: return "done";
    case RWS_E_INVALID_ARGUMENT: return "invalid argument";
    case RWS_E_INVALID_STATE: return "not allowed in this state";
    case RWS_E_NO_MEMORY: return "out of memory";
    case RWS_E_INVALID_JSON: return "invalid request JSON";
    case RWS_E_AGAIN: return "timed out waiting; try again";
    case RWS_E_INTERNAL: return "internal error";
    case RWS_E_UNSUPPORTED: return "unsupported";
    case RWS_E_URL: return "bad URL";
    case RWS_E_DNS: return "host name did not resolve";
    case RWS_E_CONNECT: return "could not connect";
    case RWS_E_TLS: return "TLS failure";
    case RWS_E_TLS_VERIFY: return "TLS certificate verification failed";
    case RWS_E_AUTH: return "authentication refused";
    case RWS_E_UPGRADE_REFUSED: return "WebSocket upgrade refused";
    case RWS_E_TIMEOUT: return "timed out";
    case RWS_E_CLOSED: return "connection closed before the request was sent";
    case RWS_E_OUTCOME_UNKNOWN: return "connection lost after the request was sent; outcome unknown";
    case RWS_E_MESSAGE_TOO_BIG: return "server message too big";
    case RWS_E_REQUEST_TOO_BIG: return "request too big";
    case RWS_E_PROTOCOL: return "protocol violation";
    case RWS_E_CANCELLED: return "cancelled";
    case RWS_E_ABORTED: return "stopped by the event callback";
    case RWS_E_PROXY: return "the proxy could not be reached or refused the tunnel";
    case RWS_E_SERVER: return "server error";
    case RWS_E_PREVIOUS_RESPONSE_NOT_FOUND: return "previous response not found";
    case RWS_E_CONNECTION_LIMIT: return "connection limit reached";
    case RWS_E_STREAM_LIMIT: return "stream limit reached";
    case RWS_E_INVALID_STREAM_ID: return "invalid stream id";
    case RWS_E_RATE_LIMITED: return "rate limited";
    case RWS_E_RESPONSE_FAILED: return "response failed";
    case RWS_E_INVALID_REQUEST: return "invalid request";
    default: return "unknown status";
    }
}
