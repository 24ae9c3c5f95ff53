/* SPDX-License-Identifier: MIT */
#ifndef KILN_RATELIMIT_H
#define KILN_RATELIMIT_H

/*
 * Firecracker's rate limiter: two token buckets, bandwidth (bytes) and
 * ops (requests). A bucket holds up to size tokens and refills at
 * size per refill_time ms; one_time_burst tokens more are spent first
 * and never come back. A request takes from both or neither; one larger
 * than a bucket passes when that bucket is full and leaves it in debt
 * (the tokens it took beyond the bucket are paid back by the refill
 * before anything else passes), so it still goes at the bucket's rate.
 * A bucket with size 0 is no limit.
 */
#include <stdbool.h>
#include <stdint.h>

struct tbucket {
	uint64_t size, one_time_burst, refill_ms;
	int64_t budget; /* tokens now (at most size; below 0: in debt) */
	uint64_t last_ns; /* when budget was last refilled */
};

struct ratelimit {
	struct tbucket bw, ops;
};

/* As a configuration gives it (Firecracker's rate_limiter object). */
struct bucket_spec {
	uint64_t size, one_time_burst, refill_ms; /* size 0: none */
};

struct rate_spec {
	struct bucket_spec bw, ops;
};

/* The limiter spec describes, full as of now_ns. */
void ratelimit_from_spec(struct ratelimit *rl, const struct rate_spec *s,
			 uint64_t now_ns);

/* A bucket (size 0: none), full, as of now_ns. */
void tbucket_set(struct tbucket *b, uint64_t size, uint64_t one_time_burst,
		 uint64_t refill_ms, uint64_t now_ns);

/*
 * Takes n tokens from both of rl's buckets: true, or false (nothing
 * taken) with *wait_ns set to how long until it would succeed.
 */
bool ratelimit_take(struct ratelimit *rl, uint64_t bytes, uint64_t now_ns,
		    uint64_t *wait_ns);

/* Whether rl limits anything. */
bool ratelimit_on(const struct ratelimit *rl);

/* CLOCK_MONOTONIC in ns. */
uint64_t ratelimit_now(void);

#endif
