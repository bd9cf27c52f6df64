/*
 * responses_ws.h - a warm transport for the OpenAI Responses API WebSocket mode.
 *
 * libresponsesws keeps WebSocket connections to /v1/responses open and runs conversations over
 * them: each turn sends only the new input items plus `previous_response_id`, and the server
 * answers from its connection-scoped cache. Events arrive as the server's raw JSON plus a few
 * fields decoded once (type, ids, sequence number, delta), through a callback on the library's
 * I/O thread or through a blocking pull call.
 *
 * OBJECTS
 *   rws_client   the connection cache: I/O thread, configuration, warm sockets. Thread-safe.
 *   rws_session  one conversation chain (one lane): remembers the last response id and the
 *                transcript. Thread-safe; its turns run one after another.
 *   rws_turn     one `response.create` in flight and its events.
 *
 * CONVENTIONS
 *   - Fallible functions return an int status: RWS_OK (0), RWS_DONE (1, "nothing more"), or a
 *     negative RWS_E_* code. Codes are stable and never renumbered. rws_strerror() names a code;
 *     rws_last_error() gives a thread-local sentence about the last failure on this thread.
 *   - Options structs start with `struct_size`; fill them with their _init function, then set
 *     fields. Fields are only ever appended, so code built against an older header keeps working.
 *   - Strings passed in are copied before the call returns, unless documented otherwise.
 *     Strings handed out are rws_str views (pointer + length, not NUL-terminated) valid until a
 *     documented point.
 *   - The API key is never written to any message, log or event.
 *
 * THREADS
 *   - Each client owns one I/O thread (an event loop). Event callbacks run on it. A callback must
 *     return quickly: while it runs no other event of that client is processed.
 *   - From inside a callback you may call, on the handles of any client: rws_turn_cancel,
 *     rws_turn_get_result, rws_turn_start and rws_session_prewarm (they do not block),
 *     rws_turn_free, rws_client_new, rws_session_new, rws_session_last_response_id,
 *     rws_*_stats, rws_strerror, rws_last_error; and rws_session_reset on a session of the
 *     callback's own client. Calls that wait for an I/O thread (rws_turn_next_event(s),
 *     rws_turn_wait, rws_session_free, rws_client_free, and rws_session_reset on another
 *     client's session) return RWS_E_INVALID_STATE there instead of deadlocking (the void ones
 *     then return without freeing; see rws_last_error).
 *   - rws_turn_cancel and rws_turn_free on a turn of ANOTHER client, from inside a callback,
 *     cannot wait for that client's I/O thread: no callback of the turn starts after they
 *     return, but one already running on that thread may still finish.
 *   - Callers that must not run code on a foreign thread (e.g. interpreters) use the pull API:
 *     start the turn without a callback and call rws_turn_next_event from their own thread.
 *
 * FORK
 *   Threads do not survive fork(). In the child, do not use any handle created before the fork
 *   (not even to free it); create a new client instead: it starts its own I/O thread and runs
 *   turns normally, whatever the parent was doing when it forked (connections open, a turn
 *   streaming, a host name lookup in flight). The library keeps no process-wide threads:
 *   host names are looked up by getaddrinfo on short-lived threads of the client that asks,
 *   not on a shared pool (libdispatch's, which NIO uses by default, does not survive fork).
 *   Handles and their file descriptors (sockets, rws_turn_notify_fd) are inherited by the
 *   child as plain fds; they are O_CLOEXEC, so exec() drops them. The parent is unaffected.
 *   Python's multiprocessing "fork" start method, gunicorn and celery prefork workers follow
 *   this rule when each worker creates its own client after the fork.
 *
 * "§N" in a comment names a section of docs/PROTOCOL.md (in the source tree; installed by the
 * -dev package as /usr/share/doc/libresponsesws-dev/PROTOCOL.md.gz), the project's notes on the wire protocol.
 *
 * Every function below is safe to call with NULL handles: it returns RWS_E_INVALID_ARGUMENT
 * (or does nothing, for the _free functions).
 */
#ifndef RESPONSES_WS_H
#define RESPONSES_WS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define RWS_EXTERN __attribute__((visibility("default")))
#else
#define RWS_EXTERN
#endif

/* ---------------------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------------------- */

#define RWS_VERSION_MAJOR 0
#define RWS_VERSION_MINOR 4
#define RWS_VERSION_PATCH 0
#define RWS_VERSION_STRING "0.4.0"
/* 0xMMmmpp: compare with RWS_VERSION_AT_LEAST(0, 2, 0). */
#define RWS_VERSION_NUMBER ((RWS_VERSION_MAJOR << 16) | (RWS_VERSION_MINOR << 8) | RWS_VERSION_PATCH)
#define RWS_VERSION_AT_LEAST(ma, mi, pa) (RWS_VERSION_NUMBER >= (((ma) << 16) | ((mi) << 8) | (pa)))

/* The version of the loaded library as "MAJOR.MINOR.PATCH". Static storage; never free it. */
RWS_EXTERN const char *rws_version(void);

/* The version of the loaded library as 0xMMmmpp (may be newer than RWS_VERSION_NUMBER). */
RWS_EXTERN uint32_t rws_version_number(void);

/* Feature bits reported by rws_features(). A program built against this header may run with an
 * older 0.x library: test the bit of a capability added after 0.1.0 before relying on it (a
 * missing function is a load error; a missing field is ignored by an older library).
 * Bits are never reused; new ones are appended at the end of this list. */
#define RWS_FEATURE_TLS          (1u << 0) /* wss:// and https:// through the system OpenSSL */
#define RWS_FEATURE_PULL         (1u << 1) /* rws_turn_next_event, rws_turn_next_events */
#define RWS_FEATURE_HTTP_SSE     (1u << 2) /* HTTP/SSE transport (RWS_TRANSPORT_HTTP) */
/* Added in 0.2.0 (header-only additions such as RWS_CLIENT_OPTIONS_INIT need no bit: test
 * them with #ifdef) */
#define RWS_FEATURE_NOTIFY_FD    (1u << 3) /* rws_turn_notify_fd */
#define RWS_FEATURE_QUEUE_LIMIT  (1u << 4) /* rws_client_options.max_queued_bytes is honoured */
#define RWS_FEATURE_FORK_SAFE    (1u << 5) /* after fork(), a child may create and use new
                                              clients (host names are resolved without
                                              threads inherited from the parent) */
/* Added in 0.3.0 */
#define RWS_FEATURE_REQUEST_ID   (1u << 6) /* rws_turn_result.request_id and request ids in
                                              error messages */
#define RWS_FEATURE_LOG_HOOK     (1u << 7) /* rws_client_options.log_callback */
#define RWS_FEATURE_CLIENT_CERT  (1u << 8) /* rws_client_options.tls_client_cert (mTLS) */
/* Added in 0.4.0 */
#define RWS_FEATURE_PROXY        (1u << 9) /* HTTP CONNECT and SOCKS5 proxies: rws_client_options
                                              .proxy / .no_proxy and the curl environment
                                              variables; RWS_E_PROXY */
#define RWS_FEATURE_DEFLATE      (1u << 10) /* rws_client_options.permessage_deflate */
/* Append new bits here, one per capability, with the release that added it. */

/* The features compiled into the loaded library, as RWS_FEATURE_* bits. */
RWS_EXTERN uint32_t rws_features(void);

/* ---------------------------------------------------------------------------------------------
 * Status codes
 * ------------------------------------------------------------------------------------------- */

enum {
    RWS_OK = 0,
    RWS_DONE = 1, /* not an error: a pulled turn has no more events; a cancelled turn had ended */

    /* The call itself */
    RWS_E_INVALID_ARGUMENT = -1,  /* NULL handle or out-pointer, bad option value */
    RWS_E_INVALID_STATE = -2,     /* not allowed now, e.g. a blocking call inside a callback */
    RWS_E_NO_MEMORY = -3,
    RWS_E_INVALID_JSON = -4,      /* the request JSON is not a JSON object (message says where) */
    RWS_E_AGAIN = -5,             /* nothing happened within the timeout; try again later */
    RWS_E_INTERNAL = -6,          /* a bug in the library; please report the message */
    RWS_E_UNSUPPORTED = -7,       /* valid, but not supported (e.g. "background": true) */

    /* Reaching the server */
    RWS_E_URL = -10,              /* the URL is malformed or its scheme unsupported */
    RWS_E_DNS = -11,              /* the host name does not resolve */
    RWS_E_CONNECT = -12,          /* TCP connection refused, unreachable or reset */
    RWS_E_TLS = -13,              /* TLS handshake or TLS I/O failed */
    RWS_E_TLS_VERIFY = -14,       /* the server certificate or host name did not verify */
    RWS_E_AUTH = -15,             /* HTTP 401/403: the API key or its permissions were refused */
    RWS_E_UPGRADE_REFUSED = -16,  /* the WebSocket upgrade got another non-101 answer (404, 426...) */
    RWS_E_TIMEOUT = -17,          /* connect, first-event, idle or total timeout */

    /* The connection during a turn */
    RWS_E_CLOSED = -18,           /* the connection closed before the request was written:
                                     the server never saw it, so it is safe to send again */
    RWS_E_OUTCOME_UNKNOWN = -19,  /* the connection was lost after the request was written and
                                     before its terminal event: the server may have run it.
                                     The library never replays such a request. */
    RWS_E_MESSAGE_TOO_BIG = -20,  /* a server message exceeded max_message_bytes */
    RWS_E_REQUEST_TOO_BIG = -21,  /* the request exceeds max_request_bytes; it was not sent */
    RWS_E_PROTOCOL = -22,         /* the server broke the protocol (binary frame, bad JSON, HTTP) */
    RWS_E_CANCELLED = -23,        /* rws_turn_cancel or rws_turn_free stopped the turn */
    RWS_E_ABORTED = -24,          /* the event callback returned RWS_STOP */
    RWS_E_PROXY = -25,            /* the configured proxy could not be reached, refused the
                                     tunnel (rws_turn_result.http_status holds its answer: 407
                                     means proxy authentication) or broke its protocol. Never
                                     followed by a direct connection. Since 0.4.0. */

    /* The server's answer (an `error` event or a failed response) */
    RWS_E_SERVER = -30,           /* an `error` event with another code: see rws_turn_get_result */
    RWS_E_PREVIOUS_RESPONSE_NOT_FOUND = -31, /* previous_response_id unknown to this connection */
    RWS_E_CONNECTION_LIMIT = -32, /* websocket_connection_limit_reached (connection too old) */
    RWS_E_STREAM_LIMIT = -33,     /* websocket_stream_limit_reached (33rd named lane) */
    RWS_E_INVALID_STREAM_ID = -34,/* the stream_id is empty, too long or has bad characters */
    RWS_E_RATE_LIMITED = -35,     /* status 429 */
    RWS_E_RESPONSE_FAILED = -36,  /* the response ended with response.failed */
    RWS_E_INVALID_REQUEST = -37   /* the server rejected the request (status 400) */
};

/* The type of the status codes above. Functions return them as `int` (the same type, so this
 * name changes no signature); use it for your own variables. The enums of this header stay
 * anonymous so that each constant keeps type int in C, C++ and Swift. */
typedef int rws_status;

/* A short, static description of a status code ("unknown status" for unknown values). */
RWS_EXTERN const char *rws_strerror(int status);

/* A sentence about the last failure of an rws_* call on the calling thread, naming what to do
 * about it where possible. "" when there is none. Valid until the next rws_* call on this thread.
 * Success does not clear it: read it right after a call returned a negative status. */
RWS_EXTERN const char *rws_last_error(void);

/* ---------------------------------------------------------------------------------------------
 * Strings handed out by the library
 * ------------------------------------------------------------------------------------------- */

/* A view of bytes owned by the library: UTF-8, `len` bytes, NOT NUL-terminated. An absent value
 * is {NULL, 0}. How long it stays valid is documented where it is handed out. */
typedef struct rws_str {
    const char *ptr;
    size_t len;
} rws_str;

/* The three objects, opaque (see OBJECTS at the top). */
typedef struct rws_client rws_client;
typedef struct rws_session rws_session;
typedef struct rws_turn rws_turn;

/* ---------------------------------------------------------------------------------------------
 * Client: the connection cache
 * ------------------------------------------------------------------------------------------- */

/* Which transport turns use. */
enum {
    RWS_TRANSPORT_WEBSOCKET = 0,  /* WebSocket mode (the default) */
    RWS_TRANSPORT_HTTP = 1        /* HTTP POST with SSE streaming: full history every turn */
};
typedef int rws_transport;        /* an RWS_TRANSPORT_* value */

/* ---------------------------------------------------------------------------------------------
 * Logging (0.3.0)
 * ------------------------------------------------------------------------------------------- */

/* Levels of log records, most severe first. rws_client_options.log_level delivers records of
 * that level and the more severe ones. */
enum {
    RWS_LOG_OFF = 0,               /* no records (also when log_callback is NULL) */
    RWS_LOG_ERROR = 1,             /* the library cannot do what was asked */
    RWS_LOG_WARN = 2,              /* a failed turn, a failed connect, a fallback to HTTP/SSE */
    RWS_LOG_INFO = 3,              /* connects, retries and their delays, rotations, recoveries */
    RWS_LOG_DEBUG = 4              /* connection attempts, the client's endpoints and TLS setup */
};
typedef int rws_log_level;         /* an RWS_LOG_* value */

/* One structured fact of a record, e.g. {"delay_ms", "400"}. Both strings are NUL-terminated. */
typedef struct rws_log_field {
    const char *key;
    const char *value;
} rws_log_field;

/* Receives one log record: `level` (an RWS_LOG_* value), a NUL-terminated sentence for people
 * and the same facts as `field_count` key/value pairs. Every string and the field array are
 * valid only during the call: copy what you keep. No record ever contains the API key, a
 * credential-like header value, even when a server echoed one.
 * Threading: called on the client's I/O thread (or, for records about client creation, on
 * the thread calling rws_client_new), with the same rules as event callbacks: return quickly,
 * make no blocking call of this library. It may be called concurrently for different clients. */
typedef void (*rws_log_fn)(void *user_data, int level, const char *message,
                           const rws_log_field *fields, size_t field_count);

typedef struct rws_client_options {
    size_t struct_size;            /* set by rws_client_options_init */

    /* Endpoint and credentials. All strings are copied by rws_client_new. */
    const char *api_key;           /* NULL: $OPENAI_API_KEY. Sent as "Authorization: Bearer". */
    const char *base_url;          /* NULL: $OPENAI_BASE_URL, else "https://api.openai.com/v1".
                                      The WebSocket URL is derived as the SDKs do:
                                      https→wss, http→ws, then "/responses" appended.
                                      A space, CR/LF or other control byte in it (or in
                                      websocket_url) is RWS_E_URL at rws_client_new. */
    const char *websocket_url;     /* NULL: derived from base_url. Else a full ws:// or wss://
                                      URL used as is. */
    const char *organization;      /* NULL: $OPENAI_ORG_ID. "OpenAI-Organization" header. */
    const char *project;           /* NULL: $OPENAI_PROJECT_ID. "OpenAI-Project" header. */
    const char *beta;              /* NULL: none. "OpenAI-Beta" header value. */
    const char *const *headers;    /* NULL or a NULL-terminated array of "Name: value" strings
                                      added to every handshake and HTTP request. A header
                                      the library writes itself (Host, Authorization,
                                      Upgrade, Connection, Sec-WebSocket-*, Content-Length,
                                      Transfer-Encoding, Content-Type, Accept, TE, Trailer,
                                      Keep-Alive) is RWS_E_INVALID_ARGUMENT at rws_client_new:
                                      pass the key as api_key. User-Agent and OpenAI-* replace
                                      the library's own. Values of credential-like headers
                                      (Authorization, *key*, *token*, *secret*, *auth*, ...),
                                      like the API key, are redacted from every message. */

    /* TLS */
    const char *ca_file;           /* NULL: $SSL_CERT_FILE, else the system trust store.
                                      A PEM file of trusted CA certificates. */
    int verify_peer;               /* 1 (default): verify the certificate chain and host name.
                                      0 disables both; only for tests against local servers. */

    /* Time limits, in milliseconds; 0 disables the limit (except connect_timeout_ms). */
    uint32_t connect_timeout_ms;   /* TCP + TLS + upgrade. Default 15000. */
    uint32_t first_event_timeout_ms; /* request written → first event. Default 0 (off). */
    uint32_t idle_timeout_ms;      /* gap between two events of a turn. Default 300000. */
    uint32_t total_timeout_ms;     /* whole turn. Default 0 (off). */
    uint32_t ping_interval_ms;     /* WebSocket ping on a quiet connection. Default 30000. */

    /* Size limits, in bytes */
    uint64_t max_message_bytes;    /* largest server message accepted. Default 64 MiB; values
                                      above 4 GiB act as 4 GiB. */
    uint64_t max_request_bytes;    /* largest request sent. Default 16 MiB, the limit reported
                                      for OpenAI's backend; checked before anything is sent. */

    int transport;                 /* RWS_TRANSPORT_*; default RWS_TRANSPORT_WEBSOCKET. */

    /* Connection lifetime (§5.7: the server ends connections at 60 minutes). */
    uint32_t max_connection_age_ms; /* retire a connection at a turn boundary once this old.
                                      Default 3300000 (55 min); 0: never. */
    uint32_t rotation_margin_ms;   /* never start a turn on a connection with less than this
                                      left before max_connection_age_ms. Default 60000. */
    int warm_standby;              /* 1 (default): before retiring a connection that carries a
                                      store:false chain, open the next one in the background and
                                      prepare the chain there (generate:false), so the first turn
                                      after rotation is incremental. 0: reconnect cold. */

    /* Reconnects: exponential backoff with jitter, within a budget per turn. */
    uint32_t max_reconnects;       /* connection attempts per turn after the first. Default 3. */
    uint32_t reconnect_delay_ms;   /* first backoff delay; doubles per attempt. Default 200. */
    uint32_t reconnect_max_delay_ms; /* backoff ceiling. Default 4000. */

    /* HTTP/SSE fallback for endpoints without WebSocket mode (§5.11). */
    int fallback;                  /* RWS_FALLBACK_AUTO (default) or RWS_FALLBACK_NEVER. */
    uint32_t fallback_after_failures; /* failed upgrades (404/405) or connects before switching
                                      to HTTP/SSE; 426 switches at once. Default 2. */
    uint32_t fallback_memory_ms;   /* how long the client remembers that the endpoint has no
                                      WebSocket mode, so later sessions skip the probe.
                                      Default 600000 (10 min). */

    /* Fields below were appended in 0.2.0. */

    /* Memory for events not pulled yet (pull mode). */
    uint64_t max_queued_bytes;     /* when a pull-mode turn's undelivered events exceed this many
                                      bytes, the library stops reading its connection: TCP slows
                                      the server down and nothing is dropped. Reading resumes
                                      once the caller has pulled half of them. An event larger
                                      than the limit is still delivered. The idle timeout does
                                      not run while reading is paused this way (the total one
                                      does). Events count their JSON plus about 100 bytes of
                                      bookkeeping. Default 4194304 (4 MiB); 0: no limit. */

    /* Fields below were appended in 0.3.0. */

    /* What the library is doing, for logs (see rws_log_fn). Off by default. */
    rws_log_fn log_callback;       /* NULL (default): no records */
    void *log_user_data;           /* passed to log_callback as is */
    int log_level;                 /* an RWS_LOG_* value: the most detailed level delivered.
                                      Default RWS_LOG_INFO; RWS_LOG_OFF turns records off. */

    /* A client certificate (mTLS) for wss:// and https:// servers that require one. A server
     * that refuses it, or wants one and got none, fails the turn with RWS_E_TLS and a message
     * that says so. Read when the client is created: bad files are RWS_E_TLS from
     * rws_client_new; setting only one of cert and key is RWS_E_INVALID_ARGUMENT. */
    const char *tls_client_cert;   /* PEM certificate chain, leaf first. NULL (default): none */
    const char *tls_client_key;    /* PEM private key of tls_client_cert, may be encrypted */
    const char *tls_client_key_passphrase; /* the passphrase of an encrypted key; never in any
                                      message or log record. NULL: the key is not encrypted */

    /* Fields below were appended in 0.4.0. */

    /* Proxies, as curl users expect (RWS_FEATURE_PROXY). A proxy URL is
     * http://[user:password@]host[:port] (an HTTP CONNECT tunnel, Basic authentication from the
     * user info, percent-decoded), socks5://host[:port] (the server's name is resolved here and
     * its address sent) or socks5h://host[:port] (the proxy resolves the name); no scheme means
     * http://, the default port is 1080. SOCKS user/password authentication and https:// proxy
     * URLs are not supported (RWS_E_INVALID_ARGUMENT from rws_client_new).
     * Which proxy an endpoint uses, first match wins:
     *   1. `proxy`, when not NULL, for every endpoint ("" = no proxy, ignore the environment);
     *   2. wss:// and https://: $https_proxy, $HTTPS_PROXY; ws:// and http://: $http_proxy only
     *      (never $HTTP_PROXY, which CGI servers set from a request header);
     *   3. $all_proxy, $ALL_PROXY.
     * Hosts on the no-proxy list are reached directly: `no_proxy` when not NULL (even ""), else
     * $no_proxy, else $NO_PROXY. Entries are separated by commas or spaces: `*` (every host), a
     * host name (also matches its subdomains; a leading dot is optional), an IPv4 or IPv6
     * address or CIDR range (compared only with hosts given as addresses), each optionally with
     * :port ([v6]:port). Empty variables count as unset.
     * The TLS session inside a tunnel is with the server: its name is sent (SNI) and its
     * certificate verified, never the proxy's. The HTTP/SSE fallback takes the same route.
     * A proxy that cannot be reached or refuses fails the turn with RWS_E_PROXY, naming the
     * proxy without credentials; the library never connects directly instead. Credentials
     * never appear in any message or log record. Copied by rws_client_new. */
    const char *proxy;             /* NULL (default): from the environment */
    const char *no_proxy;          /* NULL (default): from the environment */

    /* WebSocket compression (permessage-deflate, RFC 7692). */
    int permessage_deflate;        /* 1: offer it on every upgrade (context takeover both ways;
                                      the server may limit windows or decline, and an invalid
                                      answer fails the connect with RWS_E_PROTOCOL).
                                      max_message_bytes then bounds the inflated size.
                                      0 (default): not offered. Off by default because it
                                      trades client CPU for bytes (Tests/measure_deflate.sh,
                                      against the simulator): a 20-turn agent loop moved 3 KB
                                      up and 36 KB down instead of 102 KB and 628 KB, a
                                      200k-delta stream 3.1 MB instead of 41 MB, but that
                                      stream cost the client 192 ms of CPU instead of 87 ms
                                      (about 0.5 us more per event), and each connection holds
                                      about 300 KiB of zlib state. Model output is paced far
                                      below link speeds, so bytes rarely bound a turn's
                                      latency: turn it on for metered or slow links. */
} rws_client_options;

/* Values of rws_client_options.fallback */
enum {
    RWS_FALLBACK_AUTO = 0,         /* switch to HTTP/SSE when WebSocket mode is unavailable */
    RWS_FALLBACK_NEVER = 1         /* fail the turn instead (RWS_E_UPGRADE_REFUSED, ...) */
};
typedef int rws_fallback;          /* an RWS_FALLBACK_* value */

/* Fills `options` with defaults and sets struct_size. Always call it before setting fields. */
RWS_EXTERN void rws_client_options_init(rws_client_options *options);

/* The same defaults as a static initializer, for declarations:
 *   rws_client_options options = RWS_CLIENT_OPTIONS_INIT;
 * Positional, so it also compiles as C++11; the library's C tests check that it equals
 * rws_client_options_init. */
#define RWS_CLIENT_OPTIONS_INIT                                                                   \
    { sizeof(rws_client_options), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,                 \
      1, 15000u, 0u, 300000u, 0u, 30000u, 64ull << 20, 16ull << 20, RWS_TRANSPORT_WEBSOCKET,      \
      3300000u, 60000u, 1, 3u, 200u, 4000u, RWS_FALLBACK_AUTO, 2u, 600000u,                      \
      4ull << 20, NULL, NULL, RWS_LOG_INFO, NULL, NULL, NULL, NULL, NULL, 0 }

/* Creates a client and starts its I/O thread. No connection is opened yet.
 * options: NULL for all defaults (environment variables are honoured either way).
 * On success *client_out receives the client; free it with rws_client_free.
 * Errors: RWS_E_INVALID_ARGUMENT (bad option), RWS_E_URL (bad base/websocket URL),
 *         RWS_E_TLS (the CA file cannot be loaded). The API key may be empty: a server that
 *         needs one answers RWS_E_AUTH at the first turn. */
RWS_EXTERN int rws_client_new(const rws_client_options *options, rws_client **client_out);

/* Closes every connection (WebSocket close 1000), cancels turns still running (their status
 * becomes RWS_E_CANCELLED) and stops the I/O thread. When it returns, no callback of this
 * client runs any more. Sessions and turns of this client must not be used afterwards, except
 * to free them (rws_session_free, rws_turn_free stay valid and do nothing more).
 * Must not be called from a callback (it then returns without freeing; see rws_last_error). */
RWS_EXTERN void rws_client_free(rws_client *client);

/* ---------------------------------------------------------------------------------------------
 * Session: one conversation chain
 * ------------------------------------------------------------------------------------------- */

typedef struct rws_session_options {
    size_t struct_size;            /* set by rws_session_options_init */
    const char *defaults_json;     /* NULL or a JSON object merged into every request of the
                                      session (e.g. model, instructions, tools, store); the
                                      request's own fields win. Copied. */
    size_t defaults_len;           /* its length; 0 means NUL-terminated */
    const char *stream_id;         /* NULL: the default lane. Else the lane name
                                      ([A-Za-z0-9_.-], 1-256 chars), sent as "stream_id". */
    int input_mode;                /* RWS_INPUT_INCREMENTAL (default) or RWS_INPUT_FULL_HISTORY */
} rws_session_options;

/* Values of rws_session_options.input_mode */
enum {
    /* Each request carries only its new input items; the session chains them to the last
     * response with previous_response_id. */
    RWS_INPUT_INCREMENTAL = 0,
    /* Each request carries the whole conversation, as HTTP clients send it. The session sends
     * only the new items when the request equals the previous request plus the previous
     * response's output items plus new items, with every other field unchanged; otherwise it
     * sends the full request on a fresh chain. */
    RWS_INPUT_FULL_HISTORY = 1
};
typedef int rws_input_mode;        /* an RWS_INPUT_* value */

/* Fills `options` with defaults (no defaults_json, the default lane, incremental input) and sets
 * struct_size. Always call it before setting fields. */
RWS_EXTERN void rws_session_options_init(rws_session_options *options);

/* The same defaults as a static initializer: rws_session_options o = RWS_SESSION_OPTIONS_INIT; */
#define RWS_SESSION_OPTIONS_INIT { sizeof(rws_session_options), NULL, 0, NULL, RWS_INPUT_INCREMENTAL }

/* Creates a session on `client`. options: NULL for defaults.
 * The session borrows a warm connection from the client at its first turn and keeps it (the
 * server's cache for the chain lives on that connection); rws_session_free returns it to the
 * client for later sessions.
 * Errors: RWS_E_INVALID_ARGUMENT, RWS_E_INVALID_JSON (defaults_json), RWS_E_INVALID_STREAM_ID. */
RWS_EXTERN int rws_session_new(rws_client *client, const rws_session_options *options,
                               rws_session **session_out);

/* Frees the session after cancelling its running and queued turns. Turn handles stay valid
 * until rws_turn_free. Must not be called from a callback. */
RWS_EXTERN void rws_session_free(rws_session *session);

/* Copies the id of the session's last completed response into `buf` (NUL-terminated, truncated
 * to buf_len - 1 bytes). Returns the id's full length, 0 if there is none yet, or a negative
 * status. buf may be NULL when buf_len is 0 (to ask for the length). */
RWS_EXTERN int rws_session_last_response_id(rws_session *session, char *buf, size_t buf_len);

/* Forgets the chain: the next turn starts a new conversation (no previous_response_id).
 * Errors: RWS_E_INVALID_ARGUMENT; RWS_E_INVALID_STATE after rws_client_free, or inside a
 * callback of another client (see THREADS). */
RWS_EXTERN int rws_session_reset(rws_session *session);

/* Warms the session before its first real turn. With request_json NULL, opens a connection
 * (the handshake only). With a request (the fields and input the conversation starts with), also
 * prepares the chain on the server: the request is sent with "generate": false (§5.4), no model
 * output is produced, and the next turn continues from it with only its new items (even none).
 * Returns at once; the warm-up runs like a turn: *turn_out receives it (wait for it or free it;
 * freeing it does not cancel a handshake-only warm-up). Over HTTP/SSE nothing is warmed and the
 * turn ends RWS_OK at once. Errors: as rws_turn_start. */
RWS_EXTERN int rws_session_prewarm(rws_session *session, const char *request_json, size_t request_len,
                                   rws_turn **turn_out);

/* ---------------------------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------------------------- */

/* Event types the library recognises. Anything else arrives as RWS_EVENT_OTHER with its
 * type_name: unknown events are always delivered, never dropped. */
enum {
    RWS_EVENT_OTHER = 0,
    RWS_EVENT_RESPONSE_CREATED = 1,
    RWS_EVENT_RESPONSE_QUEUED = 2,
    RWS_EVENT_RESPONSE_IN_PROGRESS = 3,
    RWS_EVENT_RESPONSE_COMPLETED = 4,     /* terminal */
    RWS_EVENT_RESPONSE_FAILED = 5,        /* terminal */
    RWS_EVENT_RESPONSE_INCOMPLETE = 6,    /* terminal */
    RWS_EVENT_ERROR = 7,                  /* terminal when request-scoped */
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
    RWS_EVENT_RESPONSE_DONE = 22          /* legacy terminal event; treated as completed */
};
typedef int rws_event_type;               /* an RWS_EVENT_* value (rws_event.type) */

/* Bits of rws_event.flags */
#define RWS_EVENT_FLAG_TERMINAL (1u << 0) /* this event ends the turn */

/* One server event. Owned by the library:
 *  - in a callback, valid until the callback returns;
 *  - from rws_turn_next_event(s), valid until the next rws_turn_next_event(s) on that turn or
 *    rws_turn_free.
 * Copy what you need to keep. Absent string fields are {NULL, 0}; absent numbers are -1. */
typedef struct rws_event {
    size_t struct_size;            /* sizeof(rws_event) of the library; fields may be appended */
    int type;                      /* RWS_EVENT_* */
    uint32_t flags;                /* RWS_EVENT_FLAG_* */
    rws_str type_name;             /* the event's "type", e.g. "response.output_text.delta" */
    rws_str json;                  /* the complete event exactly as the server sent it; except
                                      that an event other than a *.delta that holds the API key
                                      or another credential of the client (a server echoing it)
                                      arrives with it replaced by [REDACTED], as does
                                      error_message below */
    rws_str response_id;           /* the id of the response this event belongs to, once known */
    rws_str stream_id;             /* "stream_id" (named lanes only) */
    rws_str item_id;               /* "item_id" */
    rws_str delta;                 /* "delta" of *.delta events, JSON escapes decoded */
    rws_str error_code;            /* error.code of `error` events and response.failed */
    rws_str error_message;         /* error.message, escapes decoded */
    int64_t sequence_number;       /* "sequence_number" */
    int64_t output_index;          /* "output_index" */
    int32_t error_status;          /* "status" of `error` events (HTTP-like), else 0 */
} rws_event;

/* Return values of an event callback */
enum {
    RWS_CONTINUE = 0,              /* keep delivering */
    RWS_STOP = 1                   /* cancel the turn; it ends with RWS_E_ABORTED */
};
typedef int rws_callback_result;   /* RWS_CONTINUE or RWS_STOP */

/* Called on the client's I/O thread for each event of a turn, in order, including the terminal
 * event. See THREADS at the top for what it may call. */
typedef int (*rws_event_cb)(void *user_data, const rws_event *event);

/* ---------------------------------------------------------------------------------------------
 * Turns
 * ------------------------------------------------------------------------------------------- */

typedef struct rws_turn_options {
    size_t struct_size;            /* set by rws_turn_options_init */
    rws_event_cb on_event;         /* NULL: pull mode (rws_turn_next_event) */
    void *user_data;               /* passed to on_event; must stay valid until the turn ends
                                      or is freed */
} rws_turn_options;

/* Fills `options` with defaults (pull mode: no callback) and sets struct_size. */
RWS_EXTERN void rws_turn_options_init(rws_turn_options *options);

/* The same defaults as a static initializer: rws_turn_options o = RWS_TURN_OPTIONS_INIT; */
#define RWS_TURN_OPTIONS_INIT { sizeof(rws_turn_options), NULL, NULL }

/* Starts a turn: one `response.create` built from `request_json`, a JSON object with the body
 * fields of POST /v1/responses (model, input, tools, store, ...). The library merges the
 * session's defaults, adds "type", "stream_id" (named lanes) and, when the session has a last
 * response and the request has no "previous_response_id" key, that id (so pass only the new
 * input items). It never sends "stream" (dropped if present); "background": true is rejected.
 *
 * Turns of one session run one after another: a turn started while another is running is
 * queued and sent when the earlier one ends. The call never blocks on the network.
 * request_len: its length in bytes; 0 means NUL-terminated.
 * options: NULL for pull mode.
 * On success *turn_out receives the turn; free it with rws_turn_free.
 * Errors: RWS_E_INVALID_ARGUMENT, RWS_E_INVALID_JSON, RWS_E_UNSUPPORTED, RWS_E_REQUEST_TOO_BIG
 * (nothing was sent). Failures of the exchange itself are the turn's status, not this one's. */
RWS_EXTERN int rws_turn_start(rws_session *session, const char *request_json, size_t request_len,
                              const rws_turn_options *options, rws_turn **turn_out);

/* Pull mode: waits up to timeout_ms (-1: forever, 0: poll) for the next event of the turn.
 * Returns RWS_OK with *event_out set; RWS_DONE when the turn has ended and every event was
 * returned (then call rws_turn_get_result); RWS_E_AGAIN on timeout (the turn goes on).
 * One thread at a time per turn. Errors: RWS_E_INVALID_STATE for a callback-mode turn or inside
 * a callback. */
RWS_EXTERN int rws_turn_next_event(rws_turn *turn, int32_t timeout_ms, const rws_event **event_out);

/* Pull mode, batched: waits up to timeout_ms (-1: forever, 0: poll) for at least one event,
 * then hands out every queued event, up to `capacity`, without waiting for more. Meant for
 * interpreters and other callers whose per-call cost is high: one call (and one lock) per batch
 * instead of per event. `events` is the caller's array of `capacity` pointers; on RWS_OK its
 * first *count_out entries point at events owned by the turn, valid until the next
 * rws_turn_next_event(s) on that turn or rws_turn_free. Returns RWS_OK (*count_out >= 1),
 * RWS_DONE when the turn has ended and every event was returned (*count_out = 0), or
 * RWS_E_AGAIN on timeout (*count_out = 0; the turn goes on). One thread at a time per turn.
 * Errors: RWS_E_INVALID_ARGUMENT (NULL pointers, capacity 0), RWS_E_INVALID_STATE (a
 * callback-mode turn, or inside a callback). */
RWS_EXTERN int rws_turn_next_events(rws_turn *turn, int32_t timeout_ms, const rws_event **events,
                                    size_t capacity, size_t *count_out);

/* Pull mode without a blocked thread: returns a file descriptor that any event loop can watch
 * for readability (asyncio loop.add_reader, libuv uv_poll_start, epoll/poll, tokio AsyncFd).
 * It is readable while the turn has queued events or has ended: then rws_turn_next_event(s)
 * with timeout_ms 0 returns RWS_OK or RWS_DONE instead of RWS_E_AGAIN. Level-triggered: the
 * library lowers it when a pull finds the queue empty, so after each wake-up pull with
 * timeout_ms 0 until RWS_E_AGAIN (or RWS_DONE), then wait on the fd again.
 * The fd is an eventfd (O_NONBLOCK, O_CLOEXEC) owned by the turn: do not read, write or close
 * it; remove it from your event loop before rws_turn_free, which closes it. It is made at the
 * first call (later calls return the same fd), so callers that never ask pay nothing.
 * Any thread, including a callback. Returns the fd (>= 0), or RWS_E_INVALID_ARGUMENT (NULL),
 * RWS_E_INVALID_STATE (a callback-mode turn), RWS_E_INTERNAL (no fd could be made; see
 * rws_last_error). Since 0.2.0. */
RWS_EXTERN int rws_turn_notify_fd(rws_turn *turn);

/* Waits up to timeout_ms (-1: forever) for the turn to end. Returns the turn's final status
 * (RWS_OK or a negative code), or RWS_E_AGAIN on timeout. In pull mode the events stay queued
 * for rws_turn_next_event, and from this call on max_queued_bytes no longer applies to the
 * turn (waiting for the end before pulling would otherwise never end).
 * Not from a callback (RWS_E_INVALID_STATE). */
RWS_EXTERN int rws_turn_wait(rws_turn *turn, int32_t timeout_ms);

/* Cancels the turn from any thread, including a callback. The protocol has no cancel message,
 * so the connection is closed (the session reconnects for its next turn and stays usable); the
 * cancelled request is never replayed. Returns RWS_OK if the turn was cancelled, RWS_DONE if it
 * had already ended. After it returns no further event of the turn is delivered. */
RWS_EXTERN int rws_turn_cancel(rws_turn *turn);

/* The outcome of a turn, filled by rws_turn_get_result. */
typedef struct rws_turn_result {
    size_t struct_size;            /* set by the library: sizeof(rws_turn_result) it knows */
    int status;                    /* RWS_OK, RWS_E_* of the failure, or RWS_E_AGAIN while the
                                      turn is still running */
    rws_str response_id;           /* the response's id (also for failed/incomplete responses) */
    rws_str response_status;       /* "completed", "incomplete", "failed", ... */
    rws_str response_json;         /* the final Response object from the terminal event */
    rws_str error_code;            /* server error code, if any */
    rws_str error_message;         /* what went wrong, if anything: actionable text */
    int64_t input_tokens;          /* usage; -1 when the server sent none */
    int64_t output_tokens;
    int64_t cached_input_tokens;   /* usage.input_tokens_details.cached_tokens */
    int64_t reasoning_tokens;      /* usage.output_tokens_details.reasoning_tokens */
    int32_t error_status;          /* HTTP-like status of a server error, else 0 */
    int transport;                 /* RWS_TRANSPORT_* the turn used */
    uint64_t bytes_sent;           /* request bytes written (payload) */
    uint64_t bytes_received;       /* event bytes received (payload) */
    uint64_t elapsed_us;           /* turn start → terminal event */
    uint64_t first_event_us;       /* turn start → first event */
    uint32_t flags;                /* RWS_TURN_* bits: how the turn got through */
    /* Fields below were appended in 0.3.0 (check struct_size before reading them). */
    rws_str request_id;            /* the server's x-request-id for the turn: of the WebSocket
                                      upgrade that carried it, or of its HTTP/SSE answer (also
                                      of a refusal); empty when the server sent none. Quote it
                                      to support; failed turns also name it in error_message */
} rws_turn_result;

/* Bits of rws_turn_result.flags */
#define RWS_TURN_INCREMENTAL (1u << 0) /* sent as previous_response_id + new items */
#define RWS_TURN_FULL_RESEND (1u << 1) /* the full context had to be sent (cache miss, new connection) */
#define RWS_TURN_RECONNECTED (1u << 2) /* a lost or refused connection was replaced */
#define RWS_TURN_FALLBACK    (1u << 3) /* went over HTTP/SSE because WebSocket mode was unavailable */
#define RWS_TURN_ROTATED     (1u << 4) /* started on a new connection that replaced an aged one */

/* Fills `result`; pass result_size = sizeof(rws_turn_result) (the library writes only that
 * many bytes, so programs built against an older header keep working). Strings are valid until
 * rws_turn_free. Returns RWS_OK, or RWS_E_AGAIN while the turn is running (then only
 * result->status is meaningful). The result is available once the terminal event's callback
 * has returned. */
RWS_EXTERN int rws_turn_get_result(rws_turn *turn, rws_turn_result *result, size_t result_size);

/* Releases the turn. A running turn is cancelled first. After it returns the callback is never
 * called again. Safe from any thread, including the turn's own callback. */
RWS_EXTERN void rws_turn_free(rws_turn *turn);

/* ---------------------------------------------------------------------------------------------
 * Statistics
 * ------------------------------------------------------------------------------------------- */

typedef struct rws_stats {
    size_t struct_size;            /* set by the library: sizeof(rws_stats) it knows */
    uint64_t turns;                /* turns started */
    uint64_t turns_ok;             /* turns that ended with RWS_OK */
    uint64_t events;               /* events delivered */
    uint64_t bytes_sent;           /* payload bytes of requests */
    uint64_t bytes_received;       /* payload bytes of events */
    uint64_t connects;             /* connections opened (handshakes completed) */
    uint64_t reconnects;           /* connections opened to replace a lost one */
    uint64_t incremental_sends;    /* turns sent with previous_response_id and new items only */
    uint64_t full_resends;         /* turns that had to resend the full context */
    uint64_t fallbacks;            /* switches to HTTP/SSE */
    uint64_t rotations;            /* connections retired for age */
    uint64_t unknown_outcomes;     /* turns that ended RWS_E_OUTCOME_UNKNOWN */
    /* Appended in 0.2.0 (check struct_size before reading): */
    uint64_t read_pauses;          /* times a pull-mode turn's connection stopped reading because
                                      its caller was max_queued_bytes behind */
} rws_stats;

/* Counters of the whole client / of one session since it was created. Thread-safe; allowed in
 * callbacks. Pass stats_size = sizeof(rws_stats); at most that many bytes are written. */
RWS_EXTERN int rws_client_stats(rws_client *client, rws_stats *stats, size_t stats_size);
RWS_EXTERN int rws_session_stats(rws_session *session, rws_stats *stats, size_t stats_size);

#ifdef __cplusplus
}
#endif

#endif /* RESPONSES_WS_H */
