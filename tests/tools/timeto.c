// SPDX-License-Identifier: MIT
/*
 * timeto MARKER [--log FILE] -- CMD [ARGS...]
 *
 * Runs CMD with its stdout and stderr on a pipe, copies that output to FILE
 * (or discards it), and prints on stderr one line:
 *   timeto marker_ms=M total_ms=T status=S maxrss_kb=R
 * where M is the time from just before CMD started until MARKER first
 * appeared in its output (-1 if never), T until CMD exited. Used by the
 * benchmarks to time monitors the same way whatever they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const char *marker, *logpath = NULL;
	char buf[4096 + 256], *hit;
	size_t mlen, keep = 0;
	double t0, tm = -1, te;
	struct rusage ru;
	int i, p[2], logfd = -1, status;
	pid_t pid;

	if (argc < 4)
		goto usage;
	marker = argv[1];
	mlen = strlen(marker);
	for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--log") && i + 1 < argc)
			logpath = argv[++i];
		else
			goto usage;
	}
	if (i >= argc - 1 || mlen == 0 || mlen > 255)
		goto usage;
	if (logpath) {
		logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (logfd < 0) {
			perror(logpath);
			return 2;
		}
	}
	if (pipe(p)) {
		perror("pipe");
		return 2;
	}
	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execvp(argv[i + 1], argv + i + 1);
		perror(argv[i + 1]);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + keep, sizeof(buf) - keep - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (logfd >= 0 && write(logfd, buf + keep, n) != n)
			logfd = -1;
		if (tm < 0) {
			buf[keep + n] = 0;
			/* The marker may straddle two reads: keep a tail. */
			hit = memmem(buf, keep + n, marker, mlen);
			if (hit) {
				tm = now_ms() - t0;
			} else {
				size_t tot = keep + n;

				keep = tot < mlen - 1 ? tot : mlen - 1;
				memmove(buf, buf + tot - keep, keep);
			}
		}
	}
	wait4(pid, &status, 0, &ru);
	te = now_ms() - t0;
	fprintf(stderr,
		"timeto marker_ms=%.1f total_ms=%.1f status=%d maxrss_kb=%ld\n",
		tm, te,
		WIFEXITED(status) ? WEXITSTATUS(status) :
				    128 + WTERMSIG(status),
		ru.ru_maxrss);
	return 0;
usage:
	fprintf(stderr, "usage: timeto MARKER [--log FILE] -- CMD [ARGS...]\n");
	return 2;
}
