// SPDX-License-Identifier: MIT
/*
 * Both ends of the vsock tests, in the guest (AF_VSOCK) and on the host
 * (Firecracker's UNIX socket scheme):
 *
 *   vsockxfer listen-vsock PORT CONNS BYTES    guest: accept CONNS
 *   vsockxfer connect-vsock CID PORT CONNS BYTES   guest: open CONNS
 *   vsockxfer listen-uds PATH CONNS BYTES      host: accept CONNS at PATH
 *   vsockxfer connect-uds PATH PORT CONNS BYTES    host: CONNECT PORT
 *   vsockxfer refused-vsock CID PORT           guest: a refused connect
 *   vsockxfer refused-uds PATH PORT            host: a refused CONNECT
 *
 * Each connection carries BYTES both ways at once: the side that opened it
 * sends its index first (4 bytes), then each side writes BYTES of a
 * pattern seeded by the index and its direction, shuts its sending side
 * and reads until the end, checking every byte and the count. BYTES may
 * be SEND:RECV instead, for one direction at a time (the other side then
 * gives RECV:SEND). Prints "vsockxfer MODE conns=N bytes=B ok mbps=M" (B
 * the larger direction, all connections) or "vsockxfer MODE FAIL: why",
 * each line preceded by $TCPXFER_PREFIX, and exits 0 only when every
 * connection was exact.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define MAX_CONNS 64

static const char *mode;
static long long per_conn, per_conn_in; /* bytes sent, bytes expected */
static int failed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *prefix(void)
{
	const char *p = getenv("TCPXFER_PREFIX");

	return p ? p : "";
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	char msg[200];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lock);
	if (!failed)
		printf("%svsockxfer %s FAIL: %s\n", prefix(), mode, msg);
	fflush(stdout);
	failed = 1;
	pthread_mutex_unlock(&lock);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Byte i of stream seed: cheap, position-dependent. */
static void pattern(uint8_t *buf, size_t n, uint64_t off, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t x = (off + i) * 0x9e3779b97f4a7c15ULL + seed;

		buf[i] = (uint8_t)(x >> 56 ^ x >> 17);
	}
}

struct conn {
	int fd;
	uint32_t idx;
	bool opener;
	pthread_t rd;
};

static void *reader(void *arg)
{
	struct conn *c = arg;
	static __thread uint8_t buf[1 << 16], want[1 << 16];
	uint32_t seed = c->idx * 2 + (c->opener ? 1 : 0);
	long long got = 0;

	for (;;) {
		ssize_t r = read(c->fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fail("connection %u: read: %s after %lld bytes", c->idx,
			     strerror(errno), got);
			return NULL;
		}
		if (r == 0)
			break;
		if (got + r > per_conn_in) {
			fail("connection %u: more than %lld bytes", c->idx,
			     per_conn_in);
			return NULL;
		}
		pattern(want, (size_t)r, (uint64_t)got, seed);
		if (memcmp(buf, want, (size_t)r)) {
			fail("connection %u: wrong data near byte %lld", c->idx,
			     got);
			return NULL;
		}
		got += r;
	}
	if (got != per_conn_in)
		fail("connection %u: %lld bytes, want %lld", c->idx, got,
		     per_conn_in);
	return NULL;
}

static int write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p = (uint8_t *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

/* Both directions of one connection (its own thread). */
static void *run_conn(void *arg)
{
	struct conn *c = arg;
	uint8_t *buf = malloc(1 << 16);
	uint32_t seed = c->idx * 2 + (c->opener ? 0 : 1);
	long long sent = 0;

	if (!buf) {
		fail("out of memory");
		return NULL;
	}
	if (c->opener) {
		if (write_all(c->fd, &c->idx, 4)) {
			fail("connection %u: cannot send its index", c->idx);
			free(buf);
			return NULL;
		}
	} else if (read_all(c->fd, &c->idx, 4)) {
		fail("a connection sent no index");
		free(buf);
		return NULL;
	} else {
		seed = c->idx * 2 + 1;
	}
	if (pthread_create(&c->rd, NULL, reader, c)) {
		fail("pthread_create");
		free(buf);
		return NULL;
	}
	while (sent < per_conn) {
		size_t n = per_conn - sent < (1 << 16) ? per_conn - sent :
							 (1 << 16);

		pattern(buf, n, (uint64_t)sent, seed);
		if (write_all(c->fd, buf, n)) {
			fail("connection %u: write: %s after %lld bytes",
			     c->idx, strerror(errno), sent);
			break;
		}
		sent += (long long)n;
	}
	shutdown(c->fd, SHUT_WR);
	pthread_join(c->rd, NULL);
	close(c->fd);
	free(buf);
	return NULL;
}

static int uds_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Firecracker's handshake: 1 with the OK line read, 0 refused, -1. */
static int uds_handshake(int fd, unsigned int port)
{
	char line[64];
	size_t n = 0;

	snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write_all(fd, line, strlen(line)))
		return -1;
	/* Byte by byte: what follows the line is the guest's. */
	while (n < sizeof(line) - 1) {
		ssize_t r = read(fd, line + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		if (line[n++] == '\n')
			break;
	}
	line[n] = 0;
	return !strncmp(line, "OK ", 3) ? 1 : -1;
}

static int vsock_connect(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK,
				 .svm_cid = cid,
				 .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int listen_on(bool vsock, const char *path, unsigned int port)
{
	int fd = socket(vsock ? AF_VSOCK : AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_vm v = { .svm_family = AF_VSOCK,
				 .svm_cid = VMADDR_CID_ANY,
				 .svm_port = port };
	struct sockaddr_un u = { .sun_family = AF_UNIX };
	int r;

	if (fd < 0)
		return -1;
	if (vsock) {
		r = bind(fd, (struct sockaddr *)&v, sizeof(v));
	} else {
		snprintf(u.sun_path, sizeof(u.sun_path), "%s", path);
		unlink(path);
		r = bind(fd, (struct sockaddr *)&u, sizeof(u));
	}
	if (r || listen(fd, MAX_CONNS)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int usage(void)
{
	fprintf(stderr, "usage: see tests/tools/vsockxfer.c\n");
	return 2;
}

int main(int argc, char **argv)
{
	static struct conn conns[MAX_CONNS];
	pthread_t th[MAX_CONNS];
	int nconn, i, lfd = -1, r;
	bool vsock, listener;
	const char *bytes;
	double t0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4)
		return usage();
	mode = argv[1];
	if (!strncmp(mode, "refused-", 8)) {
		unsigned int port = (unsigned int)strtoul(argv[3], NULL, 0);
		int fd;

		if (!strcmp(mode, "refused-vsock")) {
			fd = vsock_connect(
				(unsigned int)strtoul(argv[2], NULL, 0), port);
			if (fd >= 0) {
				fail("port %u accepted a connection", port);
				return 1;
			}
			printf("%svsockxfer %s ok: %s\n", prefix(), mode,
			       strerror(errno));
			return 0;
		}
		fd = uds_connect(argv[2]);
		if (fd < 0) {
			fail("cannot connect to %s: %s", argv[2],
			     strerror(errno));
			return 1;
		}
		r = uds_handshake(fd, port);
		close(fd);
		if (r) {
			fail("port %u: %s", port,
			     r > 0 ? "accepted" : "a bad answer");
			return 1;
		}
		printf("%svsockxfer %s ok: closed without OK\n", prefix(),
		       mode);
		return 0;
	}
	vsock = strstr(mode, "vsock") != NULL;
	listener = !strncmp(mode, "listen-", 7);
	if (listener) {
		nconn = atoi(argv[3]);
		bytes = argc > 4 ? argv[4] : "0";
	} else {
		if (argc < 6)
			return usage();
		nconn = atoi(argv[4]);
		bytes = argv[5];
	}
	per_conn = per_conn_in = atoll(bytes);
	if (strchr(bytes, ':'))
		per_conn_in = atoll(strchr(bytes, ':') + 1);
	if (nconn < 1 || nconn > MAX_CONNS || per_conn < 0 || per_conn_in < 0)
		return usage();
	if (listener) {
		lfd = listen_on(vsock, argv[2],
				(unsigned int)strtoul(argv[2], NULL, 0));
		if (lfd < 0) {
			fail("cannot listen on %s: %s", argv[2],
			     strerror(errno));
			return 1;
		}
		printf("%svsockxfer listening\n", prefix());
	}
	t0 = now();
	for (i = 0; i < nconn; i++) {
		struct conn *c = &conns[i];
		int fd, tries;

		c->idx = (uint32_t)i;
		c->opener = !listener;
		if (listener) {
			fd = accept(lfd, NULL, NULL);
		} else {
			/* The other side may not listen yet: retry a while. */
			for (tries = 0; tries < 600; tries++) {
				if (vsock) {
					fd = vsock_connect(
						(unsigned int)strtoul(argv[2],
								      NULL, 0),
						(unsigned int)strtoul(argv[3],
								      NULL, 0));
				} else {
					fd = uds_connect(argv[2]);
					if (fd >= 0 &&
					    uds_handshake(fd,
							  (unsigned int)strtoul(
								  argv[3], NULL,
								  0)) != 1) {
						close(fd);
						fd = -1;
					}
				}
				if (fd >= 0)
					break;
				usleep(100000);
			}
		}
		if (fd < 0) {
			fail("connection %d: %s", i, strerror(errno));
			return 1;
		}
		c->fd = fd;
		if (pthread_create(&th[i], NULL, run_conn, c)) {
			fail("pthread_create");
			return 1;
		}
	}
	for (i = 0; i < nconn; i++)
		pthread_join(th[i], NULL);
	if (lfd >= 0)
		close(lfd);
	if (failed)
		return 1;
	{
		double dt = now() - t0;
		long long most = per_conn > per_conn_in ? per_conn :
							  per_conn_in;

		printf("%svsockxfer %s conns=%d bytes=%lld ok mbps=%.0f\n",
		       prefix(), mode, nconn, most * nconn,
		       dt > 0 ? most * nconn * 8 / dt / 1e6 : 0);
	}
	return 0;
}
