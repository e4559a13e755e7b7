/* SPDX-License-Identifier: ISC */
/*
 * tls: the OpenSSL client side of STARTTLS for one relay configuration.  A
 * context (TLS 1.2 or later; with tls-verify, the peer checked against
 * tls-ca or the system store) is built once per configuration and shared by
 * the relay's sessions; each session makes its own SSL from it, bound to
 * the name or address it connected to.  No I/O, no logging.
 */
#ifndef ETRND_TLS_H
#define ETRND_TLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct conf_relay;

/*
 * The context for relay's tls-ca and tls-verify (tls itself is not looked
 * at).  NULL with errno: EINVAL the CA certificates cannot be loaded,
 * ENOMEM.  Sessions take their own reference (SSL_new), so it may be freed
 * while they run.
 */
SSL_CTX		*tls_ctx_new(const struct conf_relay *);
/* NULL is a no-op. */
void		 tls_ctx_free(SSL_CTX *);
/*
 * One connection's SSL: SNI and, when verify is set, the certificate's
 * subject alternative names checked against host (no partial wildcards, no
 * CN), or its IP SANs when host is an address.  NULL on failure.
 */
SSL		*tls_ssl_new(SSL_CTX *, const char *host, bool verify);
/* Is host an address literal, checked against IP SANs? */
bool		 tls_host_is_ip(const char *host);

#endif
