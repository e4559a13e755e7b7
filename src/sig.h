/* SPDX-License-Identifier: ISC */
/*
 * sig: a program's signals as events of its loop, set up together and
 * freed together, last first (etrnd and etrn(1) both use it).
 */
#ifndef ETRND_SIG_H
#define ETRND_SIG_H

#include <stddef.h>

#include <event2/event.h>

#define SIG_EVENTS_MAX	8

struct sig_events {
	struct event	*ev[SIG_EVENTS_MAX];
	size_t		 n;
};

/*
 * Deliver each of the n signals in sigs to cb(sig, EV_SIGNAL, arg) from
 * base's loop; fatalx() if libevent cannot (start-up, nothing to recover).
 */
void	sig_events_init(struct sig_events *, struct event_base *,
	    const int *sigs, size_t n, event_callback_fn cb, void *arg);
/* Free the events, last first; a zeroed sig_events is fine. */
void	sig_events_deinit(struct sig_events *);

#endif
