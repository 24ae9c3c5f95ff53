// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "bus.h"
#include "unit.h"

struct rec {
	uint64_t offset;
	uint32_t len;
	bool is_write;
	uint8_t last;
	int calls;
};

static void handler(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		    bool is_write)
{
	struct rec *r = opaque;

	r->offset = offset;
	r->len = len;
	r->is_write = is_write;
	r->calls++;
	if (is_write)
		r->last = data[0];
	else
		memset(data, 0xa5, len);
}

static void test_register_overlap(void)
{
	struct bus b;
	struct rec r = { 0 };

	bus_init(&b, "t");
	CU_ASSERT_EQUAL(bus_register(&b, 0x100, 0x10, handler, &r), 0);
	CU_ASSERT_EQUAL(bus_register(&b, 0x108, 0x10, handler, &r), -EEXIST);
	CU_ASSERT_EQUAL(bus_register(&b, 0xf8, 0x09, handler, &r), -EEXIST);
	CU_ASSERT_EQUAL(bus_register(&b, 0x0, 0x1000, handler, &r), -EEXIST);
	CU_ASSERT_EQUAL(bus_register(&b, 0xf0, 0x10, handler, &r), 0);
	CU_ASSERT_EQUAL(bus_register(&b, 0x110, 0x10, handler, &r), 0);
	CU_ASSERT_EQUAL(bus_register(&b, 0x200, 0, handler, &r), -EINVAL);
	CU_ASSERT_EQUAL(bus_register(&b, UINT64_MAX - 1, 4, handler, &r),
			-EINVAL);
	CU_ASSERT_EQUAL(bus_register(&b, 0x300, 4, NULL, &r), -EINVAL);
	CU_ASSERT_EQUAL(b.nr, 3);
	/* Kept sorted. */
	CU_ASSERT_EQUAL(b.ranges[0].base, 0xf0);
	CU_ASSERT_EQUAL(b.ranges[1].base, 0x100);
	CU_ASSERT_EQUAL(b.ranges[2].base, 0x110);
	bus_destroy(&b);
}

static void test_dispatch_offset(void)
{
	struct rec a = { 0 }, c = { 0 };
	uint8_t data[8];
	struct bus b;
	int i;

	bus_init(&b, "t");
	/* Enough ranges to exercise the binary search. */
	for (i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(bus_register(&b, 0x1000 + i * 0x100, 0x10,
					     handler, i == 7 ? &a : &c),
				0);
	data[0] = 0x42;
	CU_ASSERT_EQUAL(bus_dispatch(&b, 0x1705, data, 1, true), 0);
	CU_ASSERT_EQUAL(a.calls, 1);
	CU_ASSERT_EQUAL(a.offset, 5);
	CU_ASSERT_TRUE(a.is_write);
	CU_ASSERT_EQUAL(a.last, 0x42);
	CU_ASSERT_EQUAL(bus_dispatch(&b, 0x170c, data, 4, false), 0);
	CU_ASSERT_EQUAL(a.offset, 0xc);
	CU_ASSERT_EQUAL(a.len, 4);
	CU_ASSERT_EQUAL(data[3], 0xa5);
	CU_ASSERT_EQUAL(c.calls, 0);
	bus_destroy(&b);
}

static void test_dispatch_unknown(void)
{
	struct rec r = { 0 };
	uint8_t data[4] = { 1, 2, 3, 4 };
	struct bus b;

	bus_init(&b, "t");
	CU_ASSERT_EQUAL(bus_register(&b, 0x3f8, 8, handler, &r), 0);
	CU_ASSERT_EQUAL(bus_dispatch(&b, 0x80, data, 1, false), -ENOENT);
	CU_ASSERT_EQUAL(data[0], 0xff);
	CU_ASSERT_EQUAL(data[1], 2);
	/* Straddling the end of a device is not that device's access. */
	CU_ASSERT_EQUAL(bus_dispatch(&b, 0x3fe, data, 4, false), -ENOENT);
	CU_ASSERT_EQUAL(bus_dispatch(&b, 0x3f0, data, 4, true), -ENOENT);
	CU_ASSERT_EQUAL(bus_dispatch(&b, UINT64_MAX, data, 2, true), -ENOENT);
	CU_ASSERT_EQUAL(r.calls, 0);
	CU_ASSERT_EQUAL(bus_dispatch(&b, 0x3ff, data, 1, true), 0);
	CU_ASSERT_EQUAL(r.offset, 7);
	bus_destroy(&b);
}

void suite_bus(void)
{
	static const CU_TestInfo tests[] = {
		{ "overlap refused", test_register_overlap },
		{ "dispatch by offset", test_dispatch_offset },
		{ "unknown address", test_dispatch_unknown },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("bus", tests);
}
