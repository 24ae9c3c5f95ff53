// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio register file with an entropy device behind it: the input
 * is a sequence of register accesses (offset, size, value), with queue
 * notifications processed in between as the I/O thread would.
 */
#include <stdint.h>
#include <string.h>

#include "mmio.h"
#include "rng.h"
#include "vm.h"

#define RAM (64 << 10)

static uint8_t ram[RAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	struct virtio_rng *r;
	struct virtio_mmio t;
	size_t i;

	memset(&vm, 0, sizeof(vm));
	vm.mem.nr = 1;
	vm.mem.region[0] = (struct mem_region){ 0, RAM, ram };
	memset(ram, 0, RAM);
	r = virtio_rng_new(&vm);
	if (!r)
		return 0;
	virtio_mmio_init(&t, &vm, &r->vdev);
	for (i = 0; i + 7 <= size; i += 7) {
		uint32_t off = (data[i] | data[i + 1] << 8) & 0x1ff;
		uint32_t len = 1u << (data[i + 2] & 3);
		uint8_t buf[8] = { 0 };

		memcpy(buf, data + i + 3, 4);
		if (data[i + 2] & 0x80) {
			/* Fill some guest memory, as the driver would. */
			memcpy(ram + (off << 7) % (RAM - 4), data + i + 3, 4);
			continue;
		}
		virtio_mmio_access(&t, off, buf, len, data[i + 2] & 0x40);
		if (data[i + 2] & 0x20)
			virtio_mmio_queue_kick(&t, 0);
	}
	virtio_mmio_detach(&t);
	virtio_rng_device_ops.destroy(r);
	return 0;
}
