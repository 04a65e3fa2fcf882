/* tls.c: the load generator's TLS (OpenSSL), for the https mode: the one
 * file of wxpay-bench that includes OpenSSL's TLS. The handshake is done
 * blocking when a connection opens; after it the socket is non-blocking
 * and reads and writes say "would block" like the plain ones. */
#include "bench.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>

struct bench_tls {
    SSL *ssl;
};

static SSL_CTX *ctx; /* one for all connections, made before threads start */

int bench_tls_init(const char *ca_file)
{
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        fprintf(stderr, "wxpay-bench: cannot set up TLS with the CA %s\n", ca_file);
        return -1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return 0;
}

void bench_tls_cleanup(void)
{
    SSL_CTX_free(ctx);
    ctx = NULL;
}

bench_tls *bench_tls_connect(int fd, const char *name)
{
    bench_tls *t = calloc(1, sizeof(*t));
    int flags = fcntl(fd, F_GETFL);
    if (!t || !(t->ssl = SSL_new(ctx))) {
        free(t);
        return NULL;
    }
    SSL_set_fd(t->ssl, fd);
    char sni[256]; /* the macro behind it casts away const */
    snprintf(sni, sizeof(sni), "%s", name);
    SSL_set_tlsext_host_name(t->ssl, sni);
    SSL_set1_host(t->ssl, name);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    int ok = SSL_connect(t->ssl) == 1;
    fcntl(fd, F_SETFL, flags);
    if (!ok) {
        ERR_print_errors_fp(stderr);
        bench_tls_free(t);
        return NULL;
    }
    return t;
}

/* >0 bytes moved, 0 would block, -1 the connection failed. */
static long result(bench_tls *t, int n)
{
    if (n > 0)
        return n;
    int e = SSL_get_error(t->ssl, n);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

long bench_tls_send(bench_tls *t, const char *p, size_t n)
{
    return result(t, SSL_write(t->ssl, p, (int)n));
}

long bench_tls_recv(bench_tls *t, char *p, size_t n)
{
    return result(t, SSL_read(t->ssl, p, (int)n));
}

void bench_tls_free(bench_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}
