// SPDX-License-Identifier: MIT
/* Token buckets: refill, burst, one-time burst, requests larger than a
 * bucket, both buckets or neither, a change while throttled. */
#include "ratelimit.h"
#include "unit.h"

#define MS 1000000ULL

static bool take(struct ratelimit *rl, uint64_t n, uint64_t now, uint64_t *wait)
{
	*wait = 0;
	return ratelimit_take(rl, n, now, wait);
}

static void test_none(void)
{
	struct ratelimit rl;
	struct rate_spec s = { { 0, 0, 0 }, { 0, 0, 0 } };
	uint64_t w;

	ratelimit_from_spec(&rl, &s, 0);
	CU_ASSERT_FALSE(ratelimit_on(&rl));
	CU_ASSERT_TRUE(take(&rl, 1ULL << 40, 0, &w));
}

static void test_refill(void)
{
	struct ratelimit rl;
	struct rate_spec s = { { 1000, 0, 1000 }, { 0, 0, 0 } };
	uint64_t w, t = 5000 * MS;

	ratelimit_from_spec(&rl, &s, t);
	CU_ASSERT_TRUE(ratelimit_on(&rl));
	CU_ASSERT_TRUE(take(&rl, 600, t, &w));
	/* 400 left: 600 more needs 200 tokens, 200 ms at 1000 a second. */
	CU_ASSERT_FALSE(take(&rl, 600, t, &w));
	CU_ASSERT(w >= 199 * MS && w <= 201 * MS);
	CU_ASSERT_FALSE(take(&rl, 600, t + 150 * MS, &w));
	CU_ASSERT(w >= 49 * MS && w <= 51 * MS);
	CU_ASSERT_TRUE(take(&rl, 600, t + 200 * MS + 1, &w));
	/* A long idle time fills it, no more. */
	CU_ASSERT_TRUE(take(&rl, 1000, t + 100000 * MS, &w));
	CU_ASSERT_FALSE(take(&rl, 1, t + 100000 * MS, &w));
}

static void test_burst(void)
{
	struct ratelimit rl;
	struct rate_spec s = { { 100, 500, 1000 }, { 0, 0, 0 } };
	uint64_t w;

	ratelimit_from_spec(&rl, &s, 0);
	/* The one-time burst first, then the bucket, then nothing. */
	CU_ASSERT_TRUE(take(&rl, 500, 0, &w));
	CU_ASSERT_TRUE(take(&rl, 100, 0, &w));
	CU_ASSERT_FALSE(take(&rl, 1, 0, &w));
	/* The burst never comes back: a second refill gives 100 only. */
	CU_ASSERT_TRUE(take(&rl, 100, 5000 * MS, &w));
	CU_ASSERT_FALSE(take(&rl, 1, 5000 * MS, &w));
}

static void test_larger(void)
{
	struct ratelimit rl;
	struct rate_spec s = { { 100, 0, 1000 }, { 0, 0, 0 } };
	uint64_t w;

	ratelimit_from_spec(&rl, &s, 0);
	/* Larger than the bucket: passes when full, leaving a debt of 900
	 * that the refill pays first: the rate holds (1000 in 10 s). */
	CU_ASSERT_TRUE(take(&rl, 1000, 0, &w));
	CU_ASSERT_FALSE(take(&rl, 1000, 0, &w));
	CU_ASSERT(w >= 9999 * MS && w <= 10001 * MS);
	CU_ASSERT_FALSE(take(&rl, 1, 5 * MS, &w));
	CU_ASSERT(w >= 9004 * MS && w <= 9006 * MS);
	CU_ASSERT_FALSE(take(&rl, 1, 9000 * MS, &w));
	CU_ASSERT_TRUE(take(&rl, 1, 9011 * MS, &w));
	CU_ASSERT_TRUE(take(&rl, 1000, 20000 * MS, &w));
}

static void test_both(void)
{
	struct ratelimit rl;
	struct rate_spec s = { { 1000, 0, 1000 }, { 2, 0, 1000 } };
	uint64_t w;

	ratelimit_from_spec(&rl, &s, 0);
	CU_ASSERT_TRUE(take(&rl, 100, 0, &w));
	CU_ASSERT_TRUE(take(&rl, 100, 0, &w));
	/* Out of ops: nothing taken from the bandwidth bucket either. */
	CU_ASSERT_FALSE(take(&rl, 100, 0, &w));
	CU_ASSERT(w >= 499 * MS && w <= 501 * MS);
	CU_ASSERT_EQUAL(rl.bw.budget, 800);
	/* Out of bytes while ops remain: the longer wait is given. */
	CU_ASSERT_TRUE(take(&rl, 700, 500 * MS + 1, &w));
	CU_ASSERT_FALSE(take(&rl, 1000, 500 * MS + 1, &w));
	CU_ASSERT(w > 500 * MS);
}

static void test_change(void)
{
	struct ratelimit rl;
	struct rate_spec slow = { { 10, 0, 1000 }, { 0, 0, 0 } },
			 fast = { { 1000000, 0, 1000 }, { 0, 0, 0 } },
			 off = { { 0, 0, 0 }, { 0, 0, 0 } };
	uint64_t w;

	ratelimit_from_spec(&rl, &slow, 0);
	CU_ASSERT_TRUE(take(&rl, 10, 0, &w));
	CU_ASSERT_FALSE(take(&rl, 4096, 0, &w));
	/* A new limit while throttled: full buckets at once. */
	ratelimit_from_spec(&rl, &fast, 1 * MS);
	CU_ASSERT_TRUE(take(&rl, 4096, 1 * MS, &w));
	ratelimit_from_spec(&rl, &off, 2 * MS);
	CU_ASSERT_TRUE(take(&rl, 1ULL << 30, 2 * MS, &w));
}

void suite_ratelimit(void)
{
	static const CU_TestInfo tests[] = {
		{ "no limit", test_none },
		{ "refill", test_refill },
		{ "one-time burst", test_burst },
		{ "a request larger than the bucket", test_larger },
		{ "both buckets or neither", test_both },
		{ "a change while throttled", test_change },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("rate limiter", tests);
}
