// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "../unit.h"
#include "vm.h"

static void test_layout_small(void)
{
	struct vm vm;

	memset(&vm, 0, sizeof(vm));
	CU_ASSERT_EQUAL(vm_setup_memory_layout(&vm, 256 << 20), 0);
	CU_ASSERT_EQUAL(vm.mem.nr, 1);
	CU_ASSERT_EQUAL(vm.mem.region[0].gpa, 0);
	CU_ASSERT_EQUAL(vm.mem.region[0].size, 256 << 20);
}

static void test_layout_split(void)
{
	struct vm vm;

	memset(&vm, 0, sizeof(vm));
	CU_ASSERT_EQUAL(vm_setup_memory_layout(&vm, 3500ULL << 20), 0);
	CU_ASSERT_EQUAL_FATAL(vm.mem.nr, 2);
	CU_ASSERT_EQUAL(vm.mem.region[0].size, X86_MMIO_HOLE_START);
	CU_ASSERT_EQUAL(vm.mem.region[1].gpa, X86_MMIO_HOLE_END);
	CU_ASSERT_EQUAL(vm.mem.region[0].size + vm.mem.region[1].size,
			3500ULL << 20);
	CU_ASSERT_EQUAL(vm_setup_memory_layout(&vm, 4096), -EINVAL);
}

/* gpa_to_hva over a fake two-region guest (small sizes, same code). */
static void test_gpa_to_hva(void)
{
	static uint8_t ram[0x3000];
	struct vm vm;

	memset(&vm, 0, sizeof(vm));
	vm.mem.nr = 2;
	vm.mem.region[0] = (struct mem_region){ 0, 0x2000, ram };
	vm.mem.region[1] = (struct mem_region){ 0x10000, 0x1000, ram + 0x2000 };

	CU_ASSERT_PTR_EQUAL(gpa_to_hva(&vm, 0, 0x2000), ram);
	CU_ASSERT_PTR_EQUAL(gpa_to_hva(&vm, 0x1fff, 1), ram + 0x1fff);
	CU_ASSERT_PTR_NULL(gpa_to_hva(&vm, 0x1fff, 2)); /* runs off */
	CU_ASSERT_PTR_NULL(gpa_to_hva(&vm, 0x2000, 1)); /* the hole */
	CU_ASSERT_PTR_NULL(gpa_to_hva(&vm, 0xffff, 2)); /* into region 1 */
	CU_ASSERT_PTR_EQUAL(gpa_to_hva(&vm, 0x10000, 0x1000), ram + 0x2000);
	CU_ASSERT_PTR_NULL(gpa_to_hva(&vm, 0x10000, 0x1001));
	CU_ASSERT_PTR_NULL(gpa_to_hva(&vm, 0x11000, 0));
	/* Lengths chosen to wrap a naive gpa + len check. */
	CU_ASSERT_PTR_NULL(gpa_to_hva(&vm, 0x10, UINT64_MAX));
	CU_ASSERT_PTR_NULL(gpa_to_hva(&vm, UINT64_MAX, 2));
	CU_ASSERT_PTR_NULL(gpa_to_hva(&vm, 0x10008, UINT64_MAX - 4));
	CU_ASSERT_PTR_EQUAL(gpa_to_hva(&vm, 0x5, 0), ram + 5);
}

void suite_memory(void)
{
	static const CU_TestInfo tests[] = {
		{ "layout below the hole", test_layout_small },
		{ "layout split at the hole", test_layout_split },
		{ "gpa_to_hva bounds", test_gpa_to_hva },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("guest memory", tests);
}
