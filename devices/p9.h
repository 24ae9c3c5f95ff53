/* SPDX-License-Identifier: MIT */
#ifndef KILN_P9_H
#define KILN_P9_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A 9P2000.L file server for one host directory, independent of the
 * transport: p9_handle() takes one request and writes one reply.
 *
 * Confinement: a fid names a path relative to the shared directory, kept
 * canonical (no "." or "..", no empty or slash-bearing names), and every
 * access resolves it again from the directory's fd with openat2(2) and
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS. The guest
 * resolves symlinks itself (9P clients do), so the server never follows
 * one: a symlink planted or swapped in anywhere along a path makes the
 * access fail with ELOOP instead of leaving the share. Only regular files
 * and directories can be opened, device nodes cannot be created.
 */

#define P9_MAX_MSIZE (512u * 1024)
#define P9_MIN_MSIZE 4096u
#define P9_MAX_FIDS 4096
#define P9_MAX_WALK 16
#define P9_HDR 7 /* size[4] type[1] tag[2] */

struct p9_fid;

struct p9_server {
	int root_fd; /* O_PATH directory */
	bool ro;
	uint32_t msize;
	unsigned int nr_fids;
	struct p9_fid *fids[256]; /* hash buckets */
};

/* Takes ownership of root_fd (an O_PATH or O_RDONLY directory fd). */
int p9_init(struct p9_server *s, int root_fd, bool ro);
/* Ends the session: every fid goes, Tversion must come again. */
void p9_reset(struct p9_server *s);
void p9_destroy(struct p9_server *s);

/*
 * Serves one request of req_len bytes, writes the reply (at most rep_cap
 * bytes) and returns its length; 0 when not even an error fits.
 */
size_t p9_handle(struct p9_server *s, const uint8_t *req, size_t req_len,
		 uint8_t *rep, size_t rep_cap);

/* Message types (9P2000.L and the 9P2000 ones it keeps). */
enum {
	P9_RLERROR = 7,
	P9_TSTATFS = 8,
	P9_TLOPEN = 12,
	P9_TLCREATE = 14,
	P9_TSYMLINK = 16,
	P9_TMKNOD = 18,
	P9_TRENAME = 20,
	P9_TREADLINK = 22,
	P9_TGETATTR = 24,
	P9_TSETATTR = 26,
	P9_TXATTRWALK = 30,
	P9_TXATTRCREATE = 32,
	P9_TREADDIR = 40,
	P9_TFSYNC = 50,
	P9_TLOCK = 52,
	P9_TGETLOCK = 54,
	P9_TLINK = 70,
	P9_TMKDIR = 72,
	P9_TRENAMEAT = 74,
	P9_TUNLINKAT = 76,
	P9_TVERSION = 100,
	P9_TAUTH = 102,
	P9_TATTACH = 104,
	P9_TFLUSH = 108,
	P9_TWALK = 110,
	P9_TREAD = 116,
	P9_TWRITE = 118,
	P9_TCLUNK = 120,
	P9_TREMOVE = 122,
};

#endif
