/* SPDX-License-Identifier: MIT */
#ifndef KILN_METRICS_H
#define KILN_METRICS_H

/*
 * Counters for the metrics a program reads from kiln (Firecracker's
 * PUT /metrics and FlushMetrics, kiln run --metrics): each is bumped
 * wherever its thread is, without a lock, and written as the count since
 * the last flush, as Firecracker writes its own.
 */
#include <stdint.h>

struct metric {
	uint64_t v; /* bumped atomically */
	uint64_t last; /* v at the last flush (the flushing thread's) */
};

static inline void metric_add(struct metric *m, uint64_t n)
{
	__atomic_fetch_add(&m->v, n, __ATOMIC_RELAXED);
}

/* The count since the last call. */
static inline uint64_t metric_take(struct metric *m)
{
	uint64_t v = __atomic_load_n(&m->v, __ATOMIC_RELAXED), d = v - m->last;

	m->last = v;
	return d;
}

/* A group's counters, one call each: how device models give theirs. */
typedef void (*metric_emit_fn)(void *ctx, const char *name, struct metric *m);

/* What the vCPU threads count, for all of them together. */
struct vcpu_metrics {
	struct metric exit_io_in, exit_io_out, exit_mmio_read, exit_mmio_write;
	struct metric failures;
};

#endif
