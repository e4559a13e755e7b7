/* SPDX-License-Identifier: ISC */
/*
 * sockdiag: which TCP connections this host has on one local port, and
 * from where, and whether anything listens there, asked of the kernel's
 * socket diagnostics (NETLINK_SOCK_DIAG, inet_diag) as ss(8) does.
 * Unprivileged: the kernel lists every TCP socket of the network namespace
 * to any user.  No logging.
 *
 * Listed: the states a connection passes through once established --
 * ESTABLISHED, CLOSE_WAIT (the peer has sent QUIT's FIN, the MTA not yet),
 * FIN_WAIT1, FIN_WAIT2, CLOSING, LAST_ACK and TIME_WAIT.  When the SMTP
 * server closes first (it answered QUIT and hung up before the client),
 * its end of a finished delivery stays in TIME_WAIT for a minute, so a
 * connection that came and went between two polls is still seen; when
 * the client closes first it is not: see sockdiag_gone_open().  The same
 * dump carries them all, so they cost nothing more.  Not listed: SYN_RECV
 * (never a connection yet), LISTEN (sockdiag_listening()).
 */
#ifndef ETRND_SOCKDIAG_H
#define ETRND_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route.h"

struct sockdiag_query {
	uint16_t		 port;	/* the local port, host order */
	/*
	 * The local address, AF_INET or AF_INET6; AF_UNSPEC: any.  An
	 * IPv4 address also matches IPv4-mapped IPv6 sockets.
	 */
	struct route_addr	 local;
};

struct sockdiag_conn {
	/* IPv4-mapped IPv6 (a dual-stack listener's) given as AF_INET. */
	struct route_addr	 local;
	struct route_addr	 remote;
	uint16_t		 lport;		/* host order */
	uint16_t		 rport;
	uint8_t			 state;		/* TCP_ESTABLISHED, ... */
	/*
	 * The kernel's socket cookie: one connection's for its life, kept
	 * into TIME_WAIT, never reused while the system runs.  The key
	 * for counting a connection once across polls.  Not the inode:
	 * that is 0 before accept() and after close().
	 */
	uint64_t		 cookie;
	uint32_t		 inode;
};

/*
 * The connections on q's port (and address), both families: the first
 * max into conns, their number in *n (more than max when they did not
 * fit).  0, or -1 with errno (EINVAL for port 0, EAFNOSUPPORT for another
 * family, ETIMEDOUT, EPROTO, or the kernel's).
 */
int		 sockdiag_conns(const struct sockdiag_query *q,
		    struct sockdiag_conn *conns, size_t max, size_t *n);
/*
 * A connection can come and go between two polls and leave nothing: when
 * the client closes first (Postfix's smtp client does, not waiting for
 * the reply to QUIT: smtp_skip_quit_response), the server's end skips
 * TIME_WAIT and is gone within a round trip (measured).  The kernel tells
 * of each TCP socket as it goes away to those who listen (the sock_diag
 * multicast groups for TCP over IPv4 and IPv6, no privilege needed):
 * sockdiag_gone_open() subscribes, for the caller's event loop
 * (nonblocking; the notices wake it for every TCP socket of the host, so
 * hold it open only while watching).  The fd, or -1 with errno.
 */
int		 sockdiag_gone_open(void);
/*
 * The connections on q's port (and address) gone since the last read,
 * like sockdiag_conns() (state TCP_CLOSE, their cookie as listed while
 * they lived), from at most 64 datagrams: call again while the fd is
 * readable.  *lost when notices were dropped (the socket's buffer
 * overran).  0, or -1 with errno.
 */
int		 sockdiag_gone_read(int fd, const struct sockdiag_query *q,
		    struct sockdiag_conn *conns, size_t max, size_t *n,
		    bool *lost);
/*
 * Whether a socket listens on q's port for q's address: one bound to it,
 * or to the wildcard of its family, or to :: without IPV6_V6ONLY for an
 * IPv4 address.  0 with *listening set, or -1 with errno.
 */
int		 sockdiag_listening(const struct sockdiag_query *q,
		    bool *listening);
/* "established", "time-wait", ...: for logs and status. */
const char	*sockdiag_state_name(uint8_t state);

#endif
