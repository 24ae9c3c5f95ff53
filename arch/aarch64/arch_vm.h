/* SPDX-License-Identifier: MIT */
#ifndef KILN_ARM64_ARCH_VM_H
#define KILN_ARM64_ARCH_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "pl031.h"

/* The aarch64 part of struct vm. */
struct arch_vm {
	int gic_fd; /* the in-kernel GIC (KVM_CREATE_DEVICE) when gic_open */
	bool gic_open;
	int gic_version; /* 3, or 2 where v3 is unavailable */
	bool ext_dabt; /* KVM can inject an external data abort */
	uint64_t kernel_gpa, kernel_end; /* [load address, end of its bss) */
	uint64_t initrd_gpa, initrd_size;
	uint64_t fdt_gpa;
	struct pl031 rtc;
};

#endif
