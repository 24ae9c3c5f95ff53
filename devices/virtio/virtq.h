/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTQ_H
#define KILN_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>

struct guest_mem;

/*
 * A split virtqueue (virtio 1.x, 2.7). The rings live in guest memory and
 * the guest may change them at any time: every index and descriptor is
 * read once, checked, and only then used.
 */

#define VIRTQ_MAX_SIZE 1024 /* the largest queue kiln offers */
#define VIRTQ_MAX_INDIRECT 1024 /* descriptors in one indirect table */
/* A chain can be at most this long (direct or indirect). */
#define VIRTQ_MAX_CHAIN VIRTQ_MAX_INDIRECT

struct virtq {
	/* Set up by the driver through the transport. */
	uint16_t num;
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect; /* VIRTIO_RING_F_INDIRECT_DESC negotiated */

	/* Host views of the rings, valid while enabled, and the memory
	 * every buffer of this queue is looked up in. */
	const struct guest_mem *mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;

	uint16_t last_avail; /* next avail entry to take */
	uint16_t used_idx; /* next used entry to fill */
	uint16_t signalled; /* used_idx at the last interrupt */
	bool broken; /* the guest corrupted the ring itself */
};

/* One request: readable buffers first (out), then writable ones (in). */
struct virtq_chain {
	uint16_t head;
	unsigned int n_out, n_in;
	uint64_t out_len, in_len;
	struct iovec out[VIRTQ_MAX_CHAIN];
	struct iovec in[VIRTQ_MAX_CHAIN];
};

/* Forgets everything but nothing in guest memory (device reset). */
void virtq_reset(struct virtq *q);

/*
 * Validates the queue set-up (size a power of two up to max, rings aligned
 * and inside guest RAM) and maps the rings. Returns 0 or -EINVAL.
 */
int virtq_enable(const struct guest_mem *mem, struct virtq *q, uint16_t max);

/*
 * Takes the next available chain. Returns 1 with *chain filled, 0 when the
 * ring is empty, -EINVAL for a malformed chain (chain->head is then set if
 * known: complete it with length 0), -EIO when the ring itself is broken
 * (no further chains are taken until reset).
 */
int virtq_pop(struct virtq *q, struct virtq_chain *chain);

/* Puts a completed chain in the used ring (not yet visible). */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/* Makes pushed entries visible to the driver. */
void virtq_publish(struct virtq *q);

/* Whether the driver wants an interrupt for what was published. */
bool virtq_should_notify(struct virtq *q);

/*
 * Asks the driver to notify for new buffers (EVENT_IDX: sets avail_event)
 * and returns true if buffers arrived meanwhile, so the caller goes on.
 */
bool virtq_enable_notify(struct virtq *q);

/* Copies up to len bytes of an iovec array, from byte offset skip. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip,
		  void *buf, size_t len);
size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t skip,
		  const void *buf, size_t len);
/* The part of an iovec array from byte skip, at most len bytes, as
 * iovecs into dst (room for n): returns how many. */
unsigned int iov_slice(const struct iovec *iov, unsigned int n, size_t skip,
		       size_t len, struct iovec *dst);

#endif
