// SPDX-License-Identifier: MIT
#include <string.h>

#include "boot.h"
#include "../unit.h"

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid_entry2 *e, int n,
				     uint32_t fn, uint32_t idx)
{
	int i;

	for (i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

/* A plausible slice of KVM_GET_SUPPORTED_CPUID. */
static int make_leaves(struct kvm_cpuid_entry2 *e)
{
	int n = 0;

	memset(e, 0, 16 * sizeof(*e));
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 1,
					    .eax = 0x806f8,
					    .ebx = 0xaa0800 | 0x0800,
					    .ecx = 0x7ffaf3bf,
					    .edx = 0xbfebfbff };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 4,
					    .index = 0,
					    .eax = 0x1c004121 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 4,
					    .index = 4,
					    .eax = 0 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 2 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x1f, .index = 1 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000000 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000008,
					    .eax = 0x3030,
					    .ecx = 0x7007 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x8000001e,
					    .ebx = 0x100 };
	return n;
}

static void test_leaf1(void)
{
	struct kvm_cpuid_entry2 e[16], *l;
	int n = make_leaves(e);

	cpuid_fixup(e, n, 3, 4);
	l = find(e, n, 1, 0);
	CU_ASSERT_EQUAL(l->ebx >> 24, 3); /* APIC ID */
	CU_ASSERT_EQUAL((l->ebx >> 16) & 0xff, 4); /* logical CPUs */
	CU_ASSERT_EQUAL(l->ebx & 0xffff, 0x0800); /* CLFLUSH size kept */
	CU_ASSERT_TRUE(l->ecx & (1U << 31)); /* hypervisor */
	CU_ASSERT_TRUE(l->edx & (1U << 28)); /* HTT */
	CU_ASSERT_EQUAL(l->eax, 0x806f8);

	n = make_leaves(e);
	cpuid_fixup(e, n, 0, 1);
	l = find(e, n, 1, 0);
	CU_ASSERT_EQUAL(l->ebx >> 24, 0);
	CU_ASSERT_FALSE(l->edx & (1U << 28));
}

static void test_topology(void)
{
	struct kvm_cpuid_entry2 e[16], *l;
	int n = make_leaves(e);

	cpuid_fixup(e, n, 5, 6);
	l = find(e, n, 0xb, 0);
	CU_ASSERT_EQUAL(l->eax, 0);
	CU_ASSERT_EQUAL(l->ebx, 1);
	CU_ASSERT_EQUAL(l->ecx, 0x100); /* SMT level */
	CU_ASSERT_EQUAL(l->edx, 5);
	l = find(e, n, 0xb, 1);
	CU_ASSERT_EQUAL(l->eax, 3); /* 6 CPUs need 3 bits */
	CU_ASSERT_EQUAL(l->ebx, 6);
	CU_ASSERT_EQUAL(l->ecx, 0x201); /* core level, subleaf 1 */
	CU_ASSERT_EQUAL(l->edx, 5);
	l = find(e, n, 0xb, 2);
	CU_ASSERT_EQUAL(l->ebx, 0);
	CU_ASSERT_EQUAL(l->ecx, 2); /* invalid level ends the list */
	l = find(e, n, 0x1f, 1);
	CU_ASSERT_EQUAL(l->ebx, 6);
	CU_ASSERT_EQUAL(l->edx, 5);
	l = find(e, n, 4, 0);
	CU_ASSERT_EQUAL(l->eax >> 26, 5);
	CU_ASSERT_EQUAL(l->eax & 0x03ffffff, 0x1c004121 & 0x03ffffff);
	l = find(e, n, 4, 4); /* the null cache leaf stays null */
	CU_ASSERT_EQUAL(l->eax, 0);
	l = find(e, n, 0x80000008, 0);
	CU_ASSERT_EQUAL(l->ecx & 0xff, 5);
	CU_ASSERT_EQUAL((l->ecx >> 12) & 0xf, 3);
	CU_ASSERT_EQUAL(l->eax, 0x3030);
	l = find(e, n, 0x8000001e, 0);
	CU_ASSERT_EQUAL(l->eax, 5);
	CU_ASSERT_EQUAL(l->ebx, 5);
}

static void test_hypervisor_leaf(void)
{
	struct kvm_cpuid_entry2 e[16], *l;
	int n = make_leaves(e);
	char sig[13];

	cpuid_fixup(e, n, 0, 1);
	l = find(e, n, 0x40000000, 0);
	memcpy(sig, &l->ebx, 4);
	memcpy(sig + 4, &l->ecx, 4);
	memcpy(sig + 8, &l->edx, 4);
	sig[12] = 0;
	CU_ASSERT_STRING_EQUAL(sig, "KVMKVMKVM");
	CU_ASSERT_TRUE(l->eax >= 0x40000001);
}

void suite_cpuid(void)
{
	static const CU_TestInfo tests[] = {
		{ "leaf 1 per vCPU", test_leaf1 },
		{ "topology leaves", test_topology },
		{ "hypervisor leaf", test_hypervisor_leaf },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("CPUID", tests);
}
