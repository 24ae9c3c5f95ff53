// SPDX-License-Identifier: MIT
/* Token buckets (ratelimit.h). */
#include <string.h>
#include <time.h>

#include "ratelimit.h"

#define NS_PER_MS 1000000ULL

void tbucket_set(struct tbucket *b, uint64_t size, uint64_t one_time_burst,
		 uint64_t refill_ms, uint64_t now_ns)
{
	memset(b, 0, sizeof(*b));
	if (!size || !refill_ms)
		return;
	b->size = size;
	b->one_time_burst = one_time_burst;
	b->refill_ms = refill_ms;
	b->budget = (int64_t)size;
	b->last_ns = now_ns;
}

/* Tokens earned since last_ns, at size per refill_ms (no overflow). */
static void refill(struct tbucket *b, uint64_t now_ns)
{
	uint64_t period = b->refill_ms * NS_PER_MS, add, room;
	unsigned __int128 a;

	if (now_ns <= b->last_ns)
		return;
	a = (unsigned __int128)(now_ns - b->last_ns) * b->size / period;
	/* Up to the bucket's size; a debt is paid back first. */
	room = b->budget >= 0 ? b->size - (uint64_t)b->budget :
				b->size + (uint64_t)-b->budget;
	if (a >= room) {
		b->budget = (int64_t)b->size;
		b->last_ns = now_ns;
		return;
	}
	add = (uint64_t)a;
	if (!add)
		return;
	b->budget += (int64_t)add;
	/* Only the time those tokens took is spent, not the remainder. */
	b->last_ns += (uint64_t)((unsigned __int128)add * period / b->size);
}

/* Can n be taken now? If not, the wait in *wait_ns. */
static bool can_take(struct tbucket *b, uint64_t n, uint64_t now_ns,
		     uint64_t *wait_ns)
{
	uint64_t need, period, at, missing;

	if (!b->size)
		return true;
	refill(b, now_ns);
	if (n <= b->one_time_burst)
		return true;
	need = n - b->one_time_burst;
	/* Larger than the bucket: when it is full. */
	if (need > b->size)
		need = b->size;
	if (b->budget >= 0 && need <= (uint64_t)b->budget)
		return true;
	/* When the tokens missing will have come, counted from the last
	 * refill (the time since then is already part of the way). */
	missing = b->budget >= 0 ? need - (uint64_t)b->budget :
				   need + (uint64_t)-b->budget;
	period = b->refill_ms * NS_PER_MS;
	at = b->last_ns +
	     (uint64_t)((unsigned __int128)missing * period / b->size) + 1;
	*wait_ns = at > now_ns ? at - now_ns : 1;
	return false;
}

static void take(struct tbucket *b, uint64_t n)
{
	if (!b->size)
		return;
	if (n <= b->one_time_burst) {
		b->one_time_burst -= n;
		return;
	}
	n -= b->one_time_burst;
	b->one_time_burst = 0;
	/* Beyond what is there: a debt the refill pays back first. */
	if (n > (uint64_t)INT64_MAX / 4)
		n = (uint64_t)INT64_MAX / 4;
	b->budget -= (int64_t)n;
}

bool ratelimit_take(struct ratelimit *rl, uint64_t bytes, uint64_t now_ns,
		    uint64_t *wait_ns)
{
	uint64_t w1 = 0, w2 = 0;
	bool a = can_take(&rl->bw, bytes, now_ns, &w1),
	     o = can_take(&rl->ops, 1, now_ns, &w2);

	if (!a || !o) {
		*wait_ns = w1 > w2 ? w1 : w2;
		return false;
	}
	take(&rl->bw, bytes);
	take(&rl->ops, 1);
	return true;
}

bool ratelimit_on(const struct ratelimit *rl)
{
	return rl->bw.size || rl->ops.size;
}

uint64_t ratelimit_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

void ratelimit_from_spec(struct ratelimit *rl, const struct rate_spec *s,
			 uint64_t now_ns)
{
	tbucket_set(&rl->bw, s->bw.size, s->bw.one_time_burst, s->bw.refill_ms,
		    now_ns);
	tbucket_set(&rl->ops, s->ops.size, s->ops.one_time_burst,
		    s->ops.refill_ms, now_ns);
}
