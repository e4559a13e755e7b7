/* SPDX-License-Identifier: ISC */
/*
 * sig: signals as events; see sig.h.
 */
#include <event2/event.h>

#include "log.h"
#include "sig.h"

void
sig_events_init(struct sig_events *se, struct event_base *base,
    const int *sigs, size_t n, event_callback_fn cb, void *arg)
{
	struct event	*ev;
	size_t		 i;

	if (n > SIG_EVENTS_MAX)
		fatalx("sig_events_init: %zu signals", n);
	se->n = 0;
	for (i = 0; i < n; i++) {
		if ((ev = evsignal_new(base, sigs[i], cb, arg)) == NULL ||
		    evsignal_add(ev, NULL) == -1)
			fatalx("evsignal_new");
		se->ev[se->n++] = ev;
	}
}

void
sig_events_deinit(struct sig_events *se)
{
	while (se->n > 0)
		event_free(se->ev[--se->n]);
}
