/* SPDX-License-Identifier: MIT */
#ifndef KILN_X86_BOOT_H
#define KILN_X86_BOOT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <asm/bootparam.h>
#include <linux/kvm.h>

#include "vmlinux.h"

struct vm;

/* What kiln needs from a bzImage's setup header, validated. */
struct bzimage_info {
	uint16_t version; /* boot protocol, e.g. 0x020f */
	uint8_t loadflags;
	uint16_t xloadflags;
	uint32_t kernel_alignment;
	uint32_t init_size; /* memory the kernel needs from its load address */
	uint32_t initrd_addr_max; /* highest byte an initrd may use */
	uint32_t cmdline_size; /* longest command line, without the NUL */
	uint64_t pref_address; /* where it was linked to run */
	bool relocatable; /* CONFIG_RELOCATABLE: may run elsewhere */
	uint64_t setup_size; /* boot sector + real-mode setup, in the file */
	uint64_t payload_size; /* the protected-mode kernel, in the file */
	uint32_t hdr_len; /* bytes of setup header from offset 0x1f1 */
	uint32_t payload_offset; /* the compressed kernel, from setup_size */
	uint32_t payload_length;
};

#define BZIMAGE_MIN_VERSION 0x020c /* 2.12: 64-bit entry, xloadflags */

/*
 * Validates a bzImage from its first buflen bytes (at least 1024 wanted)
 * and its total size. Returns 0, or -EINVAL/-ENOEXEC with err saying why.
 */
int bzimage_parse(const uint8_t *buf, size_t buflen, uint64_t file_size,
		  struct bzimage_info *info, char *err, size_t errlen);

/*
 * The compressed kernel inside the bzImage (payload_offset and
 * payload_length, checked against the file): 0 with *off (from the
 * file's start) and *len, or -ENOEXEC with err saying why.
 */
int bzimage_payload(const struct bzimage_info *info, uint64_t *off,
		    uint64_t *len, char *err, size_t errlen);

/*
 * KASLR as the kernel's decompressor does it, for a kernel of size bytes
 * linked at physical lo: a physical load address in [lo, top - size] and
 * a virtual offset in [0, 1 GiB - lo - size], both multiples of align,
 * chosen by the random numbers r1 and r2. Returns false (and *phys = lo,
 * *virt = 0) when no range is left.
 */
bool x86_kaslr_pick(uint64_t lo, uint64_t size, uint64_t top, uint64_t align,
		    uint64_t r1, uint64_t r2, uint64_t *phys, uint64_t *virt);

/* A decompressed vmlinux: its headers and the physical range linked. */
struct vmlinux_img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[ELF_MAX_PHDRS];
	uint64_t lo, hi; /* the PT_LOAD segments' physical range */
	uint64_t entry; /* startup_64, physical */
};

/*
 * Checks the vmlinux decompressed from a bzImage in buf[0..len): an
 * x86_64 ELF executable whose segments lie above 1 MiB, its entry among
 * them. 0, or -ENOEXEC with why set.
 */
int x86_vmlinux_check(const uint8_t *buf, size_t len, struct vmlinux_img *v,
		      char *why, size_t whylen);

/*
 * Its relocation table (vmlinux.h), every entry checked against the
 * segments: 0, -ENOENT when there is none, -ENOEXEC with why set.
 */
int x86_vmlinux_relocs(const uint8_t *buf, size_t len,
		       const struct vmlinux_img *v, struct x86_relocs *t,
		       char *why, size_t whylen);

/* Copies the segments to base, where physical v->lo lands (hi - lo bytes). */
void x86_vmlinux_place(const uint8_t *buf, const struct vmlinux_img *v,
		       uint8_t *base);

/*
 * Where the protected-mode kernel goes in guest RAM that is usable up to
 * ram_end: a relocatable kernel at its preferred address (16 MiB when that
 * is below 1 MiB or misaligned), any other exactly at its preferred
 * address. Returns 0 with *load set, -EINVAL when that address is below
 * 1 MiB, or -ENOMEM when the kernel's init_size does not fit; err says why
 * and what to do.
 */
int bzimage_load_addr(const struct bzimage_info *info, uint64_t ram_end,
		      uint64_t *load, char *err, size_t errlen);

/*
 * The guest's memory map for ram_size bytes (see layout.h). Returns the
 * number of entries written (at most max), or -EINVAL.
 */
int x86_build_e820(uint64_t ram_size, struct boot_e820_entry *out,
		   unsigned int max);

/* Bytes the MP table for ncpus CPUs takes. */
size_t mptable_size(unsigned int ncpus);

/*
 * Writes an MP floating pointer and configuration table (MP spec 1.4) for
 * ncpus CPUs, one IOAPIC and ISA interrupts into buf, which the guest sees
 * at guest-physical gpa. Returns bytes written or -ENOSPC / -EINVAL.
 */
int mptable_build(void *buf, size_t len, uint32_t gpa, unsigned int ncpus);

/*
 * Per-vCPU CPUID fix-ups over KVM's supported list: APIC IDs, topology
 * (leaves 0x1, 0x4, 0xb, 0x1f, 0x80000008, 0x8000001e), the hypervisor bit
 * and KVM's signature leaf.
 */
void cpuid_fixup(struct kvm_cpuid_entry2 *entries, unsigned int n,
		 unsigned int cpu, unsigned int ncpus);

/* Encodes a GDT descriptor (flags: access byte | flag nibble << 12). */
uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);
/* Decodes one into KVM's segment form. */
void gdt_to_kvm_segment(uint64_t entry, uint16_t selector,
			struct kvm_segment *seg);

/* Loading, boot data and register set-up (boot.c). */
int x86_probe_kernel(int fd, const char *path, char *err, size_t errlen);
int x86_load_kernel(struct vm *vm, int kernel_fd, int initrd_fd);
int x86_setup_boot(struct vm *vm);
int x86_setup_vcpu_regs(struct vm *vm, int vcpu_fd, unsigned int cpu);

#endif
