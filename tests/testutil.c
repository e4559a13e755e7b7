/* SPDX-License-Identifier: ISC */
/*
 * testutil: shared by test_link and test_route; see testutil.h.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

void
sh(const char *fmt, ...)
{
	char	 cmd[1024];
	va_list	 ap;
	int	 rv;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rv = system(cmd);
	if (rv != 0)
		fail_msg("\"%s\" failed (%d)", cmd, rv);
}

bool
netns_enter(void)
{
	if (geteuid() != 0) {
		printf("skipped: needs root for network namespaces\n");
		return false;
	}
	if (unshare(CLONE_NEWNET) == -1) {
		printf("skipped: needs root for network namespaces "
		    "(unshare: %s)\n", strerror(errno));
		return false;
	}
	return true;
}
