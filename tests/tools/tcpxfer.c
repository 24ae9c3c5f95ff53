// SPDX-License-Identifier: MIT
/*
 * tcpxfer recv PORT FILE      accept one connection, write what arrives
 * tcpxfer send ADDR PORT FILE connect (retrying for 60 s), send FILE
 *
 * Prints "tcpxfer <dir> bytes=N mbps=M" when the transfer ends, and
 * "tcpxfer listening" once a receiver is ready, each line preceded by
 * $TCPXFER_PREFIX (the e2e guest's marker) and flushed at once. Used by the
 * network tests and benchmarks on both sides (host and guest).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char buf[1 << 16];

static int copy(int in, int out, long long *total)
{
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf)), w = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		while (w < r) {
			ssize_t k = write(out, buf + w, r - w);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return -1;
			w += k;
		}
		*total += r;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	long long total = 0;
	int s, fd, one = 1, i;
	double t0;
	const char *prefix = getenv("TCPXFER_PREFIX");

	if (!prefix)
		prefix = "";

	if (argc == 4 && !strcmp(argv[1], "recv")) {
		int ls = socket(AF_INET, SOCK_STREAM, 0);

		sa.sin_port = htons(atoi(argv[2]));
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(ls, (void *)&sa, sizeof(sa)) || listen(ls, 1)) {
			perror("tcpxfer: listen");
			return 1;
		}
		printf("%stcpxfer listening\n", prefix);
		fflush(stdout);
		s = accept(ls, NULL, NULL);
		fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (s < 0 || fd < 0) {
			perror("tcpxfer: accept");
			return 1;
		}
		t0 = now();
		if (copy(s, fd, &total))
			return 1;
		close(fd);
	} else if (argc == 5 && !strcmp(argv[1], "send")) {
		sa.sin_port = htons(atoi(argv[3]));
		if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1)
			return 2;
		fd = open(argv[4], O_RDONLY);
		if (fd < 0) {
			perror(argv[4]);
			return 1;
		}
		for (i = 0;; i++) {
			s = socket(AF_INET, SOCK_STREAM, 0);
			if (!connect(s, (void *)&sa, sizeof(sa)))
				break;
			close(s);
			if (i == 600) {
				perror("tcpxfer: connect");
				return 1;
			}
			usleep(100000);
		}
		t0 = now();
		if (copy(fd, s, &total))
			return 1;
		shutdown(s, SHUT_WR);
		/* Wait for the peer to close: everything arrived. */
		while (read(s, buf, sizeof(buf)) > 0)
			;
	} else {
		fprintf(stderr,
			"usage: tcpxfer recv PORT FILE | send ADDR PORT FILE\n");
		return 2;
	}
	printf("%stcpxfer %s bytes=%lld mbps=%.1f\n", prefix, argv[1], total,
	       total * 8 / 1e6 / (now() - t0));
	return 0;
}
