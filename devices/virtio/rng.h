/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_RNG_H
#define KILN_VIRTIO_RNG_H

#include "device.h"

#include "virtio.h"

struct virtio_rng {
	struct virtio_dev vdev;
	struct virtq_chain chain;
};

struct virtio_rng *virtio_rng_new(struct vm *vm);
void virtio_rng_free(struct virtio_rng *r);

/* Its entry in the VM's device list (vmm/device.h). */
extern const struct device_ops virtio_rng_device_ops;

#endif
