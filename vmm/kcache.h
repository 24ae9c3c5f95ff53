/* SPDX-License-Identifier: MIT */
#ifndef KILN_KCACHE_H
#define KILN_KCACHE_H

/*
 * The kernel cache: a compressed kernel's payload, decompressed once on
 * the host and kept, so that later boots skip the guest's own (slow,
 * every boot) decompression.
 *
 * Entries live in $KILN_CACHE/kernels, else $XDG_CACHE_HOME/kiln/kernels,
 * else $HOME/.cache/kiln/kernels; one file per kernel, named by a hash of
 * the kernel file's whole content and what is kept of it. Each entry
 * carries a checksum of its data, checked on every use: a corrupt or
 * truncated entry is replaced, never booted; one owned by another user
 * is neither booted nor replaced. Entries are written to a
 * temporary file and renamed into place, so kilns starting at once see
 * either no entry or a whole one. The directory is kept under a size
 * bound (KILN_KERNEL_CACHE_MAX bytes, 1 GiB by default), the least
 * recently used entries removed first. A cache that cannot be used
 * (no directory, read-only, full) is not an error: the kernel is then
 * decompressed in memory for this boot.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kc_hash {
	uint64_t h[2];
};

/* A fast 128-bit hash (not a cryptographic one) of buf[0..len). */
struct kc_hash kc_hash(const void *buf, size_t len);

/* A decompressed kernel: mapped from the cache, or in memory. */
struct kc_image {
	const uint8_t *data;
	size_t len;
	void *map; /* the cache file's mapping, or NULL */
	size_t map_len;
	uint8_t *heap; /* the in-memory copy, or NULL */
	bool from_cache; /* a warm hit */
	bool stored; /* decoded now and written to the cache */
};

/*
 * The decompressed form of the payload in[0..len) of the kernel file
 * src[0..src_len), tagged by what it is (e.g. "x86_64-vmlinux"): from the
 * cache when a good entry is there, else decoded (unpack.h) and stored.
 * dir NULL: the default directory; use_cache false: decoded in memory
 * only. Returns 0, or a negative errno with why set (then the kernel is
 * booted as it is).
 */
int kc_get(const char *dir, bool use_cache, const uint8_t *src, size_t src_len,
	   const char *tag, const uint8_t *in, size_t len, struct kc_image *img,
	   char *why, size_t whylen);

void kc_image_release(struct kc_image *img);

/*
 * The cache directory for this user (malloc'd), or NULL when the
 * environment names none.
 */
char *kc_default_dir(void);

/* Biggest decompressed kernel kiln takes. */
#define KC_MAX_IMAGE (1ULL << 30)

#endif
