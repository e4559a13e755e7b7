/* SPDX-License-Identifier: ISC */
/*
 * util: allocation that cannot fail quietly, the clocks, and escaping
 * what others sent before it is shown.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		fatal("calloc");
	return p;
}

void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void	*p;

	if ((p = reallocarray(ptr, n, size)) == NULL)
		fatal("reallocarray");
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

struct timeval
ms_to_tv(uint64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
wall_s(void)
{
	return (int64_t)time(NULL);
}

const char *
fmt_duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t	s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	else if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600 && s % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else if (s < 3600)
		snprintf(buf, len, "%llum%llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else
		snprintf(buf, len, "%lluh%llum", (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	return buf;
}

char *
host_fqdn(bool *qualified)
{
	struct addrinfo	 hints, *ai = NULL;
	char		 host[256], *name;

	*qualified = true;
	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0') {
		*qualified = false;
		return xstrdup("localhost");
	}
	host[sizeof(host) - 1] = '\0';
	if (strchr(host, '.') != NULL)
		return xstrdup(host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &ai) == 0 && ai != NULL &&
	    ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.') != NULL)
		name = xstrdup(ai->ai_canonname);
	else {
		*qualified = false;
		name = xstrdup(host);
	}
	if (ai != NULL)
		freeaddrinfo(ai);
	return name;
}

char *
str_vis(char *out, const char *s, size_t max, const char *also)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	char			*o = out;
	size_t			 i;

	for (i = 0; p[i] != '\0' && i < max; i++) {
		if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\' ||
		    strchr(also, p[i]) != NULL) {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[p[i] >> 4];
			*o++ = hex[p[i] & 0xf];
		} else
			*o++ = (char)p[i];
	}
	if (p[i] != '\0') {
		memcpy(o, "...", 3);
		o += 3;
	}
	*o = '\0';
	return out;
}
