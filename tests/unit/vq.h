/* SPDX-License-Identifier: MIT */
#ifndef KILN_UNIT_VQ_H
#define KILN_UNIT_VQ_H

/*
 * What the device-model suites share: a VM whose guest RAM is one region
 * of the test's own memory, and queues set up as a driver would.
 */
#include <string.h>
#include <linux/virtio_config.h>

#include "unit.h"
#include "virtio.h"
#include "vm.h"

/* vm with size bytes of RAM at guest address 0, cleared. */
static inline void unit_vm(struct vm *vm, uint8_t *ram, uint64_t size)
{
	memset(ram, 0, size);
	memset(vm, 0, sizeof(*vm));
	vm->mem.nr = 1;
	vm->mem.region[0] = (struct mem_region){ 0, size, ram };
}

/* d live (FEATURES_OK, DRIVER_OK) with queue q of num entries ready, its
 * rings at desc, avail and used. */
static inline void unit_queue_on(struct virtio_dev *d,
				 const struct guest_mem *mem, unsigned int q,
				 uint16_t num, uint64_t desc, uint64_t avail,
				 uint64_t used)
{
	d->status = VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FEATURES_OK;
	d->vq[q].num = num;
	d->vq[q].desc_gpa = desc;
	d->vq[q].avail_gpa = avail;
	d->vq[q].used_gpa = used;
	CU_ASSERT_EQUAL(virtq_enable(mem, &d->vq[q], 256), 0);
	d->vq[q].ready = true;
}

#endif
