/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_BALLOON_H
#define KILN_VIRTIO_BALLOON_H

#include "device.h"

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_balloon.h>

#include "config.h"
#include "metrics.h"
#include "virtio.h"

/*
 * virtio-balloon (virtio 1.x, 5.5): the guest gives pages back and kiln
 * returns them to the host (MADV_DONTNEED on guest RAM, which is private
 * anonymous memory: a page the guest touches again comes back zeroed).
 * A target set at any time (the config space's num_pages), deflate on
 * OOM, memory statistics polled every stats_polling_interval_s, and free
 * page reporting: pages the guest's allocator has free go back without a
 * target.
 */

#define BALLOON_QUEUE_SIZE 256
#define BALLOON_PAGE 4096ULL
#define BALLOON_NR_STATS 10 /* tags 0-9: swap in ... hugetlb failures */

struct virtio_balloon {
	struct virtio_dev vdev;
	struct virtio_balloon_config cfg;
	struct balloon_spec spec;
	uint64_t ram_pages; /* guest RAM in 4 KiB pages: the largest target */
	/* Queue roles once the driver's features are known: the driver
	 * numbers only the queues it uses (-1: not in use). */
	int q_stats, q_report;
	/* Statistics: the buffer the guest gave (held until the next poll)
	 * and what it said last. */
	bool stats_held;
	uint16_t stats_head;
	uint64_t stats[BALLOON_NR_STATS];
	bool stats_valid[BALLOON_NR_STATS];
	int timer_fd;
	struct virtq_chain chain;

	struct metric inflate_count, deflate_count, stats_updates_count;
	struct metric reported_count; /* free page reports */
	struct metric pages_returned; /* 4 KiB pages given back to the host */
	struct metric invalid_pfns;
};

struct guest_mem;

/*
 * Parses the page frame numbers of an inflate or deflate buffer (le32
 * each, 4 KiB pages) from iovecs: fn(opaque, hva) for each page inside
 * guest RAM; one outside it, or a trailing partial number, is counted in
 * *bad and skipped. Returns the pages passed to fn.
 */
unsigned int balloon_pfns(const struct guest_mem *m, const struct iovec *iov,
			  unsigned int n, unsigned int *bad,
			  void (*fn)(void *opaque, uint8_t *hva), void *opaque);

/* The statistics in a stats buffer (tag le16, value le64, packed). */
void balloon_parse_stats(struct virtio_balloon *b, const struct iovec *iov,
			 unsigned int n);

struct virtio_balloon *virtio_balloon_new(struct vm *vm,
					  const struct balloon_spec *s,
					  char *err, size_t errlen);
/* A new target (MiB), told to the guest at once. Any thread. */
int virtio_balloon_set_target(struct virtio_balloon *b, uint64_t mib, char *err,
			      size_t errlen);
/* A new statistics interval (not 0: the queue exists only when asked for
 * at the start). */
int virtio_balloon_set_interval(struct virtio_balloon *b, unsigned int secs,
				char *err, size_t errlen);
struct balloon_stats {
	uint32_t target_pages, actual_pages;
	uint64_t v[BALLOON_NR_STATS];
	bool valid[BALLOON_NR_STATS];
};

/* A snapshot for GET /balloon/statistics: false when the statistics
 * queue is not in use. */
bool virtio_balloon_stats(struct virtio_balloon *b, struct balloon_stats *out);
void virtio_balloon_free(struct virtio_balloon *b);

extern const struct device_ops virtio_balloon_device_ops;

#endif
