/* SPDX-License-Identifier: ISC */
/*
 * tls: building the client context once per relay configuration (loading
 * tls-ca is the costly part, and re-reading it at every STARTTLS let a
 * changed or broken bundle surface only mid-run), and the per-connection
 * SSL with the host name checks of RFC 6125 as OpenSSL offers them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdbool.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "tls.h"

SSL_CTX *
tls_ctx_new(const struct conf_relay *r)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	if (r->tls_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (r->tls_ca != NULL ?
		    SSL_CTX_load_verify_locations(ctx, r->tls_ca, NULL) != 1 :
		    SSL_CTX_set_default_verify_paths(ctx) != 1)
			goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	errno = EINVAL;
	return NULL;
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);		/* NULL is a no-op there too */
}

bool
tls_host_is_ip(const char *host)
{
	unsigned char	buf[16];

	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

SSL *
tls_ssl_new(SSL_CTX *ctx, const char *host, bool verify)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	if (tls_host_is_ip(host)) {
		if (verify && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) != 1)
			goto fail;
	} else {
		/* SNI is a courtesy: a name it cannot carry is no error. */
		/* The macro casts away const; OpenSSL copies the name. */
		(void)SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME,
		    TLSEXT_NAMETYPE_host_name, (void *)(uintptr_t)host);
		/* Subject alternative names only, and no "m*.example". */
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (verify && SSL_set1_host(ssl, host) != 1)
			goto fail;
	}
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}
