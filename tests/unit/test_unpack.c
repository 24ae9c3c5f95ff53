// SPDX-License-Identifier: MIT
/*
 * Kernel decompression (each format on data compressed here, corrupt,
 * truncated and oversized input) and the kernel cache (hits, corrupt and
 * truncated entries replaced, an unusable directory, the size bound).
 */
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "kcache.h"
#include "unpack.h"
#include "unit.h"

/* Compressible, not trivial: what a kernel image looks like to a codec. */
static uint8_t *sample(size_t len)
{
	uint8_t *p = malloc(len);
	uint32_t x = 12345;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		p[i] = (i % 64 < 40) ? (uint8_t)(i >> 7) : (uint8_t)(x >> 24);
	}
	return p;
}

static void append_size(uint8_t *out, size_t *n, uint32_t size)
{
	memcpy(out + *n, &size, 4);
	*n += 4;
}

/* data compressed in fmt, with the size word the kernel's build appends. */
static uint8_t *pack(enum unpack_fmt fmt, const uint8_t *data, size_t len,
		     size_t *outlen)
{
	size_t cap = len + len / 2 + (1 << 16), n = 0;
	uint8_t *out = malloc(cap);

	switch (fmt) {
	case UNPACK_GZIP: {
		z_stream z;

		memset(&z, 0, sizeof(z));
		CU_ASSERT_FATAL(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS,
					     8, Z_DEFAULT_STRATEGY) == Z_OK);
		z.next_in = (uint8_t *)data;
		z.avail_in = len;
		z.next_out = out;
		z.avail_out = cap;
		CU_ASSERT_FATAL(deflate(&z, Z_FINISH) == Z_STREAM_END);
		n = z.total_out;
		deflateEnd(&z);
		return *outlen = n, out; /* gzip carries its own size */
	}
	case UNPACK_XZ:
		CU_ASSERT_FATAL(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32,
							NULL, data, len, out,
							&n, cap) == LZMA_OK);
		break;
	case UNPACK_ZSTD:
		n = ZSTD_compress(out, cap, data, len, 3);
		CU_ASSERT_FATAL(!ZSTD_isError(n));
		break;
	case UNPACK_LZ4: {
		const uint32_t magic = 0x184c2102, block = 8 << 20;
		size_t off;

		memcpy(out, &magic, 4);
		n = 4;
		for (off = 0; off < len; off += block) {
			int chunk = len - off < block ? len - off : block;
			int c = LZ4_compress_default((const char *)data + off,
						     (char *)out + n + 4, chunk,
						     cap - n - 4);
			uint32_t c32 = c;

			CU_ASSERT_FATAL(c > 0);
			memcpy(out + n, &c32, 4);
			n += 4 + c;
		}
		break;
	}
	default:
		CU_FAIL_FATAL("no such format");
	}
	append_size(out, &n, len);
	*outlen = n;
	return out;
}

static int decode(const uint8_t *in, size_t len, size_t max, uint8_t **out,
		  size_t *outlen)
{
	char err[256] = "";
	int r = unpack(unpack_detect(in, len), in, len, max, out, outlen, err,
		       sizeof(err));

	if (r)
		CU_ASSERT(err[0] != 0);
	return r;
}

static void roundtrip(enum unpack_fmt fmt, size_t len)
{
	uint8_t *data = sample(len), *c, *out = NULL;
	size_t clen, olen = 0;

	c = pack(fmt, data, len, &clen);
	CU_ASSERT_EQUAL(unpack_detect(c, clen), fmt);
	CU_ASSERT_EQUAL_FATAL(decode(c, clen, 64 << 20, &out, &olen), 0);
	CU_ASSERT_EQUAL(olen, len);
	CU_ASSERT(olen == len && !memcmp(out, data, len));
	free(out);

	/* Truncated at half, and corrupt in the middle. */
	CU_ASSERT_EQUAL(decode(c, clen / 2, 64 << 20, &out, &olen), -EINVAL);
	c[clen / 2] ^= 0x55;
	c[clen / 2 + 1] ^= 0xaa;
	c[clen / 2 + 7] ^= 0x33;
	if (decode(c, clen, 64 << 20, &out, &olen) == 0) {
		/* lz4 and gzip blocks may decode, but not to the same. */
		CU_ASSERT(olen != len || memcmp(out, data, len));
		CU_ASSERT(fmt == UNPACK_LZ4);
		free(out);
	}
	c[clen / 2] ^= 0x55;
	c[clen / 2 + 1] ^= 0xaa;
	c[clen / 2 + 7] ^= 0x33;
	/* Larger than the caller allows. */
	CU_ASSERT_EQUAL(decode(c, clen, len / 3, &out, &olen), -EFBIG);
	/* Just the head (what a probe reads): the first bytes, exactly;
	 * lz4 decodes whole blocks, so it may give none. */
	{
		uint8_t head[64];
		size_t got = 99;
		char err[256];

		CU_ASSERT_EQUAL(unpack_head(fmt, c, clen, head, sizeof(head),
					    &got, err, sizeof(err)),
				0);
		if (fmt != UNPACK_LZ4 || got)
			CU_ASSERT(got == sizeof(head) &&
				  !memcmp(head, data, sizeof(head)));
		/* Shorter than asked: all of it. */
		free(c);
		c = pack(fmt, data, 10, &clen);
		CU_ASSERT_EQUAL(unpack_head(fmt, c, clen, head, sizeof(head),
					    &got, err, sizeof(err)),
				0);
		CU_ASSERT(got == 10 && !memcmp(head, data, 10));
		/* Not that format: refused. */
		CU_ASSERT_EQUAL(unpack_head(fmt, data, 10, head, sizeof(head),
					    &got, err, sizeof(err)),
				-ENOTSUP);
	}
	free(c);
	free(data);
}

static void test_gzip(void)
{
	roundtrip(UNPACK_GZIP, 1 << 20);
}

static void test_xz(void)
{
	roundtrip(UNPACK_XZ, 1 << 20);
}

static void test_zstd(void)
{
	roundtrip(UNPACK_ZSTD, 1 << 20);
}

static void test_lz4(void)
{
	/* Two blocks: the legacy frame's 8 MiB one and a short one. */
	roundtrip(UNPACK_LZ4, (8 << 20) + 12345);
}

static void test_formats(void)
{
	static const uint8_t bz[] = "BZh91AY&SY", lzo[] = "\x89LZO\0";
	static const uint8_t junk[] = "hello, world";
	uint8_t *out = NULL;
	size_t olen;
	char err[256];

	CU_ASSERT_EQUAL(unpack_detect(bz, sizeof(bz)), UNPACK_NONE);
	CU_ASSERT_STRING_EQUAL(unpack_name(bz, sizeof(bz)), "bzip2");
	CU_ASSERT_STRING_EQUAL(unpack_name(lzo, sizeof(lzo)), "lzo");
	CU_ASSERT_EQUAL(unpack(UNPACK_NONE, bz, sizeof(bz), 1 << 20, &out,
			       &olen, err, sizeof(err)),
			-ENOTSUP);
	CU_ASSERT(strstr(err, "bzip2") != NULL);
	/* A format that is not what the data is, and empty input. */
	CU_ASSERT_EQUAL(unpack(UNPACK_XZ, junk, sizeof(junk), 1 << 20, &out,
			       &olen, err, sizeof(err)),
			-ENOTSUP);
	CU_ASSERT_EQUAL(unpack(UNPACK_GZIP, junk, 0, 1 << 20, &out, &olen, err,
			       sizeof(err)),
			-ENOTSUP);
	/* Magic bytes alone. */
	CU_ASSERT_EQUAL(decode((const uint8_t *)"\x1f\x8b", 2, 1 << 20, &out,
			       &olen),
			-EINVAL);
	CU_ASSERT_EQUAL(decode((const uint8_t *)"\x02\x21\x4c\x18", 4, 1 << 20,
			       &out, &olen),
			-EINVAL);
	/* An lz4 block size past the end, and one absurdly large. */
	CU_ASSERT_EQUAL(decode((const uint8_t *)"\x02\x21\x4c\x18\x10\0\0\0xx",
			       10, 1 << 20, &out, &olen),
			-EINVAL);
	CU_ASSERT_EQUAL(
		decode((const uint8_t *)"\x02\x21\x4c\x18\xff\xff\xff\x7f", 8,
		       1 << 20, &out, &olen),
		-EINVAL);
}

/* --- The cache ------------------------------------------------------------ */

static char *cache_dir(void)
{
	char tmpl[] = "/tmp/kiln-kc-XXXXXX", *d = mkdtemp(tmpl);

	CU_ASSERT_FATAL(d != NULL);
	return strdup(d);
}

static void rm_dir(const char *d)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	CU_ASSERT(system(cmd) == 0);
}

/* The one entry in dir (its path), or NULL. */
static char *only_entry(const char *dir)
{
	char cmd[300], line[512], *s = NULL;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ls '%s'", dir);
	f = popen(cmd, "r");
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		free(s);
		if (asprintf(&s, "%s/%s", dir, line) < 0)
			s = NULL;
	}
	pclose(f);
	return s;
}

static int nr_entries(const char *dir)
{
	char cmd[300];
	int n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	f = popen(cmd, "r");
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	pclose(f);
	return n;
}

struct kfile {
	uint8_t *data, *file;
	size_t len, flen;
};

/* A "kernel file": 64 bytes of header, then an xz payload of len bytes
 * (data[0] is salt, so that each salt makes another kernel). */
static void make_kfile(struct kfile *k, size_t len, uint8_t salt)
{
	size_t clen;
	uint8_t *c;

	k->data = sample(len);
	k->data[0] = salt;
	c = pack(UNPACK_XZ, k->data, len, &clen);
	k->flen = 64 + clen;
	k->file = calloc(1, k->flen);
	memcpy(k->file + 64, c, clen);
	k->len = len;
	free(c);
}

static void free_kfile(struct kfile *k)
{
	free(k->data);
	free(k->file);
}

static int get(const char *dir, bool use, const struct kfile *k,
	       struct kc_image *img)
{
	char why[256] = "";

	return kc_get(dir, use, k->file, k->flen, "test", k->file + 64,
		      k->flen - 64, img, why, sizeof(why));
}

static bool same(const struct kc_image *img, const struct kfile *k)
{
	return img->len == k->len && !memcmp(img->data, k->data, k->len);
}

static void test_hash(void)
{
	uint8_t *a = sample(4096), *b = sample(4096);
	struct kc_hash h1 = kc_hash(a, 4096), h2 = kc_hash(b, 4096), h3;

	CU_ASSERT(!memcmp(&h1, &h2, sizeof(h1)));
	b[4000] ^= 1;
	h2 = kc_hash(b, 4096);
	CU_ASSERT(h1.h[0] != h2.h[0] && h1.h[1] != h2.h[1]);
	/* The length counts, and so do the last (odd) bytes. */
	h3 = kc_hash(a, 4095);
	CU_ASSERT(h1.h[0] != h3.h[0]);
	b[4000] ^= 1;
	b[4095] ^= 0x80;
	h2 = kc_hash(b, 4096);
	CU_ASSERT(h1.h[0] != h2.h[0]);
	h1 = kc_hash(a, 0);
	h2 = kc_hash(b, 0);
	CU_ASSERT(!memcmp(&h1, &h2, sizeof(h1)));
	free(a);
	free(b);
}

static void test_cache_hit(void)
{
	char *dir = cache_dir(), *e;
	struct kc_image img;
	struct kfile k;
	struct stat st;

	make_kfile(&k, 1 << 18, 1);
	/* Cold: decoded and stored; warm: mapped from the entry. */
	CU_ASSERT_EQUAL_FATAL(get(dir, true, &k, &img), 0);
	CU_ASSERT(same(&img, &k));
	CU_ASSERT(img.stored && !img.from_cache);
	kc_image_release(&img);
	CU_ASSERT_EQUAL(nr_entries(dir), 1); /* no temporary file left */
	e = only_entry(dir);
	CU_ASSERT_FATAL(e && !stat(e, &st));
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL_FATAL(get(dir, true, &k, &img), 0);
	CU_ASSERT(same(&img, &k));
	CU_ASSERT(img.from_cache && !img.stored);
	kc_image_release(&img);
	/* Another user's entry (as root, where it can be made): neither
	 * booted nor replaced. */
	if (!chown(e, 65534, 65534)) {
		CU_ASSERT_EQUAL_FATAL(get(dir, true, &k, &img), 0);
		CU_ASSERT(same(&img, &k) && !img.from_cache && !img.stored);
		kc_image_release(&img);
		CU_ASSERT(!stat(e, &st) && st.st_uid == 65534);
	}
	/* Not using the cache: decoded, nothing read or written. */
	rm_dir(dir);
	CU_ASSERT_EQUAL_FATAL(get(dir, false, &k, &img), 0);
	CU_ASSERT(same(&img, &k) && !img.from_cache && !img.stored);
	kc_image_release(&img);
	CU_ASSERT(access(dir, F_OK) != 0);
	/* The directory is made, private, with its parents. */
	free(e);
	CU_ASSERT(asprintf(&e, "%s/a/b", dir) > 0);
	CU_ASSERT_EQUAL_FATAL(get(e, true, &k, &img), 0);
	CU_ASSERT(img.stored);
	kc_image_release(&img);
	CU_ASSERT(!stat(e, &st) && (st.st_mode & 0777) == 0700);
	free(e);
	rm_dir(dir);
	free(dir);
	free_kfile(&k);
}

/* Damages the entry: a flipped byte at off, or cut to len. */
static void damage(const char *path, long off, long len)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	CU_ASSERT_FATAL(fd >= 0);
	if (len >= 0) {
		CU_ASSERT(ftruncate(fd, len) == 0);
	} else {
		CU_ASSERT(pread(fd, &b, 1, off) == 1);
		b ^= 0x40;
		CU_ASSERT(pwrite(fd, &b, 1, off) == 1);
	}
	close(fd);
}

static void test_cache_corrupt(void)
{
	char *dir = cache_dir(), *e;
	struct kc_image img;
	struct kfile k;
	struct {
		long off, len;
	} cases[] = { { 200000, -1 }, { 3, -1 }, { 20, -1 },
		      { 0, 100000 },  { 0, 40 }, { 0, 0 } };
	unsigned int i;

	make_kfile(&k, 1 << 18, 2);
	CU_ASSERT_EQUAL_FATAL(get(dir, true, &k, &img), 0);
	kc_image_release(&img);
	e = only_entry(dir);
	CU_ASSERT_FATAL(e != NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].len >= 0)
			damage(e, 0, cases[i].len);
		else
			damage(e, cases[i].off, -1);
		/* Detected: decoded again (right), and the entry rewritten. */
		CU_ASSERT_EQUAL_FATAL(get(dir, true, &k, &img), 0);
		CU_ASSERT(same(&img, &k));
		CU_ASSERT(!img.from_cache && img.stored);
		kc_image_release(&img);
		CU_ASSERT_EQUAL_FATAL(get(dir, true, &k, &img), 0);
		CU_ASSERT(same(&img, &k) && img.from_cache);
		kc_image_release(&img);
	}
	/* Another kernel's entry under this one's name is not taken. */
	{
		struct kfile k2;
		char cmd[600], *e2;

		make_kfile(&k2, 1 << 18, 3);
		CU_ASSERT_EQUAL_FATAL(get(dir, true, &k2, &img), 0);
		kc_image_release(&img);
		CU_ASSERT_EQUAL(nr_entries(dir), 2);
		e2 = only_entry(dir);
		snprintf(
			cmd, sizeof(cmd),
			"for f in '%s'/*; do [ \"$f\" = '%s' ] || cp '%s' \"$f\"; done",
			dir, e2, e2);
		CU_ASSERT(system(cmd) == 0);
		CU_ASSERT_EQUAL_FATAL(get(dir, true, &k, &img), 0);
		CU_ASSERT(same(&img, &k) && !img.from_cache);
		kc_image_release(&img);
		free(e2);
		free_kfile(&k2);
	}
	free(e);
	rm_dir(dir);
	free(dir);
	free_kfile(&k);
}

/* Kilns starting at once: each gets the kernel, one whole entry stays. */
static void test_cache_concurrent(void)
{
	char *dir = cache_dir();
	struct kc_image img;
	struct kfile k;
	pid_t pids[4];
	unsigned int i;
	int st, ok = 0;

	make_kfile(&k, 1 << 18, 5);
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		CU_ASSERT_FATAL(pids[i] >= 0);
		if (!pids[i]) {
			int r = get(dir, true, &k, &img);

			_exit(!r && same(&img, &k) ? 0 : 1);
		}
	}
	for (i = 0; i < 4; i++)
		if (waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) &&
		    !WEXITSTATUS(st))
			ok++;
	CU_ASSERT_EQUAL(ok, 4);
	CU_ASSERT_EQUAL(nr_entries(dir), 1);
	CU_ASSERT_EQUAL_FATAL(get(dir, true, &k, &img), 0);
	CU_ASSERT(same(&img, &k) && img.from_cache);
	kc_image_release(&img);
	rm_dir(dir);
	free(dir);
	free_kfile(&k);
}

static void test_cache_unusable(void)
{
	struct kc_image img;
	struct kfile k;

	make_kfile(&k, 1 << 18, 4);
	/* A directory that cannot be made (below a file): in memory. */
	CU_ASSERT_EQUAL_FATAL(get("/dev/null/kiln", true, &k, &img), 0);
	CU_ASSERT(same(&img, &k) && !img.stored && !img.from_cache);
	kc_image_release(&img);
	/* A read-only file system. */
	CU_ASSERT_EQUAL_FATAL(get("/proc/kiln-cache", true, &k, &img), 0);
	CU_ASSERT(same(&img, &k) && !img.stored);
	kc_image_release(&img);
	/* A corrupt payload is an error, cache or not. */
	k.file[64 + 200] ^= 0xff;
	CU_ASSERT_EQUAL(get("/dev/null/kiln", true, &k, &img), -EINVAL);
	free_kfile(&k);
}

static void test_cache_bound(void)
{
	char *dir = cache_dir();
	struct kc_image img;
	struct kfile k[3];
	unsigned int i;

	/* Room for two entries of 256 KiB: the least recently used goes. */
	setenv("KILN_KERNEL_CACHE_MAX", "600000", 1);
	for (i = 0; i < 3; i++) {
		make_kfile(&k[i], 1 << 18, 10 + i);
		CU_ASSERT_EQUAL_FATAL(get(dir, true, &k[i], &img), 0);
		kc_image_release(&img);
		if (i == 1) {
			/* k[0] used again: k[1] is now the oldest. */
			usleep(20000);
			CU_ASSERT_EQUAL_FATAL(get(dir, true, &k[0], &img), 0);
			CU_ASSERT(img.from_cache);
			kc_image_release(&img);
			usleep(20000);
		}
	}
	CU_ASSERT_EQUAL(nr_entries(dir), 2);
	CU_ASSERT_EQUAL_FATAL(get(dir, true, &k[0], &img), 0);
	CU_ASSERT(img.from_cache);
	kc_image_release(&img);
	CU_ASSERT_EQUAL_FATAL(get(dir, true, &k[1], &img), 0);
	CU_ASSERT(!img.from_cache);
	kc_image_release(&img);
	unsetenv("KILN_KERNEL_CACHE_MAX");
	for (i = 0; i < 3; i++)
		free_kfile(&k[i]);
	rm_dir(dir);
	free(dir);
}

static void test_default_dir(void)
{
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL, *d;

	setenv("KILN_CACHE", "/var/c", 1);
	d = kc_default_dir();
	CU_ASSERT(d && !strcmp(d, "/var/c/kernels"));
	free(d);
	unsetenv("KILN_CACHE");
	setenv("XDG_CACHE_HOME", "/x", 1);
	d = kc_default_dir();
	CU_ASSERT(d && !strcmp(d, "/x/kiln/kernels"));
	free(d);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/h", 1);
	d = kc_default_dir();
	CU_ASSERT(d && !strcmp(d, "/h/.cache/kiln/kernels"));
	free(d);
	unsetenv("HOME");
	CU_ASSERT_PTR_NULL(kc_default_dir());
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_home);
}

void suite_unpack(void)
{
	static const CU_TestInfo tests[] = {
		{ "gzip", test_gzip },
		{ "xz", test_xz },
		{ "zstd", test_zstd },
		{ "lz4 legacy frame", test_lz4 },
		{ "formats kiln leaves alone, bad input", test_formats },
		{ "cache hash", test_hash },
		{ "cache cold, warm, off", test_cache_hit },
		{ "cache entry corrupt or truncated: replaced",
		  test_cache_corrupt },
		{ "cache written by several at once", test_cache_concurrent },
		{ "cache directory unusable", test_cache_unusable },
		{ "cache size bound (least recently used)", test_cache_bound },
		{ "cache directory from the environment", test_default_dir },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("kernel decompression and cache", tests);
}
