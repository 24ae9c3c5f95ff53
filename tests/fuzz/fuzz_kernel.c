// SPDX-License-Identifier: MIT
/*
 * A hostile kernel file: what kiln does with a compressed kernel before
 * the guest runs (x86_64: the bzImage's setup header and payload bounds,
 * decompression, the vmlinux's ELF headers and segments, its relocation
 * table, the segments placed and relocated as the loader does; aarch64:
 * a compressed Image decompressed and its header read). The first byte
 * chooses: 0, the input is the kernel file; 1, the input (after that
 * byte) is the decompressed image itself, so that the fuzzer reaches the
 * ELF and relocation code without a compressor in the way.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unpack.h"

#define FZ_MAX_IMAGE (16 << 20)

#ifdef __x86_64__
#include "boot.h"

static void image(const uint8_t *buf, size_t len)
{
	struct vmlinux_img v;
	struct x86_relocs t;
	char why[256];
	uint8_t *base;
	int r;

	if (x86_vmlinux_check(buf, len, &v, why, sizeof(why)))
		return;
	r = x86_vmlinux_relocs(buf, len, &v, &t, why, sizeof(why));
	if (r && r != -ENOENT)
		return;
	if (v.hi - v.lo > FZ_MAX_IMAGE)
		return;
	base = malloc(v.hi - v.lo);
	if (!base)
		return;
	x86_vmlinux_place(buf, &v, base);
	if (!r)
		x86_relocs_apply(&t, base, v.lo, v.hi - v.lo, 0x2a00000, false,
				 why, sizeof(why));
	free(base);
}

static void kernel_file(const uint8_t *buf, size_t len)
{
	struct bzimage_info info;
	uint64_t off, plen;
	uint8_t *out;
	size_t olen;
	char why[256];

	if (bzimage_parse(buf, len < 1024 ? len : 1024, len, &info, why,
			  sizeof(why)) ||
	    bzimage_payload(&info, &off, &plen, why, sizeof(why)))
		return;
	if (unpack(unpack_detect(buf + off, plen), buf + off, plen,
		   FZ_MAX_IMAGE, &out, &olen, why, sizeof(why)))
		return;
	image(out, olen);
	free(out);
}
#else
#include "arm64.h"

static void image(const uint8_t *buf, size_t len)
{
	struct arm64_image img;
	char why[256];

	arm64_image_parse(buf, len, len, &img, why, sizeof(why));
}

static void kernel_file(const uint8_t *buf, size_t len)
{
	uint8_t *out;
	size_t olen;
	char why[256];

	if (unpack(unpack_detect(buf, len), buf, len, FZ_MAX_IMAGE, &out, &olen,
		   why, sizeof(why)))
		return;
	image(out, olen);
	free(out);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] == 1)
		image(data + 1, size - 1);
	else
		kernel_file(data + 1, size - 1);
	return 0;
}
