// SPDX-License-Identifier: MIT
/*
 * virtio-balloon as a hostile driver sees it: inflate and deflate page
 * numbers (anywhere, or beyond RAM), free page reports, statistics
 * buffers, config-space writes, feature sets that renumber the queues,
 * and resets in between. See driver.h for the script. Guest RAM is the
 * driver's static array: what is given back reads as zeroes after.
 */
#include "balloon.h"
#include "driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	struct balloon_spec s = { .on = 1,
				  .amount_mib = 0,
				  .deflate_on_oom = 1,
				  .stats_interval_s = 1,
				  .reporting = 1 };
	struct fuzz_dev d = { 0 };
	struct virtio_balloon *b;
	struct virtio_mmio t;
	char err[256];

	fz_vm(&vm);
	b = virtio_balloon_new(&vm, &s, err, sizeof(err));
	if (!b)
		return 0;
	virtio_mmio_init(&t, &vm, &b->vdev);
	d.t = &t;
	d.dev = b;
	fuzz_drive(&d, data, size);
	virtio_mmio_detach(&t);
	virtio_balloon_device_ops.destroy(b);
	return 0;
}
