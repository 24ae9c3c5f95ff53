/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_MMIO_H
#define KILN_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

struct vm;
struct virtio_mmio;

#define VIRTIO_MMIO_MAX_QUEUES 16
#define VIRTIO_MMIO_SIZE 0x1000

/*
 * What a device model gives the transport. The transport owns the
 * registers, the status state machine, feature masking and queue set-up;
 * the model sees only its queues and its config space. Every callback is
 * called with the transport's lock held, so a guest reset never races a
 * request in flight.
 */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	unsigned int nr_queues;
	uint16_t queue_max;
	/* Config space (little-endian, as the guest sees it). */
	void (*config_read)(void *dev, uint32_t off, uint8_t *data,
			    uint32_t len);
	void (*config_write)(void *dev, uint32_t off, const uint8_t *data,
			     uint32_t len);
	/* The driver set DRIVER_OK; features holds what it accepted. */
	int (*activate)(void *dev, uint64_t features);
	/* The driver wrote 0 to status: forget all queue state. */
	void (*reset)(void *dev);
	/* Queue q has new buffers (I/O thread). */
	void (*notify)(void *dev, unsigned int q);
};

struct virtio_mmio_kick {
	struct virtio_mmio *t;
	unsigned int q;
};

struct virtio_mmio {
	struct vm *vm;
	const struct virtio_dev_ops *ops;
	void *dev;
	uint64_t base;
	uint32_t irq;
	uint64_t features; /* offered */

	pthread_mutex_t lock;
	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint64_t driver_features; /* accepted, masked to offered */
	uint32_t config_generation;
	uint32_t isr; /* InterruptStatus, atomic */
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];

	int irq_fd; /* KVM_IRQFD, or -1 */
	int notify_fd[VIRTIO_MMIO_MAX_QUEUES]; /* KVM_IOEVENTFD, or -1 */
	struct virtio_mmio_kick kick[VIRTIO_MMIO_MAX_QUEUES];
};

/*
 * Sets up the transport (no KVM: unit tests drive it by hand). features
 * are the device's own bits; VERSION_1, EVENT_IDX and INDIRECT_DESC are
 * added here.
 */
void virtio_mmio_init(struct virtio_mmio *t, struct vm *vm,
		      const struct virtio_dev_ops *ops, void *dev,
		      uint64_t features);

/*
 * Places the device: claims base/irq on the bus, wires queue notifications
 * to KVM_IOEVENTFD and the interrupt to KVM_IRQFD, and registers the
 * notifications with the I/O thread. Returns 0 or -errno (logged).
 */
int virtio_mmio_attach(struct virtio_mmio *t, uint64_t base, uint32_t irq);
void virtio_mmio_detach(struct virtio_mmio *t);

/* Bus handler for the register window. */
void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write);

/* Sets the used-buffer bit and interrupts the guest (any thread). */
void virtio_mmio_signal(struct virtio_mmio *t);

/* Publishes used entries of queue q and interrupts the guest if it wants. */
void virtio_mmio_complete(struct virtio_mmio *t, unsigned int q);

/*
 * Serves queue q until it is empty: fn handles each well-formed chain and
 * returns the bytes it wrote into the chain; a malformed chain is
 * completed with 0, a broken ring stops the loop. Notification is re-armed
 * before giving up, then the used entries are published (and the guest
 * interrupted if it asked). Returns whether any chain was completed.
 */
typedef uint32_t (*virtq_chain_fn)(void *dev, struct virtq_chain *c);
bool virtio_mmio_drain(struct virtio_mmio *t, unsigned int q,
		       struct virtq_chain *c, virtq_chain_fn fn);

/* The I/O thread's handler for a queue's notification eventfd. */
void virtio_mmio_queue_kick(struct virtio_mmio *t, unsigned int q);

#endif
