/* SPDX-License-Identifier: ISC */
/*
 * testutil: what the tests that drive the kernel's networking share (one
 * copy, linked into each): a shell command that must succeed, and a
 * private network namespace to run in.
 */
#ifndef ETRND_TEST_TESTUTIL_H
#define ETRND_TEST_TESTUTIL_H

#include <stdbool.h>

/* Run a command through system(); anything but success fails the test. */
void	sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Move this process into a network namespace of its own, so that all it
 * makes goes with it; false, having said why on stdout, where that needs
 * root we do not have (the test then exits 77).
 */
bool	netns_enter(void);

#endif
