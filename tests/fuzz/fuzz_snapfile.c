// SPDX-License-Identifier: MIT
/*
 * The snapshot loader, on a file whose every byte the fuzzer picks but
 * the checksum and the size field, which it writes right (or the
 * checksum would refuse nearly every input before the header and the
 * section table are looked at). Whatever the bytes, snap_open either
 * refuses them with a reason or hands out sections that lie wholly
 * inside the file, each read here to its last byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcache.h"
#include "snapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snap_reader r;
	char err[256] = "";
	uint8_t *f = malloc(size ? size : 1);
	unsigned int i;

	if (!f)
		return 0;
	memcpy(f, data, size);
	if (size >= 48 + 16) {
		uint64_t total = size;
		struct kc_hash sum;

		memcpy(f + 24, &total, sizeof(total));
		sum = kc_hash(f, size - 16);
		memcpy(f + size - 16, &sum, 16);
	}
	if (snap_open(&r, f, size, snap_host_arch(), err, sizeof(err))) {
		if (!err[0])
			abort();
	} else {
		for (i = 0; i < r.nr; i++) {
			size_t len = 0, k;
			const uint8_t *p = snap_get(&r, r.sect[i].type,
						    r.sect[i].id, &len);
			volatile uint8_t x = 0;

			if (!p || p < f || p + len > f + size - 16)
				abort();
			for (k = 0; k < len; k++)
				x ^= p[k];
			(void)x;
		}
	}
	free(f);
	return 0;
}
