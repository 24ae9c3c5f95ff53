// SPDX-License-Identifier: MIT
/* The in-kernel GIC: GICv3, or GICv2 where the host has no v3. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "arm64.h"
#include "layout.h"
#include "log.h"
#include "vm.h"

int arm64_gic_layout(int version, unsigned int ncpus,
		     struct arm64_gic_layout *l)
{
	if (!ncpus)
		return -EINVAL;
	l->dist_base = ARM64_GICD_BASE;
	l->dist_size = ARM64_GICD_SIZE;
	if (version == 2) {
		if (ncpus > ARM64_GICV2_MAX_CPUS)
			return -EINVAL;
		l->cpu_base = ARM64_GICC_BASE;
		l->cpu_size = ARM64_GICC_SIZE;
		return 0;
	}
	if (version != 3 ||
	    (uint64_t)ncpus * ARM64_GICR_STRIDE > ARM64_GICR_MAX)
		return -EINVAL;
	l->cpu_base = ARM64_GICR_BASE;
	l->cpu_size = (uint64_t)ncpus * ARM64_GICR_STRIDE;
	return 0;
}

static int set_attr(int fd, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = {
		.group = group,
		.attr = attr,
		.addr = (uint64_t)(uintptr_t)val,
	};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

/* Creates the GIC and places it; vCPUs come next, then arm64_gic_init. */
int arm64_gic_create(struct vm *vm)
{
	static const struct {
		int version;
		uint32_t type;
		uint64_t dist_attr, cpu_attr;
	} kinds[] = {
		{ 3, KVM_DEV_TYPE_ARM_VGIC_V3, KVM_VGIC_V3_ADDR_TYPE_DIST,
		  KVM_VGIC_V3_ADDR_TYPE_REDIST },
		{ 2, KVM_DEV_TYPE_ARM_VGIC_V2, KVM_VGIC_V2_ADDR_TYPE_DIST,
		  KVM_VGIC_V2_ADDR_TYPE_CPU },
	};
	struct arm64_gic_layout l;
	unsigned int i;
	int r = -ENODEV;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct kvm_create_device cd = { .type = kinds[i].type };

		if (arm64_gic_layout(kinds[i].version, vm->cfg->cpus, &l)) {
			r = -EINVAL;
			continue;
		}
		if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0) {
			r = -errno;
			continue;
		}
		vm->arch.gic_fd = cd.fd;
		vm->arch.gic_open = true;
		vm->arch.gic_version = kinds[i].version;
		r = set_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			     kinds[i].dist_attr, &l.dist_base);
		if (!r)
			r = set_attr(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
				     kinds[i].cpu_attr, &l.cpu_base);
		if (r) {
			pr_err("cannot place the GICv%d: %s", kinds[i].version,
			       strerror(-r));
			return r;
		}
		pr_debug("GICv%d, %u vCPUs", kinds[i].version, vm->cfg->cpus);
		return 0;
	}
	if (r == -EINVAL)
		pr_err("no interrupt controller for %u vCPUs (GICv2 serves at most %d): give fewer --cpus",
		       vm->cfg->cpus, ARM64_GICV2_MAX_CPUS);
	else
		pr_err("KVM cannot create a GICv3 or GICv2: %s", strerror(-r));
	return r;
}

/* After every vCPU exists: the number of interrupts, then initialise. */
int arm64_gic_init(struct vm *vm)
{
	uint32_t nr_irqs = 32 + ARM64_GIC_NR_SPIS;
	int r;

	r = set_attr(vm->arch.gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0,
		     &nr_irqs);
	if (!r)
		r = set_attr(vm->arch.gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			     KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (r)
		pr_err("cannot initialise the GICv%d: %s", vm->arch.gic_version,
		       strerror(-r));
	return r;
}
