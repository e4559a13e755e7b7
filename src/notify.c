/* SPDX-License-Identifier: ISC */
/*
 * notify: sd_notify glue.  The watchdog is a timer on the main loop at half
 * of WATCHDOG_USEC, so a wedged loop stops the pings and systemd restarts us.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"
#include "util.h"

static struct event	*notify_wd_ev;
static char		 notify_last_status[512];

static void
notify_send(const char *msg)
{
	int	r;

	if ((r = sd_notify(0, msg)) < 0)
		log_debug("sd_notify: %s", strerror(-r));
}

static void
notify_watchdog_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	notify_send("WATCHDOG=1");
}

int
notify_init(struct event_base *base)
{
	uint64_t	usec;
	struct timeval	tv;
	int		r;

	if ((r = sd_watchdog_enabled(0, &usec)) < 0) {
		log_warnx("systemd watchdog: %s, not pinging it", strerror(-r));
		return 0;
	}
	if (r == 0 || usec == 0)
		return 0;
	tv = ms_to_tv(usec / 2000 > 0 ? usec / 2000 : 1);
	notify_wd_ev = event_new(base, -1, EV_PERSIST, notify_watchdog_cb, NULL);
	if (notify_wd_ev == NULL || event_add(notify_wd_ev, &tv) == -1) {
		event_free(notify_wd_ev);
		notify_wd_ev = NULL;
		errno = ENOMEM;
		return -1;
	}
	log_debug("systemd watchdog: pinging every %llums",
	    (unsigned long long)(usec / 2000));
	notify_send("WATCHDOG=1");
	return 0;
}

void
notify_deinit(void)
{
	if (notify_wd_ev != NULL)
		event_free(notify_wd_ev);
	notify_wd_ev = NULL;
	notify_last_status[0] = '\0';
}

void
notify_ready(void)
{
	notify_send("READY=1");
}

void
notify_reloading(void)
{
	struct timespec	ts;
	char		msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	notify_send(msg);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void
notify_status(const char *fmt, ...)
{
	char	line[sizeof(notify_last_status)], msg[sizeof(line) + 8];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (strcmp(line, notify_last_status) == 0)
		return;
	memcpy(notify_last_status, line, sizeof(line));
	snprintf(msg, sizeof(msg), "STATUS=%s", line);
	notify_send(msg);
}

void
notify_failure(int err, const char *status)
{
	char	msg[600];

	snprintf(msg, sizeof(msg), "STATUS=%s\nERRNO=%d", status, err);
	notify_send(msg);
}
