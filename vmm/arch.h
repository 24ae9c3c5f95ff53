/* SPDX-License-Identifier: MIT */
#ifndef KILN_ARCH_H
#define KILN_ARCH_H

/*
 * Everything the arch-neutral core asks of arch/$(ARCH). Each hook returns 0
 * or -errno and logs what went wrong; none of them exits the process.
 */

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

struct vm;
struct vcpu;

/* The default kernel command line (console, reboot and panic behaviour). */
const char *arch_default_cmdline(void);

/* Where a kernel build tree keeps the bootable image, e.g.
 * "arch/x86/boot/bzImage", and that image's file name. */
const char *arch_kernel_tree_image(void);
const char *arch_kernel_image_name(void);

/* KVM capabilities this arch needs, terminated by a zero entry. */
struct kvm_cap_need {
	int cap;
	const char *name;
};
extern const struct kvm_cap_need arch_required_caps[];

/*
 * Splits ram_size bytes of guest RAM into guest-physical regions around the
 * arch's MMIO holes. Fills gpa/size of at most max regions and returns how
 * many, or -EINVAL.
 */
struct mem_region;
int arch_memory_layout(uint64_t ram_size, struct mem_region *regions,
		       unsigned int max);

/* After memory: irqchip, timers, platform devices (UART, ...). */
int arch_vm_init(struct vm *vm);
void arch_vm_destroy(struct vm *vm);

/* Once every vCPU exists (and arch_vcpu_init ran for each), before any
 * device: what needs all vCPUs (the arm64 GIC's initialisation). */
int arch_vcpus_created(struct vm *vm);

/*
 * Whether the platform's firmware tables (ACPI's DSDT, a device tree)
 * declare the virtio-mmio devices; else each goes on the kernel command
 * line (virtio_mmio.device=).
 */
bool arch_describes_virtio(const struct vm *vm);

/*
 * Checks that fd holds a kernel this arch can boot, before anything else is
 * set up; err gets a one-line reason otherwise.
 */
int arch_probe_kernel(int fd, const char *path, char *err, size_t errlen);

/* Copies kernel and initrd into guest memory, records the entry point. */
int arch_load_kernel(struct vm *vm, int kernel_fd, int initrd_fd);

/* Boot data: command line, boot params / memory map, MP table / FDT. */
int arch_setup_boot(struct vm *vm);

/* Per-vCPU state: CPUID, MSRs, registers for the boot entry. */
int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu);

/* Exits the generic dispatcher does not know (e.g. port I/O). */
int arch_handle_exit(struct vcpu *vcpu, struct kvm_run *run);

/*
 * Where the idx-th virtio-mmio device goes: its register window and its
 * interrupt line. Returns 0, or -ENOSPC when the platform has no more.
 */
int arch_virtio_slot(unsigned int idx, uint64_t *base, uint32_t *irq);

/* Where --boot-timer's register is (an MMIO address outside RAM). */
uint64_t arch_boot_timer_addr(void);

/* The guest's program counter, for error messages; 0 if unknown. */
uint64_t arch_vcpu_pc(struct vcpu *vcpu);

/* Drives an interrupt line of the platform's interrupt controller. */
int arch_irq_line(struct vm *vm, uint32_t irq, int level);

/*
 * Firecracker's SendCtrlAltDel: the three keys pressed and released on
 * the machine's keyboard controller. 0, or -ENOTSUP where it has none.
 */
int arch_send_ctrl_alt_del(struct vm *vm);

#endif
