/* SPDX-License-Identifier: ISC */
/*
 * Tests for history, the ring of the last runs, by tables of events and
 * the runs they leave: results in the order answered (a domain answered
 * again keeps its place), ends and flush verdicts, ids that left the ring
 * or never were ignored, eviction of the oldest, the filter by relay, the
 * bounds on domains per run and on string lengths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "history.h"

/* One run as a string: what a table row expects. */
static void
run_str(const struct history_run *run, char *buf, size_t len)
{
	size_t	 off, i;

	off = (size_t)snprintf(buf, len, "%llu %s %s %lld-%lld [",
	    (unsigned long long)run->id, run->relay,
	    relay_trigger_name(run->trigger), (long long)run->started,
	    (long long)run->ended);
	for (i = 0; i < run->ndoms && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s%s%s %s %d",
		    i > 0 ? ", " : "", run->doms[i].domain,
		    run->doms[i].sent != NULL ? "=" : "",
		    run->doms[i].sent != NULL ? run->doms[i].sent : "",
		    etrn_class_name(run->doms[i].res.cls),
		    run->doms[i].res.code);
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, "]");
	if (run->ndropped > 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, " +%zu",
		    run->ndropped);
	if (run->has_flush && off < len)
		snprintf(buf + off, len - off, " flush %s %u",
		    flushwatch_verdict_name(run->flush.verdict),
		    run->flush.relay.nconns);
}

/* The runs foreach gives, one per line. */
struct seen {
	char	buf[16384];
	size_t	n;
};

static void
collect(const struct history_run *run, void *arg)
{
	struct seen	*s = arg;
	size_t		 off = strlen(s->buf);

	run_str(run, s->buf + off, sizeof(s->buf) - off - 1);
	off = strlen(s->buf);
	snprintf(s->buf + off, sizeof(s->buf) - off, "\n");
	s->n++;
}

static const char *
runs_of(const struct history *h, const char *relay, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	history_foreach(h, relay, collect, s);
	return s->buf;
}

/*
 * Events: B begin (relay, trigger, wall; the id is the row's "ref"), R
 * result (ref, domain, sent, class, code), E end (ref, wall), F flush (ref,
 * verdict, connections).  A ref of 0 names id 0 and 99 an id never given.
 */
enum op { B, R, E, F };

struct event {
	enum op			 op;
	unsigned		 ref;	/* which begin: 1 the first row's */
	const char		*relay;
	enum relay_trigger	 trigger;
	int64_t			 wall;
	const char		*domain, *sent;
	enum etrn_class		 cls;
	int			 code;
	enum flushwatch_verdict	 verdict;
	unsigned		 nconns;
};

static const struct event events[] = {
	{ B, 1, "isp", RELAY_T_LINKUP, 100, NULL, NULL, 0, 0, 0, 0 },
	{ R, 1, NULL, 0, 0, "a.example", NULL, ETRN_R_OK, 250, 0, 0 },
	{ R, 1, NULL, 0, 0, "b.example", "#b.example", ETRN_R_TEMP, 421, 0,
	    0 },
	{ B, 2, "mx2", RELAY_T_MANUAL, 101, NULL, NULL, 0, 0, 0, 0 },
	{ R, 2, NULL, 0, 0, "c.example", NULL, ETRN_R_REFUSED, 554, 0, 0 },
	/* Answered again in a second session: same place, new result. */
	{ R, 1, NULL, 0, 0, "b.example", NULL, ETRN_R_OK, 250, 0, 0 },
	{ E, 1, NULL, 0, 105, NULL, NULL, 0, 0, 0, 0 },
	{ F, 1, NULL, 0, 0, NULL, NULL, 0, 0, FLUSHWATCH_WATCHING, 0 },
	{ F, 1, NULL, 0, 0, NULL, NULL, 0, 0, FLUSHWATCH_DELIVERED, 3 },
	{ E, 2, NULL, 0, 103, NULL, NULL, 0, 0, 0, 0 },
	/* Ids never given: nothing changes. */
	{ R, 0, NULL, 0, 0, "x.example", NULL, ETRN_R_OK, 250, 0, 0 },
	{ R, 99, NULL, 0, 0, "x.example", NULL, ETRN_R_OK, 250, 0, 0 },
	{ E, 99, NULL, 0, 1, NULL, NULL, 0, 0, 0, 0 },
	{ F, 0, NULL, 0, 0, NULL, NULL, 0, 0, FLUSHWATCH_NOTHING, 0 },
	{ B, 3, "isp", RELAY_T_RETRY, 200, NULL, NULL, 0, 0, 0, 0 },
	{ R, 3, NULL, 0, 0, "a.example", NULL, ETRN_R_UNSUPPORTED, 502, 0,
	    0 },
};

static struct etrn_result
result(enum etrn_class cls, int code)
{
	struct etrn_result	r;

	memset(&r, 0, sizeof(r));
	r.cls = cls;
	r.code = code;
	r.pending = -1;
	return r;
}

static void
play(struct history *h, const struct event *ev, size_t n, uint64_t *ids,
    size_t nids)
{
	struct flushwatch_result	 fr;
	struct etrn_result		 r;
	uint64_t			 id;
	size_t				 i;

	for (i = 0; i < n; i++) {
		id = ev[i].ref < nids ? ids[ev[i].ref] : ev[i].ref;
		switch (ev[i].op) {
		case B:
			assert_true(ev[i].ref < nids);
			ids[ev[i].ref] = history_begin(h, ev[i].relay,
			    ev[i].trigger, ev[i].wall);
			break;
		case R:
			r = result(ev[i].cls, ev[i].code);
			history_result(h, id, ev[i].domain, ev[i].sent, &r);
			break;
		case E:
			history_end(h, id, ev[i].wall);
			break;
		case F:
			memset(&fr, 0, sizeof(fr));
			fr.verdict = ev[i].verdict;
			fr.relay.nconns = ev[i].nconns;
			history_flush(h, id, &fr);
			break;
		}
	}
}

static void
test_events(void **state)
{
	struct history	*h;
	struct seen	 s;
	uint64_t	 ids[4] = { 0 };

	(void)state;
	h = history_new();
	/* Nothing yet. */
	assert_string_equal(runs_of(h, NULL, &s), "");
	play(h, events, sizeof(events) / sizeof(events[0]), ids, 4);
	/* Ids count from 1 in order. */
	assert_int_equal(ids[1], 1);
	assert_int_equal(ids[2], 2);
	assert_int_equal(ids[3], 3);
	assert_string_equal(runs_of(h, NULL, &s),
	    "1 isp link-up 100-105 [a.example ok 250, b.example ok 250] "
	    "flush delivered 3\n"
	    "2 mx2 manual 101-103 [c.example refused 554]\n"
	    "3 isp retry 200-0 [a.example unsupported 502]\n");
	assert_string_equal(runs_of(h, "isp", &s),
	    "1 isp link-up 100-105 [a.example ok 250, b.example ok 250] "
	    "flush delivered 3\n"
	    "3 isp retry 200-0 [a.example unsupported 502]\n");
	assert_string_equal(runs_of(h, "mx2", &s),
	    "2 mx2 manual 101-103 [c.example refused 554]\n");
	assert_string_equal(runs_of(h, "nosuch", &s), "");
	assert_string_equal(runs_of(h, "is", &s), "");
	history_free(h);
	history_free(NULL);
}

/* The sent form is kept with the result it came with. */
static void
test_sent(void **state)
{
	struct history		*h;
	struct seen		 s;
	struct etrn_result	 r = result(ETRN_R_OK, 250);
	uint64_t		 id;

	(void)state;
	h = history_new();
	id = history_begin(h, "exim", RELAY_T_START, 7);
	history_result(h, id, "example.org", "#example.org", &r);
	history_result(h, id, "b.example", NULL, &r);
	assert_string_equal(runs_of(h, NULL, &s), "1 exim start 7-0 "
	    "[example.org=#example.org ok 250, b.example ok 250]\n");
	/* Answered again: the form of the new answer, none here. */
	history_result(h, id, "example.org", NULL, &r);
	history_result(h, id, "b.example", "@b.example", &r);
	assert_string_equal(runs_of(h, NULL, &s), "1 exim start 7-0 "
	    "[example.org ok 250, b.example=@b.example ok 250]\n");
	history_free(h);
}

/* The oldest run goes first; its id is then unknown. */
static void
test_eviction(void **state)
{
	struct history		*h;
	struct seen		 s;
	struct etrn_result	 r = result(ETRN_R_OK, 250);
	struct flushwatch_result fr;
	char			 want[64];
	uint64_t		 id, last = 0;
	size_t			 i;

	(void)state;
	memset(&fr, 0, sizeof(fr));
	fr.verdict = FLUSHWATCH_NOTHING;
	h = history_new();
	for (i = 0; i < HISTORY_RUNS + 3; i++) {
		id = history_begin(h, i % 2 ? "b" : "a", RELAY_T_INTERVAL,
		    (int64_t)i);
		assert_int_equal(id, i + 1);
		history_result(h, id, "d.example", NULL, &r);
		last = id;
	}
	runs_of(h, NULL, &s);
	assert_int_equal(s.n, HISTORY_RUNS);
	/* Oldest first: 4 is the oldest left. */
	assert_memory_equal(s.buf, "4 b interval 3-0 [d.example ok 250]\n",
	    strlen("4 b interval 3-0 [d.example ok 250]\n"));
	snprintf(want, sizeof(want), "%llu a interval %llu-0 [d.example ok "
	    "250]\n", (unsigned long long)last,
	    (unsigned long long)(last - 1));
	assert_string_equal(s.buf + strlen(s.buf) - strlen(want), want);
	/* Per relay: half each. */
	runs_of(h, "a", &s);
	assert_int_equal(s.n, HISTORY_RUNS / 2);
	runs_of(h, "b", &s);
	assert_int_equal(s.n, HISTORY_RUNS / 2);

	/* Ids that left the ring change nothing; the oldest kept does. */
	runs_of(h, NULL, &s);
	{
		char	before[sizeof(s.buf)];

		memcpy(before, s.buf, sizeof(before));
		for (id = 1; id <= 3; id++) {
			history_result(h, id, "x.example", NULL, &r);
			history_end(h, id, 1000);
			history_flush(h, id, &fr);
		}
		history_result(h, last + 1, "x.example", NULL, &r);
		history_end(h, last + 1, 1000);
		history_flush(h, last + 1, &fr);
		assert_string_equal(runs_of(h, NULL, &s), before);
	}
	history_end(h, 4, 1000);
	history_flush(h, 4, &fr);
	assert_memory_equal(runs_of(h, NULL, &s), "4 b interval 3-1000 "
	    "[d.example ok 250] flush nothing 0\n",
	    strlen("4 b interval 3-1000 [d.example ok 250] flush nothing "
	    "0\n"));
	/* The ring turns again and again. */
	for (i = 0; i < 3 * HISTORY_RUNS + 5; i++)
		last = history_begin(h, "c", RELAY_T_LINKUP, 0);
	assert_int_equal(last, HISTORY_RUNS + 3 + 3 * HISTORY_RUNS + 5);
	runs_of(h, "c", &s);
	assert_int_equal(s.n, HISTORY_RUNS);
	assert_int_equal(runs_of(h, "a", &s)[0], '\0');
	history_free(h);
}

/* At most HISTORY_DOMAINS_MAX domains per run, the rest counted. */
static void
test_domain_bound(void **state)
{
	struct history		*h;
	struct seen		 s;
	struct etrn_result	 r = result(ETRN_R_OK, 250);
	struct etrn_result	 t = result(ETRN_R_TEMP, 451);
	char			 dom[32];
	uint64_t		 id;
	size_t			 i;

	(void)state;
	h = history_new();
	id = history_begin(h, "big", RELAY_T_MANUAL, 1);
	for (i = 0; i < HISTORY_DOMAINS_MAX + 6; i++) {
		snprintf(dom, sizeof(dom), "d%zu.example", i);
		history_result(h, id, dom, NULL, &r);
	}
	/* One kept answered again: replaced, not counted. */
	history_result(h, id, "d0.example", NULL, &t);
	runs_of(h, NULL, &s);
	assert_non_null(strstr(s.buf, "[d0.example temporary 451, "
	    "d1.example ok 250,"));
	assert_non_null(strstr(s.buf, "d63.example ok 250] +6\n"));
	assert_null(strstr(s.buf, "d64.example"));
	history_free(h);
}

/* Strings are copied at most as long as the configuration allows. */
static void
test_string_bound(void **state)
{
	struct history		*h;
	struct seen		 s;
	struct etrn_result	 r = result(ETRN_R_OK, 250);
	char			 longname[400], want[300];
	uint64_t		 id;

	(void)state;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	h = history_new();
	id = history_begin(h, longname, RELAY_T_MANUAL, 1);
	history_result(h, id, longname, longname, &r);
	memset(want, 'n', 255);
	want[255] = '\0';
	runs_of(h, NULL, &s);
	/* The relay (255), the domain (255), the sent form (256). */
	assert_memory_equal(s.buf + 2, want, 255);
	assert_int_equal(s.buf[2 + 255], ' ');
	assert_non_null(strstr(s.buf, " [nnn"));
	assert_int_equal(strlen(s.buf), strlen("1 ") + 255 +
	    strlen(" manual 1-0 [") + 255 + 1 + 256 + strlen(" ok 250]\n"));
	/* The filter compares the copy. */
	runs_of(h, want, &s);
	assert_int_equal(s.n, 1);
	history_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_sent),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_domain_bound),
		cmocka_unit_test(test_string_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
