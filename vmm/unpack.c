// SPDX-License-Identifier: MIT
/* Kernel decompression (unpack.h). */
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "unpack.h"

static const struct {
	const char *name;
	uint8_t magic[6];
	size_t len;
	enum unpack_fmt fmt;
} formats[] = {
	{ "gzip", { 0x1f, 0x8b }, 2, UNPACK_GZIP },
	{ "xz", { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, UNPACK_XZ },
	{ "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, UNPACK_ZSTD },
	{ "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4, UNPACK_LZ4 },
	/* Formats a kernel may use that kiln leaves to the kernel. */
	{ "bzip2", { 'B', 'Z', 'h' }, 3, UNPACK_NONE },
	{ "lzma", { 0x5d, 0, 0 }, 3, UNPACK_NONE },
	{ "lzo", { 0x89, 'L', 'Z', 'O' }, 4, UNPACK_NONE },
};

#define LZ4_LEGACY_MAGIC 0x184c2102U
#define LZ4_LEGACY_BLOCK (8U << 20) /* the most one block decodes to */

static int find(const uint8_t *in, size_t len)
{
	unsigned int i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (len >= formats[i].len &&
		    !memcmp(in, formats[i].magic, formats[i].len))
			return i;
	return -1;
}

enum unpack_fmt unpack_detect(const uint8_t *in, size_t len)
{
	int i = find(in, len);

	return i < 0 ? UNPACK_NONE : formats[i].fmt;
}

const char *unpack_name(const uint8_t *in, size_t len)
{
	int i = find(in, len);

	return i < 0 ? "an unknown format" : formats[i].name;
}

/* A growing output buffer, never past max. */
struct obuf {
	uint8_t *p;
	size_t len, cap, max;
};

/* Room for at least want more bytes (as much as max allows). */
static int grow(struct obuf *o, size_t want)
{
	size_t cap = o->cap ? o->cap : 1 << 20;
	uint8_t *p;

	if (o->cap - o->len >= want && o->cap > o->len)
		return 0;
	if (o->len >= o->max)
		return -EFBIG;
	while (cap - o->len < want && cap < o->max)
		cap = cap > o->max / 2 ? o->max : cap * 2;
	if (cap > o->max)
		cap = o->max;
	if (cap <= o->cap)
		return -EFBIG;
	p = realloc(o->p, cap);
	if (!p)
		return -ENOMEM;
	o->p = p;
	o->cap = cap;
	return 0;
}

static void set_err(char *err, size_t errlen, const char *what, const char *why)
{
	snprintf(err, errlen, "%s data is corrupt or truncated (%s)", what,
		 why);
}

static int gunzip(const uint8_t *in, size_t len, struct obuf *o, char *err,
		  size_t errlen)
{
	z_stream z;
	int zr = Z_OK, r = 0;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (uint8_t *)in;
	while (zr != Z_STREAM_END) {
		/* zlib counts in 32 bits: feed it at most 1 GiB at a time. */
		size_t in_left =
			len - (size_t)((const uint8_t *)z.next_in - in);

		z.avail_in = in_left > (1U << 30) ? 1U << 30 : in_left;
		r = grow(o, 1 << 20);
		if (r)
			break;
		z.next_out = o->p + o->len;
		z.avail_out = o->cap - o->len > (1U << 30) ? 1U << 30 :
							     o->cap - o->len;
		zr = inflate(&z, Z_NO_FLUSH);
		o->len = z.next_out - o->p;
		if (zr == Z_BUF_ERROR && !z.avail_in) {
			set_err(err, errlen, "gzip", "it ends early");
			r = -EINVAL;
			break;
		}
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			set_err(err, errlen, "gzip", z.msg ? z.msg : "inflate");
			r = -EINVAL;
			break;
		}
	}
	inflateEnd(&z);
	return r;
}

static int unxz(const uint8_t *in, size_t len, struct obuf *o, char *err,
		size_t errlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret lr = LZMA_OK;
	int r = 0;

	/* A kernel's dictionary is a few MiB; 256 MiB is more than any. */
	if (lzma_stream_decoder(&s, 256U << 20, 0) != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = len;
	while (lr != LZMA_STREAM_END) {
		r = grow(o, 1 << 20);
		if (r)
			break;
		s.next_out = o->p + o->len;
		s.avail_out = o->cap - o->len;
		lr = lzma_code(&s, LZMA_FINISH);
		o->len = s.next_out - o->p;
		if (lr == LZMA_MEM_ERROR) {
			r = -ENOMEM;
			break;
		}
		if (lr != LZMA_OK && lr != LZMA_STREAM_END &&
		    !(lr == LZMA_BUF_ERROR && !s.avail_out)) {
			set_err(err, errlen, "xz",
				lr == LZMA_BUF_ERROR ? "it ends early" :
				lr == LZMA_MEMLIMIT_ERROR ?
						       "dictionary too large" :
						       "bad stream");
			r = -EINVAL;
			break;
		}
	}
	lzma_end(&s);
	return r;
}

static int unzstd(const uint8_t *in, size_t len, struct obuf *o, char *err,
		  size_t errlen)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, len, 0 };
	size_t zr = 1;
	int r = 0;

	if (!d)
		return -ENOMEM;
	/* The kernel's build compresses with windows up to 128 MiB. */
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 27);
	while (zr) {
		ZSTD_outBuffer ob;

		r = grow(o, 1 << 20);
		if (r)
			break;
		ob = (ZSTD_outBuffer){ o->p, o->cap, o->len };
		zr = ZSTD_decompressStream(d, &ob, &ib);
		o->len = ob.pos;
		if (ZSTD_isError(zr)) {
			set_err(err, errlen, "zstd", ZSTD_getErrorName(zr));
			r = -EINVAL;
			break;
		}
		if (zr && ib.pos == ib.size && ob.pos < ob.size) {
			set_err(err, errlen, "zstd", "it ends early");
			r = -EINVAL;
			break;
		}
	}
	ZSTD_freeDCtx(d);
	return r;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The legacy LZ4 frame (lz4 -l, what the kernel's build writes): the
 * magic, then blocks of a 32-bit size and that many compressed bytes,
 * each at most 8 MiB decoded. The kernel's build appends a 32-bit size
 * word after the last block; a repeated magic starts another frame.
 */
static int unlz4(const uint8_t *in, size_t len, struct obuf *o, char *err,
		 size_t errlen)
{
	size_t off = 4;
	bool any = false;
	int r;

	while (len - off >= 4) {
		uint32_t csize = le32(in + off);
		int n;

		if (csize == LZ4_LEGACY_MAGIC) {
			off += 4;
			continue;
		}
		if (len - off - 4 < csize || !csize) {
			/* The size word after the last block ends the data. */
			if (any && len - off == 4)
				break;
			set_err(err, errlen, "lz4",
				"a block runs past the end");
			return -EINVAL;
		}
		if (csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK)) {
			set_err(err, errlen, "lz4", "a block is too large");
			return -EINVAL;
		}
		r = grow(o, LZ4_LEGACY_BLOCK);
		if (r)
			return r;
		n = LZ4_decompress_safe((const char *)in + off + 4,
					(char *)o->p + o->len, (int)csize,
					o->cap - o->len < LZ4_LEGACY_BLOCK ?
						(int)(o->cap - o->len) :
						(int)LZ4_LEGACY_BLOCK);
		if (n < 0) {
			/* Out of room when max is near: too large, else bad. */
			if (o->cap - o->len < LZ4_LEGACY_BLOCK &&
			    o->cap >= o->max)
				return -EFBIG;
			set_err(err, errlen, "lz4", "bad block");
			return -EINVAL;
		}
		o->len += n;
		off += 4 + csize;
		any = true;
	}
	if (!any) {
		set_err(err, errlen, "lz4", "no block");
		return -EINVAL;
	}
	return 0;
}

static int decode(enum unpack_fmt fmt, const uint8_t *in, size_t len,
		  struct obuf *o, char *err, size_t errlen)
{
	if (unpack_detect(in, len) != fmt || fmt == UNPACK_NONE) {
		snprintf(err, errlen, "%s is not a format kiln decompresses",
			 unpack_name(in, len));
		return -ENOTSUP;
	}
	switch (fmt) {
	case UNPACK_GZIP:
		return gunzip(in, len, o, err, errlen);
	case UNPACK_XZ:
		return unxz(in, len, o, err, errlen);
	case UNPACK_ZSTD:
		return unzstd(in, len, o, err, errlen);
	default:
		return unlz4(in, len, o, err, errlen);
	}
}

int unpack_head(enum unpack_fmt fmt, const uint8_t *in, size_t len,
		uint8_t *head, size_t want, size_t *got, char *err,
		size_t errlen)
{
	struct obuf o = { NULL, 0, 0, want };
	int r = decode(fmt, in, len, &o, err, errlen);

	/* Full before the end of the stream: that is the point. */
	if (r == -EFBIG)
		r = 0;
	if (!r) {
		if (o.len)
			memcpy(head, o.p, o.len);
		*got = o.len;
	}
	free(o.p);
	return r;
}

int unpack(enum unpack_fmt fmt, const uint8_t *in, size_t len, size_t max,
	   uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	struct obuf o = { NULL, 0, 0, max };
	int r = decode(fmt, in, len, &o, err, errlen);

	if (r == -ENOTSUP)
		return r;
	if (!r && !o.len) {
		snprintf(err, errlen, "%s data decodes to nothing",
			 unpack_name(in, len));
		r = -EINVAL;
	}
	if (r == -EFBIG)
		snprintf(err, errlen, "%s data decodes to more than %zu MiB",
			 unpack_name(in, len), max >> 20);
	else if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory decompressing %s data",
			 unpack_name(in, len));
	if (r) {
		free(o.p);
		return r;
	}
	*out = o.p;
	*outlen = o.len;
	return 0;
}
