/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_H
#define KILN_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

/*
 * A virtio device as the spec defines it, whatever carries it: its id,
 * offered and accepted features, status, config space and queues. Each
 * device model owns one and sees only this; a transport (virtio-mmio now,
 * virtio-pci one day) holds a pointer to it, decodes its own registers
 * into the calls below, and delivers interrupts through the two hooks.
 */

struct guest_mem;
struct iothread;
struct vm;

#define VIRTIO_MAX_QUEUES 16

/* What a device model gives: called with the device's lock held, so a
 * guest reset never races a request in flight. */
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

/* Interrupt causes, as virtio-mmio's InterruptStatus and PCI's ISR. */
#define VIRTIO_INT_VRING 1u
#define VIRTIO_INT_CONFIG 2u

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	void *priv; /* the model, handed to every op */
	const struct guest_mem *mem;
	struct iothread *io; /* where the model's work runs (NULL: tests) */
	uint64_t features; /* offered */
	uint64_t acked; /* accepted by the driver, within features */
	uint32_t status; /* the device status byte */
	uint32_t config_generation;
	pthread_mutex_t lock;
	struct virtq vq[VIRTIO_MAX_QUEUES];

	/* Set by the transport. */
	void (*interrupt)(void *transport, uint32_t cause);
	/* The driver went live: buffers queued before may need a kick. */
	void (*live)(void *transport);
	void *transport;
};

/*
 * Sets up the device; features are the model's own bits (VERSION_1,
 * EVENT_IDX and INDIRECT_DESC are added). mem is where its queues' rings
 * and buffers are looked up, io the thread its work runs on.
 */
void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		     void *priv, uint64_t features, const struct guest_mem *mem,
		     struct iothread *io);
void virtio_dev_fini(struct virtio_dev *d);

/* For models. */
static inline void virtio_dev_lock(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
}

static inline void virtio_dev_unlock(struct virtio_dev *d)
{
	pthread_mutex_unlock(&d->lock);
}

/* The driver set DRIVER_OK (and has not reset since). */
static inline bool virtio_dev_live(const struct virtio_dev *d)
{
	return d->status & 4 /* VIRTIO_CONFIG_S_DRIVER_OK */;
}

/* Queue q when it exists and the driver made it ready, else NULL. */
struct virtq *virtio_dev_queue(struct virtio_dev *d, unsigned int q);

/* Publishes queue q's used entries; interrupts the guest if it wants. */
void virtio_dev_complete(struct virtio_dev *d, unsigned int q);

/* Interrupts the guest for used buffers (any thread). */
void virtio_dev_signal(struct virtio_dev *d);

/* The config space changed (capacity, link): generation and interrupt. */
void virtio_dev_config_changed(struct virtio_dev *d);

/*
 * Serves queue q until it is empty: fn handles each well-formed chain and
 * returns the bytes it wrote into the chain; a malformed chain is
 * completed with 0, a broken ring stops the loop. Notification is re-armed
 * before giving up, then the used entries are published (and the guest
 * interrupted if it asked). Returns whether any chain was completed.
 */
typedef uint32_t (*virtq_chain_fn)(void *dev, struct virtq_chain *c);
bool virtio_dev_drain(struct virtio_dev *d, unsigned int q,
		      struct virtq_chain *c, virtq_chain_fn fn);

/* For transports, with the lock held (but kick, which takes it). */

/* The driver's feature bits sel (0: 0-31, 1: 32-63); others ignored;
 * only before FEATURES_OK; never a bit not offered. */
void virtio_dev_set_driver_features(struct virtio_dev *d, uint32_t sel,
				    uint32_t v);
/* A status write: 0 resets; FEATURES_OK needs VERSION_1; DRIVER_OK
 * activates the model (NEEDS_RESET if it refuses). */
void virtio_dev_set_status(struct virtio_dev *d, uint32_t v);
/* Whether queue registers may change now (FEATURES_OK, not DRIVER_OK,
 * the queue not ready). */
bool virtio_dev_queue_setup_allowed(const struct virtio_dev *d,
				    const struct virtq *q);
/* The driver set queue q ready: 0, or -EINVAL (logged) when its size or
 * rings are bad. */
int virtio_dev_queue_enable(struct virtio_dev *d, unsigned int q);
/* Queue q was kicked (I/O thread): runs the model's notify when live. */
void virtio_dev_kick(struct virtio_dev *d, unsigned int q);

/*
 * A virtio device's transport-neutral state as a snapshot keeps it (the
 * model's own state is the model's): identity, features, status and each
 * queue's set-up and indices. Fixed size, little-endian.
 */
struct virtio_state_queue {
	uint16_t num;
	uint8_t ready, broken;
	uint16_t last_avail, used_idx, signalled, pad;
	uint64_t desc_gpa, avail_gpa, used_gpa;
};

struct virtio_state {
	uint32_t device_id, nr_queues;
	uint64_t features, acked;
	uint32_t status, config_generation;
	struct virtio_state_queue q[VIRTIO_MAX_QUEUES];
};

/* d's state into s (the device locked or paused). */
void virtio_dev_save(struct virtio_dev *d, struct virtio_state *s);

/*
 * A device just made for the same configuration takes saved state (len
 * bytes, from a snapshot: not trusted): its identity, offered features
 * and queue count must match; accepted features must be offered, status
 * bits known and consistent, each ready queue's size and rings valid
 * guest memory as when the driver set them up. A live device is
 * activated with the accepted features. 0, or -EINVAL with err saying
 * what does not fit; d is left reset then.
 */
int virtio_dev_restore(struct virtio_dev *d, const void *buf, size_t len,
		       char *err, size_t errlen);

/*
 * A model's entry for the VM's device list (vmm/device.h): destroy ends
 * its virtio device, then calls NAME_free(). For a model struct NAME with
 * its struct virtio_dev in a member called vdev.
 */
#define VIRTIO_DEVICE_DESTROY(NAME)           \
	static void NAME##_destroy(void *dev) \
	{                                     \
		struct NAME *m = dev;         \
                                              \
		virtio_dev_fini(&m->vdev);    \
		NAME##_free(m);               \
	}
#define VIRTIO_DEVICE_OPS(NAME)                       \
	VIRTIO_DEVICE_DESTROY(NAME)                   \
	const struct device_ops NAME##_device_ops = { \
		.destroy = NAME##_destroy,            \
	}
/* ... and its counters, from NAME##_metrics(dev, emit, ctx). */
#define VIRTIO_DEVICE_OPS_METRICS(NAME)               \
	VIRTIO_DEVICE_DESTROY(NAME)                   \
	const struct device_ops NAME##_device_ops = { \
		.destroy = NAME##_destroy,            \
		.metrics = NAME##_metrics,            \
	}

#endif
