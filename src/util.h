/* SPDX-License-Identifier: ISC */
/*
 * util: the few allocation, time and escaping helpers every module shares.
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

/*
 * Escape what a peer, a file or a command line sent before it reaches a
 * message, a log line, a terminal or status: backslash, the bytes in also
 * and every byte outside printable ASCII become \xNN, so no escape
 * sequence, CR, C1 control or bidi override gets through (UTF-8 is shown
 * escaped too, the same way everywhere).  At most max bytes of s, then
 * "..."; out holds STR_VIS_LEN(max) bytes.  Returns out.
 */
/*
 * What the kernel accepts as an interface name (dev_valid_name(): 1 to 15
 * bytes, not "." or "..", no "/", ":" or space), with no control
 * character: bytes above 0x7e only as UTF-8 without C1 controls.
 */
bool		 ifname_valid(const char *);

/* A decimal number in [min, max], digits only (no sign, no blank): 0, or
 * -1 for anything else. */
int		 parse_number(const char *s, unsigned long min,
		    unsigned long max, unsigned long *out);

#define STR_VIS_LEN(max)	((max) * 4 + 4)
char		*str_vis(char *out, const char *s, size_t max,
		    const char *also);

#endif
