/* SPDX-License-Identifier: ISC */
/*
 * nlreq: one question to the kernel over netlink on a blocking socket of
 * its own, opened per question: the socket with a receive deadline, the
 * send, and a bounded walk over the answer's messages.  Shared by the
 * modules that ask (sockdiag; route's loop is the same one).  No logging.
 */
#ifndef ETRND_NLREQ_H
#define ETRND_NLREQ_H

#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>

/*
 * One message answering our request: 1 when it was the last we need, 0 to
 * read on, -1 with errno.
 */
typedef int nlreq_msg_fn(struct nlmsghdr *, void *arg);

/* A receive buffer that holds any datagram the kernel sends us. */
#define NLREQ_BUF_LEN	32768

/*
 * A netlink socket of protocol (NETLINK_ROUTE, NETLINK_SOCK_DIAG) whose
 * receives give up after a second: the fd, or -1 with errno.
 */
int	nlreq_socket(int protocol);
/* Send one request to the kernel: 0, or -1 with errno. */
int	nlreq_send(int fd, const void *req, size_t len);
/*
 * Hand each message answering seq to fn until it says it was the last, in
 * at most max datagrams: 0, or -1 with errno (ETIMEDOUT from the socket's
 * deadline, EPROTO for what no kernel sends or for more than max
 * datagrams, or fn's).
 */
int	nlreq_recv_each(int fd, uint32_t seq, int max, nlreq_msg_fn *fn,
	    void *arg);
/*
 * Hand each message of one received datagram (those of *seq, or all when
 * seq is NULL: multicast notices) to fn until it says it was the last:
 * 1 then, 0 at the datagram's end, -1 with errno (EPROTO for a length no
 * kernel sends, or fn's).
 */
int	nlreq_walk(void *buf, size_t len, const uint32_t *seq,
	    nlreq_msg_fn *fn, void *arg);

#endif
