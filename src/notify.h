/* SPDX-License-Identifier: ISC */
/*
 * notify: the sd_notify(3) protocol with systemd: READY, STATUS, RELOADING,
 * STOPPING and the watchdog.  Every call is a no-op when NOTIFY_SOCKET is
 * unset, so the daemon runs the same under systemd, in tests and by hand.
 */
#ifndef ETRND_NOTIFY_H
#define ETRND_NOTIFY_H

#include "log.h"

struct event_base;

/* Arms the watchdog timer when WATCHDOG_USEC asks for one.  0 or -1. */
int	notify_init(struct event_base *);
void	notify_deinit(void);

void	notify_ready(void);
/* RELOADING=1 with MONOTONIC_USEC (systemd >= 253 reads it). */
void	notify_reloading(void);
void	notify_stopping(void);
/* STATUS=: one line for `systemctl status`; sent only when it changes. */
void	notify_status(const char *, ...) LOG_FMT(1, 2);
/* Before a failing exit: STATUS and ERRNO. */
void	notify_failure(int err, const char *status);

#endif
