"""The C declarations of ``include/responses_ws.h`` and the loading of ``libresponsesws.so.0``.

cffi ABI mode: the declarations below are parsed at import time and the library is opened with
``ffi.dlopen``; no compiler is needed. They must mirror the header exactly (struct layouts are
computed from them), which ``tests/test_cdef.py`` checks against the header itself.
"""

from __future__ import annotations

import ctypes.util
import os
from typing import Any, List, Tuple

# cffi ships no type information; the FFI object and the library are used as Any.
from cffi import FFI  # type: ignore[import-untyped, unused-ignore]

# Integer macros are spelled as plain numbers here (cffi ABI mode takes only literals); the
# values are checked against the header's expressions by tests/test_cdef.py.
CDEF = """
#define RWS_VERSION_MAJOR 0
#define RWS_VERSION_MINOR 5
#define RWS_VERSION_PATCH 0
#define RWS_VERSION_NUMBER 1280

const char *rws_version(void);
uint32_t rws_version_number(void);

#define RWS_FEATURE_TLS 1
#define RWS_FEATURE_PULL 2
#define RWS_FEATURE_HTTP_SSE 4
#define RWS_FEATURE_NOTIFY_FD 8
#define RWS_FEATURE_QUEUE_LIMIT 16
#define RWS_FEATURE_FORK_SAFE 32
#define RWS_FEATURE_REQUEST_ID 64
#define RWS_FEATURE_LOG_HOOK 128
#define RWS_FEATURE_CLIENT_CERT 256
#define RWS_FEATURE_PROXY 512
#define RWS_FEATURE_DEFLATE 1024
#define RWS_FEATURE_LANES 2048
#define RWS_FEATURE_STEER 4096

uint32_t rws_features(void);

enum {
    RWS_OK = 0,
    RWS_DONE = 1,
    RWS_E_INVALID_ARGUMENT = -1,
    RWS_E_INVALID_STATE = -2,
    RWS_E_NO_MEMORY = -3,
    RWS_E_INVALID_JSON = -4,
    RWS_E_AGAIN = -5,
    RWS_E_INTERNAL = -6,
    RWS_E_UNSUPPORTED = -7,
    RWS_E_URL = -10,
    RWS_E_DNS = -11,
    RWS_E_CONNECT = -12,
    RWS_E_TLS = -13,
    RWS_E_TLS_VERIFY = -14,
    RWS_E_AUTH = -15,
    RWS_E_UPGRADE_REFUSED = -16,
    RWS_E_TIMEOUT = -17,
    RWS_E_CLOSED = -18,
    RWS_E_OUTCOME_UNKNOWN = -19,
    RWS_E_MESSAGE_TOO_BIG = -20,
    RWS_E_REQUEST_TOO_BIG = -21,
    RWS_E_PROTOCOL = -22,
    RWS_E_CANCELLED = -23,
    RWS_E_ABORTED = -24,
    RWS_E_PROXY = -25,
    RWS_E_SERVER = -30,
    RWS_E_PREVIOUS_RESPONSE_NOT_FOUND = -31,
    RWS_E_CONNECTION_LIMIT = -32,
    RWS_E_STREAM_LIMIT = -33,
    RWS_E_INVALID_STREAM_ID = -34,
    RWS_E_RATE_LIMITED = -35,
    RWS_E_RESPONSE_FAILED = -36,
    RWS_E_INVALID_REQUEST = -37
};

const char *rws_strerror(int status);
const char *rws_last_error(void);

typedef struct rws_str {
    const char *ptr;
    size_t len;
} rws_str;

typedef struct rws_client rws_client;
typedef struct rws_session rws_session;
typedef struct rws_turn rws_turn;

enum {
    RWS_TRANSPORT_WEBSOCKET = 0,
    RWS_TRANSPORT_HTTP = 1
};

enum {
    RWS_LOG_OFF = 0,
    RWS_LOG_ERROR = 1,
    RWS_LOG_WARN = 2,
    RWS_LOG_INFO = 3,
    RWS_LOG_DEBUG = 4
};

typedef struct rws_log_field {
    const char *key;
    const char *value;
} rws_log_field;

typedef void (*rws_log_fn)(void *user_data, int level, const char *message,
                           const rws_log_field *fields, size_t field_count);

typedef struct rws_client_options {
    size_t struct_size;
    const char *api_key;
    const char *base_url;
    const char *websocket_url;
    const char *organization;
    const char *project;
    const char *beta;
    const char *const *headers;
    const char *ca_file;
    int verify_peer;
    uint32_t connect_timeout_ms;
    uint32_t first_event_timeout_ms;
    uint32_t idle_timeout_ms;
    uint32_t total_timeout_ms;
    uint32_t ping_interval_ms;
    uint64_t max_message_bytes;
    uint64_t max_request_bytes;
    int transport;
    uint32_t max_connection_age_ms;
    uint32_t rotation_margin_ms;
    int warm_standby;
    uint32_t max_reconnects;
    uint32_t reconnect_delay_ms;
    uint32_t reconnect_max_delay_ms;
    int fallback;
    uint32_t fallback_after_failures;
    uint32_t fallback_memory_ms;
    uint64_t max_queued_bytes;
    rws_log_fn log_callback;
    void *log_user_data;
    int log_level;
    const char *tls_client_cert;
    const char *tls_client_key;
    const char *tls_client_key_passphrase;
    const char *proxy;
    const char *no_proxy;
    int permessage_deflate;
    int lanes;
    uint32_t max_sessions_per_connection;
} rws_client_options;

enum {
    RWS_LANES_SHARED = 0,
    RWS_LANES_PER_SESSION = 1
};

enum {
    RWS_FALLBACK_AUTO = 0,
    RWS_FALLBACK_NEVER = 1
};

void rws_client_options_init(rws_client_options *options);
int rws_client_new(const rws_client_options *options, rws_client **client_out);
void rws_client_free(rws_client *client);

typedef struct rws_session_options {
    size_t struct_size;
    const char *defaults_json;
    size_t defaults_len;
    const char *stream_id;
    int input_mode;
} rws_session_options;

enum {
    RWS_INPUT_INCREMENTAL = 0,
    RWS_INPUT_FULL_HISTORY = 1
};

void rws_session_options_init(rws_session_options *options);
int rws_session_new(rws_client *client, const rws_session_options *options,
                    rws_session **session_out);
void rws_session_free(rws_session *session);
int rws_session_last_response_id(rws_session *session, char *buf, size_t buf_len);
int rws_session_fork(rws_session *parent, const rws_session_options *options,
                     rws_session **child_out);
int rws_session_stream_id(rws_session *session, char *buf, size_t buf_len);
int rws_session_fork_parent_id(rws_session *session, char *buf, size_t buf_len);
int rws_session_reset(rws_session *session);
int rws_session_prewarm(rws_session *session, const char *request_json, size_t request_len,
                        rws_turn **turn_out);

enum {
    RWS_EVENT_OTHER = 0,
    RWS_EVENT_RESPONSE_CREATED = 1,
    RWS_EVENT_RESPONSE_QUEUED = 2,
    RWS_EVENT_RESPONSE_IN_PROGRESS = 3,
    RWS_EVENT_RESPONSE_COMPLETED = 4,
    RWS_EVENT_RESPONSE_FAILED = 5,
    RWS_EVENT_RESPONSE_INCOMPLETE = 6,
    RWS_EVENT_ERROR = 7,
    RWS_EVENT_OUTPUT_ITEM_ADDED = 8,
    RWS_EVENT_OUTPUT_ITEM_DONE = 9,
    RWS_EVENT_CONTENT_PART_ADDED = 10,
    RWS_EVENT_CONTENT_PART_DONE = 11,
    RWS_EVENT_OUTPUT_TEXT_DELTA = 12,
    RWS_EVENT_OUTPUT_TEXT_DONE = 13,
    RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DELTA = 14,
    RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DONE = 15,
    RWS_EVENT_REASONING_SUMMARY_TEXT_DELTA = 16,
    RWS_EVENT_REASONING_SUMMARY_TEXT_DONE = 17,
    RWS_EVENT_REASONING_TEXT_DELTA = 18,
    RWS_EVENT_REASONING_TEXT_DONE = 19,
    RWS_EVENT_REFUSAL_DELTA = 20,
    RWS_EVENT_REFUSAL_DONE = 21,
    RWS_EVENT_RESPONSE_DONE = 22,
    RWS_EVENT_STEER_ACCEPTED = 23,
    RWS_EVENT_STEER_PENDING = 24,
    RWS_EVENT_STEER_FAILED = 25
};

#define RWS_EVENT_FLAG_TERMINAL 1

typedef struct rws_event {
    size_t struct_size;
    int type;
    uint32_t flags;
    rws_str type_name;
    rws_str json;
    rws_str response_id;
    rws_str stream_id;
    rws_str item_id;
    rws_str delta;
    rws_str error_code;
    rws_str error_message;
    int64_t sequence_number;
    int64_t output_index;
    int32_t error_status;
} rws_event;

enum {
    RWS_CONTINUE = 0,
    RWS_STOP = 1
};

typedef int (*rws_event_cb)(void *user_data, const rws_event *event);

typedef struct rws_turn_options {
    size_t struct_size;
    rws_event_cb on_event;
    void *user_data;
} rws_turn_options;

void rws_turn_options_init(rws_turn_options *options);
int rws_turn_start(rws_session *session, const char *request_json, size_t request_len,
                   const rws_turn_options *options, rws_turn **turn_out);
int rws_turn_next_event(rws_turn *turn, int32_t timeout_ms, const rws_event **event_out);
int rws_turn_next_events(rws_turn *turn, int32_t timeout_ms, const rws_event **events,
                         size_t capacity, size_t *count_out);
int rws_turn_notify_fd(rws_turn *turn);
int rws_turn_wait(rws_turn *turn, int32_t timeout_ms);
int rws_turn_cancel(rws_turn *turn);
int rws_turn_steer(rws_turn *turn, const char *input_json, size_t input_len,
                   uint32_t *steer_index_out);

enum {
    RWS_STEER_UNKNOWN = 0,
    RWS_STEER_ACCEPTED = 1,
    RWS_STEER_COMMITTED = 2,
    RWS_STEER_PENDING = 3,
    RWS_STEER_FAILED = 4,
    RWS_STEER_LOST = 5
};

typedef struct rws_steer_info {
    size_t struct_size;
    int state;
    rws_str steer_id;
    rws_str target_response_id;
    rws_str error_code;
    rws_str error_message;
    rws_str input_json;
    rws_str required_input_json;
} rws_steer_info;

int rws_turn_steer_info(rws_turn *turn, uint32_t steer_index, rws_steer_info *info,
                        size_t info_size);

typedef struct rws_turn_result {
    size_t struct_size;
    int status;
    rws_str response_id;
    rws_str response_status;
    rws_str response_json;
    rws_str error_code;
    rws_str error_message;
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t cached_input_tokens;
    int64_t reasoning_tokens;
    int32_t error_status;
    int transport;
    uint64_t bytes_sent;
    uint64_t bytes_received;
    uint64_t elapsed_us;
    uint64_t first_event_us;
    uint32_t flags;
    rws_str request_id;
} rws_turn_result;

#define RWS_TURN_INCREMENTAL 1
#define RWS_TURN_FULL_RESEND 2
#define RWS_TURN_RECONNECTED 4
#define RWS_TURN_FALLBACK 8
#define RWS_TURN_ROTATED 16

int rws_turn_get_result(rws_turn *turn, rws_turn_result *result, size_t result_size);
void rws_turn_free(rws_turn *turn);

typedef struct rws_stats {
    size_t struct_size;
    uint64_t turns;
    uint64_t turns_ok;
    uint64_t events;
    uint64_t bytes_sent;
    uint64_t bytes_received;
    uint64_t connects;
    uint64_t reconnects;
    uint64_t incremental_sends;
    uint64_t full_resends;
    uint64_t fallbacks;
    uint64_t rotations;
    uint64_t unknown_outcomes;
    uint64_t read_pauses;
    uint64_t connections_open;
    uint64_t lanes_in_use;
    uint64_t connection_id;
} rws_stats;

int rws_client_stats(rws_client *client, rws_stats *stats, size_t stats_size);
int rws_session_stats(rws_session *session, rws_stats *stats, size_t stats_size);
"""

#: The environment variable naming the library file to load before any other place.
LIBRARY_ENV = "RESPONSES_WS_LIBRARY"
#: The library's SONAME.
SONAME = "libresponsesws.so.0"

ffi: Any = FFI()
ffi.cdef(CDEF)


def _candidates() -> List[Tuple[str, str]]:
    """The places to load the library from, in order, as (description, path or name)."""
    places: List[Tuple[str, str]] = []
    env_path = os.environ.get(LIBRARY_ENV)
    if env_path:
        places.append((f"${LIBRARY_ENV}", env_path))
    places.append(("next to the package", os.path.join(os.path.dirname(os.path.abspath(__file__)), SONAME)))
    places.append(("the system library path", ctypes.util.find_library("responsesws") or SONAME))
    return places


def _load() -> Any:
    """Opens the first library that loads and is new enough; raises ImportError naming every place tried."""
    failures: List[str] = []
    if not os.environ.get(LIBRARY_ENV):
        failures.append(f"  ${LIBRARY_ENV}: not set")
    for description, path in _candidates():
        if os.sep in path and not os.path.exists(path):
            failures.append(f"  {description}: {path}: no such file")
            continue
        try:
            library = ffi.dlopen(path)
        except OSError as error:
            failures.append(f"  {description}: {path}: {error}")
            continue
        loaded = library.rws_version_number()
        if loaded >> 16 != library.RWS_VERSION_MAJOR or loaded < library.RWS_VERSION_NUMBER:
            version = ffi.string(library.rws_version()).decode()
            failures.append(f"  {description}: {path}: version {version} is incompatible with this binding (needs {library.RWS_VERSION_MAJOR}.{library.RWS_VERSION_MINOR}.{library.RWS_VERSION_PATCH} or a newer 0.x)")
            continue
        return library
    tried = "\n".join(failures)
    raise ImportError(
        f"responses_ws: cannot load {SONAME}. Tried, in order:\n{tried}\n"
        f"Set {LIBRARY_ENV} to the library file, copy {SONAME} next to the responses_ws package, "
        "or install it on the system library path (e.g. the libresponsesws0 package, then ldconfig)."
    )


lib = _load()


def _has_batched_pull() -> bool:
    """Whether the loaded library exports rws_turn_next_events (added after 0.1.0 shipped)."""
    try:
        lib.rws_turn_next_events
    except AttributeError:
        return False
    return True


#: True when ``rws_turn_next_events`` (one call per batch of events) is available.
HAS_BATCHED_PULL = _has_batched_pull()
