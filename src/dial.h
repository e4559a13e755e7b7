/* SPDX-License-Identifier: ISC */
/*
 * dial: connect to the first answering of a list of addresses, RFC 8305
 * ("Happy Eyeballs") style.  The address families take turns, starting
 * with the first address's; the next attempt starts after a stagger while
 * the earlier ones still try, or at once when one fails; each attempt has
 * its own connect timeout; the first to connect wins and the others are
 * closed.  A relay whose first (IPv6) address does not answer costs a
 * stagger, not a connect timeout.
 */
#ifndef ETRND_DIAL_H
#define ETRND_DIAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DIAL_STAGGER_MS		250	/* RFC 8305 §8: Connection Attempt Delay */

struct event_base;
struct evutil_addrinfo;
struct dial;

struct dial_params {
	const char	*source;	/* local address literal, or NULL */
	uint64_t	 connect_timeout_ms;	/* each attempt's */
	uint64_t	 stagger_ms;	/* DIAL_STAGGER_MS; 0: all at once */
	/* Optional: told as each attempt starts (for a trace). */
	void		(*trying_cb)(const struct sockaddr *, socklen_t,
			    void *arg);
};

/* The attempt that connected. */
struct dial_winner {
	int			 fd;	/* non-blocking, CLOEXEC: the caller's */
	const struct sockaddr	*addr;
	socklen_t		 addrlen;
	uint64_t		 connect_ms;	/* this attempt's own time */
};

/*
 * One address failed: err is an errno from socket(), bind() (EAFNOSUPPORT:
 * a source address of the other family), connect() or the handshake, or
 * ETIMEDOUT when it did not answer within connect_timeout_ms.  Addresses
 * still trying when another wins are closed without a call.
 */
typedef void (*dial_failed_cb)(const struct sockaddr *, socklen_t, int err,
    void *arg);
/* The end, exactly once: the winner, or NULL when every address failed. */
typedef void (*dial_done_cb)(const struct dial_winner *, void *arg);

/*
 * Which order to try n addresses of these families in (RFC 8305 §4):
 * the families take turns, starting with the first address's, each
 * family's addresses in their own order.  order gets n indices.
 */
void		 dial_order(const int *families, size_t n, size_t *order);

/*
 * Start dialling the addresses of ai (copied: the caller may free it).
 * Starts from a zero-timeout timer, so no callback fires from inside
 * dial_new().  NULL with errno on failure.  Any callback may call
 * dial_free().
 */
struct dial	*dial_new(struct event_base *, const struct evutil_addrinfo *,
		    const struct dial_params *, dial_failed_cb, dial_done_cb,
		    void *arg);
/* Cancel every attempt and timer and close every socket.  NULL: no-op. */
void		 dial_free(struct dial *);

#endif
