/* SPDX-License-Identifier: MIT */
#ifndef KILN_UNPACK_H
#define KILN_UNPACK_H

/*
 * Decompression of the formats Linux kernels are shipped in, with
 * Debian's libraries: gzip (zlib), xz (liblzma), zstd (libzstd) and the
 * LZ4 legacy frame the kernel's build writes (liblz4's block decoder).
 * The input is untrusted (a kernel file is the user's, perhaps a
 * stranger's): every length is checked, the output is bounded, and a
 * corrupt stream is an error with a reason, never a crash.
 */
#include <stddef.h>
#include <stdint.h>

enum unpack_fmt {
	UNPACK_NONE, /* not a format kiln decodes */
	UNPACK_GZIP,
	UNPACK_XZ,
	UNPACK_ZSTD,
	UNPACK_LZ4,
};

/* The format of in[0..len) by its magic bytes, or UNPACK_NONE. */
enum unpack_fmt unpack_detect(const uint8_t *in, size_t len);

/* The format's name ("gzip"), or what the magic says it is ("bzip2"). */
const char *unpack_name(const uint8_t *in, size_t len);

/*
 * Decodes the first stream of format fmt in in[0..len) (bytes after it,
 * such as the size word the kernel's build appends, are ignored) into a
 * new buffer of at most max bytes: 0 with *out (free() it) and *outlen,
 * or a negative errno with err saying why (-EINVAL corrupt or truncated,
 * -EFBIG larger than max, -ENOTSUP not a format kiln decodes, -ENOMEM).
 */
int unpack(enum unpack_fmt fmt, const uint8_t *in, size_t len, size_t max,
	   uint8_t **out, size_t *outlen, char *err, size_t errlen);

/*
 * The first want bytes of what in[0..len) decodes to, into head: 0 with
 * *got (fewer when the data is shorter; for lz4, whose blocks decode
 * whole, possibly 0), or a negative errno with err as unpack() says.
 */
int unpack_head(enum unpack_fmt fmt, const uint8_t *in, size_t len,
		uint8_t *head, size_t want, size_t *got, char *err,
		size_t errlen);

#endif
