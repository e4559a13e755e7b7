/* SPDX-License-Identifier: ISC */
/*
 * log: stderr logging with journal priorities.  systemd connects stderr to
 * the journal and says so in JOURNAL_STREAM ("dev:ino"); only then do lines
 * carry "<N>" prefixes, so a terminal or a test log stays plain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "log.h"

static int	log_verbose;
static int	log_journal;

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

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

static void
log_vwrite(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char	 line[4096];

	if (pri == LOG_DEBUG && !log_verbose)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_journal)
		fprintf(stderr, "<%d>", pri);
	if (errstr != NULL)
		fprintf(stderr, "%s: %s\n", line, errstr);
	else
		fprintf(stderr, "%s\n", line);
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
