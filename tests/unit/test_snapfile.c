// SPDX-License-Identifier: MIT
/* The snapshot file's container: round trip, and every kind of bad file
 * refused before any section is read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapfile.h"
#include "unit.h"

static struct snap_writer w;
static struct snap_reader r;

/* A file of three sections (one empty) for arch. */
static uint8_t *sample(uint32_t arch, size_t *len)
{
	static const char cfg[] = "{\"vcpus\":2}";
	uint8_t regs[301];
	size_t i;

	for (i = 0; i < sizeof(regs); i++)
		regs[i] = (uint8_t)(i * 7);
	memset(&w, 0, sizeof(w));
	CU_ASSERT_EQUAL(snap_add(&w, 1, 0, cfg, sizeof(cfg)), 0);
	CU_ASSERT_EQUAL(snap_add(&w, 2, 0, regs, sizeof(regs)), 0);
	CU_ASSERT_EQUAL(snap_add(&w, 2, 1, NULL, 0), 0);
	return snap_finish(&w, arch, len);
}

static void test_round_trip(void)
{
	size_t len = 0, l = 0;
	uint8_t *f = sample(snap_host_arch(), &len);
	const uint8_t *p;
	char err[200] = "";

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(len % 8, 0);
	CU_ASSERT_EQUAL(
		snap_open(&r, f, len, snap_host_arch(), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.nr, 3);
	p = snap_get(&r, 1, 0, &l);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(l, sizeof("{\"vcpus\":2}"));
	CU_ASSERT_STRING_EQUAL((const char *)p, "{\"vcpus\":2}");
	p = snap_get(&r, 2, 0, &l);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(l, 301);
	CU_ASSERT_EQUAL(p[300], (uint8_t)(300 * 7));
	CU_ASSERT_EQUAL((uintptr_t)p % 8, (uintptr_t)f % 8);
	CU_ASSERT_PTR_NOT_NULL(snap_get(&r, 2, 1, &l));
	CU_ASSERT_EQUAL(l, 0);
	CU_ASSERT_PTR_NULL(snap_get(&r, 3, 0, &l));
	CU_ASSERT_PTR_NULL(snap_get(&r, 2, 2, &l));
	free(f);
}

static void test_truncated(void)
{
	size_t len = 0, cut;
	uint8_t *f = sample(snap_host_arch(), &len);
	char err[200];
	int refused = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (cut = 0; cut < len; cut++) {
		/* A copy of its own, so that tools see reads past it. */
		uint8_t *c = malloc(cut ? cut : 1);

		memcpy(c, f, cut);
		err[0] = 0;
		refused += snap_open(&r, c, cut, snap_host_arch(), err,
				     sizeof(err)) == -EINVAL &&
			   err[0];
		free(c);
	}
	CU_ASSERT_EQUAL(refused, (int)len);
	err[0] = 0;
	CU_ASSERT_EQUAL(snap_open(&r, f, len - 1, snap_host_arch(), err,
				  sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated"));
	free(f);
}

static void test_damaged(void)
{
	size_t len = 0, i;
	uint8_t *f = sample(snap_host_arch(), &len);
	char err[200];
	int refused = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	/* Any one byte changed is refused. */
	for (i = 0; i < len; i++) {
		f[i] ^= 0x5a;
		refused += snap_open(&r, f, len, snap_host_arch(), err,
				     sizeof(err)) == -EINVAL;
		f[i] ^= 0x5a;
	}
	CU_ASSERT_EQUAL(refused, (int)len);
	/* A data byte: the checksum says so. */
	f[len - 20] ^= 1;
	CU_ASSERT_EQUAL(snap_open(&r, f, len, snap_host_arch(), err,
				  sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "checksum"));
	f[len - 20] ^= 1;
	/* Not a snapshot at all. */
	CU_ASSERT_EQUAL(snap_open(&r, "hello", 5, snap_host_arch(), err,
				  sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a kiln snapshot"));
	/* Another version. */
	f[8] = 2;
	CU_ASSERT_EQUAL(snap_open(&r, f, len, snap_host_arch(), err,
				  sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "version 2"));
	f[8] = 1;
	CU_ASSERT_EQUAL(
		snap_open(&r, f, len, snap_host_arch(), err, sizeof(err)), 0);
	free(f);
	/* Another arch. */
	f = sample(SNAP_ARCH_AARCH64, &len);
	CU_ASSERT_EQUAL(snap_open(&r, f, len, SNAP_ARCH_X86_64, err,
				  sizeof(err)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err,
			       "a snapshot of aarch64: this kiln is x86_64");
	free(f);
}

static void test_writer_limits(void)
{
	size_t len = 0;
	unsigned int i;
	uint8_t *f;

	memset(&w, 0, sizeof(w));
	CU_ASSERT_EQUAL(snap_add(&w, 4, 9, "a", 1), 0);
	CU_ASSERT_EQUAL(snap_add(&w, 4, 9, "b", 1), -EEXIST);
	/* A failure sticks: no file. */
	CU_ASSERT_EQUAL(snap_add(&w, 5, 0, "c", 1), -EINVAL);
	CU_ASSERT_PTR_NULL(snap_finish(&w, snap_host_arch(), &len));
	CU_ASSERT_PTR_NULL(w.data);
	for (i = 0; i < SNAP_MAX_SECTIONS; i++)
		CU_ASSERT_EQUAL_FATAL(snap_add(&w, 7, i, &i, sizeof(i)), 0);
	CU_ASSERT_EQUAL(snap_add(&w, 7, i, &i, sizeof(i)), -E2BIG);
	snap_writer_free(&w);
	/* The most sections there may be, read back. */
	for (i = 0; i < SNAP_MAX_SECTIONS; i++)
		CU_ASSERT_EQUAL_FATAL(snap_add(&w, 7, i, &i, sizeof(i)), 0);
	f = snap_finish(&w, snap_host_arch(), &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(snap_open(&r, f, len, snap_host_arch(), NULL, 0), 0);
	for (i = 0; i < SNAP_MAX_SECTIONS; i += 97) {
		size_t l = 0;
		const void *p = snap_get(&r, 7, i, &l);
		unsigned int v = ~i;

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		memcpy(&v, p, sizeof(v));
		CU_ASSERT_EQUAL(v, i);
	}
	free(f);
	/* No sections at all is a file too. */
	f = snap_finish(&w, snap_host_arch(), &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(snap_open(&r, f, len, snap_host_arch(), NULL, 0), 0);
	CU_ASSERT_EQUAL(r.nr, 0);
	free(f);
}

static CU_TestInfo tests[] = {
	{ "sections written and read back", test_round_trip },
	{ "every truncation refused", test_truncated },
	{ "damaged, another version, another arch", test_damaged },
	{ "repeats, limits, no sections", test_writer_limits },
	CU_TEST_INFO_NULL,
};

void suite_snapfile(void)
{
	unit_add_suite("snapfile", tests);
}
