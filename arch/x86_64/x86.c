// SPDX-License-Identifier: MIT
/* The x86_64 side of vmm/arch.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arch.h"
#include "acpi.h"
#include "boot.h"
#include "i8042.h"
#include "layout.h"
#include "log.h"
#include "uart8250.h"
#include "vcpu.h"
#include "vm.h"

const struct kvm_cap_need arch_required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ 0, NULL },
};

const char *arch_kernel_tree_image(void)
{
	return "arch/x86/boot/bzImage";
}

const char *arch_kernel_image_name(void)
{
	return "bzImage";
}

const char *arch_default_cmdline(void)
{
	return "console=ttyS0 reboot=k panic=-1 pci=off "
	       "i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd";
}

int arch_memory_layout(uint64_t ram_size, struct mem_region *r,
		       unsigned int max)
{
	if (ram_size <= X86_HIMEM_START || max < 2)
		return -EINVAL;
	if (ram_size <= X86_MMIO_HOLE_START) {
		r[0] = (struct mem_region){ 0, ram_size, NULL };
		return 1;
	}
	r[0] = (struct mem_region){ 0, X86_MMIO_HOLE_START, NULL };
	r[1] = (struct mem_region){ X86_MMIO_HOLE_END,
				    ram_size - X86_MMIO_HOLE_START, NULL };
	return 2;
}

uint64_t arch_boot_timer_addr(void)
{
	return X86_BOOT_TIMER_ADDR;
}

int arch_virtio_slot(unsigned int idx, uint64_t *base, uint32_t *irq)
{
	/* IOAPIC pins no legacy device uses (0-4, 8 are taken). */
	static const uint8_t pins[] = { 5,  6,	7,  9,	10, 11, 12, 13, 14,
					15, 16, 17, 18, 19, 20, 21, 22, 23 };

	if (idx >= sizeof(pins))
		return -ENOSPC;
	*base = X86_VIRTIO_MMIO_BASE + (uint64_t)idx * 0x1000;
	*irq = pins[idx];
	return 0;
}

int arch_irq_line(struct vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}

static void uart_irq(void *opaque, int level)
{
	arch_irq_line(opaque, X86_COM1_IRQ, level);
}

static void i8042_irq(void *opaque, unsigned int irq, int level)
{
	arch_irq_line(opaque, irq, level);
}

static void cpu_reset(void *opaque)
{
	pr_info("guest reset the CPU");
	vm_request_stop(opaque, VM_STOP_REBOOT, 0);
}

/*
 * Ports a booting Linux pokes at that have nothing behind them here (POST
 * codes, the I/O delay port, absent COM ports, PCI config, VGA): reads see
 * an empty bus, writes vanish, and nothing is logged.
 */
static void pio_sink(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		     bool is_write)
{
	(void)opaque;
	(void)offset;
	if (!is_write)
		memset(data, 0xff, len);
}

/* Port 0x92, "system control port A": bit 0 resets the CPU. */
static void port92_access(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	(void)offset;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (data[0] & 1)
		cpu_reset(opaque);
}

/* The FADT's sleep control register: SLP_TYP 5 | SLP_EN powers off. */
static void acpi_sleep_access(void *opaque, uint64_t offset, uint8_t *data,
			      uint32_t len, bool is_write)
{
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (offset == 0 && acpi_sleep_write(data[0]))
		vm_request_stop(opaque, VM_STOP_POWEROFF, 0);
}

static const struct {
	uint16_t base, len;
} quiet_ports[] = {
	{ 0x80, 1 }, /* POST code */
	{ 0xed, 1 }, /* I/O delay */
	{ 0x2e8, 8 }, /* COM4 */
	{ 0x2f8, 8 }, /* COM2 */
	{ 0x3e8, 8 }, /* COM3 */
	{ 0x3b0, 0x30 }, /* VGA */
	{ 0xcf8, 8 }, /* PCI configuration mechanism #1 */
	{ 0x87, 1 }, /* DMA page registers probed by some drivers */
	{ 0x278, 3 }, /* LPT2 */
	{ 0x378, 3 }, /* LPT1 */
	{ 0x3f0, 6 }, /* floppy controller */
};

static int get_supported_cpuid(struct vm *vm)
{
	unsigned int nent = 64;

	for (;;) {
		struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->arch.cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG || nent >= 4096) {
			pr_err("KVM_GET_SUPPORTED_CPUID failed: %s",
			       strerror(errno));
			return -errno;
		}
		nent *= 2;
	}
}

int arch_vm_init(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = X86_IDENTITY_MAP_ADDR;
	unsigned int i;
	int r;

	/* Both live in the MMIO hole, below the BIOS area KVM reserves. */
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, X86_TSS_ADDR) < 0) {
		pr_err("cannot place the TSS / identity map: %s",
		       strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP) < 0) {
		pr_err("KVM_CREATE_IRQCHIP failed: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_err("KVM_CREATE_PIT2 failed: %s", strerror(errno));
		return -errno;
	}
	/*
	 * Lost PIT ticks are dropped, not re-injected. Linux keeps time with
	 * kvmclock/TSC, and a guest that falls behind (a loaded or nested
	 * host) would otherwise be fed a storm of catch-up ticks: under
	 * nested emulation that livelocked the host's PIT worker.
	 */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_REINJECT_CONTROL) >
	    0) {
		struct kvm_reinject_control rc = { .pit_reinject = 0 };

		if (ioctl(vm->vm_fd, KVM_REINJECT_CONTROL, &rc) < 0)
			pr_warn("KVM_REINJECT_CONTROL failed: %s",
				strerror(errno));
	}
	r = get_supported_cpuid(vm);
	if (r)
		return r;

	/* The platform's devices, in the VM's list like every other. */
	vm->console = uart8250_new(vm->out_fd, uart_irq, vm);
	if (!vm->console ||
	    vm_add_device(vm, "uart8250", "serial0", &uart8250_device_ops,
			  vm->console, NULL)) {
		vm->console = NULL;
		return -ENOMEM;
	}
	vm->arch.i8042 = i8042_new(cpu_reset, i8042_irq, vm);
	if (!vm->arch.i8042 ||
	    vm_add_device(vm, "i8042", "i8042", &i8042_device_ops,
			  vm->arch.i8042, NULL)) {
		vm->arch.i8042 = NULL;
		return -ENOMEM;
	}
	cmos_init(&vm->arch.cmos);
	if (vm_add_device(vm, "cmos", "rtc", NULL, &vm->arch.cmos, NULL))
		return -ENOMEM;

	r = bus_register(&vm->pio, X86_COM1_PORT, 8, uart8250_access,
			 vm->console);
	if (!r)
		r = bus_register(&vm->pio, I8042_DATA_PORT, I8042_PORT_SPAN,
				 i8042_access, vm->arch.i8042);
	if (!r)
		r = bus_register(&vm->pio, CMOS_PORT, 2, cmos_access,
				 &vm->arch.cmos);
	if (!r)
		r = bus_register(&vm->pio, 0x92, 1, port92_access, vm);
	if (!r)
		r = bus_register(&vm->pio, X86_ACPI_SLEEP_CONTROL_PORT, 2,
				 acpi_sleep_access, vm);
	for (i = 0; !r && i < sizeof(quiet_ports) / sizeof(quiet_ports[0]); i++)
		r = bus_register(&vm->pio, quiet_ports[i].base,
				 quiet_ports[i].len, pio_sink, NULL);
	if (r) {
		pr_err("cannot register legacy devices: %s", strerror(-r));
		return r;
	}
	return 0;
}

void arch_vm_destroy(struct vm *vm)
{
	/* The UART and the i8042 went with the device list. */
	vm->console = NULL;
	vm->arch.i8042 = NULL;
	free(vm->arch.cpuid);
	vm->arch.cpuid = NULL;
}

int arch_vcpus_created(struct vm *vm)
{
	(void)vm;
	return 0;
}

bool arch_describes_virtio(const struct vm *vm)
{
	return vm->acpi;
}

int arch_probe_kernel(int fd, const char *path, char *err, size_t errlen)
{
	return x86_probe_kernel(fd, path, err, errlen);
}

int arch_load_kernel(struct vm *vm, int kernel_fd, int initrd_fd)
{
	return x86_load_kernel(vm, kernel_fd, initrd_fd);
}

int arch_setup_boot(struct vm *vm)
{
	int r = x86_setup_boot(vm);

	if (r)
		return r;
	/* The boot CPU's registers depend on the entry the loader found. */
	r = x86_setup_vcpu_regs(vm, vm->vcpus[0].fd, 0);
	if (r)
		pr_err("vCPU 0: cannot set boot registers: %s", strerror(-r));
	return r;
}

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

static int setup_msrs(struct vcpu *vcpu)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} boot_msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 }, /* fast strings */
		{ MSR_MTRR_DEF_TYPE, (1 << 11) | 6 }, /* MTRRs on, WB */
	};
	enum { N = sizeof(boot_msrs) / sizeof(boot_msrs[0]) };
	/* struct kvm_msrs ends in a flexible array: room for N entries. */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) +
			      N * sizeof(struct kvm_msr_entry)];
	} msrs;
	int i, r;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = N;
	for (i = 0; i < N; i++) {
		msrs.hdr.entries[i].index = boot_msrs[i].index;
		msrs.hdr.entries[i].data = boot_msrs[i].value;
	}
	r = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (r != N) {
		pr_err("vCPU %u: KVM_SET_MSRS stopped at MSR 0x%x", vcpu->id,
		       r >= 0 && r < N ? boot_msrs[r].index : 0);
		return -EIO;
	}
	return 0;
}

static int setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t *lvt0 = (uint32_t *)&lapic.regs[0x350];
	uint32_t *lvt1 = (uint32_t *)&lapic.regs[0x360];

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	/* Delivery mode, bits 10:8: LINT0 ExtINT (7), LINT1 NMI (4). */
	*lvt0 = (*lvt0 & ~0x700U) | (7 << 8);
	*lvt1 = (*lvt1 & ~0x700U) | (4 << 8);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_cpuid2 *src = vm->arch.cpuid, *c;
	struct kvm_fpu fpu;
	size_t sz = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	int r;

	c = malloc(sz);
	if (!c)
		return -ENOMEM;
	memcpy(c, src, sz);
	cpuid_fixup(c->entries, c->nent, vcpu->id, vm->nr_vcpus);
	r = ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	if (r) {
		pr_err("vCPU %u: KVM_SET_CPUID2 failed: %s", vcpu->id,
		       strerror(-r));
		return r;
	}
	r = setup_msrs(vcpu);
	if (r)
		return r;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0) {
		pr_err("vCPU %u: KVM_SET_FPU failed: %s", vcpu->id,
		       strerror(errno));
		return -errno;
	}
	r = setup_lapic(vcpu);
	if (r) {
		pr_err("vCPU %u: LAPIC set-up failed: %s", vcpu->id,
		       strerror(-r));
		return r;
	}
	return 0;
}

int arch_handle_exit(struct vcpu *vcpu, struct kvm_run *run)
{
	struct vm *vm = vcpu->vm;
	uint8_t *data;
	uint32_t i, size, count;

	if (run->exit_reason != KVM_EXIT_IO)
		return VCPU_FAIL;
	size = run->io.size;
	count = run->io.count;
	/* KVM fills these, but check the buffer stays in the shared page. */
	if ((size != 1 && size != 2 && size != 4) || !count ||
	    run->io.data_offset >= (uint64_t)vm->run_size ||
	    (uint64_t)size * count > vm->run_size - run->io.data_offset) {
		pr_guest(
			"vCPU %u: malformed port I/O exit (port 0x%x size %u count %u)",
			vcpu->id, run->io.port, size, count);
		vm_request_stop(vm, VM_STOP_ERROR, 1);
		return VCPU_FAIL;
	}
	data = (uint8_t *)run + run->io.data_offset;
	for (i = 0; i < count; i++, data += size) {
		if (bus_dispatch(&vm->pio, run->io.port, data, size,
				 run->io.direction == KVM_EXIT_IO_OUT))
			pr_debug("vCPU %u: unclaimed port %s 0x%x size %u",
				 vcpu->id,
				 run->io.direction == KVM_EXIT_IO_OUT ?
					 "write" :
					 "read",
				 run->io.port, size);
	}
	return VCPU_CONTINUE;
}

uint64_t arch_vcpu_pc(struct vcpu *vcpu)
{
	struct kvm_regs regs;

	if (vcpu->fd < 0 || ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return 0;
	return regs.rip;
}

int arch_send_ctrl_alt_del(struct vm *vm)
{
	/* Ctrl, Alt, Delete pressed, then released (scancode set 1). */
	static const uint8_t keys[] = { 0x1d, 0x38, 0xe0, 0x53,
					0xe0, 0xd3, 0xb8, 0x9d };

	return i8042_keys(vm->arch.i8042, keys, sizeof(keys)) ? -EBUSY : 0;
}
