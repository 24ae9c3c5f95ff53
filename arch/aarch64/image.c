// SPDX-License-Identifier: MIT
/* The arm64 Image header: what kiln checks before loading a kernel. */
#include <errno.h>
#include <stdio.h>

#include "arm64.h"
#include "config.h"
#include "layout.h"

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The reason in err; -EINVAL for the caller to return. */
#define fail(err, errlen, ...) (set_err(err, errlen, __VA_ARGS__), -EINVAL)

int arm64_image_parse(const uint8_t *buf, size_t buflen, uint64_t file_size,
		      struct arm64_image *img, char *err, size_t errlen)
{
	if (buflen >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
		return fail(
			err, errlen,
			"not a Linux kernel (gzip-compressed data: for a compressed Image, give the uncompressed arch/arm64/boot/Image)");
	if (buflen < ARM64_IMAGE_HDR_LEN || file_size < ARM64_IMAGE_HDR_LEN)
		return fail(
			err, errlen,
			"not a Linux kernel (too short for an arm64 Image header)");
	if (le32(buf + 56) != ARM64_IMAGE_MAGIC)
		return fail(err, errlen,
			    "not a Linux kernel (no arm64 Image header)");
	img->text_offset = le64(buf + 8);
	img->image_size = le64(buf + 16);
	img->flags = le64(buf + 24);
	if (img->flags & 1)
		return fail(
			err, errlen,
			"a big-endian kernel: kiln runs little-endian guests");
	if (!img->image_size)
		return fail(
			err, errlen,
			"an arm64 Image without image_size (Linux before 3.17): use a newer kernel");
	if (img->text_offset >= ARM64_KERNEL_ALIGN || img->text_offset & 0xfff)
		return fail(
			err, errlen,
			"arm64 Image header: text_offset 0x%llx is not a page offset below 2 MiB",
			(unsigned long long)img->text_offset);
	if (img->image_size < file_size || img->image_size > (1ULL << 32))
		return fail(
			err, errlen,
			"arm64 Image header: image_size %llu does not fit the file's %llu bytes",
			(unsigned long long)img->image_size,
			(unsigned long long)file_size);
	return 0;
}
