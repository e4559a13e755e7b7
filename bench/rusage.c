/* SPDX-License-Identifier: ISC */
/*
 * rusage: run a command and print "WALL_MS MAXRSS_KIB USER_S SYS_S STATUS"
 * on fd 3 (stdout if fd 3 is not open).  In C, not Python: Linux folds the
 * RSS of the process that forked into the child's ru_maxrss at exec, so a
 * Python wrapper would report its own 10 MiB as the peak of anything it
 * runs; this one is about 1 MiB.  MAXRSS is the largest of the command and
 * every descendant it waited for; CPU is summed over them.
 *
 * usage: rusage COMMAND [ARG...]
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int st, code;

	if (argc < 2) {
		fprintf(stderr, "usage: rusage command [arg ...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		err(127, "%s", argv[1]);
	}
	if (wait4(pid, &st, 0, &ru) == -1)
		err(1, "wait4");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	out = fcntl(3, F_GETFD) != -1 ? fdopen(3, "w") : stdout;
	if (out == NULL)
		out = stdout;
	fprintf(out, "%.3f %ld %.3f %.3f %d\n",
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	    ru.ru_maxrss,
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
	    code);
	return 0;
}
