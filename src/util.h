/* SPDX-License-Identifier: ISC */
/*
 * util: the few allocation and time helpers every module shares.
 */
#ifndef ETRND_UTIL_H
#define ETRND_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Allocators that fatalx() on out-of-memory: the daemon cannot go on. */
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);

/*
 * The host's FQDN (gethostname, then its canonical name), else its bare
 * name with *qualified false.  getaddrinfo() may block: never call this
 * from the event loop.
 */
char	*host_fqdn(bool *qualified);

/* Milliseconds to a struct timeval for evtimer_add(). */
struct timeval	 ms_to_tv(uint64_t ms);
/* CLOCK_MONOTONIC in milliseconds. */
uint64_t	 now_ms(void);
/* CLOCK_REALTIME in seconds, for "since" stamps shown to people. */
int64_t		 wall_s(void);
/* "1h2m", "30s", "250ms": a duration for people. */
const char	*fmt_duration(uint64_t ms, char *buf, size_t len);

#endif
