/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_9P_H
#define KILN_VIRTIO_9P_H

#include "device.h"

#include <stdbool.h>
#include <stddef.h>

#include "virtio.h"
#include "p9.h"

#define VIRTIO_9P_TAG_MAX 32

/* virtio-9p (virtio 1.x, 5.x "9P transport"): one shared directory. */
struct virtio_9p {
	struct virtio_dev vdev;
	struct p9_server srv;
	char tag[VIRTIO_9P_TAG_MAX];
	uint8_t *req, *rep; /* P9_MAX_MSIZE each, touched as used */
	struct virtq_chain chain;
};

/*
 * Shares dir under tag; err gets a one-line reason on failure (missing
 * directory, not a directory, no permission).
 */
struct virtio_9p *virtio_9p_new(struct vm *vm, const char *dir, const char *tag,
				bool ro, char *err, size_t errlen);
void virtio_9p_free(struct virtio_9p *p);

/* Its entry in the VM's device list (vmm/device.h). */
extern const struct device_ops virtio_9p_device_ops;

#endif
