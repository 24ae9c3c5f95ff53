/* SPDX-License-Identifier: MIT */
#ifndef KILN_X86_ARCH_VM_H
#define KILN_X86_ARCH_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "cmos.h"

enum x86_boot_mode {
	X86_BOOT_LINUX64, /* 64-bit Linux boot protocol, rsi = boot_params */
	X86_BOOT_PVH, /* 32-bit PVH entry, ebx = hvm_start_info */
};

struct kvm_cpuid2;
struct i8042;

/* The x86_64 part of struct vm. */
struct arch_vm {
	enum x86_boot_mode boot_mode;
	uint64_t entry;
	uint64_t kernel_end; /* first byte after the kernel: initrds go above */
	uint64_t initrd_gpa, initrd_size;
	uint64_t initrd_addr_max; /* highest byte the kernel lets an initrd use */

	bool bzimage;
	bool kaslr; /* kiln randomised the kernel's addresses (KASLR_FLAG) */
	uint8_t setup_hdr[0x290 - 0x1f1]; /* the bzImage's setup header */
	uint32_t setup_hdr_len;
	uint32_t cmdline_max; /* longest command line the kernel takes */

	struct kvm_cpuid2 *cpuid; /* what KVM supports, before fix-ups */
	struct i8042 *i8042;
	struct cmos cmos;
};

#endif
