#ifndef RWS_COPENSSL_SHIM_H
#define RWS_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>

/* Function-like macros do not import into Swift: wrap the ones the TLS handler needs. */
static inline long rws_ssl_set_tlsext_host_name(SSL *s, const char *name) {
    return SSL_set_tlsext_host_name(s, name);
}
static inline int rws_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int v) {
    return (int)SSL_CTX_set_min_proto_version(ctx, v);
}
static inline int rws_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int v) {
    return (int)SSL_CTX_set_max_proto_version(ctx, v);
}
static inline int rws_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline long rws_bio_pending(BIO *b) { return (long)BIO_ctrl_pending(b); }

/* A retried SSL_write may pass a different pointer to the same bytes (our queued ByteBuffers move). */
static inline long rws_ssl_ctx_set_mode_accept_moving_write_buffer(SSL_CTX *ctx) {
    return SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}
/* TLS 1.2 renegotiation would let SSL_write block on reads; nobody needs it for this API. */
static inline uint64_t rws_ssl_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }

/* The passphrase of an encrypted client key: OpenSSL asks through a callback. */
static inline int rws_passphrase_cb(char *buf, int size, int rwflag, void *userdata) {
    (void)rwflag;
    const char *pass = (const char *)userdata;
    if (!pass || size <= 0) return 0;
    int n = 0;
    while (pass[n] && n < size) { buf[n] = pass[n]; n++; }
    return n;
}
static inline void rws_ssl_ctx_set_passphrase(SSL_CTX *ctx, const char *pass) {
    SSL_CTX_set_default_passwd_cb(ctx, pass ? rws_passphrase_cb : NULL);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)pass);
}
static inline int rws_ssl_verify_require_peer(void) { return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT; }
#endif
