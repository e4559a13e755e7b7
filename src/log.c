/* SPDX-License-Identifier: ISC */
/*
 * log: stderr logging with journal priorities.  systemd connects stderr to
 * the journal and says so in JOURNAL_STREAM ("dev:ino"); only then do lines
 * carry "<N>" prefixes, so a terminal or a test log stays plain.  Key
 * events then go to the journal directly, as structured entries.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"

/* Indexed by enum log_event; the catalog (systemd/etrnd.catalog) explains
 * each.  Never change one: journal queries and the catalog rely on them. */
static const char *const log_event_ids[] = {
	[LOG_EV_LINK_UP] = "c95b176d3a854c8381414e44906296c1",
	[LOG_EV_ETRN_ACCEPTED] = "71a29438ccf34fe9988173e26556ecde",
	[LOG_EV_ETRN_REFUSED] = "34e094cdb7744938ac120d6fa8aa4d00",
	[LOG_EV_RELAY_UNREACHABLE] = "e5c69f9480ed45eebfdca2d739e2d9da",
	[LOG_EV_GAVE_UP] = "db4f730f39f544b59078030ed62532cc",
	[LOG_EV_FLUSH_DELIVERED] = "cf8083b06eac4982aa50159dfa83224d",
	[LOG_EV_FLUSH_NOTHING] = "63d55c2232b047a7be4ee27c2ac18f47",
};

static int	 log_verbose;
static int	 log_journal;
static const char *log_tag;

/* Whether stderr is connected to the journal (JOURNAL_STREAM matches). */
static int
log_stderr_is_journal(void)
{
	const char		*e;
	unsigned long long	 dev, ino;
	struct stat		 st;

	if ((e = getenv("JOURNAL_STREAM")) == NULL)
		return 0;
	if (sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(fileno(stderr), &st) == -1)
		return 0;
	return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

void
log_init(int verbose)
{
	log_verbose = verbose;
	log_journal = log_stderr_is_journal();
	setvbuf(stderr, NULL, _IOLBF, 0);
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
log_set_tag(const char *name)
{
	log_tag = name;
}

static void
log_write_line(int pri, const char *line)
{
	struct timespec	ts;
	struct tm	tm;
	char		when[40], zone[8];

	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", pri, line);
		return;
	}
	if (log_tag == NULL) {
		fprintf(stderr, "%s\n", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    strftime(zone, sizeof(zone), "%z", &tm) == 0) {
		when[0] = '\0';
		zone[0] = '\0';
	}
	fprintf(stderr, "%s.%03ld%s %s[%ld]: %s\n", when, ts.tv_nsec / 1000000,
	    zone, log_tag, (long)getpid(), line);
}

static void __attribute__((format(printf, 3, 0)))
log_vwrite(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char	 line[4096];
	size_t	 len;

	if (pri == LOG_DEBUG && !log_verbose)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (errstr != NULL && (len = strlen(line)) + 2 < sizeof(line))
		snprintf(line + len, sizeof(line) - len, ": %s", errstr);
	log_write_line(pri, line);
}

#define LOG_BODY(pri, errstr) do {			\
	va_list	ap;					\
	va_start(ap, fmt);				\
	log_vwrite((pri), (errstr), fmt, ap);		\
	va_end(ap);					\
} while (0)

void
log_warn(const char *fmt, ...)
{
	const char	*e = strerror(errno);

	LOG_BODY(LOG_WARNING, e);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, NULL);
}

void
log_err(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, NULL);
}

void
log_notice(const char *fmt, ...)
{
	LOG_BODY(LOG_NOTICE, NULL);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, NULL);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_DEBUG, NULL);
}

void
fatal(const char *fmt, ...)
{
	const char	*e = strerror(errno);

	LOG_BODY(LOG_CRIT, e);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, NULL);
	exit(1);
}

/* One "KEY=value" journal field into buf; false if value is absent. */
static bool
log_field(struct iovec *iov, char *buf, size_t len, const char *key,
    const char *value)
{
	int	n;

	if (value == NULL || *value == '\0')
		return false;
	n = snprintf(buf, len, "%s=%s", key, value);
	if (n < 0)
		return false;
	iov->iov_base = buf;
	iov->iov_len = (size_t)n < len ? (size_t)n : len - 1;
	return true;
}

void
log_event(int pri, enum log_event ev, const struct log_fields *f,
    const char *fmt, ...)
{
	char		 line[4096], fields[8][512], code[16], prio[4];
	struct iovec	 iov[8];
	int		 n = 0;
	va_list		 ap;

	va_start(ap, fmt);
	if (!log_journal) {
		log_vwrite(pri, NULL, fmt, ap);
		va_end(ap);
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(code, sizeof(code), "%d", f->code);
	snprintf(prio, sizeof(prio), "%d", pri);
	n += log_field(&iov[n], fields[n], sizeof(fields[n]), "MESSAGE", line);
	n += log_field(&iov[n], fields[n], sizeof(fields[n]), "PRIORITY", prio);
	n += log_field(&iov[n], fields[n], sizeof(fields[n]), "MESSAGE_ID",
	    log_event_ids[ev]);
	n += log_field(&iov[n], fields[n], sizeof(fields[n]),
	    "SYSLOG_IDENTIFIER", "etrnd");
	n += log_field(&iov[n], fields[n], sizeof(fields[n]), "ETRND_RELAY",
	    f->relay);
	n += log_field(&iov[n], fields[n], sizeof(fields[n]), "ETRND_DOMAIN",
	    f->domain);
	n += log_field(&iov[n], fields[n], sizeof(fields[n]),
	    "ETRND_REPLY_CODE", f->code != 0 ? code : NULL);
	n += log_field(&iov[n], fields[n], sizeof(fields[n]), "ETRND_LINK",
	    f->link);
	/* No journald after all: the line goes where every other one goes. */
	if (sd_journal_sendv(iov, n) < 0)
		log_write_line(pri, line);
}
