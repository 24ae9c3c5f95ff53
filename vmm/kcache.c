// SPDX-License-Identifier: MIT
/* The kernel cache (kcache.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "kcache.h"
#include "log.h"
#include "unpack.h"

/* --- The hash ------------------------------------------------------------ */

static uint64_t rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

static uint64_t fmix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

struct kc_hash kc_hash(const void *buf, size_t len)
{
	const uint64_t m1 = 0x87c37b91114253d5ULL, m2 = 0x4cf5ad432745937fULL;
	const uint8_t *p = buf;
	uint64_t a = 0x9e3779b97f4a7c15ULL ^ len, b = 0xc2b2ae3d27d4eb4fULL;
	uint8_t tail[16] = { 0 };
	size_t i;

	/* Two lanes of 8 bytes a round, multiply-rotate mixed. */
	for (i = 0; i + 16 <= len; i += 16) {
		a ^= rotl(load64(p + i) * m1, 31) * m2;
		a = rotl(a, 27) + b;
		a = a * 5 + 0x52dce729;
		b ^= rotl(load64(p + i + 8) * m2, 33) * m1;
		b = rotl(b, 31) + a;
		b = b * 5 + 0x38495ab5;
	}
	if (len > i)
		memcpy(tail, p + i, len - i);
	a ^= rotl(load64(tail) * m1, 31) * m2;
	b ^= rotl(load64(tail + 8) * m2, 33) * m1;
	a += b;
	b += a;
	a = fmix(a);
	b = fmix(b);
	a += b;
	b += a;
	return (struct kc_hash){ { a, b } };
}

/* --- Entries ------------------------------------------------------------- */

#define KC_MAGIC "KILNKC\001"

struct kc_hdr {
	char magic[8];
	uint64_t src_len;
	struct kc_hash src;
	char tag[24];
	uint64_t data_len;
	struct kc_hash data;
};

char *kc_default_dir(void)
{
	const char *v;
	char *s = NULL;

	if ((v = getenv("KILN_CACHE")) && *v) {
		if (asprintf(&s, "%s/kernels", v) < 0)
			s = NULL;
	} else if ((v = getenv("XDG_CACHE_HOME")) && *v == '/') {
		if (asprintf(&s, "%s/kiln/kernels", v) < 0)
			s = NULL;
	} else if ((v = getenv("HOME")) && *v == '/') {
		if (asprintf(&s, "%s/.cache/kiln/kernels", v) < 0)
			s = NULL;
	}
	return s;
}

/* mkdir -p, each new level private to the user. */
static int mkdirs(const char *dir)
{
	char *p, *s = strdup(dir);
	int r = 0;

	if (!s)
		return -ENOMEM;
	for (p = s + 1; p; p = strchr(p + 1, '/')) {
		char c = *p;

		*p = 0;
		if (mkdir(s, 0700) && errno != EEXIST) {
			r = -errno;
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	if (!r && mkdir(s, 0700) && errno != EEXIST)
		r = -errno;
	free(s);
	return r;
}

static char *entry_path(const char *dir, struct kc_hash key, const char *tag)
{
	char *s;

	if (asprintf(&s, "%s/%016llx%016llx-%s", dir,
		     (unsigned long long)key.h[0], (unsigned long long)key.h[1],
		     tag) < 0)
		return NULL;
	return s;
}

static void fill_hdr(struct kc_hdr *h, size_t src_len, struct kc_hash src,
		     const char *tag, size_t len)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, KC_MAGIC, sizeof(h->magic));
	h->src_len = src_len;
	h->src = src;
	snprintf(h->tag, sizeof(h->tag), "%s", tag);
	h->data_len = len;
}

/*
 * Maps the entry at path when it is whole and for this kernel: 0, -ENOENT
 * when there is none, -EBADMSG when it is corrupt, another errno when it
 * cannot be read.
 */
static int lookup(const char *path, size_t src_len, struct kc_hash src,
		  const char *tag, struct kc_image *img)
{
	struct kc_hdr h, want;
	struct stat st;
	void *map;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EBADMSG;
	}
	/* What another user put there is not booted (nor removed). */
	if (st.st_uid != geteuid()) {
		close(fd);
		return -EPERM;
	}
	if ((uint64_t)st.st_size < sizeof(h) ||
	    (uint64_t)st.st_size > KC_MAX_IMAGE + sizeof(h)) {
		close(fd);
		return -EBADMSG;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	memcpy(&h, map, sizeof(h));
	fill_hdr(&want, src_len, src, tag, 0);
	if (memcmp(h.magic, want.magic, sizeof(h.magic)) ||
	    h.src_len != src_len || memcmp(&h.src, &src, sizeof(src)) ||
	    memcmp(h.tag, want.tag, sizeof(h.tag)) ||
	    h.data_len != (uint64_t)st.st_size - sizeof(h) || !h.data_len) {
		r = -EBADMSG;
	} else {
		struct kc_hash d =
			kc_hash((uint8_t *)map + sizeof(h), h.data_len);

		if (memcmp(&d, &h.data, sizeof(d)))
			r = -EBADMSG;
	}
	if (r) {
		munmap(map, st.st_size);
		close(fd);
		return r;
	}
	/* Used now: the last entry eviction takes. */
	futimens(fd, NULL);
	close(fd);
	img->map = map;
	img->map_len = st.st_size;
	img->data = (uint8_t *)map + sizeof(h);
	img->len = h.data_len;
	img->from_cache = true;
	return 0;
}

struct ent {
	char *name;
	uint64_t size;
	struct timespec used;
};

static int by_age(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return 0;
}

static uint64_t cache_max(void)
{
	const char *v = getenv("KILN_KERNEL_CACHE_MAX");
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return 1ULL << 30;
	n = strtoull(v, &end, 10);
	return *end ? 1ULL << 30 : n;
}

/* Removes the least recently used entries past the bound, not keep. */
static void evict(const char *dir, const char *keep)
{
	uint64_t total = 0, max = cache_max();
	struct ent *e = NULL, *ne;
	size_t n = 0, cap = 0, i;
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		struct stat st;

		if (d->d_name[0] == '.' ||
		    fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ne = realloc(e, cap * sizeof(*e));
			if (!ne)
				break;
			e = ne;
		}
		e[n].name = strdup(d->d_name);
		if (!e[n].name)
			break;
		e[n].size = st.st_size;
		e[n].used = st.st_mtim;
		total += st.st_size;
		n++;
	}
	qsort(e, n, sizeof(*e), by_age);
	for (i = 0; i < n && total > max; i++) {
		if (!strcmp(e[i].name, keep))
			continue;
		if (!unlinkat(dirfd(dp), e[i].name, 0)) {
			pr_debug(
				"kernel cache: removed %s (cache over %llu MiB)",
				e[i].name, (unsigned long long)(max >> 20));
			total -= e[i].size;
		}
	}
	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
	closedir(dp);
}

/* Writes the entry: a temporary file renamed into place. */
static int store(const char *dir, const char *path, size_t src_len,
		 struct kc_hash src, const char *tag, const uint8_t *data,
		 size_t len)
{
	struct kc_hdr h;
	char *tmp;
	int fd, r;

	if (asprintf(&tmp, "%s/.tmp-XXXXXX", dir) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	fill_hdr(&h, src_len, src, tag, len);
	h.data = kc_hash(data, len);
	r = write_full(fd, &h, sizeof(h));
	if (!r)
		r = write_full(fd, data, len);
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	free(tmp);
	if (!r)
		evict(dir, strrchr(path, '/') + 1);
	return r;
}

int kc_get(const char *dir, bool use_cache, const uint8_t *src, size_t src_len,
	   const char *tag, const uint8_t *in, size_t len, struct kc_image *img,
	   char *why, size_t whylen)
{
	char *own = NULL, *path = NULL;
	struct kc_hash key = { { 0, 0 } };
	size_t outlen;
	uint8_t *out;
	int r;

	memset(img, 0, sizeof(*img));
	if (use_cache && !dir)
		dir = own = kc_default_dir();
	if (use_cache && dir) {
		key = kc_hash(src, src_len);
		path = entry_path(dir, key, tag);
	}
	if (path) {
		r = lookup(path, src_len, key, tag, img);
		if (!r) {
			pr_debug("kernel cache: %s", path);
			goto out;
		}
		if (r == -EBADMSG) {
			pr_info("kernel cache: %s is corrupt or truncated: replacing it",
				path);
			unlink(path);
		} else if (r != -ENOENT) {
			pr_debug("kernel cache: cannot use %s: %s", path,
				 strerror(-r));
			/* Not ours to replace: decoded in memory. */
			free(path);
			path = NULL;
		}
	}
	r = unpack(unpack_detect(in, len), in, len, KC_MAX_IMAGE, &out, &outlen,
		   why, whylen);
	if (r)
		goto out;
	img->heap = out;
	img->data = out;
	img->len = outlen;
	if (path) {
		int s = mkdirs(dir);

		if (!s)
			s = store(dir, path, src_len, key, tag, out, outlen);
		if (s)
			pr_debug(
				"kernel cache: cannot write %s: %s (decompressed in memory)",
				path, strerror(-s));
		else
			img->stored = true;
	}
out:
	free(path);
	free(own);
	return r;
}

void kc_image_release(struct kc_image *img)
{
	if (img->map)
		munmap(img->map, img->map_len);
	free(img->heap);
	memset(img, 0, sizeof(*img));
}
