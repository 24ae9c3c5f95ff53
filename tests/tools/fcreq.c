// SPDX-License-Identifier: MIT
/*
 * fcreq SOCKET METHOD PATH [BODY]: one HTTP/1.1 request to an API socket
 * (what curl --unix-socket does, for sandboxes without curl), printing
 * "STATUS BODY" on one line.
 * fcreq SOCKET --raw FILE: sends FILE's bytes as they are (malformed or
 * oversized requests) and prints the status and body of the first answer.
 * Exit status 0 when an answer came, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf)
		return NULL;
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += r;
		if (n == cap) {
			char *b = realloc(buf, cap *= 2);

			if (!b)
				return NULL;
			buf = b;
		}
	}
	close(fd);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char resp[1 << 16];
	size_t len, n = 0, off = 0, want = 0;
	char *req, *hdr_end, *cl;
	int fd, status;
	ssize_t r;

	if (argc < 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: fcreq SOCKET METHOD PATH [BODY]\n"
				"       fcreq SOCKET --raw FILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[2], "--raw")) {
		req = slurp(argv[3], &len);
	} else {
		const char *body = argc > 4 ? argv[4] : "";

		len = strlen(body) + strlen(argv[3]) + 200;
		req = malloc(len);
		if (req)
			len = snprintf(req, len,
				       "%s %s HTTP/1.1\r\nHost: localhost\r\n"
				       "Accept: application/json\r\n"
				       "Content-Type: application/json\r\n"
				       "Content-Length: %zu\r\n\r\n%s",
				       argv[2], argv[3], strlen(body), body);
	}
	if (!req) {
		perror("fcreq");
		return 1;
	}
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "fcreq: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* A server that answers early (413) may close before all is sent. */
	while (off < len) {
		r = write(fd, req + off, len - off);
		if (r <= 0)
			break;
		off += r;
	}
	shutdown(fd, SHUT_WR);
	while (n < sizeof(resp) - 1 &&
	       (r = read(fd, resp + n, sizeof(resp) - 1 - n)) > 0) {
		n += r;
		resp[n] = 0;
		hdr_end = strstr(resp, "\r\n\r\n");
		if (!hdr_end)
			continue;
		cl = strcasestr(resp, "\r\nContent-Length:");
		want = hdr_end + 4 - resp +
		       (cl && cl < hdr_end ? strtoul(cl + 17, NULL, 10) : 0);
		if (n >= want)
			break;
	}
	close(fd);
	resp[n] = 0;
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1) {
		fprintf(stderr, "fcreq: no answer\n");
		return 1;
	}
	hdr_end = strstr(resp, "\r\n\r\n");
	printf("%d %s\n", status, hdr_end ? hdr_end + 4 : "");
	return 0;
}
