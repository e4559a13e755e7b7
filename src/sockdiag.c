/* SPDX-License-Identifier: ISC */
/*
 * sockdiag: TCP sockets on one local port from inet_diag; see sockdiag.h.
 *
 * One SOCK_DIAG_BY_FAMILY dump per family (the kernel answers one family
 * per request) on one short-lived socket.  The port is filtered in the
 * kernel (INET_DIAG_REQ_BYTECODE, S_GE and S_LE): a busy host's other
 * sockets never cross into user space, and the dump stays a datagram or
 * two.  The address is filtered here: IPv4-mapped IPv6 sockets must match
 * an IPv4 address, and a wildcard listener an address it serves, which
 * the bytecode cannot say as simply.
 *
 * The notices of sockets gone (SKNLGRP_INET_TCP_DESTROY and the IPv6
 * one) come for every TCP socket of the namespace; the port is filtered
 * here.  Binding to them needs no privilege (measured as nobody).
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

#include "nlreq.h"
#include "sockdiag.h"

#define SOCKDIAG_DUMP_MAX	1024	/* datagrams of a dump, at most */
#define SOCKDIAG_GONE_MAX	64	/* datagrams of notices per read */
#define SOCKDIAG_GONE_RCVBUF	(256 * 1024)

#define TCPF(s)		(1U << (s))
#define SOCKDIAG_CONNECTED (TCPF(TCP_ESTABLISHED) | TCPF(TCP_CLOSE_WAIT) | \
	    TCPF(TCP_FIN_WAIT1) | TCPF(TCP_FIN_WAIT2) | TCPF(TCP_CLOSING) | \
	    TCPF(TCP_LAST_ACK) | TCPF(TCP_TIME_WAIT))

/* The request: the local port equal to ours, in the kernel's bytecode. */
struct sockdiag_req {
	struct nlmsghdr		 nh;
	struct inet_diag_req_v2	 r;
	struct nlattr		 nla;
	struct inet_diag_bc_op	 bc[4];
};
_Static_assert(sizeof(struct sockdiag_req) == NLMSG_LENGTH(
    sizeof(struct inet_diag_req_v2)) + NLA_HDRLEN +
    4 * sizeof(struct inet_diag_bc_op), "no padding in the request");

/* What each dumped socket goes to. */
typedef void sockdiag_sock_fn(const struct inet_diag_msg *, bool v6only,
    void *arg);

struct sockdiag_walk {
	sockdiag_sock_fn	*fn;
	void			*arg;
};

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* A dumped address as we give it: IPv4-mapped IPv6 as IPv4. */
static void
sockdiag_addr(int family, const uint32_t *raw, struct route_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET6 && memcmp(raw, v4mapped, 12) == 0) {
		a->family = AF_INET;
		memcpy(a->addr, (const unsigned char *)raw + 12, 4);
	} else {
		a->family = family;
		memcpy(a->addr, raw, family == AF_INET ? 4 : 16);
	}
}

static bool
sockdiag_addr_any(const struct route_addr *a)
{
	static const unsigned char	 zero[16];

	return memcmp(a->addr, zero, a->family == AF_INET ? 4 : 16) == 0;
}

/* One message of a dump: 1 at its end, 0 to read on, -1 with errno. */
static int
sockdiag_msg(struct nlmsghdr *nh, void *arg)
{
	struct sockdiag_walk	*w = arg;
	struct inet_diag_msg	*m;
	struct nlmsgerr		*err;
	struct rtattr		*rta;
	bool			 v6only = false;
	int			 len;

	if (nh->nlmsg_type == NLMSG_DONE)
		return 1;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*err)))
			goto bad;
		err = NLMSG_DATA(nh);
		if (err->error >= 0)
			goto bad;
		errno = -err->error;
		return -1;
	}
	if (nh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return 0;
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		goto bad;
	m = NLMSG_DATA(nh);
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		goto bad;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (rta = (struct rtattr *)(void *)(m + 1); RTA_OK(rta, len);
	    rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == INET_DIAG_SKV6ONLY &&
		    RTA_PAYLOAD(rta) >= 1)
			v6only = *(unsigned char *)RTA_DATA(rta) != 0;
	}
	w->fn(m, v6only, w->arg);
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

/* Dump family's TCP sockets in states on port into fn, on fd. */
static int
sockdiag_dump(int fd, int family, uint32_t seq, uint16_t port,
    uint32_t states, sockdiag_sock_fn *fn, void *arg)
{
	struct sockdiag_req	 req;
	struct sockdiag_walk	 w = { fn, arg };

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = seq;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = states;
	req.nla.nla_type = INET_DIAG_REQ_BYTECODE;
	req.nla.nla_len = NLA_HDRLEN + sizeof(req.bc);
	/*
	 * port <= source port <= port (S_EQ is younger than these): each
	 * test followed by its operand; yes goes on, no jumps 4 bytes past
	 * the end (reject), as the kernel's audit wants.
	 */
	req.bc[0].code = INET_DIAG_BC_S_GE;
	req.bc[0].yes = 2 * sizeof(req.bc[0]);
	req.bc[0].no = sizeof(req.bc) + 4;
	req.bc[1].no = port;
	req.bc[2].code = INET_DIAG_BC_S_LE;
	req.bc[2].yes = 2 * sizeof(req.bc[0]);
	req.bc[2].no = 2 * sizeof(req.bc[0]) + 4;
	req.bc[3].no = port;
	if (nlreq_send(fd, &req, sizeof(req)) == -1)
		return -1;
	return nlreq_recv_each(fd, seq, SOCKDIAG_DUMP_MAX, sockdiag_msg, &w);
}

/* A query we can ask: 0, or -1 with errno. */
static int
sockdiag_query_ok(const struct sockdiag_query *q)
{
	if (q->port == 0) {
		errno = EINVAL;
		return -1;
	}
	if (q->local.family != AF_UNSPEC && q->local.family != AF_INET &&
	    q->local.family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

/* Both families' dumps into fn: 0, or -1 with errno. */
static int
sockdiag_ask(const struct sockdiag_query *q, uint32_t states,
    sockdiag_sock_fn *fn, void *arg)
{
	int	 fd, rv, saved;

	if (sockdiag_query_ok(q) == -1)
		return -1;
	if ((fd = nlreq_socket(NETLINK_SOCK_DIAG)) == -1)
		return -1;
	/* IPv6 too for an IPv4 address: IPv4-mapped sockets are there. */
	rv = 0;
	if (q->local.family != AF_INET6)
		rv = sockdiag_dump(fd, AF_INET, 1, q->port, states, fn, arg);
	if (rv == 0)
		rv = sockdiag_dump(fd, AF_INET6, 2, q->port, states, fn, arg);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return rv;
}

struct sockdiag_list {
	const struct sockdiag_query	*q;
	struct sockdiag_conn		*conns;
	size_t				 max, n;
};

static void
sockdiag_conn_cb(const struct inet_diag_msg *m, bool v6only, void *arg)
{
	struct sockdiag_list	*l = arg;
	struct sockdiag_conn	 c;

	(void)v6only;
	memset(&c, 0, sizeof(c));
	c.lport = ntohs(m->id.idiag_sport);
	c.rport = ntohs(m->id.idiag_dport);
	/* The notices of sockets gone are not filtered by the kernel. */
	if (c.lport != l->q->port || c.rport == 0)
		return;
	sockdiag_addr(m->idiag_family, m->id.idiag_src, &c.local);
	if (l->q->local.family != AF_UNSPEC &&
	    !route_addr_equal(&c.local, &l->q->local))
		return;
	sockdiag_addr(m->idiag_family, m->id.idiag_dst, &c.remote);
	c.state = m->idiag_state;
	c.cookie = (uint64_t)m->id.idiag_cookie[1] << 32 |
	    m->id.idiag_cookie[0];
	c.inode = m->idiag_inode;
	if (l->n < l->max)
		l->conns[l->n] = c;
	l->n++;
}

int
sockdiag_conns(const struct sockdiag_query *q, struct sockdiag_conn *conns,
    size_t max, size_t *n)
{
	struct sockdiag_list	 l = { q, conns, max, 0 };

	*n = 0;
	if (sockdiag_ask(q, SOCKDIAG_CONNECTED, sockdiag_conn_cb, &l) == -1)
		return -1;
	*n = l.n;
	return 0;
}

int
sockdiag_gone_open(void)
{
	struct sockaddr_nl	 sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = 1U << (SKNLGRP_INET_TCP_DESTROY - 1) |
		    1U << (SKNLGRP_INET6_TCP_DESTROY - 1),
	};
	int			 fd, saved, rcvbuf = SOCKDIAG_GONE_RCVBUF;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    NETLINK_SOCK_DIAG);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	/* Best effort: an overrun says itself (ENOBUFS). */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

int
sockdiag_gone_read(int fd, const struct sockdiag_query *q,
    struct sockdiag_conn *conns, size_t max, size_t *n, bool *lost)
{
	union {
		struct nlmsghdr	 nh;
		char		 buf[NLREQ_BUF_LEN];
	} u;
	struct sockdiag_list	 l = { q, conns, max, 0 };
	struct sockdiag_walk	 w = { sockdiag_conn_cb, &l };
	ssize_t			 len;
	int			 i;

	*n = 0;
	*lost = false;
	if (sockdiag_query_ok(q) == -1)
		return -1;
	for (i = 0; i < SOCKDIAG_GONE_MAX; i++) {
		len = recv(fd, u.buf, sizeof(u.buf), MSG_DONTWAIT | MSG_TRUNC);
		if (len == -1 && errno == EINTR)
			continue;
		if (len == -1 && errno == ENOBUFS) {
			*lost = true;
			continue;
		}
		if (len == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (len == -1)
			return -1;
		if ((size_t)len > sizeof(u.buf)) {
			*lost = true;
			continue;
		}
		if (nlreq_walk(u.buf, (size_t)len, NULL, sockdiag_msg,
		    &w) == -1)
			return -1;
	}
	*n = l.n;
	return 0;
}

struct sockdiag_listen {
	const struct sockdiag_query	*q;
	bool				 found;
};

static void
sockdiag_listen_cb(const struct inet_diag_msg *m, bool v6only, void *arg)
{
	struct sockdiag_listen	*l = arg;
	const struct route_addr	*want = &l->q->local;
	struct route_addr	 a;

	sockdiag_addr(m->idiag_family, m->id.idiag_src, &a);
	if (want->family == AF_UNSPEC || route_addr_equal(&a, want))
		l->found = true;
	else if (sockdiag_addr_any(&a) && a.family == want->family)
		l->found = true;
	/* [::] serves IPv4 too unless IPV6_V6ONLY (mapped [::] is v4). */
	else if (a.family == AF_INET6 && sockdiag_addr_any(&a) &&
	    want->family == AF_INET && !v6only)
		l->found = true;
}

int
sockdiag_listening(const struct sockdiag_query *q, bool *listening)
{
	struct sockdiag_listen	 l = { q, false };

	*listening = false;
	/* The kernel adds INET_DIAG_SKV6ONLY to IPv6 listeners unasked. */
	if (sockdiag_ask(q, TCPF(TCP_LISTEN), sockdiag_listen_cb, &l) == -1)
		return -1;
	*listening = l.found;
	return 0;
}

const char *
sockdiag_state_name(uint8_t state)
{
	switch (state) {
	case TCP_ESTABLISHED:
		return "established";
	case TCP_SYN_SENT:
		return "syn-sent";
	case TCP_SYN_RECV:
		return "syn-recv";
	case TCP_FIN_WAIT1:
		return "fin-wait-1";
	case TCP_FIN_WAIT2:
		return "fin-wait-2";
	case TCP_TIME_WAIT:
		return "time-wait";
	case TCP_CLOSE:
		return "closed";
	case TCP_CLOSE_WAIT:
		return "close-wait";
	case TCP_LAST_ACK:
		return "last-ack";
	case TCP_LISTEN:
		return "listening";
	case TCP_CLOSING:
		return "closing";
	default:
		return "unknown";
	}
}
