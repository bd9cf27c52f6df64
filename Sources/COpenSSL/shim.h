#ifndef RWS_COPENSSL_SHIM_H
#define RWS_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/x509v3.h>

/* Function-like macros do not import into Swift: wrap the ones the TLS handler needs. */
static inline long rws_ssl_set_tlsext_host_name(SSL *s, const char *name) {
    return SSL_set_tlsext_host_name(s, name);
}
static inline int rws_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int v) {
    return (int)SSL_CTX_set_min_proto_version(ctx, v);
}
static inline int rws_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline long rws_bio_pending(BIO *b) { return (long)BIO_ctrl_pending(b); }
#endif
