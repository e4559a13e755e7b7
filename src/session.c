/* SPDX-License-Identifier: ISC */
/*
 * session: bufferevent glue around the etrn state machine.  One timer does
 * every job that needs one (the deferred start, each phase's deadline and
 * the deferred end), so there is exactly one event to cancel and one path
 * to the done callback.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dial.h"
#include "etrn.h"
#include "log.h"
#include "reply.h"
#include "route.h"
#include "session.h"
#include "tls.h"
#include "util.h"

#define SESSION_QUIT_WAIT_MS	5000	/* how long we wait for 221 */

enum session_state {
	SESSION_START,
	SESSION_RESOLVE,
	SESSION_CONNECT,
	SESSION_SMTP,
	SESSION_DONE,
};

static const char *session_state_names[] = {
	[SESSION_START] = "START",
	[SESSION_RESOLVE] = "RESOLVE",
	[SESSION_CONNECT] = "CONNECT",
	[SESSION_SMTP] = "SMTP",
	[SESSION_DONE] = "DONE",
};

struct session {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct conf_relay	*r;		/* our copy of the relay's */
	char			*helo;
	int			 family;
	char			**domains;
	size_t			 ndomains;
	uint64_t		 connect_timeout_ms;
	uint64_t		 reply_timeout_ms;
	SSL_CTX			*tls_ctx;	/* a reference, or NULL */
	SSL_CTX			*(*tls_ctx_get)(void *);
	void			*tls_ctx_arg;

	enum session_state	 state;
	SSL			*ssl;		/* owned by bev once wrapped */
	bool			 ending;	/* end from the timer */
	bool			 peer_gone;	/* EOF or error: no QUIT */
	struct event		*timer;
	struct evdns_getaddrinfo_request *req;
	struct dial		*dial;		/* while connecting */
	char			 peer[INET6_ADDRSTRLEN + 8];
	char			 lasterr[192];
	bool			 noroute;	/* every address: not reachable
						   yet (no route, no source) */
	struct bufferevent	*bev;
	struct reply_parser	 rp;
	struct etrn		 etrn;
	struct etrn_result	*results;

	struct session_report	 report;
	uint64_t		 t_start;	/* now_ms() of each phase */
	uint64_t		 t_phase;

	session_done_cb		 cb;
	void			*cb_arg;
};

static void	session_timer_cb(evutil_socket_t, short, void *);
static void	session_read_cb(struct bufferevent *, void *);
static void	session_event_cb(struct bufferevent *, short, void *);
static void	session_connect(struct session *,
		    const struct evutil_addrinfo *);
static void	session_starttls(struct session *);

static void
session_set_state(struct session *s, enum session_state state)
{
	log_debug("relay %s: session %s -> %s", s->r->name,
	    session_state_names[s->state], session_state_names[state]);
	s->state = state;
}

/* A step of the report is done: its time since the phase began. */
static void
session_mark(struct session *s, int64_t *field)
{
	uint64_t	now = now_ms();

	*field = (int64_t)(now - s->t_phase);
	s->t_phase = now;
}

static void
session_deadline(struct session *s, uint64_t ms)
{
	struct timeval	tv = ms_to_tv(ms);

	evtimer_add(s->timer, &tv);
}

/* Ask the timer to end us on the next loop turn: never free mid-callback. */
static void
session_end_soon(struct session *s)
{
	struct timeval	tv = { 0, 0 };

	if (s->ending)
		return;
	s->ending = true;
	dial_free(s->dial);		/* no attempt outlives the decision */
	s->dial = NULL;
	if (s->bev != NULL)
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	evtimer_add(s->timer, &tv);
}

/* A courtesy QUIT that never blocks and never queues behind a reply. */
static void
session_quit_now(struct session *s)
{
	evutil_socket_t	fd;

	if (s->bev == NULL || s->state != SESSION_SMTP || s->peer_gone)
		return;
	/*
	 * Under TLS, QUIT goes through TLS or not at all: not at all.  Nor
	 * where TLS was to come (implicit TLS, or after a 220 to STARTTLS).
	 */
	if (s->ssl != NULL || s->etrn.state == ETRN_S_TLS)
		return;
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) != 0)
		return;
	if ((fd = bufferevent_getfd(s->bev)) == -1)
		return;
	if (send(fd, "QUIT\r\n", 6, MSG_DONTWAIT | MSG_NOSIGNAL) == 6)
		log_debug("relay %s: -> QUIT", s->r->name);
}

/*
 * The session failed in the way fail names: every unanswered domain
 * becomes temporary, and QUIT goes out if the connection can carry it.
 */
static void __attribute__((format(printf, 3, 4)))
session_fail(struct session *s, enum etrn_fail fail, const char *fmt, ...)
{
	char	reason[ETRN_TEXT_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	/* Every domain already has its reply: nobody else will say this. */
	if (s->etrn.state == ETRN_S_QUIT || s->etrn.state == ETRN_S_DONE)
		log_warnx("relay %s: %s; the replies already received stand",
		    s->r->name, reason);
	else
		log_debug("relay %s: %s (%s)", s->r->name, reason,
		    etrn_fail_name(fail));
	if (s->etrn.state != ETRN_S_QUIT)
		session_quit_now(s);
	etrn_on_failure(&s->etrn, fail, reason);
	session_end_soon(s);
}

static void
session_end(struct session *s)
{
	session_done_cb	cb = s->cb;
	void		*arg = s->cb_arg;

	session_set_state(s, SESSION_DONE);
	s->report.total_ms = (int64_t)(now_ms() - s->t_start);
	evtimer_del(s->timer);
	if (s->bev != NULL) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	cb(s, s->results, s->ndomains, &s->etrn, arg);
	session_free(s);
}

/* The addresses the name has now, for the owner's route checks. */
static void
session_note_addrs(struct session *s, const struct evutil_addrinfo *ai)
{
	struct route_addr	*a;

	s->report.naddrs = 0;
	for (; ai != NULL && s->report.naddrs < SESSION_ADDRS_MAX;
	    ai = ai->ai_next) {
		a = &s->report.addrs[s->report.naddrs];
		if (ai->ai_family == AF_INET &&
		    ai->ai_addrlen >= sizeof(struct sockaddr_in))
			memcpy(a->addr, &((const struct sockaddr_in *)
			    (const void *)ai->ai_addr)->sin_addr, 4);
		else if (ai->ai_family == AF_INET6 &&
		    ai->ai_addrlen >= sizeof(struct sockaddr_in6))
			memcpy(a->addr, &((const struct sockaddr_in6 *)
			    (const void *)ai->ai_addr)->sin6_addr, 16);
		else
			continue;
		a->family = ai->ai_family;
		s->report.naddrs++;
	}
}

/* Whether some family has a usable default route; when in doubt, yes. */
static bool
session_default_route_usable(void)
{
	struct route_info	ri;
	int			af[] = { AF_INET, AF_INET6 };
	size_t			i;

	for (i = 0; i < sizeof(af) / sizeof(af[0]); i++)
		if (route_default(af[i], &ri) == -1 || route_usable(&ri))
			return true;
	return false;
}

static void
session_resolve_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct session	*s = arg;

	if (result == EVUTIL_EAI_CANCEL)
		return;		/* session_free or the deadline did it */
	s->req = NULL;
	if (s->ending) {
		/* Shut down while the answer was on its way: no connect. */
		if (ai != NULL)
			evutil_freeaddrinfo(ai);
		return;
	}
	session_mark(s, &s->report.resolve_ms);
	if (result != 0) {
		/* With no default route, the name server is out of reach. */
		session_fail(s, session_default_route_usable() ?
		    ETRN_F_RESOLVE : ETRN_F_NOROUTE, "cannot resolve %s: %s",
		    s->r->host, evutil_gai_strerror(result));
		return;
	}
	s->noroute = ai != NULL;
	session_note_addrs(s, ai);
	snprintf(s->lasterr, sizeof(s->lasterr), "no address for %s",
	    s->r->host);
	session_connect(s, ai);
	if (ai != NULL)
		evutil_freeaddrinfo(ai);	/* dial has its copy */
}

static void
session_resolve(struct session *s)
{
	struct evutil_addrinfo			 hints;
	struct evdns_getaddrinfo_request	*req;
	char					 port[8];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = s->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(port, sizeof(port), "%u", s->r->port);

	session_set_state(s, SESSION_RESOLVE);
	s->t_start = s->t_phase = now_ms();
	session_deadline(s, s->connect_timeout_ms);
	/* Literals and /etc/hosts answer at once, inside this call. */
	req = evdns_getaddrinfo(s->dns, s->r->host, port, &hints,
	    session_resolve_cb, s);
	if (req != NULL && s->state == SESSION_RESOLVE && !s->ending)
		s->req = req;
}

static void
session_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char		 host[INET6_ADDRSTRLEN];
	uint16_t	 port;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		port = ntohs(sin6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		const struct sockaddr_in *sin = (const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		port = ntohs(sin->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	}
}

/* The address being tried, for logs and the report. */
static void
session_note_peer(struct session *s, const struct sockaddr *sa)
{
	session_addr_str(sa, s->peer, sizeof(s->peer));
	snprintf(s->report.peer, sizeof(s->report.peer), "%s", s->peer);
}

/*
 * An address failed with err (0: not an errno).  The relay is "not
 * reachable yet" only while every address failed for want of a route or
 * of a usable source address: the network is still coming up.
 */
static void
session_addr_failed(struct session *s, int err, const struct sockaddr *sa)
{
	struct route_info	 ri;
	const void		*addr;

	if (err != ENETUNREACH && err != EHOSTUNREACH &&
	    err != EADDRNOTAVAIL && err != ENETDOWN) {
		s->noroute = false;
		return;
	}
	/*
	 * A source address not (yet) ours is ours to wait for.  "No route"
	 * may also come from afar (an ICMP unreachable, a failed ARP, a
	 * firewall's reject): only the kernel's own table says it is ours.
	 */
	if (err == EADDRNOTAVAIL || sa == NULL)
		return;
	/*
	 * With a source address the question would need the source (policy
	 * routing): the kernel's own "no route" (ENETUNREACH, ENETDOWN) is
	 * ours to wait for, a host that is unreachable is a failure.
	 */
	if (s->r->source != NULL) {
		if (err == EHOSTUNREACH)
			s->noroute = false;
		return;
	}
	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return;
	if (route_get(sa->sa_family, addr, &ri) == 0 && route_usable(&ri))
		s->noroute = false;
}

/* An attempt starts: the address tried last, for logs and the report. */
static void
session_dial_trying_cb(const struct sockaddr *sa, socklen_t len, void *arg)
{
	struct session	*s = arg;

	(void)len;
	session_note_peer(s, sa);
	log_debug("relay %s: connecting to %s", s->r->name, s->peer);
}

/* One address failed; the others may still be trying. */
static void
session_dial_failed_cb(const struct sockaddr *sa, socklen_t len, int err,
    void *arg)
{
	struct session	*s = arg;
	char		 peer[sizeof(s->peer)];

	(void)len;
	session_addr_str(sa, peer, sizeof(peer));
	snprintf(s->lasterr, sizeof(s->lasterr), "%s: %s%s", peer,
	    err == ETIMEDOUT ? "connection timed out" : strerror(err),
	    err == EAFNOSUPPORT ? " (source address of another family)" : "");
	log_debug("relay %s: %s", s->r->name, s->lasterr);
	session_addr_failed(s, err, sa);
}

/* The first address to answer won (SMTP starts), or every one failed. */
static void
session_dial_done_cb(const struct dial_winner *w, void *arg)
{
	struct session	*s = arg;
	int		 fd;

	if (w == NULL) {
		dial_free(s->dial);
		s->dial = NULL;
		session_fail(s, s->noroute ? ETRN_F_NOROUTE : ETRN_F_CONNECT,
		    "%s", s->lasterr);
		return;
	}
	/* What we need of the winner, before the dial (and w) is freed. */
	session_note_peer(s, w->addr);
	s->report.connect_ms = (int64_t)w->connect_ms;
	fd = w->fd;
	dial_free(s->dial);
	s->dial = NULL;
	log_debug("relay %s: connected to %s", s->r->name, s->peer);
	s->t_phase = now_ms();
	s->bev = bufferevent_socket_new(s->base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL) {
		close(fd);
		fatalx("bufferevent_socket_new");
	}
	bufferevent_setcb(s->bev, session_read_cb, NULL, session_event_cb, s);
	session_set_state(s, SESSION_SMTP);
	reply_init(&s->rp);
	session_deadline(s, s->reply_timeout_ms);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	/* tls = implicit (RFC 8314): the handshake before any greeting. */
	if (s->etrn.state == ETRN_S_TLS)
		session_starttls(s);
}

/*
 * Race the addresses (RFC 8305, dial.h): each attempt has connect-timeout,
 * the next starts after DIAL_STAGGER_MS or when one fails.
 */
static void
session_connect(struct session *s, const struct evutil_addrinfo *ai)
{
	struct dial_params	p;

	memset(&p, 0, sizeof(p));
	p.source = s->r->source;
	p.connect_timeout_ms = s->connect_timeout_ms;
	p.stagger_ms = DIAL_STAGGER_MS;
	p.trying_cb = session_dial_trying_cb;
	session_set_state(s, SESSION_CONNECT);
	evtimer_del(s->timer);		/* dial keeps every deadline now */
	s->dial = dial_new(s->base, ai, &p, session_dial_failed_cb,
	    session_dial_done_cb, s);
	if (s->dial == NULL)
		fatalx("dial_new");
}

static void
session_send(struct session *s)
{
	size_t	len = strlen(s->etrn.cmd);

	if (s->etrn.cmd_secret)
		log_debug("relay %s: -> %s(credentials hidden)", s->r->name,
		    strncmp(s->etrn.cmd, "AUTH PLAIN ", 11) == 0 ?
		    "AUTH PLAIN " : "");
	else
		log_debug("relay %s: -> %.*s", s->r->name,
		    (int)(len >= 2 ? len - 2 : len), s->etrn.cmd);
	bufferevent_write(s->bev, s->etrn.cmd, len);
	if (s->etrn.cmd_secret)
		explicit_bzero(s->etrn.cmd, sizeof(s->etrn.cmd));
	session_deadline(s, s->etrn.state == ETRN_S_QUIT &&
	    s->reply_timeout_ms > SESSION_QUIT_WAIT_MS ?
	    SESSION_QUIT_WAIT_MS : s->reply_timeout_ms);
}

/* What OpenSSL says went wrong, for a person. */
static void
session_tls_error(struct session *s, char *buf, size_t len)
{
	unsigned long	 err;
	long		 vr;
	char		 e[256] = "";

	/* Beside OpenSSL's own, libevent queues SSL_get_error()'s codes. */
	while ((err = bufferevent_get_openssl_error(s->bev)) != 0)
		if (ERR_GET_LIB(err) != 0)
			ERR_error_string_n(err, e, sizeof(e));
	if (s->ssl != NULL &&
	    (vr = SSL_get_verify_result(s->ssl)) != X509_V_OK)
		snprintf(buf, len, "certificate verify failed (%s)",
		    X509_verify_cert_error_string(vr));
	else if (e[0] != '\0') {
		/* "error:0A000086:SSL routines::certificate verify failed" */
		const char *r = strrchr(e, ':');

		snprintf(buf, len, "%s", r != NULL ? r + 1 : e);
	} else
		snprintf(buf, len, "the connection closed during the "
		    "handshake");
}

/*
 * STARTTLS was accepted, or (tls = implicit) we just connected: wrap the
 * socket in an OpenSSL filter.  The
 * relay's context (or one built now, as the relay's would be) verifies the
 * chain against tls-ca or the system store; the SSL checks the name we
 * connected to and sends it as SNI.  The reply to EHLO comes over TLS.
 */
static void
session_starttls(struct session *s)
{
	struct bufferevent	*tls;
	SSL			*ssl;

	if (s->tls_ctx == NULL && s->tls_ctx_get != NULL &&
	    (s->tls_ctx = s->tls_ctx_get(s->tls_ctx_arg)) != NULL)
		SSL_CTX_up_ref(s->tls_ctx);
	if (s->tls_ctx == NULL) {
		s->tls_ctx = tls_ctx_new(s->r);
		if (s->tls_ctx == NULL && errno == EINVAL) {
			session_fail(s, ETRN_F_TLS, "TLS: cannot load the CA "
			    "certificates from %s", s->r->tls_ca != NULL ?
			    s->r->tls_ca : "the system store");
			return;
		}
	}
	if (s->tls_ctx == NULL ||
	    (ssl = tls_ssl_new(s->tls_ctx, s->r->host,
	    s->r->tls_verify)) == NULL) {
		session_fail(s, ETRN_F_TLS, "TLS: cannot set up the handshake");
		return;
	}
	/*
	 * Ownership of ssl and of the socket's bufferevent passes at this
	 * call, even when it fails (libevent frees them on its error path):
	 * nothing here may touch them again.  It fails only for want of
	 * memory.
	 */
	tls = bufferevent_openssl_filter_new(s->base, s->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tls == NULL)
		fatalx("bufferevent_openssl_filter_new");
	/* The filter now owns the socket's bufferevent and ssl. */
	s->bev = tls;
	s->ssl = ssl;
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	bufferevent_setcb(tls, session_read_cb, NULL, session_event_cb, s);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	log_debug("relay %s: TLS handshake with %s", s->r->name, s->peer);
	s->t_phase = now_ms();
	session_deadline(s, s->connect_timeout_ms);
}

/* The handshake is done: say what we got, then EHLO again (or greet). */
static void
session_tls_up(struct session *s)
{
	log_debug("relay %s: TLS up with %s: %s, %s, certificate %s",
	    s->r->name, s->peer, SSL_get_version(s->ssl),
	    SSL_get_cipher_name(s->ssl), s->r->tls_verify ? "verified" :
	    "NOT verified (tls-verify = no)");
	session_mark(s, &s->report.tls_ms);
	snprintf(s->report.tls, sizeof(s->report.tls), "%s %s",
	    SSL_get_version(s->ssl), SSL_get_cipher_name(s->ssl));
	if (!s->r->tls_verify)
		snprintf(s->report.cert, sizeof(s->report.cert), "NOT "
		    "verified (tls-verify = no)");
	else
		snprintf(s->report.cert, sizeof(s->report.cert), "verified "
		    "(chain%s, %s %s)", s->r->tls_ca != NULL ? " to tls-ca" :
		    " to the system store", tls_host_is_ip(s->r->host) ?
		    "address" : "name", s->r->host);
	reply_init(&s->rp);
	switch (etrn_on_tls(&s->etrn)) {
	case ETRN_SEND:
		session_send(s);
		break;
	case ETRN_WAIT:		/* implicit TLS: the greeting comes now */
		session_deadline(s, s->reply_timeout_ms);
		break;
	default:
		session_end_soon(s);
		break;
	}
}

/* One complete reply: let the protocol core choose what comes next. */
static void
session_on_reply(struct session *s, struct evbuffer *in)
{
	enum etrn_action	action;
	enum etrn_state		was = s->etrn.state;

	action = etrn_on_reply(&s->etrn, &s->rp.reply);
	if (was == ETRN_S_GREETING)
		session_mark(s, &s->report.greeting_ms);
	else if (was == ETRN_S_AUTH)
		session_mark(s, &s->report.auth_ms);
	else if ((was == ETRN_S_EHLO || was == ETRN_S_HELO) &&
	    (s->etrn.state == ETRN_S_AUTH ||
	    s->etrn.state == ETRN_S_AUTH_LOGIN))
		s->t_phase = now_ms();	/* AUTH starts now */
	reply_init(&s->rp);
	if (s->etrn.note != NULL) {
		log_warnx("relay %s: %s", s->r->name, s->etrn.note);
		s->etrn.note = NULL;
	}
	if (action == ETRN_CLOSE) {
		session_end_soon(s);
		return;
	}
	/* One command outstanding at a time: nothing may follow a reply. */
	if (evbuffer_get_length(in) != 0) {
		session_fail(s, ETRN_F_PROTOCOL, "protocol error: unsolicited "
		    "data after a reply, before %s",
		    etrn_state_name(s->etrn.state));
		return;
	}
	if (action == ETRN_HANDSHAKE) {
		session_starttls(s);
		return;
	}
	session_send(s);
}

static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session		*s = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 p;
	char			 line[REPLY_LINE_MAX];
	char			 shown[STR_VIS_LEN(REPLY_LINE_MAX)];
	size_t			 eol_len;

	while (!s->ending) {
		p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (p.pos == -1) {
			/* 510 octets and the CR may wait for their LF. */
			if (evbuffer_get_length(in) > REPLY_LINE_MAX - 1)
				session_fail(s, ETRN_F_PROTOCOL, "protocol "
				    "error: reply line longer than %d octets "
				    "(in reply to %s)", REPLY_LINE_MAX - 2,
				    etrn_state_name(s->etrn.state));
			return;
		}
		if ((size_t)p.pos > REPLY_LINE_MAX - 2) {
			session_fail(s, ETRN_F_PROTOCOL, "protocol error: "
			    "reply line longer than %d octets (in reply to %s)",
			    REPLY_LINE_MAX - 2, etrn_state_name(s->etrn.state));
			return;
		}
		evbuffer_remove(in, line, (size_t)p.pos);
		line[p.pos] = '\0';
		evbuffer_drain(in, eol_len);
		/* The server's text, escaped before it reaches the log. */
		log_debug("relay %s: <- %s", s->r->name,
		    str_vis(shown, line, REPLY_LINE_MAX, ""));

		switch (reply_feed(&s->rp, line, (size_t)p.pos)) {
		case REPLY_MORE:
			break;
		case REPLY_ERROR:
			session_fail(s, ETRN_F_PROTOCOL, "protocol error: %s "
			    "(in reply to %s)", s->rp.error,
			    etrn_state_name(s->etrn.state));
			return;
		case REPLY_DONE:
			session_on_reply(s, in);
			break;
		}
	}
}

static void
session_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct session	*s = arg;
	int		 err = EVUTIL_SOCKET_ERROR();
	enum etrn_fail	 fail;

	(void)bev;
	if (s->ending)
		return;
	if (s->state == SESSION_SMTP && s->etrn.state == ETRN_S_TLS) {
		char	why[256];

		if (events & BEV_EVENT_CONNECTED) {
			session_tls_up(s);
			return;
		}
		session_tls_error(s, why, sizeof(why));
		snprintf(s->report.cert, sizeof(s->report.cert), "%s", why);
		/* The name too: that is what the certificate must carry. */
		if (tls_host_is_ip(s->r->host))
			session_fail(s, ETRN_F_TLS, "TLS handshake with %s "
			    "failed: %s", s->peer, why);
		else
			session_fail(s, ETRN_F_TLS, "TLS handshake with %s "
			    "(%s) failed: %s", s->peer, s->r->host, why);
		return;
	}
	if (s->etrn.state == ETRN_S_QUIT || s->etrn.state == ETRN_S_DONE) {
		session_end_soon(s);
		return;
	}
	s->peer_gone = true;
	fail = s->etrn.state == ETRN_S_GREETING ? ETRN_F_NO_GREETING :
	    ETRN_F_CLOSED;
	if (events & BEV_EVENT_EOF)
		session_fail(s, fail, "connection closed by %s while "
		    "waiting for the %s reply", s->peer,
		    etrn_state_name(s->etrn.state));
	else
		session_fail(s, fail, "connection to %s failed while "
		    "waiting for the %s reply: %s", s->peer,
		    etrn_state_name(s->etrn.state),
		    evutil_socket_error_to_string(err));
}

static void
session_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct session	*s = arg;
	char		 d[32];

	(void)fd;
	(void)ev;
	if (s->ending) {
		session_end(s);
		return;
	}
	switch (s->state) {
	case SESSION_START:
		session_resolve(s);
		break;
	case SESSION_RESOLVE:
		if (s->req != NULL) {
			struct evdns_getaddrinfo_request *req = s->req;
			s->req = NULL;
			evdns_getaddrinfo_cancel(req);
		}
		session_fail(s, ETRN_F_RESOLVE, "resolving %s timed out "
		    "after %s", s->r->host,
		    fmt_duration(s->connect_timeout_ms, d, sizeof(d)));
		break;
	case SESSION_CONNECT:		/* dial keeps the deadlines */
		break;
	case SESSION_SMTP:
		if (s->etrn.state == ETRN_S_QUIT) {
			session_end_soon(s);
			break;
		}
		if (s->etrn.state == ETRN_S_TLS) {
			session_fail(s, ETRN_F_TLS, "TLS handshake with %s "
			    "did not finish within %s", s->peer, fmt_duration(
			    s->connect_timeout_ms, d, sizeof(d)));
			break;
		}
		session_fail(s, s->etrn.state == ETRN_S_GREETING ?
		    ETRN_F_NO_GREETING : ETRN_F_TIMEOUT,
		    "no %s reply from %s within %s",
		    etrn_state_name(s->etrn.state), s->peer,
		    fmt_duration(s->reply_timeout_ms, d, sizeof(d)));
		break;
	case SESSION_DONE:
		break;
	}
}

struct session *
session_new(struct event_base *base, struct evdns_base *dns,
    const struct session_params *p, session_done_cb cb, void *arg)
{
	struct session	*s;
	struct timeval	 tv = { 0, 0 };
	size_t		 i;

	s = xcalloc(1, sizeof(*s));
	s->base = base;
	s->dns = dns;
	s->r = conf_relay_dup(p->relay);
	s->helo = xstrdup(p->helo);
	s->family = p->family;
	s->ndomains = p->ndomains;
	s->domains = xcalloc(p->ndomains + 1, sizeof(*s->domains));
	for (i = 0; i < p->ndomains; i++)
		s->domains[i] = xstrdup(p->domains[i]);
	s->connect_timeout_ms = p->connect_timeout_ms;
	s->reply_timeout_ms = p->reply_timeout_ms;
	if ((s->tls_ctx = p->tls_ctx) != NULL)
		SSL_CTX_up_ref(s->tls_ctx);
	s->tls_ctx_get = p->tls_ctx_get;
	s->tls_ctx_arg = p->tls_ctx_arg;
	s->results = xcalloc(p->ndomains + 1, sizeof(*s->results));
	s->cb = cb;
	s->cb_arg = arg;
	s->state = SESSION_START;
	etrn_init(&s->etrn, s->helo, s->r->command, s->domains, s->ndomains,
	    s->results);
	/* Under etrnd -t the password is not read: no AUTH then. */
	etrn_set_security(&s->etrn, s->r->tls, s->r->auth_password != NULL ?
	    s->r->auth_user : NULL, s->r->auth_password, s->r->auth_cleartext);
	if (p->probe)
		etrn_set_probe(&s->etrn);
	s->report.resolve_ms = s->report.connect_ms = -1;
	s->report.greeting_ms = s->report.tls_ms = -1;
	s->report.auth_ms = s->report.total_ms = -1;

	if ((s->timer = evtimer_new(base, session_timer_cb, s)) == NULL)
		goto fail;
	if (evtimer_add(s->timer, &tv) == -1)
		goto fail;
	return s;
fail:
	session_free(s);
	errno = ENOMEM;
	return NULL;
}

void
session_params_init(struct session_params *p, const struct conf *conf,
    const struct conf_relay *r, const char *helo)
{
	memset(p, 0, sizeof(*p));
	p->relay = r;
	p->family = AF_UNSPEC;
	p->helo = helo;
	p->domains = r->domains;
	p->ndomains = r->ndomains < CONF_ETRN_PER_SESSION ? r->ndomains :
	    CONF_ETRN_PER_SESSION;
	p->connect_timeout_ms = conf->connect_timeout_ms;
	p->reply_timeout_ms = conf->reply_timeout_ms;
}

const struct session_report *
session_report(const struct session *s)
{
	return &s->report;
}

/* Whether the local address of fd (a connected socket) is still ours. */
static bool
session_local_addr_ok(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 probe, rc;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return true;
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	else
		return true;
	if ((probe = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return true;
	rc = bind(probe, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
	close(probe);
	return rc != EADDRNOTAVAIL;
}

bool
session_path_lost(const struct session *s)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct route_info	 ri;
	const void		*addr;
	int			 fd;

	if (s->state != SESSION_SMTP || s->ending || s->bev == NULL ||
	    (fd = bufferevent_getfd(s->bev)) == -1)
		return false;
	if (!session_local_addr_ok(fd))
		return true;
	/* Policy routing by source would need the source in the question. */
	if (s->r->source != NULL ||
	    getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return false;
	if (ss.ss_family == AF_INET)
		addr = &((struct sockaddr_in *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	else
		return false;
	if (route_get(ss.ss_family, addr, &ri) == -1)
		return false;		/* cannot tell: let the deadline say */
	return ri.type != RTN_LOCAL && !route_usable(&ri);
}

void
session_lost(struct session *s)
{
	if (s->ending || s->state == SESSION_DONE)
		return;
	session_fail(s, ETRN_F_NOROUTE, "the link, address or route to %s "
	    "went away", s->peer);
}

void
session_shutdown(struct session *s)
{
	if (s->ending || s->state == SESSION_DONE)
		return;
	if (s->etrn.state == ETRN_S_QUIT || s->etrn.state == ETRN_S_DONE) {
		session_end_soon(s);	/* every domain has its reply */
		return;
	}
	session_fail(s, ETRN_F_SHUTDOWN, "daemon shutting down");
}

void
session_free(struct session *s)
{
	size_t	i;

	if (s == NULL)
		return;
	if (s->req != NULL) {
		struct evdns_getaddrinfo_request *req = s->req;
		s->req = NULL;
		evdns_getaddrinfo_cancel(req);
	}
	dial_free(s->dial);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	for (i = 0; i < s->ndomains; i++)
		free(s->domains[i]);
	free(s->domains);
	free(s->results);
	conf_relay_free(s->r);
	free(s->helo);
	tls_ctx_free(s->tls_ctx);
	explicit_bzero(s->etrn.cmd, sizeof(s->etrn.cmd));
	free(s);
}
