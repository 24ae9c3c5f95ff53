// SPDX-License-Identifier: MIT
/*
 * A virtio device's saved state, as a snapshot file brings it (its
 * checksum proves only that nobody changed it since it was written, not
 * who wrote it): an entropy device takes whatever the bytes are, or
 * refuses them with a reason and is left reset. Taken, its queues are
 * served at once, the guest's RAM holding whatever the input's tail
 * puts there, so restored ring indices meet hostile rings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmio.h"
#include "rng.h"
#include "virtio.h"
#include "vm.h"

#define RAM (64 << 10)

static uint8_t ram[RAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	struct virtio_state st;
	struct virtio_rng *r;
	struct virtio_mmio t;
	char err[256] = "";
	size_t n = size < sizeof(st) ? size : sizeof(st);
	unsigned int i;

	memset(&vm, 0, sizeof(vm));
	vm.mem.nr = 1;
	vm.mem.region[0] = (struct mem_region){ 0, RAM, ram };
	memset(ram, 0, RAM);
	memcpy(ram, data + n, size - n < RAM ? size - n : RAM);
	r = virtio_rng_new(&vm);
	if (!r)
		return 0;
	virtio_mmio_init(&t, &vm, &r->vdev);
	if (virtio_dev_restore(&r->vdev, data, n, err, sizeof(err))) {
		if (!err[0] || r->vdev.status)
			abort();
		for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
			if (r->vdev.vq[i].ready)
				abort();
	} else {
		for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
			const struct virtq *q = &r->vdev.vq[i];

			if (q->ready && (!q->desc || !q->avail || !q->used ||
					 !q->num || q->num & (q->num - 1)))
				abort();
		}
		virtio_mmio_queue_kick(&t, 0);
	}
	virtio_mmio_detach(&t);
	virtio_rng_device_ops.destroy(r);
	return 0;
}
