/* SPDX-License-Identifier: ISC */
/*
 * linkset: `ip link set IFNAME up|down`, or `ip route add default dev
 * IFNAME` (what pppd's defaultroute does), and print the unix time (with
 * microseconds) at which the kernel acknowledged it.  The link-up benchmark
 * counts from there: that is when `ip` returns, minus the exit and the
 * shell's wait (about a millisecond, more than etrnd needs to react, so the
 * shell's own clock after `ip` would read negative).
 *
 * usage: linkset IFNAME up|down|default-route
 *        (run inside the namespace: ip netns exec)
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct {
		struct nlmsghdr		nh;
		struct ifinfomsg	ifi;
	} req;
	struct {
		struct nlmsghdr		nh;
		struct rtmsg		rtm;
		struct rtattr		oif_hdr;
		unsigned int		oif;
	} rreq;
	char buf[4096];
	struct sockaddr_nl sa;
	struct nlmsghdr *nh;
	struct nlmsgerr *e;
	struct timeval tv;
	unsigned int idx;
	ssize_t n;
	int fd, up, route;

	if (argc != 3 || (strcmp(argv[2], "up") != 0 &&
	    strcmp(argv[2], "down") != 0 &&
	    strcmp(argv[2], "default-route") != 0)) {
		fprintf(stderr, "usage: linkset ifname up|down|default-route\n");
		return 2;
	}
	up = strcmp(argv[2], "up") == 0;
	route = strcmp(argv[2], "default-route") == 0;
	if ((idx = if_nametoindex(argv[1])) == 0)
		err(1, "%s", argv[1]);
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1)
		err(1, "socket");
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = (int)idx;
	req.ifi.ifi_change = IFF_UP;
	req.ifi.ifi_flags = up ? IFF_UP : 0;
	/* RTM_NEWROUTE 0.0.0.0/0 dev IFNAME, as pppd's defaultroute adds. */
	memset(&rreq, 0, sizeof(rreq));
	rreq.nh.nlmsg_len = sizeof(rreq);
	rreq.nh.nlmsg_type = RTM_NEWROUTE;
	rreq.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
	    NLM_F_EXCL;
	rreq.nh.nlmsg_seq = 1;
	rreq.rtm.rtm_family = AF_INET;
	rreq.rtm.rtm_table = RT_TABLE_MAIN;
	rreq.rtm.rtm_protocol = RTPROT_BOOT;
	rreq.rtm.rtm_scope = RT_SCOPE_LINK;
	rreq.rtm.rtm_type = RTN_UNICAST;
	rreq.oif_hdr.rta_len = RTA_LENGTH(sizeof(rreq.oif));
	rreq.oif_hdr.rta_type = RTA_OIF;
	rreq.oif = idx;
	if (sendto(fd, route ? (void *)&rreq : (void *)&req,
	    route ? sizeof(rreq) : sizeof(req), 0, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1)
		err(1, "sendto");
	if ((n = recv(fd, buf, sizeof(buf), 0)) == -1)
		err(1, "recv");
	gettimeofday(&tv, NULL);
	nh = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(nh, (unsigned int)n) || nh->nlmsg_type != NLMSG_ERROR)
		errx(1, "unexpected netlink answer");
	e = NLMSG_DATA(nh);
	if (e->error != 0) {
		errno = -e->error;
		err(1, "%s %s", argv[1], argv[2]);
	}
	printf("%lld.%06ld\n", (long long)tv.tv_sec, (long)tv.tv_usec);
	return 0;
}
