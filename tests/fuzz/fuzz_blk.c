// SPDX-License-Identifier: MIT
/*
 * virtio-blk request parsing: the input is cut into readable and writable
 * buffers of the sizes it names and handed to the request handler over a
 * small in-memory disk.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blk.h"
#include "vm.h"

static struct virtio_blk *blk;
static struct virtq_chain chain;
static uint8_t bufs[64 << 10];

static void init(void)
{
	static struct vm vm;
	char path[64], err[256];
	int fd = memfd_create("kiln-fuzz-disk", 0);

	if (ftruncate(fd, 1 << 20))
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	blk = virtio_blk_open(&vm, path, false, "fuzz", err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, used = 0;
	unsigned int i, n;

	if (!blk)
		init();
	if (!blk || size < 1)
		return 0;
	memset(&chain, 0, sizeof(chain));
	n = data[0] % 8 + 1;
	off = 1;
	/* Each buffer: one byte of flags+length, then its bytes if readable. */
	for (i = 0; i < n && off + 2 <= size; i++) {
		bool w = data[off] & 0x80;
		size_t len = ((data[off] & 0x7f) << 8 | data[off + 1]) % 4097;
		struct iovec *iov;

		off += 2;
		if (used + len > sizeof(bufs))
			break;
		if (!w) {
			size_t c = size - off < len ? size - off : len;

			memset(bufs + used, 0, len);
			memcpy(bufs + used, data + off, c);
			off += c;
			if (chain.n_in)
				break; /* the walker never yields this */
			iov = &chain.out[chain.n_out++];
			chain.out_len += len;
		} else {
			iov = &chain.in[chain.n_in++];
			chain.in_len += len;
		}
		iov->iov_base = bufs + used;
		iov->iov_len = len;
		used += len;
	}
	(void)virtio_blk_request(blk, &chain);
	return 0;
}
