/* SPDX-License-Identifier: ISC */
/*
 * Tests for metrics: a table of events in, the exact OpenMetrics
 * exposition out (every configured relay with zero counters before its
 * first run, the gauges from a relay table and a link table, forgotten
 * relays gone), a hostile relay name's label escaped, and the textfile
 * written atomically: a reader never sees it half-written, and on any
 * failure the old file stays and no temporary file is left.
 *
 * "test_metrics --print" prints the sample exposition and "test_metrics
 * --write PATH" writes the sample file, for metrics-parse.py, which checks
 * both with Debian's python3-prometheus-client parsers.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <net/if.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "linkstate.h"
#include "metrics.h"

#define STARTED	INT64_C(1796115480)
#define NOW	INT64_C(1796126400)

/* The relays a test shows, in place of sched_foreach. */
struct fake {
	const struct sched_relay_info	*ri;
	size_t				 n;
};

static void
fake_foreach(const void *src, sched_relay_fn fn, void *arg)
{
	const struct fake	*f = src;
	size_t			 i;

	for (i = 0; i < f->n; i++)
		fn(&f->ri[i], arg);
}

/* Rendered lines, collected into one string. */
struct lines {
	char	buf[16384];
	size_t	n;
};

static void
collect(const char *line, void *arg)
{
	struct lines	*l = arg;
	size_t		 off = strlen(l->buf);

	snprintf(l->buf + off, sizeof(l->buf) - off, "%s\n", line);
	l->n++;
}

/*
 * Events: U run (relay, trigger), R result (relay, class), F flush
 * (relay, verdict, connections from the relay), X forget (relay).
 */
enum op { U, R, F, X };

struct event {
	enum op			 op;
	const char		*relay;
	int			 what;	/* trigger, class or verdict */
	unsigned		 nconns;
};

static const struct event events[] = {
	{ U, "isp", RELAY_T_LINKUP, 0 },
	{ R, "isp", ETRN_R_OK, 0 },
	{ R, "isp", ETRN_R_OK, 0 },
	{ R, "isp", ETRN_R_TEMP, 0 },
	{ F, "isp", FLUSHWATCH_WATCHING, 1 },	/* not final: not counted */
	{ F, "isp", FLUSHWATCH_DELIVERED, 3 },
	{ U, "isp", RELAY_T_RETRY, 0 },
	{ R, "isp", ETRN_R_NONE, 0 },		/* no result: not counted */
	{ R, "isp", ETRN_R_REFUSED, 0 },
	{ F, "isp", FLUSHWATCH_NOTHING, 0 },
	{ U, "isp", RELAY_T_LINKUP, 0 },
	/* A relay not configured (a reload took it): shown until forgotten. */
	{ U, "old", RELAY_T_START, 0 },
	{ R, "old", ETRN_R_UNSUPPORTED, 0 },
	{ U, "gone", RELAY_T_START, 0 },
	{ X, "gone", 0, 0 },
	{ X, "never", 0, 0 },
	{ U, "mx2", RELAY_T_MANUAL, 0 },
	{ F, "mx2", FLUSHWATCH_NOT_OBSERVABLE, 0 },
	/* A third relay, "new", has had no event at all. */
};

static void
play(struct metrics *m, const struct event *ev, size_t n)
{
	struct flushwatch_result	 fr;
	size_t				 i;

	for (i = 0; i < n; i++) {
		switch (ev[i].op) {
		case U:
			metrics_on_run(m, ev[i].relay,
			    (enum relay_trigger)ev[i].what);
			break;
		case R:
			metrics_on_result(m, ev[i].relay,
			    (enum etrn_class)ev[i].what);
			break;
		case F:
			memset(&fr, 0, sizeof(fr));
			fr.verdict = (enum flushwatch_verdict)ev[i].what;
			fr.relay.nconns = ev[i].nconns;
			metrics_on_flush(m, ev[i].relay, &fr);
			break;
		case X:
			metrics_forget(m, ev[i].relay);
			break;
		}
	}
}

/* What `ip link` shows for an up Ethernet-like link with carrier. */
#define F_ETH		(IFF_UP | IFF_BROADCAST | IFF_MULTICAST)
#define F_ETH_UP	(F_ETH | IFF_RUNNING | IFF_LOWER_UP)

static void
feed_link(struct linkstate *ls, int ifindex, const char *name,
    unsigned flags, uint8_t oper)
{
	struct rtnl_link	*l;

	assert_non_null(l = rtnl_link_alloc());
	rtnl_link_set_ifindex(l, ifindex);
	rtnl_link_set_name(l, name);
	rtnl_link_set_flags(l, flags);
	rtnl_link_set_operstate(l, oper);
	rtnl_link_set_family(l, AF_UNSPEC);
	linkstate_apply(ls, (struct nl_object *)l, RTM_NEWLINK);
	rtnl_link_put(l);
}

static void
feed_addr(struct linkstate *ls, int ifindex, const char *cidr)
{
	struct rtnl_addr	*ra;
	struct nl_addr		*a;

	assert_int_equal(nl_addr_parse(cidr, AF_INET, &a), 0);
	assert_non_null(ra = rtnl_addr_alloc());
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, AF_INET);
	assert_int_equal(rtnl_addr_set_local(ra, a), 0);
	rtnl_addr_set_scope(ra, RT_SCOPE_UNIVERSE);
	linkstate_apply(ls, (struct nl_object *)ra, RTM_NEWADDR);
	rtnl_addr_put(ra);
	nl_addr_put(a);
}

/* The sample world: three configured relays, the events, two links. */
struct sample {
	struct sched_relay_info	 ri[4];
	struct fake		 f;
	struct report_relays	 rr;
	struct metrics		*m;
	struct linkstate	*ls;
};

static void
sample_init(struct sample *s, const char *hostile)
{
	memset(s, 0, sizeof(*s));
	s->ri[0].name = "isp";
	s->ri[0].state = RELAY_S_IDLE;
	s->ri[0].last_success = NOW - 60;
	s->ri[1].name = "mx2";
	s->ri[1].state = RELAY_S_RUNNING;
	s->ri[2].name = "new";
	s->ri[2].state = RELAY_S_BACKOFF;
	s->ri[3].name = hostile;
	s->ri[3].state = RELAY_S_RUNNING;
	s->f.ri = s->ri;
	s->f.n = hostile != NULL ? 4 : 3;
	s->rr.foreach = fake_foreach;
	s->rr.src = &s->f;
	s->m = metrics_new(STARTED);
	play(s->m, events, sizeof(events) / sizeof(events[0]));
	if (hostile != NULL)
		metrics_on_run(s->m, hostile, RELAY_T_MANUAL);
	s->ls = linkstate_new(NULL, 0, NULL, NULL);
	assert_non_null(s->ls);
	feed_link(s->ls, 3, "site0", F_ETH_UP, IF_OPER_UP);
	feed_addr(s->ls, 3, "192.0.2.1/24");
	feed_link(s->ls, 4, "ppp0", F_ETH, IF_OPER_DOWN);
}

static void
sample_deinit(struct sample *s)
{
	metrics_free(s->m);
	linkstate_free(s->ls);
}

/* The relay name the parser check expects escaped: ", \, newline, UTF-8. */
static const char hostile_name[] = "q\"u\\o\nte\xc3\xa9";

static const char want_exposition[] =
    "# HELP etrnd_start_time_seconds When etrnd started, in seconds since "
    "the epoch.\n"
    "# TYPE etrnd_start_time_seconds gauge\n"
    "# UNIT etrnd_start_time_seconds seconds\n"
    "etrnd_start_time_seconds 1796115480\n"
    "# HELP etrnd_runs Runs started, by relay and trigger.\n"
    "# TYPE etrnd_runs counter\n"
    "etrnd_runs_total{relay=\"isp\",trigger=\"start\"} 0\n"
    "etrnd_runs_total{relay=\"isp\",trigger=\"link-up\"} 2\n"
    "etrnd_runs_total{relay=\"isp\",trigger=\"manual\"} 0\n"
    "etrnd_runs_total{relay=\"isp\",trigger=\"reload\"} 0\n"
    "etrnd_runs_total{relay=\"isp\",trigger=\"interval\"} 0\n"
    "etrnd_runs_total{relay=\"isp\",trigger=\"retry\"} 1\n"
    "etrnd_runs_total{relay=\"mx2\",trigger=\"start\"} 0\n"
    "etrnd_runs_total{relay=\"mx2\",trigger=\"link-up\"} 0\n"
    "etrnd_runs_total{relay=\"mx2\",trigger=\"manual\"} 1\n"
    "etrnd_runs_total{relay=\"mx2\",trigger=\"reload\"} 0\n"
    "etrnd_runs_total{relay=\"mx2\",trigger=\"interval\"} 0\n"
    "etrnd_runs_total{relay=\"mx2\",trigger=\"retry\"} 0\n"
    "etrnd_runs_total{relay=\"new\",trigger=\"start\"} 0\n"
    "etrnd_runs_total{relay=\"new\",trigger=\"link-up\"} 0\n"
    "etrnd_runs_total{relay=\"new\",trigger=\"manual\"} 0\n"
    "etrnd_runs_total{relay=\"new\",trigger=\"reload\"} 0\n"
    "etrnd_runs_total{relay=\"new\",trigger=\"interval\"} 0\n"
    "etrnd_runs_total{relay=\"new\",trigger=\"retry\"} 0\n"
    "etrnd_runs_total{relay=\"old\",trigger=\"start\"} 1\n"
    "etrnd_runs_total{relay=\"old\",trigger=\"link-up\"} 0\n"
    "etrnd_runs_total{relay=\"old\",trigger=\"manual\"} 0\n"
    "etrnd_runs_total{relay=\"old\",trigger=\"reload\"} 0\n"
    "etrnd_runs_total{relay=\"old\",trigger=\"interval\"} 0\n"
    "etrnd_runs_total{relay=\"old\",trigger=\"retry\"} 0\n"
    "# HELP etrnd_etrn_results Domains asked with ETRN, by relay and the "
    "class of the result.\n"
    "# TYPE etrnd_etrn_results counter\n"
    "etrnd_etrn_results_total{relay=\"isp\",class=\"ok\"} 2\n"
    "etrnd_etrn_results_total{relay=\"isp\",class=\"temporary\"} 1\n"
    "etrnd_etrn_results_total{relay=\"isp\",class=\"refused\"} 1\n"
    "etrnd_etrn_results_total{relay=\"isp\",class=\"unsupported\"} 0\n"
    "etrnd_etrn_results_total{relay=\"mx2\",class=\"ok\"} 0\n"
    "etrnd_etrn_results_total{relay=\"mx2\",class=\"temporary\"} 0\n"
    "etrnd_etrn_results_total{relay=\"mx2\",class=\"refused\"} 0\n"
    "etrnd_etrn_results_total{relay=\"mx2\",class=\"unsupported\"} 0\n"
    "etrnd_etrn_results_total{relay=\"new\",class=\"ok\"} 0\n"
    "etrnd_etrn_results_total{relay=\"new\",class=\"temporary\"} 0\n"
    "etrnd_etrn_results_total{relay=\"new\",class=\"refused\"} 0\n"
    "etrnd_etrn_results_total{relay=\"new\",class=\"unsupported\"} 0\n"
    "etrnd_etrn_results_total{relay=\"old\",class=\"ok\"} 0\n"
    "etrnd_etrn_results_total{relay=\"old\",class=\"temporary\"} 0\n"
    "etrnd_etrn_results_total{relay=\"old\",class=\"refused\"} 0\n"
    "etrnd_etrn_results_total{relay=\"old\",class=\"unsupported\"} 1\n"
    "# HELP etrnd_flush_verdicts Flush windows after an accepted ETRN, by "
    "relay and verdict (nothing: nothing came back).\n"
    "# TYPE etrnd_flush_verdicts counter\n"
    "etrnd_flush_verdicts_total{relay=\"isp\",verdict=\"delivered\"} 1\n"
    "etrnd_flush_verdicts_total{relay=\"isp\",verdict=\"nothing\"} 1\n"
    "etrnd_flush_verdicts_total{relay=\"isp\",verdict=\"not-observable\"} "
    "0\n"
    "etrnd_flush_verdicts_total{relay=\"mx2\",verdict=\"delivered\"} 0\n"
    "etrnd_flush_verdicts_total{relay=\"mx2\",verdict=\"nothing\"} 0\n"
    "etrnd_flush_verdicts_total{relay=\"mx2\",verdict=\"not-observable\"} "
    "1\n"
    "etrnd_flush_verdicts_total{relay=\"new\",verdict=\"delivered\"} 0\n"
    "etrnd_flush_verdicts_total{relay=\"new\",verdict=\"nothing\"} 0\n"
    "etrnd_flush_verdicts_total{relay=\"new\",verdict=\"not-observable\"} "
    "0\n"
    "etrnd_flush_verdicts_total{relay=\"old\",verdict=\"delivered\"} 0\n"
    "etrnd_flush_verdicts_total{relay=\"old\",verdict=\"nothing\"} 0\n"
    "etrnd_flush_verdicts_total{relay=\"old\",verdict=\"not-observable\"} "
    "0\n"
    "# HELP etrnd_flush_connections Inbound SMTP connections from the "
    "relay's addresses and its delivers-from in flush windows.\n"
    "# TYPE etrnd_flush_connections counter\n"
    "etrnd_flush_connections_total{relay=\"isp\"} 3\n"
    "etrnd_flush_connections_total{relay=\"mx2\"} 0\n"
    "etrnd_flush_connections_total{relay=\"new\"} 0\n"
    "etrnd_flush_connections_total{relay=\"old\"} 0\n"
    "# HELP etrnd_relay_last_success_timestamp_seconds When the relay last "
    "succeeded, since etrnd started (no sample before that).\n"
    "# TYPE etrnd_relay_last_success_timestamp_seconds gauge\n"
    "# UNIT etrnd_relay_last_success_timestamp_seconds seconds\n"
    "etrnd_relay_last_success_timestamp_seconds{relay=\"isp\"} 1796126340\n"
    "# HELP etrnd_relay_state The relay's state: 1 for the one it is in, 0 "
    "for the others.\n"
    "# TYPE etrnd_relay_state gauge\n"
    "etrnd_relay_state{relay=\"isp\",state=\"idle\"} 1\n"
    "etrnd_relay_state{relay=\"isp\",state=\"queued\"} 0\n"
    "etrnd_relay_state{relay=\"isp\",state=\"running\"} 0\n"
    "etrnd_relay_state{relay=\"isp\",state=\"backoff\"} 0\n"
    "etrnd_relay_state{relay=\"isp\",state=\"waitlink\"} 0\n"
    "etrnd_relay_state{relay=\"isp\",state=\"noroute\"} 0\n"
    "etrnd_relay_state{relay=\"isp\",state=\"failed\"} 0\n"
    "etrnd_relay_state{relay=\"mx2\",state=\"idle\"} 0\n"
    "etrnd_relay_state{relay=\"mx2\",state=\"queued\"} 0\n"
    "etrnd_relay_state{relay=\"mx2\",state=\"running\"} 1\n"
    "etrnd_relay_state{relay=\"mx2\",state=\"backoff\"} 0\n"
    "etrnd_relay_state{relay=\"mx2\",state=\"waitlink\"} 0\n"
    "etrnd_relay_state{relay=\"mx2\",state=\"noroute\"} 0\n"
    "etrnd_relay_state{relay=\"mx2\",state=\"failed\"} 0\n"
    "etrnd_relay_state{relay=\"new\",state=\"idle\"} 0\n"
    "etrnd_relay_state{relay=\"new\",state=\"queued\"} 0\n"
    "etrnd_relay_state{relay=\"new\",state=\"running\"} 0\n"
    "etrnd_relay_state{relay=\"new\",state=\"backoff\"} 1\n"
    "etrnd_relay_state{relay=\"new\",state=\"waitlink\"} 0\n"
    "etrnd_relay_state{relay=\"new\",state=\"noroute\"} 0\n"
    "etrnd_relay_state{relay=\"new\",state=\"failed\"} 0\n"
    "# HELP etrnd_sessions_open Relays with an ETRN session under way.\n"
    "# TYPE etrnd_sessions_open gauge\n"
    "etrnd_sessions_open 1\n"
    "# HELP etrnd_link_up Whether a watched link is usable: up, with "
    "carrier and a global address.\n"
    "# TYPE etrnd_link_up gauge\n"
    "etrnd_link_up{link=\"site0\"} 1\n"
    "etrnd_link_up{link=\"ppp0\"} 0\n"
    "# EOF\n";

static void
test_exposition(void **state)
{
	struct sample	 s;
	struct lines	 l;

	(void)state;
	sample_init(&s, NULL);
	memset(&l, 0, sizeof(l));
	metrics_render(s.m, &s.rr, s.ls, collect, &l);
	assert_string_equal(l.buf, want_exposition);
	sample_deinit(&s);
}

/* Before any event: every relay's series at zero; no link monitor. */
static void
test_zero(void **state)
{
	struct sched_relay_info	 ri;
	struct fake		 f = { &ri, 1 };
	struct report_relays	 rr = { fake_foreach, &f };
	struct metrics		*m;
	struct lines		 l;

	(void)state;
	memset(&ri, 0, sizeof(ri));
	ri.name = "isp";
	m = metrics_new(5);
	memset(&l, 0, sizeof(l));
	metrics_render(m, &rr, NULL, collect, &l);
	assert_non_null(strstr(l.buf, "\netrnd_start_time_seconds 5\n"));
	assert_non_null(strstr(l.buf, "\netrnd_runs_total{relay=\"isp\","
	    "trigger=\"retry\"} 0\n"));
	assert_non_null(strstr(l.buf, "\netrnd_flush_connections_total{relay="
	    "\"isp\"} 0\n"));
	/* Never succeeded: the family, no sample. */
	assert_non_null(strstr(l.buf, "# UNIT etrnd_relay_last_success_"
	    "timestamp_seconds seconds\n# HELP etrnd_relay_state "));
	assert_non_null(strstr(l.buf, "\netrnd_sessions_open 0\n"));
	assert_non_null(strstr(l.buf, "# TYPE etrnd_link_up gauge\n# EOF\n"));
	/* No relay at all. */
	f.n = 0;
	memset(&l, 0, sizeof(l));
	metrics_render(m, &rr, NULL, collect, &l);
	assert_null(strstr(l.buf, "relay="));
	metrics_free(m);
	metrics_free(NULL);
}

/* A hostile name: str_vis()'s form, then \\, \" and \n for the format. */
static void
test_escaping(void **state)
{
	struct sample	 s;
	struct lines	 l;

	(void)state;
	sample_init(&s, hostile_name);
	memset(&l, 0, sizeof(l));
	metrics_render(s.m, &s.rr, s.ls, collect, &l);
	assert_non_null(strstr(l.buf, "\netrnd_runs_total{relay=\"q\\\"u\\\\"
	    "x5co\\\\x0ate\\\\xc3\\\\xa9\",trigger=\"manual\"} 1\n"));
	assert_non_null(strstr(l.buf, "\netrnd_relay_state{relay=\"q\\\"u\\\\"
	    "x5co\\\\x0ate\\\\xc3\\\\xa9\",state=\"running\"} 1\n"));
	assert_non_null(strstr(l.buf, "\netrnd_sessions_open 2\n"));
	/* No raw newline inside a line, no byte outside printable ASCII. */
	{
		const char	*p;

		for (p = l.buf; *p != '\0'; p++)
			assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f));
	}
	sample_deinit(&s);
}

/* Forgotten relays go; a relay counted again starts at zero. */
static void
test_forget(void **state)
{
	struct sched_relay_info	 ri;
	struct fake		 f = { &ri, 0 };
	struct report_relays	 rr = { fake_foreach, &f };
	struct metrics		*m;
	struct lines		 l;

	(void)state;
	m = metrics_new(0);
	metrics_on_run(m, "a", RELAY_T_START);
	metrics_on_run(m, "b", RELAY_T_START);
	metrics_on_run(m, "c", RELAY_T_START);
	metrics_forget(m, "b");
	metrics_forget(m, "b");
	metrics_on_result(m, "c", ETRN_R_OK);
	memset(&l, 0, sizeof(l));
	metrics_render(m, &rr, NULL, collect, &l);
	assert_null(strstr(l.buf, "relay=\"b\""));
	assert_non_null(strstr(l.buf, "{relay=\"a\",trigger=\"start\"} 1\n"));
	assert_non_null(strstr(l.buf, "{relay=\"c\",class=\"ok\"} 1\n"));
	/* Not configured: counters, but no state. */
	assert_null(strstr(l.buf, "etrnd_relay_state{"));
	metrics_forget(m, "a");
	metrics_forget(m, "c");
	metrics_on_result(m, "c", ETRN_R_TEMP);
	memset(&l, 0, sizeof(l));
	metrics_render(m, &rr, NULL, collect, &l);
	assert_null(strstr(l.buf, "relay=\"a\""));
	assert_non_null(strstr(l.buf, "{relay=\"c\",class=\"ok\"} 0\n"));
	assert_non_null(strstr(l.buf, "{relay=\"c\",class=\"temporary\"} "
	    "1\n"));
	metrics_free(m);
}

/* A scratch directory for a test, removed with what is in it even when
 * the test fails (cmocka runs the teardown then too). */
static int
scratch_setup(void **state)
{
	const char	*tmp = getenv("TMPDIR");
	static char	 dir[256];

	snprintf(dir, sizeof(dir), "%s/test_metrics.XXXXXX", tmp != NULL &&
	    *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

/* The names in dir, sorted by the caller's expectation: "a b ". */
static void
dir_names(const char *dir, char *buf, size_t len)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 off = 0;

	buf[0] = '\0';
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s ",
		    de->d_name);
		assert_true(off < len);
	}
	closedir(d);
}

static int
scratch_teardown(void **state)
{
	const char	*dir = *state;
	DIR		*d;
	struct dirent	*de;
	char		 p[512];

	chmod(dir, 0755);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (unlink(p) == -1)
			rmdir(p);
	}
	closedir(d);
	return rmdir(dir);
}

static char *
slurp(const char *path)
{
	static char	 buf[16384];
	ssize_t		 n;
	int		 fd;

	assert_true((fd = open(path, O_RDONLY)) != -1);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

/*
 * The file: the exposition in the 0.0.4 format, mode 0644 whatever the
 * umask, put in place by rename (a reader holding the old file reads all
 * of it; the path never names a part of the new one).
 */
static void
test_write_file(void **state)
{
	struct sample	 s;
	struct stat	 st, old_st;
	const char	*dir = *state, *text;
	char		 path[300], names[256], old[64];
	mode_t		 mask;
	ssize_t		 n;
	int		 fd;

	sample_init(&s, NULL);
	snprintf(path, sizeof(path), "%s/etrnd.prom", dir);
	/* The old file, held open by a reader. */
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1);
	assert_int_equal(write(fd, "old 1\n", 6), 6);
	close(fd);
	assert_true((fd = open(path, O_RDONLY)) != -1);
	assert_int_equal(fstat(fd, &old_st), 0);

	mask = umask(077);
	assert_int_equal(metrics_write_file(s.m, path, &s.rr, s.ls), 0);
	umask(mask);
	dir_names(dir, names, sizeof(names));
	assert_string_equal(names, "etrnd.prom ");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_true(st.st_ino != old_st.st_ino);
	/* The reader still has all of the old one. */
	n = read(fd, old, sizeof(old));
	assert_int_equal(n, 6);
	assert_memory_equal(old, "old 1\n", 6);
	close(fd);

	/* The 0.0.4 format: counters named with _total, no UNIT, no EOF. */
	text = slurp(path);
	assert_memory_equal(text, "# HELP etrnd_start_time_seconds When etrnd "
	    "started, in seconds since the epoch.\n"
	    "# TYPE etrnd_start_time_seconds gauge\n"
	    "etrnd_start_time_seconds 1796115480\n"
	    "# HELP etrnd_runs_total Runs started, by relay and trigger.\n"
	    "# TYPE etrnd_runs_total counter\n"
	    "etrnd_runs_total{relay=\"isp\",trigger=\"start\"} 0\n",
	    strlen("# HELP etrnd_start_time_seconds When etrnd "
	    "started, in seconds since the epoch.\n"
	    "# TYPE etrnd_start_time_seconds gauge\n"
	    "etrnd_start_time_seconds 1796115480\n"
	    "# HELP etrnd_runs_total Runs started, by relay and trigger.\n"
	    "# TYPE etrnd_runs_total counter\n"
	    "etrnd_runs_total{relay=\"isp\",trigger=\"start\"} 0\n"));
	assert_null(strstr(text, "# UNIT"));
	assert_null(strstr(text, "# EOF"));
	assert_non_null(strstr(text, "\netrnd_flush_connections_total{relay="
	    "\"isp\"} 3\n"));
	assert_non_null(strstr(text, "\n# HELP etrnd_flush_verdicts_total "));
	assert_non_null(strstr(text, "\n# TYPE etrnd_flush_verdicts_total "
	    "counter\n"));
	assert_non_null(strstr(text, "\netrnd_link_up{link=\"ppp0\"} 0\n"));
	assert_int_equal(text[strlen(text) - 1], '\n');

	/* Again over it: still one file. */
	assert_int_equal(metrics_write_file(s.m, path, &s.rr, s.ls), 0);
	dir_names(dir, names, sizeof(names));
	assert_string_equal(names, "etrnd.prom ");
	sample_deinit(&s);
}

/*
 * Failures: -1 with errno, the old file (if any) as it was, no temporary
 * file left.  The directory missing; the path a directory (rename fails
 * after the temporary file was written); the write cut short by
 * RLIMIT_FSIZE (in a child, so the limit ends with it); a directory we
 * may not write in (not for root, whom permissions do not stop).
 */
static void
test_write_fail(void **state)
{
	struct sample	 s;
	const char	*dir = *state;
	char		 path[300], names[256];
	pid_t		 pid;
	char		 verdict = 0;
	int		 fd, status, p[2];

	sample_init(&s, NULL);

	snprintf(path, sizeof(path), "%s/missing/etrnd.prom", dir);
	errno = 0;
	assert_int_equal(metrics_write_file(s.m, path, &s.rr, s.ls), -1);
	assert_int_equal(errno, ENOENT);
	dir_names(dir, names, sizeof(names));
	assert_string_equal(names, "");

	snprintf(path, sizeof(path), "%s/etrnd.prom", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	errno = 0;
	assert_int_equal(metrics_write_file(s.m, path, &s.rr, s.ls), -1);
	assert_int_equal(errno, EISDIR);
	dir_names(dir, names, sizeof(names));
	assert_string_equal(names, "etrnd.prom ");
	assert_int_equal(rmdir(path), 0);

	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1);
	assert_int_equal(write(fd, "old 1\n", 6), 6);
	close(fd);
	/* The child's verdict by a pipe: its exit status may be a memory
	 * checker's. */
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct rlimit	rl;
		char		rc = '0';

		close(p[0]);
		signal(SIGXFSZ, SIG_IGN);
		if (getrlimit(RLIMIT_FSIZE, &rl) == -1)
			rc = '2';
		rl.rlim_cur = 100;
		if (rc == '0' && setrlimit(RLIMIT_FSIZE, &rl) == -1)
			rc = '2';
		if (rc == '0' && metrics_write_file(s.m, path, &s.rr, s.ls) !=
		    -1)
			rc = '3';
		else if (rc == '0' && errno != EFBIG)
			rc = '4';
		if (write(p[1], &rc, 1) != 1)
			rc = '5';
		sample_deinit(&s);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &verdict, 1), 1);
	close(p[0]);
	assert_int_equal(verdict, '0');
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_string_equal(slurp(path), "old 1\n");
	dir_names(dir, names, sizeof(names));
	assert_string_equal(names, "etrnd.prom ");

	if (geteuid() != 0) {
		assert_int_equal(chmod(dir, 0555), 0);
		errno = 0;
		assert_int_equal(metrics_write_file(s.m, path, &s.rr, s.ls),
		    -1);
		assert_int_equal(errno, EACCES);
		assert_int_equal(chmod(dir, 0755), 0);
		assert_string_equal(slurp(path), "old 1\n");
		dir_names(dir, names, sizeof(names));
		assert_string_equal(names, "etrnd.prom ");
	}
	sample_deinit(&s);
}

static void
print_line(const char *line, void *arg)
{
	(void)arg;
	printf("%s\n", line);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exposition),
		cmocka_unit_test(test_zero),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_forget),
		cmocka_unit_test_setup_teardown(test_write_file,
		    scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_write_fail,
		    scratch_setup, scratch_teardown),
	};
	struct sample	 s;
	int		 rc = 0;

	/* The sample with the hostile relay, for metrics-parse.py. */
	if (argc == 2 && strcmp(argv[1], "--print") == 0) {
		sample_init(&s, hostile_name);
		metrics_render(s.m, &s.rr, s.ls, print_line, NULL);
		sample_deinit(&s);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc == 3 && strcmp(argv[1], "--write") == 0) {
		sample_init(&s, hostile_name);
		if (metrics_write_file(s.m, argv[2], &s.rr, s.ls) == -1) {
			perror(argv[2]);
			rc = 1;
		}
		sample_deinit(&s);
		return rc;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
