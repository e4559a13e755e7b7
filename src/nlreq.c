/* SPDX-License-Identifier: ISC */
/*
 * nlreq: a netlink question on a short-lived blocking socket; see nlreq.h.
 *
 * The kernel answers a local request while the send runs, so a receive
 * rarely waits; the one-second deadline bounds it anyway, and the caller
 * bounds the datagrams.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <unistd.h>

#include "nlreq.h"

#define NLREQ_TIMEOUT_S		1

int
nlreq_socket(int protocol)
{
	struct timeval	tv = { .tv_sec = NLREQ_TIMEOUT_S };
	int		fd, saved;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
nlreq_send(int fd, const void *req, size_t len)
{
	struct sockaddr_nl	kernel = { .nl_family = AF_NETLINK };
	ssize_t			n;

	do
		n = sendto(fd, req, len, 0, (struct sockaddr *)&kernel,
		    sizeof(kernel));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int
nlreq_walk(void *buf, size_t len, const uint32_t *seq, nlreq_msg_fn *fn,
    void *arg)
{
	struct nlmsghdr	*nh;
	size_t		 off, step;
	int		 rv;

	/* NLMSG_OK()/NLMSG_NEXT() without their signed length. */
	for (off = 0; len - off >= sizeof(*nh); off += step) {
		nh = (struct nlmsghdr *)(void *)((char *)buf + off);
		if (nh->nlmsg_len < sizeof(*nh) || nh->nlmsg_len > len - off) {
			errno = EPROTO;
			return -1;
		}
		/* The last message may lack its padding. */
		if ((step = NLMSG_ALIGN(nh->nlmsg_len)) > len - off)
			step = len - off;
		if (seq != NULL && nh->nlmsg_seq != *seq)
			continue;
		if ((rv = fn(nh, arg)) != 0)
			return rv;
	}
	return 0;
}

int
nlreq_recv_each(int fd, uint32_t seq, int max, nlreq_msg_fn *fn, void *arg)
{
	union {
		struct nlmsghdr	 nh;
		char		 buf[NLREQ_BUF_LEN];
	} u;
	ssize_t			 n;
	int			 i, rv;

	for (i = 0; i < max; i++) {
		n = recv(fd, u.buf, sizeof(u.buf), MSG_TRUNC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		if ((size_t)n > sizeof(u.buf))
			break;
		if ((rv = nlreq_walk(u.buf, (size_t)n, &seq, fn, arg)) != 0)
			return rv == 1 ? 0 : -1;
	}
	errno = EPROTO;
	return -1;
}
