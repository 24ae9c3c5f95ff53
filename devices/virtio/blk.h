/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_BLK_H
#define KILN_VIRTIO_BLK_H

#include "device.h"

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_blk.h>

#include "metrics.h"
#include "ratelimit.h"
#include "virtio.h"

#define BLK_QUEUE_SIZE 256

struct virtio_blk {
	struct virtio_dev vdev;
	const char *path;
	int fd;
	bool ro;
	bool bdev; /* a host block device rather than a file */
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config cfg;
	struct virtq_chain chain; /* scratch for the I/O thread */
	/* The rate limiter (none when both buckets are 0), and the timer
	 * that wakes a queue it held back (on the I/O thread). */
	struct ratelimit rl;
	int timer_fd;
	bool throttled;
	struct metric throttled_count;
	/* Requests that ended well, by kind; refused or failed ones. */
	struct metric read_count, write_count, flush_count;
	struct metric read_bytes, write_bytes;
	struct metric invalid_reqs_count, io_errors;
};

/*
 * Opens the backing file (O_RDWR, or O_RDONLY for ro), takes an advisory
 * lock (exclusive for writers, shared for readers) and fills in capacity.
 * Returns a device not yet attached, or NULL with err saying what to do.
 */
struct virtio_blk *virtio_blk_open(struct vm *vm, const char *path, bool ro,
				   const char *id, char *err, size_t errlen);
void virtio_blk_free(struct virtio_blk *b);
/*
 * Sets the disk's rate limiter (a bandwidth bucket in bytes and an ops
 * bucket, each size/one_time_burst/refill_time ms; size 0: none), full;
 * a queue it held back is looked at again. Any thread.
 */
void virtio_blk_set_limits(struct virtio_blk *b, const struct ratelimit *rl);
/*
 * Puts another file (or block device) behind a live disk, as opened by
 * virtio_blk_open (same read-only mode, locked), and tells the guest its
 * capacity changed. path must outlive the disk. 0, or -EINVAL with err.
 */
int virtio_blk_replace(struct virtio_blk *b, const char *path, char *err,
		       size_t errlen);

/*
 * Carries out one request. Writes the status byte into the chain and
 * returns the number of bytes written into the guest's buffers (the used
 * length). A chain too malformed to carry a status byte returns 0.
 */
uint32_t virtio_blk_request(struct virtio_blk *b, struct virtq_chain *c);

/* Its entry in the VM's device list (vmm/device.h). */
extern const struct device_ops virtio_blk_device_ops;

#endif
