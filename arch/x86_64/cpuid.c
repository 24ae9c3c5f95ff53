// SPDX-License-Identifier: MIT
/*
 * CPUID as each vCPU should see it: KVM's supported list with this CPU's
 * APIC ID and a topology of ncpus cores in one socket, one thread each.
 */
#include <string.h>

#include "boot.h"

#define CPUID_1_ECX_HYPERVISOR (1U << 31)
#define CPUID_1_EDX_HTT (1U << 28)

#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2

/* Bits needed to number n APIC IDs. */
static unsigned int id_bits(unsigned int n)
{
	unsigned int b = 0;

	while ((1U << b) < n)
		b++;
	return b;
}

static void topology_leaf(struct kvm_cpuid_entry2 *e, unsigned int cpu,
			  unsigned int ncpus)
{
	switch (e->index) {
	case 0: /* SMT level: one thread per core */
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (TOPO_LEVEL_SMT << 8) | e->index;
		break;
	case 1: /* core level: every vCPU in one package */
		e->eax = id_bits(ncpus);
		e->ebx = ncpus;
		e->ecx = (TOPO_LEVEL_CORE << 8) | e->index;
		break;
	default: /* no more levels */
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
		break;
	}
	e->edx = cpu;
}

void cpuid_fixup(struct kvm_cpuid_entry2 *entries, unsigned int n,
		 unsigned int cpu, unsigned int ncpus)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *e = &entries[i];

		switch (e->function) {
		case 0x1:
			/* EBX: APIC ID [31:24], logical CPUs [23:16]. */
			e->ebx = (e->ebx & 0x0000ffff) | (cpu << 24) |
				 ((ncpus > 255 ? 255 : ncpus) << 16);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (ncpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 0x4:
			/* EAX[31:26]: cores per package - 1. */
			if (e->eax & 0x1f)
				e->eax = (e->eax & 0x03ffffff) |
					 ((ncpus - 1) << 26);
			break;
		case 0xb:
		case 0x1f:
			topology_leaf(e, cpu, ncpus);
			break;
		case 0x40000000:
			/* KVM's signature, so the guest uses kvmclock. */
			e->eax = e->eax > 0x40000001 ? e->eax : 0x40000001;
			memcpy(&e->ebx, "KVMK", 4);
			memcpy(&e->ecx, "VMKV", 4);
			memcpy(&e->edx, "M\0\0\0", 4);
			break;
		case 0x80000008:
			/* ECX: APIC ID bits [15:12], cores - 1 [7:0]. */
			e->ecx = (e->ecx & ~0xf0ffU) | (id_bits(ncpus) << 12) |
				 ((ncpus - 1) & 0xff);
			break;
		case 0x8000001e:
			e->eax = cpu;
			e->ebx = cpu & 0xff; /* core id; one thread per core */
			e->ecx = 0; /* node 0 */
			break;
		default:
			break;
		}
	}
}
