// SPDX-License-Identifier: MIT
/* The snapshot file's container (snapfile.h). */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcache.h"
#include "snapfile.h"

#define SNAP_MAGIC "KILNSNAP"
#define HDR_LEN 48
#define ENTRY_LEN 24
#define SUM_LEN 16

/*
 * The header; the file ends with a 16-byte trailer: kc_hash of every byte
 * before it. (At the end, a reader can check it without a copy.)
 */
struct snap_hdr {
	char magic[8];
	uint32_t version, arch, nr, hdr_len;
	uint64_t total_len;
	uint64_t reserved[2];
};

_Static_assert(sizeof(struct snap_hdr) == HDR_LEN, "the header's size");

enum snap_arch snap_host_arch(void)
{
#if defined(__x86_64__)
	return SNAP_ARCH_X86_64;
#else
	return SNAP_ARCH_AARCH64;
#endif
}

const char *snap_arch_name(uint32_t arch)
{
	switch (arch) {
	case SNAP_ARCH_X86_64:
		return "x86_64";
	case SNAP_ARCH_AARCH64:
		return "aarch64";
	}
	return "an unknown arch";
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int snap_add(struct snap_writer *w, uint32_t type, uint32_t id,
	     const void *data, size_t len)
{
	size_t at = align8(w->len), need;
	unsigned int i;

	if (w->failed)
		return -EINVAL;
	for (i = 0; i < w->nr; i++) {
		if (w->sect[i].type == type && w->sect[i].id == id) {
			w->failed = true;
			return -EEXIST;
		}
	}
	if (w->nr >= SNAP_MAX_SECTIONS) {
		w->failed = true;
		return -E2BIG;
	}
	if (len > SIZE_MAX / 2 - at) {
		w->failed = true;
		return -ENOMEM;
	}
	need = at + len;
	if (need > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(w->data, cap);
		if (!nb) {
			w->failed = true;
			return -ENOMEM;
		}
		w->data = nb;
		w->cap = cap;
	}
	memset(w->data + w->len, 0, at - w->len);
	if (len)
		memcpy(w->data + at, data, len);
	w->sect[w->nr++] = (struct snap_section){
		.type = type, .id = id, .offset = at, .len = len
	};
	w->len = need;
	return 0;
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->data);
	w->data = NULL;
	w->len = w->cap = 0;
	w->nr = 0;
	w->failed = false;
}

uint8_t *snap_finish(struct snap_writer *w, uint32_t arch, size_t *len)
{
	size_t data_at = align8(HDR_LEN + (size_t)w->nr * ENTRY_LEN),
	       total = data_at + align8(w->len) + SUM_LEN;
	struct snap_hdr h = { .magic = SNAP_MAGIC };
	struct kc_hash sum;
	uint8_t *f = NULL, *p;
	unsigned int i;

	if (w->failed)
		goto out;
	f = calloc(1, total);
	if (!f)
		goto out;
	h.version = htole32(SNAP_VERSION);
	h.arch = htole32(arch);
	h.nr = htole32(w->nr);
	h.hdr_len = htole32(HDR_LEN);
	h.total_len = htole64(total);
	memcpy(f, &h, sizeof(h));
	for (i = 0, p = f + HDR_LEN; i < w->nr; i++, p += ENTRY_LEN) {
		uint32_t t = htole32(w->sect[i].type),
			 id = htole32(w->sect[i].id);
		uint64_t off = htole64(data_at + w->sect[i].offset),
			 l = htole64(w->sect[i].len);

		memcpy(p, &t, 4);
		memcpy(p + 4, &id, 4);
		memcpy(p + 8, &off, 8);
		memcpy(p + 16, &l, 8);
	}
	if (w->len)
		memcpy(f + data_at, w->data, w->len);
	sum = kc_hash(f, total - SUM_LEN);
	memcpy(f + total - SUM_LEN, &sum, SUM_LEN);
	*len = total;
out:
	snap_writer_free(w);
	return f;
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int snap_open(struct snap_reader *r, const void *buf, size_t len, uint32_t arch,
	      char *err, size_t errlen)
{
	const uint8_t *b = buf;
	struct snap_hdr h;
	struct kc_hash sum;
	uint64_t total, data_at, end = 0;
	unsigned int i, j;

	memset(r, 0, sizeof(*r));
	if (len < 8 || memcmp(b, SNAP_MAGIC, 8))
		return bad(err, errlen,
			   "not a kiln snapshot (no KILNSNAP header)");
	if (len < HDR_LEN + SUM_LEN)
		return bad(err, errlen,
			   "truncated: %zu bytes, less than a header", len);
	memcpy(&h, b, sizeof(h));
	r->version = le32toh(h.version);
	r->arch = le32toh(h.arch);
	r->nr = le32toh(h.nr);
	total = le64toh(h.total_len);
	if (r->version != SNAP_VERSION)
		return bad(
			err, errlen,
			"snapshot format version %u: this kiln reads version %u",
			r->version, SNAP_VERSION);
	if (r->arch != arch)
		return bad(err, errlen, "a snapshot of %s: this kiln is %s",
			   snap_arch_name(r->arch), snap_arch_name(arch));
	if (total != len)
		return bad(err, errlen,
			   "%s: the file has %zu bytes, the snapshot %llu",
			   total > len ? "truncated" : "trailing bytes", len,
			   (unsigned long long)total);
	if (le32toh(h.hdr_len) != HDR_LEN || h.reserved[0] || h.reserved[1])
		return bad(err, errlen, "a header this kiln does not know");
	sum = kc_hash(b, len - SUM_LEN);
	if (memcmp(&sum, b + len - SUM_LEN, SUM_LEN))
		return bad(
			err, errlen,
			"checksum mismatch: the snapshot is damaged or was altered");
	if (r->nr > SNAP_MAX_SECTIONS)
		return bad(err, errlen, "%u sections: at most %u", r->nr,
			   SNAP_MAX_SECTIONS);
	data_at = align8(HDR_LEN + (size_t)r->nr * ENTRY_LEN);
	if (data_at > len - SUM_LEN)
		return bad(err, errlen, "a section table past the end");
	end = data_at;
	for (i = 0; i < r->nr; i++) {
		const uint8_t *p = b + HDR_LEN + (size_t)i * ENTRY_LEN;
		struct snap_section *s = &r->sect[i];
		uint32_t v32;
		uint64_t v64;

		memcpy(&v32, p, 4);
		s->type = le32toh(v32);
		memcpy(&v32, p + 4, 4);
		s->id = le32toh(v32);
		memcpy(&v64, p + 8, 8);
		s->offset = le64toh(v64);
		memcpy(&v64, p + 16, 8);
		s->len = le64toh(v64);
		/* In order, aligned, apart, and inside the data area. */
		if (s->offset % 8 || s->offset < end ||
		    s->offset > len - SUM_LEN ||
		    s->len > len - SUM_LEN - s->offset)
			return bad(err, errlen,
				   "section %u (type %u, id %u) out of bounds",
				   i, s->type, s->id);
		end = s->offset + s->len;
		for (j = 0; j < i; j++)
			if (r->sect[j].type == s->type &&
			    r->sect[j].id == s->id)
				return bad(err, errlen,
					   "section type %u, id %u twice",
					   s->type, s->id);
	}
	r->buf = b;
	r->len = len;
	return 0;
}

const void *snap_get(const struct snap_reader *r, uint32_t type, uint32_t id,
		     size_t *len)
{
	unsigned int i;

	for (i = 0; r->buf && i < r->nr; i++) {
		if (r->sect[i].type == type && r->sect[i].id == id) {
			*len = (size_t)r->sect[i].len;
			return r->buf + r->sect[i].offset;
		}
	}
	return NULL;
}
