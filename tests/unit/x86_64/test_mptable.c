// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "layout.h"
#include "../unit.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* Parses the table the way Linux's mpparse does and checks it. */
static void check_table(unsigned int ncpus)
{
	size_t len = mptable_size(ncpus);
	uint8_t *buf = calloc(1, len + 64);
	const uint8_t *mpc, *p, *end;
	unsigned int cpus = 0, bsp = 0, ioapics = 0, ints = 0, lints = 0;
	unsigned int buses = 0, i, count;
	uint8_t ioapic_id = 0xff;
	int n;

	memset(buf, 0xcc, len + 64);
	n = mptable_build(buf, len + 64, X86_MPTABLE_ADDR, ncpus);
	CU_ASSERT_EQUAL_FATAL(n, (int)len);
	CU_ASSERT_EQUAL(buf[len], 0xcc); /* nothing written past the end */

	CU_ASSERT_EQUAL(memcmp(buf, "_MP_", 4), 0);
	CU_ASSERT_EQUAL(sum(buf, 16), 0);
	CU_ASSERT_EQUAL(buf[8], 1); /* length: one 16-byte unit */
	CU_ASSERT_EQUAL(buf[9], 4); /* spec 1.4 */
	CU_ASSERT_EQUAL(buf[11], 0); /* a config table follows, no default */
	CU_ASSERT_EQUAL(rd32(buf + 4), X86_MPTABLE_ADDR + 16);

	mpc = buf + 16;
	CU_ASSERT_EQUAL(memcmp(mpc, "PCMP", 4), 0);
	CU_ASSERT_EQUAL(rd16(mpc + 4), len - 16);
	CU_ASSERT_EQUAL(sum(mpc, rd16(mpc + 4)), 0);
	CU_ASSERT_EQUAL(rd32(mpc + 36), X86_LAPIC_ADDR);
	count = rd16(mpc + 34);

	p = mpc + 44;
	end = mpc + rd16(mpc + 4);
	for (i = 0; i < count && p < end; i++) {
		switch (p[0]) {
		case 0:
			CU_ASSERT_EQUAL(p[1], cpus); /* APIC ID = index */
			CU_ASSERT_TRUE(p[3] & 1); /* enabled */
			if (p[3] & 2)
				bsp++;
			cpus++;
			p += 20;
			break;
		case 1:
			CU_ASSERT_EQUAL(memcmp(p + 2, "ISA", 3), 0);
			buses++;
			p += 8;
			break;
		case 2:
			ioapic_id = p[1];
			CU_ASSERT_EQUAL(rd32(p + 4), X86_IOAPIC_ADDR);
			ioapics++;
			p += 8;
			break;
		case 3:
			CU_ASSERT_EQUAL(p[5], p[7]); /* IRQ n -> pin n */
			CU_ASSERT_EQUAL(p[6], ioapic_id);
			ints++;
			p += 8;
			break;
		case 4:
			lints++;
			p += 8;
			break;
		default:
			CU_FAIL("unknown MP entry type");
			p = end;
		}
	}
	CU_ASSERT_EQUAL(i, count);
	CU_ASSERT_PTR_EQUAL(p, end);
	CU_ASSERT_EQUAL(cpus, ncpus);
	CU_ASSERT_EQUAL(bsp, 1);
	CU_ASSERT_EQUAL(buses, 1);
	CU_ASSERT_EQUAL(ioapics, 1);
	CU_ASSERT_EQUAL(ioapic_id, ncpus); /* not clashing with a CPU */
	CU_ASSERT_EQUAL(ints, X86_IOAPIC_PINS);
	CU_ASSERT_EQUAL(lints, 2);
	free(buf);
}

static void test_one_cpu(void)
{
	check_table(1);
}

static void test_two_cpus(void)
{
	check_table(2);
}

static void test_many_cpus(void)
{
	check_table(64);
	check_table(254);
}

static void test_bad_args(void)
{
	uint8_t buf[4096];

	CU_ASSERT_EQUAL(mptable_build(buf, sizeof(buf), 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(mptable_build(buf, sizeof(buf), 0, 255), -EINVAL);
	CU_ASSERT_EQUAL(mptable_build(buf, mptable_size(4) - 1, 0, 4), -ENOSPC);
}

void suite_mptable(void)
{
	static const CU_TestInfo tests[] = {
		{ "1 CPU", test_one_cpu },
		{ "2 CPUs", test_two_cpus },
		{ "64 and 254 CPUs", test_many_cpus },
		{ "bad arguments", test_bad_args },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("MP table", tests);
}
