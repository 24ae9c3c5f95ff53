// SPDX-License-Identifier: MIT
/* A 9P2000.L server confined to one directory (see p9.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "log.h"
#include "p9.h"

struct p9_fid {
	uint32_t fid;
	char *path; /* relative to the root, "" for the root itself */
	int fd; /* after Tlopen / Tlcreate, else -1 */
	struct p9_fid *next;
};

/* Reading a request: every access is bounds-checked, errors stick. */
struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t rd_le(struct rd *r, unsigned int n)
{
	const uint8_t *p = rd_take(r, n);
	uint64_t v = 0;

	while (p && n--)
		v = (v << 8) | p[n];
	return v;
}

#define rd8(r) ((uint8_t)rd_le(r, 1))
#define rd16(r) ((uint16_t)rd_le(r, 2))
#define rd32(r) ((uint32_t)rd_le(r, 4))
#define rd64(r) rd_le(r, 8)

/* A string into buf (NUL-terminated); NUL bytes inside are refused. */
static bool rd_str(struct rd *r, char *buf, size_t cap)
{
	uint16_t n = rd16(r);
	const uint8_t *p = rd_take(r, n);

	if (!p || n >= cap || memchr(p, 0, n)) {
		r->bad = true;
		return false;
	}
	memcpy(buf, p, n);
	buf[n] = 0;
	return true;
}

/* Writing a reply: overflow sticks and turns the reply into an error. */
struct wr {
	uint8_t *p;
	size_t cap, off;
	bool full;
};

static uint8_t *wr_take(struct wr *w, size_t n)
{
	uint8_t *p;

	if (w->full || n > w->cap - w->off) {
		w->full = true;
		return NULL;
	}
	p = w->p + w->off;
	w->off += n;
	return p;
}

static void wr_le(struct wr *w, uint64_t v, unsigned int n)
{
	uint8_t *p = wr_take(w, n);
	unsigned int i;

	for (i = 0; p && i < n; i++, v >>= 8)
		p[i] = v;
}

static void wr_str(struct wr *w, const char *s)
{
	size_t n = strlen(s);
	uint8_t *p;

	wr_le(w, n > 0xffff ? 0xffff : n, 2);
	p = wr_take(w, n);
	if (p)
		memcpy(p, s, n);
}

static void wr_qid(struct wr *w, const struct stat *st)
{
	uint8_t type = S_ISDIR(st->st_mode) ? 0x80 :
		       S_ISLNK(st->st_mode) ? 0x02 :
					      0;

	wr_le(w, type, 1);
	wr_le(w, 0, 4);
	/* Files below a mount point share inode numbers: mix the device. */
	wr_le(w, st->st_ino ^ ((uint64_t)st->st_dev << 48), 8);
}

/* ---- fids ---- */

static struct p9_fid **fid_slot(struct p9_server *s, uint32_t fid)
{
	struct p9_fid **pp = &s->fids[fid & 255];

	while (*pp && (*pp)->fid != fid)
		pp = &(*pp)->next;
	return pp;
}

static struct p9_fid *fid_get(struct p9_server *s, uint32_t fid)
{
	return *fid_slot(s, fid);
}

static void fid_drop(struct p9_server *s, uint32_t fid)
{
	struct p9_fid **pp = fid_slot(s, fid), *f = *pp;

	if (!f)
		return;
	*pp = f->next;
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
	s->nr_fids--;
}

/* A new fid for path (taken over); -errno when in use or too many. */
static int fid_new(struct p9_server *s, uint32_t fid, char *path)
{
	struct p9_fid *f;

	if (fid_get(s, fid)) {
		free(path);
		return -EBADF;
	}
	if (s->nr_fids >= P9_MAX_FIDS) {
		pr_guest("9p: the guest holds %u fids, refusing more",
			 s->nr_fids);
		free(path);
		return -EMFILE;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		free(path);
		return -ENOMEM;
	}
	f->fid = fid;
	f->path = path;
	f->fd = -1;
	f->next = s->fids[fid & 255];
	s->fids[fid & 255] = f;
	s->nr_fids++;
	return 0;
}

static void fid_drop_all(struct p9_server *s)
{
	unsigned int i;

	for (i = 0; i < 256; i++)
		while (s->fids[i])
			fid_drop(s, s->fids[i]->fid);
}

/* ---- paths, always resolved beneath the root ---- */

/*
 * For kernels (and tools such as valgrind) without openat2: the same rules
 * one component at a time. Every directory on the way is opened with
 * O_NOFOLLOW and checked, ".." is refused, and the last component is
 * opened with O_NOFOLLOW.
 */
static int resolve_walk(int dirfd, const char *path, int flags, mode_t mode)
{
	char buf[PATH_MAX], *save = NULL, *comp, *next;
	int cur = dirfd, fd;
	struct stat st;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	comp = strtok_r(buf, "/", &save);
	if (!comp)
		comp = ".";
	for (;;) {
		next = strtok_r(NULL, "/", &save);
		if (!strcmp(comp, "..")) {
			fd = -EXDEV;
			break;
		}
		if (!next) {
			fd = openat(cur, comp, flags, mode);
			fd = fd < 0 ? -errno : fd;
			break;
		}
		fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			fd = -errno;
			break;
		}
		if (fstat(fd, &st) || !S_ISDIR(st.st_mode)) {
			int e = S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;

			close(fd);
			fd = e;
			break;
		}
		if (cur != dirfd)
			close(cur);
		cur = fd;
		comp = next;
	}
	if (cur != dirfd)
		close(cur);
	return fd;
}

static int resolve_at(int dirfd, const char *path, uint64_t flags,
		      uint64_t mode)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC | O_NOFOLLOW,
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	int fd = syscall(SYS_openat2, dirfd, *path ? path : ".", &how,
			 sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		return resolve_walk(dirfd, path, how.flags, how.mode);
	return fd < 0 ? -errno : fd;
}

static int resolve(struct p9_server *s, const char *path, uint64_t flags)
{
	return resolve_at(s->root_fd, path, flags, 0);
}

/* A single path component: no slash, not "." or "..", not empty. */
static bool name_ok(const char *n)
{
	return *n && !strchr(n, '/') && strcmp(n, ".") && strcmp(n, "..");
}

static char *path_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s%s", dir, *dir ? "/" : "", name) < 0)
		return NULL;
	if (strlen(p) >= PATH_MAX) {
		free(p);
		return NULL;
	}
	return p;
}

static int stat_path(struct p9_server *s, const char *path, struct stat *st)
{
	int fd = resolve(s, path, O_PATH), r;

	if (fd < 0)
		return fd;
	r = fstat(fd, st) ? -errno : 0;
	close(fd);
	return r;
}

/* The directory a fid names, as an O_PATH fd. */
static int dir_fd(struct p9_server *s, struct p9_fid *f)
{
	return resolve(s, f->path, O_PATH | O_DIRECTORY);
}

/* After a rename, fids below the old path follow it. */
static void fids_renamed(struct p9_server *s, const char *from, const char *to)
{
	size_t n = strlen(from);
	unsigned int i;
	struct p9_fid *f;

	for (i = 0; i < 256; i++) {
		for (f = s->fids[i]; f; f = f->next) {
			char *p;

			if (strncmp(f->path, from, n) ||
			    (f->path[n] && f->path[n] != '/'))
				continue;
			if (asprintf(&p, "%s%s", to, f->path + n) < 0)
				continue;
			free(f->path);
			f->path = p;
		}
	}
}

/* ---- requests ---- */

struct req {
	struct p9_server *s;
	struct rd in;
	struct wr out;
	char name[NAME_MAX + 1];
	char name2[NAME_MAX + 1];
};

#define BADMSG (-EPROTO)

static int op_version(struct req *q)
{
	uint32_t msize = rd32(&q->in);
	char ver[32];

	if (!rd_str(&q->in, ver, sizeof(ver)))
		return BADMSG;
	if (msize < P9_MIN_MSIZE)
		return -EINVAL;
	fid_drop_all(q->s);
	q->s->msize = msize < P9_MAX_MSIZE ? msize : P9_MAX_MSIZE;
	wr_le(&q->out, q->s->msize, 4);
	wr_str(&q->out, strcmp(ver, "9P2000.L") ? "unknown" : "9P2000.L");
	return 0;
}

static int op_attach(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	struct stat st;
	char *root;
	int r;

	rd_take(&q->in, 4); /* afid: no authentication */
	if (!rd_str(&q->in, q->name, sizeof(q->name)) ||
	    !rd_str(&q->in, q->name2, sizeof(q->name2)))
		return BADMSG;
	r = stat_path(q->s, "", &st);
	if (r)
		return r;
	root = strdup("");
	if (!root)
		return -ENOMEM;
	r = fid_new(q->s, fid, root);
	if (r)
		return r;
	wr_qid(&q->out, &st);
	return 0;
}

static int op_walk(struct req *q)
{
	uint32_t fid = rd32(&q->in), newfid = rd32(&q->in);
	uint16_t n = rd16(&q->in), i;
	struct p9_fid *f = fid_get(q->s, fid);
	struct stat st[P9_MAX_WALK];
	char *path;
	int r = 0;

	if (q->in.bad)
		return BADMSG;
	if (!f)
		return -EBADF;
	if (n > P9_MAX_WALK)
		return -E2BIG;
	if (newfid != fid && fid_get(q->s, newfid))
		return -EBADF;
	path = strdup(f->path);
	if (!path)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		char *next;

		if (!rd_str(&q->in, q->name, sizeof(q->name))) {
			free(path);
			return BADMSG;
		}
		if (!strcmp(q->name, "..")) {
			/* Up, never above the root. */
			char *slash = strrchr(path, '/');

			next = strndup(path, slash ? slash - path : 0);
		} else if (name_ok(q->name)) {
			next = path_join(path, q->name);
		} else {
			free(path);
			return -ENOENT;
		}
		free(path);
		path = next;
		if (!path)
			return -ENAMETOOLONG;
		r = stat_path(q->s, path, &st[i]);
		if (r)
			break;
	}
	if (i < n && i == 0) {
		free(path);
		return r;
	}
	wr_le(&q->out, i, 2);
	for (r = 0; r < i; r++)
		wr_qid(&q->out, &st[r]);
	if (i < n) {
		/* A partial walk: qids so far, newfid untouched. */
		free(path);
		return 0;
	}
	if (newfid == fid) {
		free(f->path);
		f->path = path;
		return 0;
	}
	return fid_new(q->s, newfid, path);
}

/* 9P2000.L open flags are Linux's generic ones; map those kiln honours. */
static int open_flags(uint32_t l)
{
	int f = l & 3;

	if (f == 3)
		return -1;
	if (l & 01000)
		f |= O_TRUNC;
	if (l & 02000)
		f |= O_APPEND;
	if (l & 0200)
		f |= O_EXCL;
	return f;
}

static int op_lopen(struct req *q)
{
	uint32_t fid = rd32(&q->in), flags = rd32(&q->in);
	struct p9_fid *f = fid_get(q->s, fid);
	int of = open_flags(flags), fd;
	struct stat st;

	if (q->in.bad)
		return BADMSG;
	if (!f)
		return -EBADF;
	if (f->fd >= 0 || of < 0)
		return -EINVAL;
	if (q->s->ro && ((of & O_ACCMODE) != O_RDONLY || (of & O_TRUNC)))
		return -EROFS;
	fd = stat_path(q->s, f->path, &st);
	if (fd)
		return fd;
	/* Opening a FIFO would block, a device node would reach the host. */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -EPERM;
	fd = resolve(q->s, f->path, (of & ~O_EXCL) | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
		close(fd);
		return -EPERM;
	}
	f->fd = fd;
	wr_qid(&q->out, &st);
	wr_le(&q->out, 0, 4); /* iounit: up to msize */
	return 0;
}

static int op_lcreate(struct req *q)
{
	uint32_t fid = rd32(&q->in), flags, mode, gid;
	struct p9_fid *f = fid_get(q->s, fid);
	struct stat st;
	char *path;
	int dfd, fd, of;

	rd_str(&q->in, q->name, sizeof(q->name));
	flags = rd32(&q->in);
	mode = rd32(&q->in);
	gid = rd32(&q->in);
	if (q->in.bad)
		return BADMSG;
	if (!f)
		return -EBADF;
	if (q->s->ro)
		return -EROFS;
	if (!name_ok(q->name) || f->fd >= 0)
		return -EINVAL;
	of = open_flags(flags);
	if (of < 0)
		return -EINVAL;
	path = path_join(f->path, q->name);
	if (!path)
		return -ENAMETOOLONG;
	dfd = dir_fd(q->s, f);
	if (dfd < 0) {
		free(path);
		return dfd;
	}
	fd = resolve_at(dfd, q->name, of | O_CREAT, mode & 07777);
	close(dfd);
	if (fd < 0) {
		free(path);
		return fd;
	}
	if (fchown(fd, -1, gid)) {
		/* kiln may not own that group: keep its own. */
	}
	fstat(fd, &st);
	free(f->path);
	f->path = path;
	f->fd = fd;
	wr_qid(&q->out, &st);
	wr_le(&q->out, 0, 4);
	return 0;
}

static int op_read(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	uint64_t off = rd64(&q->in);
	uint32_t count = rd32(&q->in);
	struct p9_fid *f = fid_get(q->s, fid);
	size_t room = q->out.cap - q->out.off;
	uint8_t *data;
	ssize_t n;

	if (q->in.bad)
		return BADMSG;
	if (!f || f->fd < 0)
		return -EBADF;
	if (off > INT64_MAX)
		return -EINVAL;
	if (room < 4)
		return -ENOBUFS;
	if (count > room - 4)
		count = room - 4;
	data = q->out.p + q->out.off + 4;
	n = pread(f->fd, data, count, off);
	if (n < 0)
		return -errno;
	wr_le(&q->out, n, 4);
	wr_take(&q->out, n);
	return 0;
}

static int op_write(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	uint64_t off = rd64(&q->in);
	uint32_t count = rd32(&q->in);
	const uint8_t *data = rd_take(&q->in, count);
	struct p9_fid *f = fid_get(q->s, fid);
	ssize_t n;

	if (q->in.bad)
		return BADMSG;
	if (!f || f->fd < 0)
		return -EBADF;
	if (q->s->ro)
		return -EROFS;
	if (off > INT64_MAX)
		return -EINVAL;
	n = pwrite(f->fd, data, count, off);
	if (n < 0)
		return -errno;
	wr_le(&q->out, n, 4);
	return 0;
}

static int op_clunk(struct req *q)
{
	uint32_t fid = rd32(&q->in);

	if (q->in.bad)
		return BADMSG;
	if (!fid_get(q->s, fid))
		return -EBADF;
	fid_drop(q->s, fid);
	return 0;
}

static int unlink_path(struct p9_server *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = strndup(path, slash ? slash - path : 0);
	struct stat st;
	int dfd, r;

	if (!dir)
		return -ENOMEM;
	dfd = resolve(s, dir, O_PATH | O_DIRECTORY);
	free(dir);
	if (dfd < 0)
		return dfd;
	slash = slash ? slash + 1 : path;
	r = fstatat(dfd, slash, &st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
	if (!r && unlinkat(dfd, slash, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0))
		r = -errno;
	close(dfd);
	return r;
}

static int op_remove(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	struct p9_fid *f = fid_get(q->s, fid);
	int r;

	if (q->in.bad)
		return BADMSG;
	if (!f)
		return -EBADF;
	/* The fid goes whatever happens (9P semantics). */
	r = q->s->ro ? -EROFS : !*f->path ? -EBUSY : unlink_path(q->s, f->path);
	fid_drop(q->s, fid);
	return r;
}

static int fid_stat(struct p9_server *s, struct p9_fid *f, struct stat *st)
{
	if (f->fd >= 0)
		return fstat(f->fd, st) ? -errno : 0;
	return stat_path(s, f->path, st);
}

static int op_getattr(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	struct p9_fid *f = fid_get(q->s, fid);
	struct stat st;
	int r;

	rd_take(&q->in, 8); /* request_mask: the basic set is always given */
	if (q->in.bad)
		return BADMSG;
	if (!f)
		return -EBADF;
	r = fid_stat(q->s, f, &st);
	if (r)
		return r;
	wr_le(&q->out, 0x7ff, 8); /* P9_STATS_BASIC */
	wr_qid(&q->out, &st);
	wr_le(&q->out, st.st_mode, 4);
	wr_le(&q->out, st.st_uid, 4);
	wr_le(&q->out, st.st_gid, 4);
	wr_le(&q->out, st.st_nlink, 8);
	wr_le(&q->out, st.st_rdev, 8);
	wr_le(&q->out, st.st_size, 8);
	wr_le(&q->out, st.st_blksize, 8);
	wr_le(&q->out, st.st_blocks, 8);
	wr_le(&q->out, st.st_atim.tv_sec, 8);
	wr_le(&q->out, st.st_atim.tv_nsec, 8);
	wr_le(&q->out, st.st_mtim.tv_sec, 8);
	wr_le(&q->out, st.st_mtim.tv_nsec, 8);
	wr_le(&q->out, st.st_ctim.tv_sec, 8);
	wr_le(&q->out, st.st_ctim.tv_nsec, 8);
	wr_le(&q->out, 0, 8 * 4); /* btime, gen, data_version */
	return 0;
}

#define SETATTR_MODE 0x1
#define SETATTR_UID 0x2
#define SETATTR_GID 0x4
#define SETATTR_SIZE 0x8
#define SETATTR_ATIME 0x10
#define SETATTR_MTIME 0x20
#define SETATTR_ATIME_SET 0x80
#define SETATTR_MTIME_SET 0x100

static int op_setattr(struct req *q)
{
	uint32_t fid = rd32(&q->in), valid = rd32(&q->in);
	uint32_t mode = rd32(&q->in), uid = rd32(&q->in), gid = rd32(&q->in);
	uint64_t size = rd64(&q->in);
	struct timespec ts[2];
	struct p9_fid *f = fid_get(q->s, fid);
	char proc[64];
	struct stat st;
	int fd, r = 0;

	ts[0].tv_sec = rd64(&q->in);
	ts[0].tv_nsec = rd64(&q->in);
	ts[1].tv_sec = rd64(&q->in);
	ts[1].tv_nsec = rd64(&q->in);
	if (q->in.bad)
		return BADMSG;
	if (!f)
		return -EBADF;
	if (q->s->ro && (valid & 0x1bf))
		return -EROFS;
	/*
	 * Work on the file itself through an O_PATH fd: /proc/self/fd/N
	 * names exactly that inode, whatever the path does meanwhile. A
	 * symlink is never followed: it only gets its owner changed.
	 */
	fd = resolve(q->s, f->path, O_PATH);
	if (fd < 0)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fstat(fd, &st))
		r = -errno;
	if (!r && (valid & (SETATTR_UID | SETATTR_GID)) &&
	    fchownat(fd, "", (valid & SETATTR_UID) ? uid : (uint32_t)-1,
		     (valid & SETATTR_GID) ? gid : (uint32_t)-1,
		     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		r = -errno;
	/*
	 * The *at forms: musl's chmod() and open() are the legacy system
	 * calls on x86_64, which the I/O thread's filter does not allow.
	 */
	if (!r && (valid & SETATTR_MODE) && !S_ISLNK(st.st_mode) &&
	    fchmodat(AT_FDCWD, proc, mode & 07777, 0))
		r = -errno;
	if (!r && (valid & SETATTR_SIZE)) {
		if (!S_ISREG(st.st_mode) || size > INT64_MAX) {
			r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		} else {
			int wfd = openat(AT_FDCWD, proc, O_WRONLY | O_CLOEXEC);

			if (wfd < 0 || ftruncate(wfd, size))
				r = -errno;
			if (wfd >= 0)
				close(wfd);
		}
	}
	if (!r && (valid & (SETATTR_ATIME | SETATTR_MTIME)) &&
	    !S_ISLNK(st.st_mode)) {
		if (!(valid & SETATTR_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		else if (!(valid & SETATTR_ATIME_SET))
			ts[0].tv_nsec = UTIME_NOW;
		if (!(valid & SETATTR_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		else if (!(valid & SETATTR_MTIME_SET))
			ts[1].tv_nsec = UTIME_NOW;
		if (utimensat(AT_FDCWD, proc, ts, 0))
			r = -errno;
	}
	close(fd);
	return r;
}

struct dirent64_raw {
	uint64_t ino;
	int64_t off;
	uint16_t reclen;
	uint8_t type;
	char name[];
};

static int op_readdir(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	uint64_t off = rd64(&q->in);
	uint32_t count = rd32(&q->in);
	struct p9_fid *f = fid_get(q->s, fid);
	size_t room = q->out.cap - q->out.off, start;
	uint8_t buf[8192];
	struct wr w;
	long n, pos;

	if (q->in.bad)
		return BADMSG;
	if (!f || f->fd < 0)
		return -EBADF;
	if (room < 4)
		return -ENOBUFS;
	if (count > room - 4)
		count = room - 4;
	if (off > INT64_MAX || lseek(f->fd, off, SEEK_SET) < 0)
		return -EINVAL;
	w = (struct wr){ q->out.p + q->out.off + 4, count, 0, false };
	start = 0;
	n = syscall(SYS_getdents64, f->fd, buf,
		    count < sizeof(buf) ? (count > 512 ? count : 512) :
					  sizeof(buf));
	if (n < 0)
		return -errno;
	for (pos = 0; pos < n;) {
		struct dirent64_raw *d = (void *)(buf + pos);
		size_t len = strlen(d->name);

		if (13 + 8 + 1 + 2 + len > w.cap - w.off)
			break;
		wr_le(&w,
		      d->type == DT_DIR ? 0x80 :
		      d->type == DT_LNK ? 0x02 :
					  0,
		      1);
		wr_le(&w, 0, 4);
		wr_le(&w, d->ino, 8);
		wr_le(&w, d->off, 8);
		wr_le(&w, d->type, 1);
		wr_str(&w, d->name);
		start = w.off;
		pos += d->reclen;
	}
	wr_le(&q->out, start, 4);
	wr_take(&q->out, start);
	return 0;
}

static int op_statfs(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	struct p9_fid *f = fid_get(q->s, fid);
	struct statfs sf;
	int fd, r;

	if (q->in.bad)
		return BADMSG;
	if (!f)
		return -EBADF;
	fd = resolve(q->s, f->path, O_PATH);
	if (fd < 0)
		return fd;
	r = fstatfs(fd, &sf) ? -errno : 0;
	close(fd);
	if (r)
		return r;
	wr_le(&q->out, sf.f_type, 4);
	wr_le(&q->out, sf.f_bsize, 4);
	wr_le(&q->out, sf.f_blocks, 8);
	wr_le(&q->out, sf.f_bfree, 8);
	wr_le(&q->out, sf.f_bavail, 8);
	wr_le(&q->out, sf.f_files, 8);
	wr_le(&q->out, sf.f_ffree, 8);
	wr_le(&q->out, 0, 8);
	wr_le(&q->out, sf.f_namelen, 4);
	return 0;
}

/* The parent fid's directory and a checked new name, for creating ops. */
static int create_prep(struct req *q, uint32_t dfid, int *dfd)
{
	struct p9_fid *d = fid_get(q->s, dfid);

	if (q->in.bad)
		return BADMSG;
	if (!d)
		return -EBADF;
	if (q->s->ro)
		return -EROFS;
	if (!name_ok(q->name))
		return -EINVAL;
	*dfd = dir_fd(q->s, d);
	return *dfd < 0 ? *dfd : 0;
}

/* Replies with the qid of dfd/name, then closes dfd. */
static int created(struct req *q, int dfd, uint32_t gid)
{
	struct stat st;
	int r = 0;

	if (fchownat(dfd, q->name, -1, gid, AT_SYMLINK_NOFOLLOW)) {
		/* kiln may not own that group: keep its own. */
	}
	if (fstatat(dfd, q->name, &st, AT_SYMLINK_NOFOLLOW))
		r = -errno;
	else
		wr_qid(&q->out, &st);
	close(dfd);
	return r;
}

static int op_mkdir(struct req *q)
{
	uint32_t dfid = rd32(&q->in), mode, gid;
	int dfd, r;

	rd_str(&q->in, q->name, sizeof(q->name));
	mode = rd32(&q->in);
	gid = rd32(&q->in);
	r = create_prep(q, dfid, &dfd);
	if (r)
		return r;
	if (mkdirat(dfd, q->name, mode & 07777)) {
		r = -errno;
		close(dfd);
		return r;
	}
	return created(q, dfd, gid);
}

static int op_symlink(struct req *q)
{
	uint32_t dfid = rd32(&q->in), gid;
	char target[PATH_MAX];
	int dfd, r;

	rd_str(&q->in, q->name, sizeof(q->name));
	rd_str(&q->in, target, sizeof(target));
	gid = rd32(&q->in);
	r = create_prep(q, dfid, &dfd);
	if (r)
		return r;
	/* Any target is fine: kiln never follows a symlink. */
	if (symlinkat(target, dfd, q->name)) {
		r = -errno;
		close(dfd);
		return r;
	}
	return created(q, dfd, gid);
}

static int op_mknod(struct req *q)
{
	uint32_t dfid = rd32(&q->in), mode, major, minor, gid;
	int dfd, r;

	rd_str(&q->in, q->name, sizeof(q->name));
	mode = rd32(&q->in);
	major = rd32(&q->in);
	minor = rd32(&q->in);
	gid = rd32(&q->in);
	r = create_prep(q, dfid, &dfd);
	if (r)
		return r;
	/* No device nodes on the host for the guest. */
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode) && !S_ISREG(mode)) {
		close(dfd);
		return -EPERM;
	}
	if (mknodat(dfd, q->name, mode & (S_IFMT | 07777),
		    makedev(major, minor))) {
		r = -errno;
		close(dfd);
		return r;
	}
	return created(q, dfd, gid);
}

static int op_readlink(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	struct p9_fid *f = fid_get(q->s, fid);
	char target[PATH_MAX];
	ssize_t n;
	int fd;

	if (q->in.bad)
		return BADMSG;
	if (!f)
		return -EBADF;
	fd = resolve(q->s, f->path, O_PATH);
	if (fd < 0)
		return fd;
	n = readlinkat(fd, "", target, sizeof(target) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	target[n] = 0;
	wr_str(&q->out, target);
	return 0;
}

static int op_unlinkat(struct req *q)
{
	uint32_t dfid = rd32(&q->in), flags;
	int dfd, r;

	rd_str(&q->in, q->name, sizeof(q->name));
	flags = rd32(&q->in);
	r = create_prep(q, dfid, &dfd);
	if (r)
		return r;
	r = unlinkat(dfd, q->name, flags & AT_REMOVEDIR) ? -errno : 0;
	close(dfd);
	return r;
}

static int do_rename(struct req *q, struct p9_fid *od, const char *oname,
		     struct p9_fid *nd, const char *nname)
{
	char *from = path_join(od->path, oname),
	     *to = path_join(nd->path, nname);
	int ofd = -1, nfd = -1, r;

	if (!from || !to) {
		r = -ENAMETOOLONG;
		goto out;
	}
	ofd = dir_fd(q->s, od);
	nfd = dir_fd(q->s, nd);
	if (ofd < 0 || nfd < 0) {
		r = ofd < 0 ? ofd : nfd;
		goto out;
	}
	r = renameat(ofd, oname, nfd, nname) ? -errno : 0;
	if (!r)
		fids_renamed(q->s, from, to);
out:
	if (ofd >= 0)
		close(ofd);
	if (nfd >= 0)
		close(nfd);
	free(from);
	free(to);
	return r;
}

/* Renames od/oname to nd/nname once both fids and names check out. */
static int rename_checked(struct req *q, struct p9_fid *od, const char *oname,
			  struct p9_fid *nd, const char *nname)
{
	if (!od || !nd)
		return -EBADF;
	if (q->s->ro)
		return -EROFS;
	if (!name_ok(oname) || !name_ok(nname))
		return -EINVAL;
	return do_rename(q, od, oname, nd, nname);
}

static int op_renameat(struct req *q)
{
	uint32_t ofid = rd32(&q->in), nfid;

	rd_str(&q->in, q->name, sizeof(q->name));
	nfid = rd32(&q->in);
	rd_str(&q->in, q->name2, sizeof(q->name2));
	if (q->in.bad)
		return BADMSG;
	return rename_checked(q, fid_get(q->s, ofid), q->name,
			      fid_get(q->s, nfid), q->name2);
}

static int op_rename(struct req *q)
{
	uint32_t fid = rd32(&q->in), dfid = rd32(&q->in);
	struct p9_fid *f, parent = { 0 };
	const char *slash;
	int r;

	rd_str(&q->in, q->name2, sizeof(q->name2));
	if (q->in.bad)
		return BADMSG;
	f = fid_get(q->s, fid);
	if (!f || !*f->path)
		return f ? -EINVAL : -EBADF;
	slash = strrchr(f->path, '/');
	parent.path = strndup(f->path, slash ? slash - f->path : 0);
	if (!parent.path)
		return -ENOMEM;
	snprintf(q->name, sizeof(q->name), "%s", slash ? slash + 1 : f->path);
	r = rename_checked(q, &parent, q->name, fid_get(q->s, dfid), q->name2);
	free(parent.path);
	return r;
}

static int op_link(struct req *q)
{
	uint32_t dfid = rd32(&q->in), fid = rd32(&q->in);
	struct p9_fid *f;
	char proc[64];
	int dfd, fd, r;

	rd_str(&q->in, q->name, sizeof(q->name));
	r = create_prep(q, dfid, &dfd);
	if (r)
		return r;
	f = fid_get(q->s, fid);
	fd = f ? resolve(q->s, f->path, O_PATH) : -EBADF;
	if (fd < 0) {
		close(dfd);
		return fd;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	r = linkat(AT_FDCWD, proc, dfd, q->name, AT_SYMLINK_FOLLOW) ? -errno :
								      0;
	close(fd);
	close(dfd);
	return r;
}

static int op_fsync(struct req *q)
{
	uint32_t fid = rd32(&q->in), datasync = rd32(&q->in);
	struct p9_fid *f = fid_get(q->s, fid);

	if (q->in.bad)
		return BADMSG;
	if (!f || f->fd < 0)
		return -EBADF;
	if ((datasync ? fdatasync(f->fd) : fsync(f->fd)) && errno != EINVAL)
		return -errno;
	return 0;
}

static int op_lock(struct req *q)
{
	if (!fid_get(q->s, rd32(&q->in)))
		return q->in.bad ? BADMSG : -EBADF;
	/* Locks are the guest's own business: grant them. */
	wr_le(&q->out, 0, 1);
	return 0;
}

static int op_getlock(struct req *q)
{
	uint32_t fid = rd32(&q->in);
	uint64_t start, len;
	uint32_t pid;

	rd_take(&q->in, 1); /* type */
	start = rd64(&q->in);
	len = rd64(&q->in);
	pid = rd32(&q->in);
	rd_str(&q->in, q->name, sizeof(q->name));
	if (q->in.bad)
		return BADMSG;
	if (!fid_get(q->s, fid))
		return -EBADF;
	wr_le(&q->out, 2, 1); /* F_UNLCK: nothing conflicts */
	wr_le(&q->out, start, 8);
	wr_le(&q->out, len, 8);
	wr_le(&q->out, pid, 4);
	wr_str(&q->out, q->name);
	return 0;
}

static int dispatch(struct req *q, uint8_t type)
{
	switch (type) {
	case P9_TVERSION:
		return op_version(q);
	case P9_TATTACH:
		return op_attach(q);
	case P9_TWALK:
		return op_walk(q);
	case P9_TLOPEN:
		return op_lopen(q);
	case P9_TLCREATE:
		return op_lcreate(q);
	case P9_TREAD:
		return op_read(q);
	case P9_TWRITE:
		return op_write(q);
	case P9_TCLUNK:
		return op_clunk(q);
	case P9_TREMOVE:
		return op_remove(q);
	case P9_TGETATTR:
		return op_getattr(q);
	case P9_TSETATTR:
		return op_setattr(q);
	case P9_TREADDIR:
		return op_readdir(q);
	case P9_TSTATFS:
		return op_statfs(q);
	case P9_TMKDIR:
		return op_mkdir(q);
	case P9_TSYMLINK:
		return op_symlink(q);
	case P9_TMKNOD:
		return op_mknod(q);
	case P9_TREADLINK:
		return op_readlink(q);
	case P9_TUNLINKAT:
		return op_unlinkat(q);
	case P9_TRENAMEAT:
		return op_renameat(q);
	case P9_TRENAME:
		return op_rename(q);
	case P9_TLINK:
		return op_link(q);
	case P9_TFSYNC:
		return op_fsync(q);
	case P9_TLOCK:
		return op_lock(q);
	case P9_TGETLOCK:
		return op_getlock(q);
	case P9_TFLUSH:
		/* Requests complete in order: nothing is left to flush. */
		return 0;
	default:
		/* Xattrs, authentication and the rest: not offered. */
		return -EOPNOTSUPP;
	}
}

size_t p9_handle(struct p9_server *s, const uint8_t *req, size_t req_len,
		 uint8_t *rep, size_t rep_cap)
{
	struct req q = { .s = s };
	uint32_t size;
	uint16_t tag;
	uint8_t type;
	int r;

	if (req_len < P9_HDR || rep_cap < P9_HDR + 4)
		return 0;
	size = req[0] | req[1] << 8 | req[2] << 16 | (uint32_t)req[3] << 24;
	type = req[4];
	tag = req[5] | req[6] << 8;
	if (rep_cap > s->msize && type != P9_TVERSION)
		rep_cap = s->msize;
	q.in = (struct rd){ req, size, P9_HDR, false };
	q.out = (struct wr){ rep, rep_cap, P9_HDR, false };
	if (size < P9_HDR || size > req_len ||
	    (size > s->msize && type != P9_TVERSION)) {
		pr_guest("9p: message of %u bytes (%zu sent, msize %u) refused",
			 size, req_len, s->msize);
		r = -EMSGSIZE;
	} else if (!s->msize && type != P9_TVERSION) {
		r = -EPROTO; /* no session yet */
	} else {
		r = dispatch(&q, type);
		if (!r && q.out.full)
			r = -ENOBUFS;
		if (r == BADMSG)
			pr_guest("9p: malformed message of type %u", type);
	}
	if (r) {
		pr_debug("9p: request type %u: %s", type, strerror(-r));
		q.out = (struct wr){ rep, rep_cap, P9_HDR, false };
		wr_le(&q.out, -r, 4);
		type = P9_RLERROR;
	} else {
		type++;
	}
	rep[0] = q.out.off;
	rep[1] = q.out.off >> 8;
	rep[2] = q.out.off >> 16;
	rep[3] = q.out.off >> 24;
	rep[4] = type;
	rep[5] = tag;
	rep[6] = tag >> 8;
	return q.out.off;
}

int p9_init(struct p9_server *s, int root_fd, bool ro)
{
	memset(s, 0, sizeof(*s));
	s->root_fd = root_fd;
	s->ro = ro;
	return 0;
}

void p9_reset(struct p9_server *s)
{
	fid_drop_all(s);
	s->msize = 0;
}

void p9_destroy(struct p9_server *s)
{
	fid_drop_all(s);
	if (s->root_fd >= 0)
		close(s->root_fd);
	s->root_fd = -1;
}
