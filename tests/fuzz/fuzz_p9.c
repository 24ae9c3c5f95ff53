// SPDX-License-Identifier: MIT
/*
 * The 9P2000.L server: the input is a sequence of messages, each preceded
 * by a 2-byte little-endian length, served one after the other in a fresh
 * session (Tversion and Tattach of fid 0 done first) over a scratch
 * directory that holds a file, a directory and a symlink out of it.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p9.h"

static struct p9_server srv;
static char dir[64];
static uint8_t rep[P9_MAX_MSIZE];
static unsigned int runs;

static void scratch(void)
{
	char cmd[256];
	int fd;

	if (srv.root_fd > 0)
		p9_destroy(&srv);
	snprintf(
		cmd, sizeof(cmd),
		"rm -rf %s && mkdir -p %s/d && echo data >%s/f && ln -s / %s/l",
		dir, dir, dir, dir);
	if (system(cmd))
		abort();
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	p9_init(&srv, fd, false);
}

static void handle(const uint8_t *m, size_t n)
{
	size_t r = p9_handle(&srv, m, n, rep, sizeof(rep));

	/* A reply is whole: its size field says its length. */
	if (r && (size_t)(rep[0] | rep[1] << 8 | rep[2] << 16) != r)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Tversion: msize 8192, "9P2000.L". */
	static const uint8_t version[] = {
		21, 0, 0,   0,	 100, 0xff, 0xff, 0,   0x20, 0,	 0,
		8,  0, '9', 'P', '2', '0',  '0',  '0', '.',  'L'
	};
	uint8_t attach[64] = { 0, 0, 0, 0, 104, 1, 0 };
	size_t off = 0, a = 7;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/kiln-fuzz-p9-%d", getpid());
		scratch();
	}
	/* Files the inputs create pile up: start over now and then. */
	if (++runs % 512 == 0)
		scratch();
	p9_reset(&srv);
	handle(version, sizeof(version));
	memset(attach + a, 0, 8); /* fid 0, afid 0 */
	a += 8;
	attach[a++] = 0; /* uname "" */
	attach[a++] = 0;
	attach[a++] = 0; /* aname "" */
	attach[a++] = 0;
	a += 4; /* n_uname */
	attach[0] = a;
	handle(attach, a);
	while (off + 2 <= size) {
		size_t n = data[off] | data[off + 1] << 8;

		off += 2;
		if (n > size - off)
			n = size - off;
		handle(data + off, n);
		off += n;
	}
	return 0;
}
