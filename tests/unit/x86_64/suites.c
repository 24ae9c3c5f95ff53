// SPDX-License-Identifier: MIT
/* The x86_64 suites: boot protocol, MP table, CPUID, ACPI, memory map, vmlinux. */
#include "../unit.h"

void suite_arch(void)
{
	suite_memory();
	suite_x86_boot();
	suite_mptable();
	suite_cpuid();
	suite_acpi();
	suite_vmlinux();
}
