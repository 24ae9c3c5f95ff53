// SPDX-License-Identifier: MIT
/* The 9P2000.L server: messages, fids, confinement, read-only shares. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p9.h"
#include "unit.h"

struct msg {
	uint8_t b[8192];
	size_t n;
};

static uint8_t rep[P9_MAX_MSIZE];
static size_t rep_len;
static char tmp[64];
static struct p9_server srv;

static void put(struct msg *m, uint64_t v, int n)
{
	while (n--) {
		m->b[m->n++] = v;
		v >>= 8;
	}
}

static void start(struct msg *m, uint8_t type)
{
	m->n = 0;
	put(m, 0, 4);
	put(m, type, 1);
	put(m, 0x1234, 2);
}

static void str(struct msg *m, const char *s)
{
	put(m, strlen(s), 2);
	memcpy(m->b + m->n, s, strlen(s));
	m->n += strlen(s);
}

static uint8_t send(struct msg *m)
{
	m->b[0] = m->n;
	m->b[1] = m->n >> 8;
	m->b[2] = m->n >> 16;
	m->b[3] = m->n >> 24;
	rep_len = p9_handle(&srv, m->b, m->n, rep, sizeof(rep));
	CU_ASSERT_FATAL(rep_len >= 7);
	CU_ASSERT_EQUAL(rep[5] | rep[6] << 8, 0x1234); /* tag echoed */
	CU_ASSERT_EQUAL(rep[0] | rep[1] << 8 | rep[2] << 16, rep_len);
	return rep[4];
}

static uint32_t u32_at(size_t off)
{
	return rep[off] | rep[off + 1] << 8 | rep[off + 2] << 16 |
	       (uint32_t)rep[off + 3] << 24;
}

/* The error a reply carries, 0 for success. */
static int error_of(uint8_t type)
{
	return type == P9_RLERROR ? (int)u32_at(7) : 0;
}

static void version(uint32_t msize)
{
	struct msg m;

	start(&m, P9_TVERSION);
	put(&m, msize, 4);
	str(&m, "9P2000.L");
	CU_ASSERT_EQUAL(send(&m), P9_TVERSION + 1);
}

static int attach(uint32_t fid)
{
	struct msg m;

	start(&m, P9_TATTACH);
	put(&m, fid, 4);
	put(&m, ~0u, 4);
	str(&m, "root");
	str(&m, "");
	put(&m, 0, 4);
	return error_of(send(&m));
}

/* Walks fid to newfid; returns the error, *nq gets the qid count. */
static int walk(uint32_t fid, uint32_t newfid, int *nq, ...)
{
	struct msg m;
	const char *names[16], *n;
	va_list ap;
	int k = 0, i, e;

	va_start(ap, nq);
	while ((n = va_arg(ap, const char *)))
		names[k++] = n;
	va_end(ap);
	start(&m, P9_TWALK);
	put(&m, fid, 4);
	put(&m, newfid, 4);
	put(&m, k, 2);
	for (i = 0; i < k; i++)
		str(&m, names[i]);
	e = error_of(send(&m));
	if (nq)
		*nq = e ? -1 : (rep[7] | rep[8] << 8);
	return e;
}

static int lopen(uint32_t fid, uint32_t flags)
{
	struct msg m;

	start(&m, P9_TLOPEN);
	put(&m, fid, 4);
	put(&m, flags, 4);
	return error_of(send(&m));
}

/* Reads into rep; returns the error, data at rep + 11. */
static int readf(uint32_t fid, uint64_t off, uint32_t count, uint32_t *got)
{
	struct msg m;
	int e;

	start(&m, P9_TREAD);
	put(&m, fid, 4);
	put(&m, off, 8);
	put(&m, count, 4);
	e = error_of(send(&m));
	*got = e ? 0 : u32_at(7);
	return e;
}

static int clunk(uint32_t fid)
{
	struct msg m;

	start(&m, P9_TCLUNK);
	put(&m, fid, 4);
	return error_of(send(&m));
}

static void sh(const char *fmt, const char *arg)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg, arg);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* tmp/outside.txt, tmp/share/{file,d/,link->/,up->..,abs->tmp/outside.txt} */
static void setup(bool ro)
{
	char share[128];
	int fd;

	strcpy(tmp, "/tmp/kiln-p9-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmp));
	sh("cd %s && echo SECRET >outside.txt && mkdir -p share/d && "
	   "echo hello >share/file && ln -s / share/link && ln -s .. share/up && "
	   "ln -s %s/outside.txt share/abs",
	   tmp);
	snprintf(share, sizeof(share), "%s/share", tmp);
	fd = open(share, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	p9_init(&srv, fd, ro);
	version(8192);
	CU_ASSERT_EQUAL(attach(1), 0);
}

static void teardown(void)
{
	p9_destroy(&srv);
	sh("rm -rf %s", tmp);
}

static void test_version(void)
{
	struct msg m;

	setup(false);
	start(&m, P9_TVERSION);
	put(&m, 1 << 30, 4);
	str(&m, "9P2000.L");
	CU_ASSERT_EQUAL(send(&m), P9_TVERSION + 1);
	CU_ASSERT_EQUAL(u32_at(7), P9_MAX_MSIZE); /* capped */
	/* A new version ends the session: fid 1 is gone. */
	CU_ASSERT_EQUAL(walk(1, 2, NULL, NULL), EBADF);
	start(&m, P9_TVERSION);
	put(&m, 8192, 4);
	str(&m, "9P2000.u");
	CU_ASSERT_EQUAL(send(&m), P9_TVERSION + 1);
	CU_ASSERT_EQUAL(memcmp(rep + 13, "unknown", 7), 0);
	start(&m, P9_TVERSION);
	put(&m, 100, 4); /* below the minimum */
	str(&m, "9P2000.L");
	CU_ASSERT_EQUAL(error_of(send(&m)), EINVAL);
	teardown();
}

static void test_read_file(void)
{
	uint32_t got;
	int nq;

	setup(false);
	CU_ASSERT_EQUAL(walk(1, 2, &nq, "file", NULL), 0);
	CU_ASSERT_EQUAL(nq, 1);
	CU_ASSERT_EQUAL(lopen(2, 0), 0);
	CU_ASSERT_EQUAL(lopen(2, 0), EINVAL); /* already open */
	CU_ASSERT_EQUAL(readf(2, 0, 100, &got), 0);
	CU_ASSERT_EQUAL(got, 6);
	CU_ASSERT_EQUAL(memcmp(rep + 11, "hello\n", 6), 0);
	CU_ASSERT_EQUAL(readf(2, 2, 2, &got), 0);
	CU_ASSERT_EQUAL(memcmp(rep + 11, "ll", 2), 0);
	/* A read larger than msize is cut to fit. */
	CU_ASSERT_EQUAL(readf(2, 0, 1 << 30, &got), 0);
	CU_ASSERT_EQUAL(got, 6);
	CU_ASSERT_EQUAL(clunk(2), 0);
	teardown();
}

static void test_bad_fids(void)
{
	uint32_t got;

	setup(false);
	CU_ASSERT_EQUAL(attach(1), EBADF); /* in use */
	CU_ASSERT_EQUAL(walk(99, 2, NULL, NULL), EBADF);
	CU_ASSERT_EQUAL(readf(99, 0, 10, &got), EBADF);
	CU_ASSERT_EQUAL(readf(1, 0, 10, &got), EBADF); /* not open */
	CU_ASSERT_EQUAL(lopen(99, 0), EBADF);
	CU_ASSERT_EQUAL(clunk(99), EBADF);
	CU_ASSERT_EQUAL(walk(1, 2, NULL, NULL), 0);
	CU_ASSERT_EQUAL(walk(1, 2, NULL, NULL), EBADF); /* newfid in use */
	CU_ASSERT_EQUAL(clunk(2), 0);
	CU_ASSERT_EQUAL(clunk(2), EBADF); /* clunked twice */
	teardown();
}

static void test_malformed(void)
{
	struct msg m, cut;
	size_t i;

	setup(false);
	start(&m, P9_TWALK);
	put(&m, 1, 4);
	put(&m, 2, 4);
	put(&m, 2, 2);
	str(&m, "d");
	str(&m, "x");
	/* Every truncation is refused cleanly, and creates no fid. */
	for (i = 7; i < m.n; i++) {
		cut = m;
		cut.n = i;
		CU_ASSERT_EQUAL(send(&cut), P9_RLERROR);
	}
	CU_ASSERT_EQUAL(clunk(2), EBADF);
	/* A size field beyond what was sent. */
	cut = m;
	rep_len = p9_handle(&srv, cut.b, 9, rep, sizeof(rep));
	CU_ASSERT_EQUAL(rep[4], P9_RLERROR);
	/* Larger than msize. */
	start(&cut, P9_TCLUNK);
	put(&cut, 1, 4);
	cut.n = 9000;
	CU_ASSERT_EQUAL(error_of(send(&cut)), EMSGSIZE);
	/* Too many walk elements. */
	start(&cut, P9_TWALK);
	put(&cut, 1, 4);
	put(&cut, 3, 4);
	put(&cut, 17, 2);
	for (i = 0; i < 17; i++)
		str(&cut, "d");
	CU_ASSERT_EQUAL(error_of(send(&cut)), E2BIG);
	/* A string with a NUL inside. */
	start(&cut, P9_TWALK);
	put(&cut, 1, 4);
	put(&cut, 3, 4);
	put(&cut, 1, 2);
	str(&cut, "fi");
	cut.b[cut.n - 1] = 0;
	CU_ASSERT_EQUAL(send(&cut), P9_RLERROR);
	/* Unknown types; nothing at all; a reply buffer too small. */
	start(&cut, 200);
	CU_ASSERT_EQUAL(error_of(send(&cut)), EOPNOTSUPP);
	CU_ASSERT_EQUAL(p9_handle(&srv, cut.b, 3, rep, sizeof(rep)), 0);
	CU_ASSERT_EQUAL(p9_handle(&srv, cut.b, cut.n, rep, 8), 0);
	teardown();
}

static void test_confinement(void)
{
	uint32_t got;
	int nq;

	setup(false);
	/* ".." at the root stays at the root. */
	CU_ASSERT_EQUAL(walk(1, 2, &nq, "..", "..", "file", NULL), 0);
	CU_ASSERT_EQUAL(nq, 3);
	CU_ASSERT_EQUAL(lopen(2, 0), 0);
	CU_ASSERT_EQUAL(readf(2, 0, 100, &got), 0);
	CU_ASSERT_EQUAL(memcmp(rep + 11, "hello", 5), 0);
	CU_ASSERT_EQUAL(walk(1, 3, NULL, "..", "outside.txt", NULL), 0);
	CU_ASSERT_EQUAL(rep[7], 1); /* partial: stopped at outside.txt */
	CU_ASSERT_EQUAL(clunk(3), EBADF);
	/* Symlinks are never followed: not to /, not up, not absolute. */
	CU_ASSERT_EQUAL(walk(1, 3, &nq, "link", NULL), 0);
	CU_ASSERT_EQUAL(nq, 1);
	CU_ASSERT_EQUAL(lopen(3, 0), EPERM);
	CU_ASSERT_EQUAL(walk(1, 4, NULL, "link", "etc", "passwd", NULL), 0);
	CU_ASSERT_EQUAL(rep[7], 1);
	CU_ASSERT_EQUAL(clunk(4), EBADF);
	CU_ASSERT_EQUAL(walk(1, 4, NULL, "up", "outside.txt", NULL), 0);
	CU_ASSERT_EQUAL(rep[7], 1);
	CU_ASSERT_EQUAL(walk(1, 4, NULL, "abs", NULL), 0);
	CU_ASSERT_EQUAL(lopen(4, 0), EPERM);
	/* Names with slashes or "." are not path components. */
	CU_ASSERT_EQUAL(walk(1, 5, NULL, "d/../../outside.txt", NULL), ENOENT);
	CU_ASSERT_EQUAL(walk(1, 5, NULL, ".", NULL), ENOENT);
	CU_ASSERT_EQUAL(walk(1, 5, NULL, "", NULL), ENOENT);
	/* A directory swapped for a symlink after the walk. */
	CU_ASSERT_EQUAL(walk(1, 5, NULL, "d", NULL), 0);
	sh("cd %s/share && mv d d.old && ln -s %s d", tmp);
	CU_ASSERT_EQUAL(walk(5, 6, NULL, "outside.txt", NULL), ELOOP);
	CU_ASSERT_EQUAL(lopen(5, 0), EPERM);
	teardown();
}

static void test_fid_limit(void)
{
	int i, e = 0;

	setup(false);
	for (i = 0; i < P9_MAX_FIDS - 1 && !e; i++)
		e = walk(1, 100 + i, NULL, NULL);
	CU_ASSERT_EQUAL(e, 0);
	CU_ASSERT_EQUAL(walk(1, 99, NULL, NULL), EMFILE);
	CU_ASSERT_EQUAL(clunk(100), 0);
	CU_ASSERT_EQUAL(walk(1, 99, NULL, NULL), 0);
	teardown();
}

static int mkdir_at(uint32_t dfid, const char *name)
{
	struct msg m;

	start(&m, P9_TMKDIR);
	put(&m, dfid, 4);
	str(&m, name);
	put(&m, 0755, 4);
	put(&m, 0, 4);
	return error_of(send(&m));
}

static int lcreate(uint32_t fid, const char *name)
{
	struct msg m;

	start(&m, P9_TLCREATE);
	put(&m, fid, 4);
	str(&m, name);
	put(&m, 2, 4); /* O_RDWR */
	put(&m, 0644, 4);
	put(&m, 0, 4);
	return error_of(send(&m));
}

static int writef(uint32_t fid, const char *data)
{
	struct msg m;

	start(&m, P9_TWRITE);
	put(&m, fid, 4);
	put(&m, 0, 8);
	put(&m, strlen(data), 4);
	memcpy(m.b + m.n, data, strlen(data));
	m.n += strlen(data);
	return error_of(send(&m));
}

static void test_read_only(void)
{
	struct msg m;

	setup(true);
	CU_ASSERT_EQUAL(walk(1, 2, NULL, "file", NULL), 0);
	CU_ASSERT_EQUAL(lopen(2, 1), EROFS); /* O_WRONLY */
	CU_ASSERT_EQUAL(lopen(2, 01000), EROFS); /* O_TRUNC */
	CU_ASSERT_EQUAL(lopen(2, 0), 0);
	CU_ASSERT_EQUAL(writef(2, "x"), EROFS);
	CU_ASSERT_EQUAL(mkdir_at(1, "new"), EROFS);
	CU_ASSERT_EQUAL(walk(1, 3, NULL, NULL), 0);
	CU_ASSERT_EQUAL(lcreate(3, "new"), EROFS);
	start(&m, P9_TUNLINKAT);
	put(&m, 1, 4);
	str(&m, "file");
	put(&m, 0, 4);
	CU_ASSERT_EQUAL(error_of(send(&m)), EROFS);
	start(&m, P9_TSETATTR);
	put(&m, 2, 4);
	put(&m, 0x8, 4); /* size */
	put(&m, 0, 4 * 3);
	put(&m, 0, 8 * 5);
	CU_ASSERT_EQUAL(error_of(send(&m)), EROFS);
	sh("test \"$(cat %s/share/file)\" = hello", tmp);
	teardown();
}

static void test_read_write(void)
{
	struct msg m;
	uint32_t got;
	char path[128];
	struct stat st;

	setup(false);
	CU_ASSERT_EQUAL(mkdir_at(1, "sub"), 0);
	CU_ASSERT_EQUAL(mkdir_at(1, "sub"), EEXIST);
	CU_ASSERT_EQUAL(mkdir_at(1, ".."), EINVAL);
	CU_ASSERT_EQUAL(walk(1, 2, NULL, "sub", NULL), 0);
	CU_ASSERT_EQUAL(lcreate(2, "f"), 0);
	CU_ASSERT_EQUAL(writef(2, "written"), 0);
	CU_ASSERT_EQUAL(u32_at(7), 7);
	CU_ASSERT_EQUAL(readf(2, 0, 100, &got), 0);
	CU_ASSERT_EQUAL(got, 7);
	/* Rename the directory: the open fid's path follows. */
	start(&m, P9_TRENAMEAT);
	put(&m, 1, 4);
	str(&m, "sub");
	put(&m, 1, 4);
	str(&m, "moved");
	CU_ASSERT_EQUAL(error_of(send(&m)), 0);
	start(&m, P9_TGETATTR);
	put(&m, 2, 4);
	put(&m, 0x7ff, 8);
	CU_ASSERT_EQUAL(send(&m), P9_TGETATTR + 1);
	snprintf(path, sizeof(path), "%s/share/moved/f", tmp);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 7);
	/* getattr: size at 7 + 8 + 13 + 4 * 3 + 8 * 2. */
	CU_ASSERT_EQUAL(rep[7 + 8 + 13 + 12 + 16], 7);
	/* Readdir of the root lists what is there. */
	CU_ASSERT_EQUAL(walk(1, 3, NULL, NULL), 0);
	CU_ASSERT_EQUAL(lopen(3, 0), 0);
	start(&m, P9_TREADDIR);
	put(&m, 3, 4);
	put(&m, 0, 8);
	put(&m, 4096, 4);
	CU_ASSERT_EQUAL(send(&m), P9_TREADDIR + 1);
	CU_ASSERT_PTR_NOT_NULL(memmem(rep, rep_len, "moved", 5));
	CU_ASSERT_PTR_NOT_NULL(memmem(rep, rep_len, "file", 4));
	/* No device nodes for the guest. */
	start(&m, P9_TMKNOD);
	put(&m, 1, 4);
	str(&m, "sda");
	put(&m, S_IFBLK | 0600, 4);
	put(&m, 8, 4);
	put(&m, 0, 4);
	put(&m, 0, 4);
	CU_ASSERT_EQUAL(error_of(send(&m)), EPERM);
	teardown();
}

void suite_p9(void)
{
	static const CU_TestInfo tests[] = {
		{ "version and msize", test_version },
		{ "walk, open, read", test_read_file },
		{ "bad fids", test_bad_fids },
		{ "truncated and malformed messages", test_malformed },
		{ "confinement: .., symlinks, swaps", test_confinement },
		{ "fids are bounded", test_fid_limit },
		{ "read-only share", test_read_only },
		{ "create, write, rename, readdir", test_read_write },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("p9", tests);
}
