/* SPDX-License-Identifier: ISC */
/*
 * util: allocation that cannot fail quietly, the clocks, and escaping
 * what others sent before it is shown.
 */
#include <sys/socket.h>

#include <errno.h>
#include <net/if.h>
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

/*
 * The length of the UTF-8 sequence at p if it is valid and not a C1
 * control (U+0080..U+009F), else 0.
 */
static size_t
utf8_len(const unsigned char *p)
{
	uint32_t	cp;
	size_t		n, i;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	cp = *p & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong, surrogate, beyond Unicode, C1. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp <= 0x9f)
		return 0;
	return n;
}

/*
 * What the kernel accepts as an interface name (dev_valid_name(): 1 to 15
 * bytes, not "." or "..", no "/", ":" or space, which includes 0xa0 in its
 * ctype), and no control character: bytes above 0x7e only as UTF-8.
 */
bool
ifname_valid(const char *name)
{
	const unsigned char	*p;
	size_t			 n;

	if (*name == '\0' || strlen(name) >= IFNAMSIZ ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (p = (const unsigned char *)name; *p != '\0'; p += n) {
		n = 1;
		if (*p <= ' ' || *p == 0x7f || *p == '/' || *p == ':' ||
		    *p == 0xa0)
			return false;
		if (*p > 0x7f && (n = utf8_len(p)) == 0)
			return false;
		if (memchr(p, 0xa0, n) != NULL)
			return false;
	}
	return true;
}

int
parse_number(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long	n = 0, d;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned long)(*s - '0');
		if (d > max || n > (max - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (n < min)
		return -1;
	*out = n;
	return 0;
}
