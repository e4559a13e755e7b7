/* SPDX-License-Identifier: ISC */
/*
 * test_tls: the relay's TLS context and a connection's SSL, without a
 * handshake: what is loaded, what is refused, which names are checked.
 * The handshakes themselves are test_session's and e2e/tls.sh's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "tls.h"

/* tls-verify = no: nothing to load, and nothing checked. */
static void
test_ctx_without_verify(void **state)
{
	struct conf_relay	 r;
	SSL_CTX			*ctx;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.tls_ca = (char *)"/nonexistent/ca.pem";	/* never read */
	assert_non_null(ctx = tls_ctx_new(&r));
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	tls_ctx_free(ctx);
	tls_ctx_free(NULL);
}

/* The system store, or a tls-ca that must load: else EINVAL. */
static void
test_ctx_verify_and_ca(void **state)
{
	struct conf_relay	 r;
	SSL_CTX			*ctx;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.tls_verify = true;
	assert_non_null(ctx = tls_ctx_new(&r));
	assert_int_equal(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
	tls_ctx_free(ctx);

	r.tls_ca = (char *)"/nonexistent/ca.pem";
	errno = 0;
	assert_null(tls_ctx_new(&r));
	assert_int_equal(errno, EINVAL);
	/* A file that holds no certificate at all: this very source. */
	r.tls_ca = (char *)TEST_SRCDIR "/test_tls.c";
	errno = 0;
	assert_null(tls_ctx_new(&r));
	assert_int_equal(errno, EINVAL);
}

/* A name: SNI, SANs only, no partial wildcards; an address: IP SANs. */
static void
test_ssl_names(void **state)
{
	struct conf_relay	 r;
	SSL_CTX			*ctx;
	SSL			*ssl;
	X509_VERIFY_PARAM	*param;
	char			*ip;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.tls_verify = true;
	assert_non_null(ctx = tls_ctx_new(&r));

	assert_non_null(ssl = tls_ssl_new(ctx, "mx.example.org", true));
	param = SSL_get0_param(ssl);
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
	    "mx.example.org");
	assert_string_equal(X509_VERIFY_PARAM_get0_host(param, 0),
	    "mx.example.org");
	assert_int_equal(X509_VERIFY_PARAM_get_hostflags(param),
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	SSL_free(ssl);

	/* Not verified: SNI still goes out, no name is checked. */
	assert_non_null(ssl = tls_ssl_new(ctx, "mx.example.org", false));
	assert_string_equal(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name),
	    "mx.example.org");
	assert_null(X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0));
	SSL_free(ssl);

	/* An address: no SNI (RFC 6066 3), its IP SAN is checked. */
	assert_non_null(ssl = tls_ssl_new(ctx, "2001:db8::25", true));
	assert_null(SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	assert_non_null(ip = X509_VERIFY_PARAM_get1_ip_asc(
	    SSL_get0_param(ssl)));
	assert_string_equal(ip, "2001:DB8:0:0:0:0:0:25");
	OPENSSL_free(ip);
	SSL_free(ssl);
	tls_ctx_free(ctx);
}

static void
test_host_is_ip(void **state)
{
	(void)state;
	assert_true(tls_host_is_ip("192.0.2.25"));
	assert_true(tls_host_is_ip("2001:db8::25"));
	assert_false(tls_host_is_ip("mx.example.org"));
	assert_false(tls_host_is_ip("[2001:db8::25]"));
	assert_false(tls_host_is_ip("192.0.2"));
}

int
main(void)
{
	static const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_ctx_without_verify),
		cmocka_unit_test(test_ctx_verify_and_ca),
		cmocka_unit_test(test_ssl_names),
		cmocka_unit_test(test_host_is_ip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
