// SPDX-License-Identifier: MIT
/* The aarch64 side of vmm/arch.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "arch.h"
#include "arm64.h"
#include "kcache.h"
#include "layout.h"
#include "log.h"
#include "uart8250.h"
#include "unpack.h"
#include "vcpu.h"
#include "virtio/mmio.h"
#include "vm.h"

int arm64_gic_create(struct vm *vm);
int arm64_gic_init(struct vm *vm);

const struct kvm_cap_need arch_required_caps[] = {
	{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
	{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
	{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
	{ 0, NULL },
};

/* KVM_{GET,SET}_ONE_REG ids of the core registers and MPIDR_EL1. */
#define CORE_REG(x)                                            \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
	 (offsetof(struct kvm_regs, x) / sizeof(uint32_t)))
#define SYS_REG_MPIDR ARM64_SYS_REG(3, 0, 0, 0, 5)
/* EL1h, with debug, SError, IRQ and FIQ masked: the boot protocol's entry. */
#define PSTATE_BOOT 0x3c5

const char *arch_kernel_tree_image(void)
{
	return "arch/arm64/boot/Image";
}

const char *arch_kernel_image_name(void)
{
	return "Image";
}

const char *arch_default_cmdline(void)
{
	return "console=ttyS0 panic=-1";
}

int arch_memory_layout(uint64_t ram_size, struct mem_region *r,
		       unsigned int max)
{
	if (!max || ram_size > ARM64_IPA_LIMIT - ARM64_RAM_BASE)
		return -EINVAL;
	r[0] = (struct mem_region){ ARM64_RAM_BASE, ram_size, NULL };
	return 1;
}

uint64_t arch_boot_timer_addr(void)
{
	return ARM64_BOOT_TIMER_ADDR;
}

int arch_virtio_slot(unsigned int idx, uint64_t *base, uint32_t *irq)
{
	if (idx >= ARM64_VIRTIO_SLOTS)
		return -ENOSPC;
	*base = ARM64_VIRTIO_MMIO_BASE + (uint64_t)idx * 0x1000;
	/* An SPI number; KVM's default routing makes it the irqfd's GSI. */
	*irq = ARM64_VIRTIO_SPI_BASE + idx;
	return 0;
}

int arch_irq_line(struct vm *vm, uint32_t irq, int level)
{
	/* An SPI: type in bits 24-27, the interrupt ID (32 + SPI) below. */
	struct kvm_irq_level l = {
		.irq = KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT |
		       (32 + irq),
		.level = level,
	};

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}

static void uart_irq(void *opaque, int level)
{
	arch_irq_line(opaque, ARM64_UART_SPI, level);
}

int arch_vm_init(struct vm *vm)
{
	int r;

	r = arm64_gic_create(vm);
	if (r)
		return r;
	/*
	 * A guest access to a device that the CPU cannot describe (a load or
	 * store with writeback, a pair) exits to kiln instead of failing
	 * KVM_RUN, so that it is refused rather than ending the VM.
	 */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_NISV_TO_USER) >
	    0) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };

		if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			pr_warn("KVM_CAP_ARM_NISV_TO_USER: %s",
				strerror(errno));
	}
	vm->arch.ext_dabt = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
				  KVM_CAP_ARM_INJECT_EXT_DABT) > 0;
	/* The platform's devices, in the VM's list like every other. */
	vm->console = uart8250_new(vm->out_fd, uart_irq, vm);
	if (!vm->console ||
	    vm_add_device(vm, "uart8250", "serial0", &uart8250_device_ops,
			  vm->console, NULL)) {
		vm->console = NULL;
		return -ENOMEM;
	}
	pl031_init(&vm->arch.rtc);
	if (vm_add_device(vm, "pl031", "rtc", NULL, &vm->arch.rtc, NULL))
		return -ENOMEM;
	r = bus_register(&vm->mmio, ARM64_UART_BASE, 8, uart8250_access,
			 vm->console);
	if (!r)
		r = bus_register(&vm->mmio, ARM64_RTC_BASE, PL031_SIZE,
				 pl031_access, &vm->arch.rtc);
	if (r) {
		pr_err("cannot register the platform devices: %s",
		       strerror(-r));
		return r;
	}
	return 0;
}

int arch_vcpus_created(struct vm *vm)
{
	return arm64_gic_init(vm);
}

bool arch_describes_virtio(const struct vm *vm)
{
	(void)vm;
	return true;
}

void arch_vm_destroy(struct vm *vm)
{
	/* The UART went with the device list. */
	vm->console = NULL;
	if (vm->arch.gic_open)
		close(vm->arch.gic_fd);
	vm->arch.gic_open = false;
}

int arch_probe_kernel(int fd, const char *path, char *err, size_t errlen)
{
	uint8_t hdr[ARM64_IMAGE_HDR_LEN];
	struct arm64_image img;
	char why[200];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "kernel '%s': %s", path, strerror(errno));
		return -errno;
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	/* A compressed Image (Image.gz): its header, decoded here. */
	if (n > 0 && unpack_detect(hdr, n) != UNPACK_NONE) {
		enum unpack_fmt fmt = unpack_detect(hdr, n);
		void *map =
			mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		size_t got = 0;
		int r;

		if (map == MAP_FAILED) {
			snprintf(err, errlen, "kernel '%s': %s", path,
				 strerror(errno));
			return -errno;
		}
		r = unpack_head(fmt, map, st.st_size, hdr, sizeof(hdr), &got,
				why, sizeof(why));
		munmap(map, st.st_size);
		/* lz4 decodes whole blocks only: looked into at load. */
		if (!r && !got && fmt == UNPACK_LZ4)
			return 0;
		if (r) {
			snprintf(err, errlen, "kernel '%s': %s", path, why);
			return -EINVAL;
		}
		n = (ssize_t)got;
		st.st_size = ARM64_IMAGE_HDR_LEN; /* of the Image, unknown */
	}
	if (arm64_image_parse(hdr, n > 0 ? (size_t)n : 0, st.st_size, &img, why,
			      sizeof(why))) {
		snprintf(err, errlen, "kernel '%s': %s", path, why);
		return -EINVAL;
	}
	return 0;
}

/*
 * The Image in buf[0..len): placed at the lowest 2 MiB aligned base plus
 * its text_offset, the DTB in the top 2 MiB block of RAM.
 */
static int load_image(struct vm *vm, const uint8_t *buf, size_t len)
{
	struct arm64_image img;
	struct arch_vm *a = &vm->arch;
	uint64_t ram_end = vm->mem.region[0].gpa + vm->mem.region[0].size;
	char why[200];
	void *dst;

	if (arm64_image_parse(buf, len, len, &img, why, sizeof(why))) {
		pr_err("kernel: %s", why);
		return -EINVAL;
	}
	a->kernel_gpa = vm->mem.region[0].gpa + img.text_offset;
	a->kernel_end = a->kernel_gpa + img.image_size;
	a->fdt_gpa = (ram_end - ARM64_FDT_MAX) & ~(ARM64_KERNEL_ALIGN - 1);
	if (ram_end < ARM64_FDT_MAX || a->kernel_end > a->fdt_gpa) {
		pr_err("the kernel (%llu MiB) does not fit: give more --mem",
		       (unsigned long long)(img.image_size >> 20));
		return -ENOMEM;
	}
	dst = gpa_to_hva(vm, a->kernel_gpa, len);
	if (!dst)
		return -EFAULT;
	memcpy(dst, buf, len);
	pr_debug("arm64 Image at 0x%llx, %llu bytes in memory",
		 (unsigned long long)a->kernel_gpa,
		 (unsigned long long)img.image_size);
	return 0;
}

int arch_load_kernel(struct vm *vm, int kernel_fd, int initrd_fd)
{
	struct arch_vm *a = &vm->arch;
	struct kc_image img;
	struct stat st;
	char why[200];
	uint8_t *file;
	int r;

	if (fstat(kernel_fd, &st) < 0)
		return -errno;
	if (!st.st_size) {
		pr_err("kernel: the file is empty");
		return -EINVAL;
	}
	file = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, kernel_fd, 0);
	if (file == MAP_FAILED) {
		pr_err("cannot read the kernel: %s", strerror(errno));
		return -errno;
	}
	if (unpack_detect(file, st.st_size) == UNPACK_NONE) {
		r = load_image(vm, file, st.st_size);
	} else {
		/*
		 * An arm64 kernel cannot decompress itself: decompressed
		 * here (the kernel cache keeps it; --kernel-cache=off only
		 * keeps it from being kept).
		 */
		r = kc_get(NULL, !vm->cfg->no_kernel_cache, file, st.st_size,
			   "aarch64-Image", file, st.st_size, &img, why,
			   sizeof(why));
		if (r) {
			pr_err("kernel: %s", why);
		} else {
			pr_debug(
				"kernel: %s Image decompressed on the host (%zu MiB%s)",
				unpack_name(file, st.st_size), img.len >> 20,
				img.from_cache ? ", cached" :
				img.stored     ? ", now cached" :
						 "");
			r = load_image(vm, img.data, img.len);
			kc_image_release(&img);
		}
	}
	munmap(file, st.st_size);
	if (r)
		return r;
	if (initrd_fd >= 0 || vm->initrd_extra_len)
		return vm_load_initrd(vm, initrd_fd, a->kernel_end, a->fdt_gpa,
				      &a->initrd_gpa, &a->initrd_size);
	return 0;
}

static int get_reg(int fd, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(fd, KVM_GET_ONE_REG, &reg) < 0 ? -errno : 0;
}

static int set_reg(int fd, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id,
				   .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

static int setup_fdt(struct vm *vm)
{
	struct arm64_fdt_desc d = {
		.ram_base = vm->mem.region[0].gpa,
		.ram_size = vm->mem.region[0].size,
		.ncpus = vm->nr_vcpus,
		.gic_version = vm->arch.gic_version,
		.bootargs = vm->cmdline,
		.initrd_start = vm->arch.initrd_gpa,
		.initrd_size = vm->arch.initrd_size,
		.uart_base = ARM64_UART_BASE,
		.uart_spi = ARM64_UART_SPI,
		.rtc_base = ARM64_RTC_BASE,
		.rtc_spi = ARM64_RTC_SPI,
	};
	uint64_t *mpidr = calloc(vm->nr_vcpus, sizeof(*mpidr));
	uint64_t base[VM_MAX_VIRTIO];
	uint32_t spi[VM_MAX_VIRTIO];
	unsigned int i;
	void *buf;
	int r;

	if (!mpidr)
		return -ENOMEM;
	for (i = 0; i < vm->nr_vcpus; i++) {
		r = get_reg(vm->vcpus[i].fd, SYS_REG_MPIDR, &mpidr[i]);
		if (r) {
			pr_err("vCPU %u: cannot read MPIDR_EL1: %s", i,
			       strerror(-r));
			free(mpidr);
			return r;
		}
	}
	for (i = 0; i < vm->devs.nr && d.nr_virtio < VM_MAX_VIRTIO; i++) {
		if (!vm->devs.dev[i].placed)
			continue;
		base[d.nr_virtio] = vm->devs.dev[i].base;
		spi[d.nr_virtio++] = vm->devs.dev[i].irq;
	}
	d.mpidr = mpidr;
	d.virtio_base = base;
	d.virtio_spi = spi;
	arm64_gic_layout(d.gic_version, d.ncpus, &d.gic);
	buf = gpa_to_hva(vm, vm->arch.fdt_gpa, ARM64_FDT_MAX);
	r = buf ? arm64_fdt_build(&d, buf, ARM64_FDT_MAX) : -EFAULT;
	free(mpidr);
	if (r < 0) {
		pr_err("cannot build the device tree: %s", strerror(-r));
		return r;
	}
	pr_debug("device tree at 0x%llx, %d bytes",
		 (unsigned long long)vm->arch.fdt_gpa, r);
	return 0;
}

int arch_setup_boot(struct vm *vm)
{
	int fd = vm->vcpus[0].fd, r;

	r = setup_fdt(vm);
	if (r)
		return r;
	/* The boot CPU; the others wait powered off for PSCI CPU_ON. */
	r = set_reg(fd, CORE_REG(regs.pstate), PSTATE_BOOT);
	if (!r)
		r = set_reg(fd, CORE_REG(regs.pc), vm->arch.kernel_gpa);
	if (!r)
		r = set_reg(fd, CORE_REG(regs.regs[0]), vm->arch.fdt_gpa);
	if (r)
		pr_err("vCPU 0: cannot set boot registers: %s", strerror(-r));
	return r;
}

int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_vcpu_init init;

	memset(&init, 0, sizeof(init));
	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
		pr_err("KVM_ARM_PREFERRED_TARGET failed: %s", strerror(errno));
		return -errno;
	}
	init.features[0] |= 1U << KVM_ARM_VCPU_PSCI_0_2;
	if (vcpu->id)
		init.features[0] |= 1U << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		pr_err("vCPU %u: KVM_ARM_VCPU_INIT failed: %s", vcpu->id,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * A device access the CPU gave no syndrome for: kiln cannot know its size
 * or register, so it is refused with an external data abort (the guest
 * kernel's fault to handle: SIGBUS for a process). Without abort
 * injection the VM stops.
 */
static int refuse_undescribed_access(struct vcpu *vcpu, struct kvm_run *run)
{
	struct kvm_vcpu_events ev;

	pr_guest(
		"vCPU %u: a device access at 0x%llx the CPU cannot describe (a load/store with writeback or a pair): refused with an external abort",
		vcpu->id, (unsigned long long)run->arm_nisv.fault_ipa);
	if (!vcpu->vm->arch.ext_dabt) {
		pr_err("vCPU %u: KVM cannot inject the abort: stopping the VM",
		       vcpu->id);
		vm_request_stop(vcpu->vm, VM_STOP_ERROR, 1);
		return VCPU_FAIL;
	}
	memset(&ev, 0, sizeof(ev));
	ev.exception.ext_dabt_pending = 1;
	if (ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
		pr_err("vCPU %u: KVM_SET_VCPU_EVENTS: %s", vcpu->id,
		       strerror(errno));
		vm_request_stop(vcpu->vm, VM_STOP_ERROR, 1);
		return VCPU_FAIL;
	}
	return VCPU_CONTINUE;
}

int arch_handle_exit(struct vcpu *vcpu, struct kvm_run *run)
{
	if (run->exit_reason == KVM_EXIT_ARM_NISV)
		return refuse_undescribed_access(vcpu, run);
	return VCPU_FAIL;
}

uint64_t arch_vcpu_pc(struct vcpu *vcpu)
{
	uint64_t pc;

	if (vcpu->fd < 0 || get_reg(vcpu->fd, CORE_REG(regs.pc), &pc))
		return 0;
	return pc;
}

int arch_send_ctrl_alt_del(struct vm *vm)
{
	(void)vm;
	return -ENOTSUP;
}
