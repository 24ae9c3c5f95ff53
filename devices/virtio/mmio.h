/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_MMIO_H
#define KILN_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"

/*
 * The virtio-mmio transport (version 2): a register window on the bus in
 * front of one struct virtio_dev. It decodes the registers by their
 * <linux/virtio_mmio.h> names, bounds QUEUE_SEL, keeps the interrupt
 * status, and turns queue notifications and interrupts into eventfds the
 * core wires to KVM. It knows no device model.
 */

struct vm;
struct virtio_mmio;

#define VIRTIO_MMIO_MAX_QUEUES VIRTIO_MAX_QUEUES
#define VIRTIO_MMIO_SIZE 0x1000

struct virtio_mmio_kick {
	struct virtio_mmio *t;
	unsigned int q;
};

struct virtio_mmio {
	struct virtio_dev *dev;
	struct vm *vm; /* the bus and the core's eventfd wiring */
	uint64_t base;
	uint32_t irq;

	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint32_t isr; /* InterruptStatus, atomic */

	int irq_fd; /* an irqfd, or -1 */
	int notify_fd[VIRTIO_MMIO_MAX_QUEUES]; /* ioeventfds, or -1 */
	struct virtio_mmio_kick kick[VIRTIO_MMIO_MAX_QUEUES];
};

/* Puts t in front of dev (no KVM: unit tests drive it by hand). */
void virtio_mmio_init(struct virtio_mmio *t, struct vm *vm,
		      struct virtio_dev *dev);

/*
 * Places the device: claims base on the bus, asks the core for an irqfd
 * on irq and an ioeventfd per queue, and has the I/O thread serve the
 * notifications. Returns 0 or -errno (logged).
 */
int virtio_mmio_attach(struct virtio_mmio *t, uint64_t base, uint32_t irq);
/* Closes the eventfds; the device is the model's to free. */
void virtio_mmio_detach(struct virtio_mmio *t);

/* Bus handler for the register window. */
void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write);

/* The I/O thread's handler for a queue's notification eventfd. */
void virtio_mmio_queue_kick(struct virtio_mmio *t, unsigned int q);

#endif
