// SPDX-License-Identifier: MIT
/* Start-up pages given back: which pages of a segment qualify, and the
 * real thing on this process (pages leave, their content stays). */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "trim.h"
#include "unit.h"

#define PG 4096u

static void test_range(void)
{
	struct trim_seg s = { .addr = 0x400000, .len = 5 * PG };
	uintptr_t a = 0, b = 0;

	CU_ASSERT_TRUE(trim_range(&s, PG, &a, &b));
	CU_ASSERT_EQUAL(a, 0x400000);
	CU_ASSERT_EQUAL(b, 0x400000 + 5 * PG);
	/* Partial pages at either end are kept. */
	s.addr = 0x400010;
	s.len = 5 * PG;
	CU_ASSERT_TRUE(trim_range(&s, PG, &a, &b));
	CU_ASSERT_EQUAL(a, 0x401000);
	CU_ASSERT_EQUAL(b, 0x405000);
	/* Less than a whole page: nothing. */
	s.addr = 0x400010;
	s.len = PG;
	CU_ASSERT_FALSE(trim_range(&s, PG, &a, &b));
	s.addr = 0x400000;
	s.len = PG - 1;
	CU_ASSERT_FALSE(trim_range(&s, PG, &a, &b));
	/* Writable segments are never given back. */
	s.len = 8 * PG;
	s.writable = 1;
	CU_ASSERT_FALSE(trim_range(&s, PG, &a, &b));
	/* Nonsense: a page size that is no power of two, a wrap. */
	s.writable = 0;
	CU_ASSERT_FALSE(trim_range(&s, 3000, &a, &b));
	CU_ASSERT_FALSE(trim_range(&s, 0, &a, &b));
	s.addr = UINTPTR_MAX - PG;
	s.len = 4 * PG;
	CU_ASSERT_FALSE(trim_range(&s, PG, &a, &b));
	s.addr = 0x400000;
	s.len = 0;
	CU_ASSERT_FALSE(trim_range(&s, PG, &a, &b));
}

/* A read-only table of this program's file, 32 pages. */
#define TABLE_WORDS (32 * PG / sizeof(uint32_t))
static const uint32_t table[TABLE_WORDS] = {
#define T8(n) (n), (n) + 1, (n) + 2, (n) + 3, (n) + 4, (n) + 5, (n) + 6, (n) + 7
	T8(1),
	T8(9),
	T8(17),
	T8(25),
#undef T8
};

static uint64_t table_sum(void)
{
	volatile const uint32_t *t = table;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < TABLE_WORDS; i++)
		sum += t[i] + (i % 1024 == 7);
	return sum;
}

/* How many of the table's pages this process has mapped in, from
 * /proc/self/pagemap (bit 63: present); -1 when it cannot be read. */
static int table_present(void)
{
	uintptr_t p = ((uintptr_t)table + PG - 1) & ~(uintptr_t)(PG - 1);
	int fd = open("/proc/self/pagemap", O_RDONLY), n = 0;
	unsigned int i;

	if (fd < 0)
		return -1;
	for (i = 0; i < 30; i++) {
		uint64_t e;

		if (pread(fd, &e, sizeof(e), (off_t)((p / PG + i) * 8)) !=
		    sizeof(e)) {
			n = -1;
			break;
		}
		n += (int)(e >> 63);
	}
	close(fd);
	return n;
}

static void test_live(void)
{
	uint64_t before = table_sum();
	int in = table_present(), out;
	size_t given;

	if (in < 0)
		return; /* no pagemap here: the range test above stands */
	CU_ASSERT_EQUAL(in, 30);
	given = trim_startup();
	CU_ASSERT(given >= 30 * PG);
	out = table_present();
	CU_ASSERT(out < 30);
	/* Read again from the file, unchanged; this code still runs. */
	CU_ASSERT_EQUAL(table_sum(), before);
	CU_ASSERT_EQUAL(table_present(), 30);
}

static CU_TestInfo tests[] = {
	{ "whole read-only pages only", test_range },
	{ "given back, read again unchanged", test_live },
	CU_TEST_INFO_NULL,
};

void suite_trim(void)
{
	unit_add_suite("trim", tests);
}
