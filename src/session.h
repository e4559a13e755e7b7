/* SPDX-License-Identifier: ISC */
/*
 * session: one SMTP connection to one relay, asking ETRN for up to
 * CONF_ETRN_PER_SESSION domains.  The I/O half of etrn.c: resolving without
 * blocking, trying each address in turn, reading lines with limits, a
 * deadline on every phase.
 *
 *   START -> RESOLVE -> CONNECT (per address) -> SMTP -> DONE
 *
 * STARTTLS (RFC 3207) wraps the connection in an OpenSSL filter in the
 * middle of SMTP, implicit TLS (RFC 8314) as soon as it is connected; the
 * certificate is checked against the system store or tls_ca, and against
 * the host name (or address) as configured (tls.c).
 *
 * A session ends in one place (session_end): it reports its per-domain
 * results once through the done callback and then frees itself.
 */
#ifndef ETRND_SESSION_H
#define ETRND_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "etrn.h"
#include "route.h"

struct event_base;
struct evdns_base;
struct session;
struct ssl_ctx_st;		/* SSL_CTX, from tls_ctx_new() */

struct session_params {
	/*
	 * The relay's settings: the session keeps its own copy
	 * (conf_relay_dup), so a reload may free the configuration under it.
	 */
	const struct conf_relay	*relay;
	int			 family;	/* AF_UNSPEC, AF_INET, AF_INET6 */
	const char		*helo;
	char * const		*domains;	/* copied; a chunk of the relay's */
	size_t			 ndomains;
	uint64_t		 connect_timeout_ms;
	uint64_t		 reply_timeout_ms;
	/*
	 * The relay's context, built once per configuration (tls.h); the
	 * session takes a reference.  NULL: built from tls_ca and tls_verify
	 * at STARTTLS.
	 */
	struct ssl_ctx_st	*tls_ctx;
	/*
	 * Or, with tls_ctx NULL: asked at STARTTLS for the shared one, so
	 * that only a server that offers STARTTLS makes anyone load a trust
	 * store.  It may return NULL (then built as above); the session
	 * takes a reference.
	 */
	struct ssl_ctx_st	*(*tls_ctx_get)(void *arg);
	void			*tls_ctx_arg;
	bool			 probe;		/* QUIT instead of ETRN */
};

#define SESSION_ADDRS_MAX	8

/*
 * What one session met, step by step, for etrnd --check.  Times are in
 * milliseconds, -1 where the step was not reached: resolving; connecting
 * (to the address that answered); from connected to the greeting; the TLS
 * handshake; AUTH; the whole session.
 */
struct session_report {
	char		 peer[64];	/* the address tried last */
	/* The name's addresses as resolved (the first SESSION_ADDRS_MAX). */
	struct route_addr	 addrs[SESSION_ADDRS_MAX];
	size_t		 naddrs;
	int64_t		 resolve_ms;
	int64_t		 connect_ms;
	int64_t		 greeting_ms;
	int64_t		 tls_ms;
	int64_t		 auth_ms;
	int64_t		 total_ms;
	char		 tls[96];	/* "TLSv1.3 TLS_AES_256_GCM_SHA384" */
	char		 cert[256];	/* the certificate's verdict */
};

/*
 * The parameters for a relay of conf, all its domains (at most
 * CONF_ETRN_PER_SESSION are asked in one session: callers that ask more
 * set domains and ndomains themselves).  Points into conf and relay.
 */
void		 session_params_init(struct session_params *,
		    const struct conf *, const struct conf_relay *,
		    const char *helo);

/* Called exactly once; results are valid only during the call. */
typedef void (*session_done_cb)(struct session *,
    const struct etrn_result *results, size_t nresults,
    const struct etrn *etrn, void *arg);

/*
 * Starts from a zero-timeout timer, so the callback never fires from
 * inside session_new().  NULL with errno on failure.
 */
struct session	*session_new(struct event_base *, struct evdns_base *,
		    const struct session_params *, session_done_cb, void *arg);
/* What the session met so far; for the done callback. */
const struct session_report *session_report(const struct session *);
/*
 * Whether the connection's path is gone: its local address no longer on
 * this host (a redial with a new address) or no usable route to its peer
 * any more (the link went down).  Nothing tells the socket itself but its
 * own timeouts, minutes later.
 */
bool		 session_path_lost(const struct session *);
/* End at once as "not reachable yet" (ETRN_F_NOROUTE); the callback fires. */
void		 session_lost(struct session *);
/* Send QUIT if connected, end at once; the callback still fires. */
void		 session_shutdown(struct session *);
/* Drop without calling back (teardown of the owner).  NULL is a no-op. */
void		 session_free(struct session *);

#endif
