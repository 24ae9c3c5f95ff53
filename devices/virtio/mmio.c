// SPDX-License-Identifier: MIT
/* The virtio-mmio transport, version 2 (virtio 1.x, 4.2). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "iothread.h"
#include "log.h"
#include "mmio.h"
#include "vm.h"

#define MMIO_MAGIC 0x74726976 /* "virt" */
#define MMIO_VERSION 2
#define VENDOR_ID 0x4e4c494b /* "KILN" */

static void mmio_interrupt(void *opaque, uint32_t cause)
{
	struct virtio_mmio *t = opaque;
	uint64_t one = 1;

	__atomic_fetch_or(&t->isr, cause, __ATOMIC_SEQ_CST);
	if (t->irq_fd >= 0 && write(t->irq_fd, &one, sizeof(one)) < 0)
		pr_warn("%s: cannot raise the interrupt", t->dev->ops->name);
}

/* Buffers may have been queued before DRIVER_OK. */
static void mmio_live(void *opaque)
{
	struct virtio_mmio *t = opaque;
	unsigned int i;

	for (i = 0; i < t->dev->ops->nr_queues; i++)
		if (t->dev->vq[i].ready && t->notify_fd[i] >= 0) {
			uint64_t one = 1;

			if (write(t->notify_fd[i], &one, sizeof(one)) < 0) {
				/* The I/O thread is due anyway. */
			}
		}
}

void virtio_mmio_init(struct virtio_mmio *t, struct vm *vm,
		      struct virtio_dev *dev)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->vm = vm;
	t->dev = dev;
	t->irq_fd = -1;
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		t->notify_fd[i] = -1;
	dev->interrupt = mmio_interrupt;
	dev->live = mmio_live;
	dev->transport = t;
}

static struct virtq *sel_queue(struct virtio_mmio *t)
{
	if (t->queue_sel >= t->dev->ops->nr_queues)
		return NULL;
	return &t->dev->vq[t->queue_sel];
}

static void set_low(uint64_t *r, uint32_t v)
{
	*r = (*r & ~0xffffffffULL) | v;
}

static void set_high(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffULL) | ((uint64_t)v << 32);
}

static void reg_write(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
	struct virtio_dev *d = t->dev;
	struct virtq *q = sel_queue(t);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_dev_set_driver_features(d, t->drv_features_sel, v);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (virtio_dev_queue_setup_allowed(d, q))
			q->num = v > 0xffff ? 0 : v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		/* Disabling a live queue is not in 1.x MMIO: drivers reset. */
		if (q && v)
			virtio_dev_queue_enable(d, t->queue_sel);
		else if (q && !virtio_dev_live(d))
			q->ready = false;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Normally caught by KVM_IOEVENTFD; this is the slow path. */
		if (v < d->ops->nr_queues && t->notify_fd[v] >= 0) {
			uint64_t one = 1;

			if (write(t->notify_fd[v], &one, sizeof(one)) < 0) {
				/* Already pending. */
			}
		}
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&t->isr, ~v, __ATOMIC_SEQ_CST);
		break;
	case VIRTIO_MMIO_STATUS:
		if (!(v & 0xff)) {
			t->dev_features_sel = t->drv_features_sel = 0;
			t->queue_sel = 0;
			__atomic_store_n(&t->isr, 0, __ATOMIC_SEQ_CST);
		}
		virtio_dev_set_status(d, v & 0xff);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH: {
		uint64_t *r;

		if (!virtio_dev_queue_setup_allowed(d, q))
			break;
		r = off < VIRTIO_MMIO_QUEUE_AVAIL_LOW ? &q->desc_gpa :
		    off < VIRTIO_MMIO_QUEUE_USED_LOW  ? &q->avail_gpa :
							&q->used_gpa;
		if (off & 4)
			set_high(r, v);
		else
			set_low(r, v);
		break;
	}
	default:
		pr_debug(
			"%s: write of 0x%x to read-only or unknown register 0x%x",
			d->ops->name, v, off);
		break;
	}
}

static uint32_t reg_read(struct virtio_mmio *t, uint32_t off)
{
	struct virtio_dev *d = t->dev;
	struct virtq *q = sel_queue(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (t->dev_features_sel > 1)
			return 0;
		return d->features >> (32 * t->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? d->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&t->isr, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return d->config_generation;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffff; /* no shared memory regions */
	default:
		return 0;
	}
}

void virtio_mmio_access(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len, bool is_write)
{
	struct virtio_mmio *t = opaque;
	struct virtio_dev *d = t->dev;

	virtio_dev_lock(d);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint32_t off = offset - VIRTIO_MMIO_CONFIG;

		if (is_write) {
			if (d->ops->config_write)
				d->ops->config_write(d->priv, off, data, len);
		} else {
			memset(data, 0, len);
			if (d->ops->config_read)
				d->ops->config_read(d->priv, off, data, len);
		}
	} else if (len != 4 || (offset & 3)) {
		/* Registers are 32-bit wide and aligned (4.2.2.1). */
		pr_debug("%s: %u-byte access to register 0x%llx ignored",
			 d->ops->name, len, (unsigned long long)offset);
		if (!is_write)
			memset(data, 0, len);
	} else if (is_write) {
		uint32_t v;

		memcpy(&v, data, 4);
		reg_write(t, offset, v);
	} else {
		uint32_t v = reg_read(t, offset);

		memcpy(data, &v, 4);
	}
	virtio_dev_unlock(d);
}

void virtio_mmio_queue_kick(struct virtio_mmio *t, unsigned int q)
{
	uint64_t v;

	if (q >= VIRTIO_MMIO_MAX_QUEUES)
		return;
	if (t->notify_fd[q] >= 0 && read(t->notify_fd[q], &v, sizeof(v)) < 0) {
		/* Spurious: process anyway, it is cheap. */
	}
	virtio_dev_kick(t->dev, q);
}

static void kick_handler(void *opaque, uint32_t events)
{
	struct virtio_mmio_kick *k = opaque;

	(void)events;
	virtio_mmio_queue_kick(k->t, k->q);
}

int virtio_mmio_attach(struct virtio_mmio *t, uint64_t base, uint32_t irq)
{
	struct vm *vm = t->vm;
	unsigned int i;
	int r;

	t->base = base;
	t->irq = irq;
	r = bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, virtio_mmio_access,
			 t);
	if (r)
		return r;
	t->irq_fd = vm_irqfd(vm, irq);
	if (t->irq_fd < 0)
		return t->irq_fd;
	for (i = 0; i < t->dev->ops->nr_queues && i < VIRTIO_MMIO_MAX_QUEUES;
	     i++) {
		t->notify_fd[i] =
			vm_ioeventfd(vm, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, i);
		if (t->notify_fd[i] < 0)
			return t->notify_fd[i];
		t->kick[i] = (struct virtio_mmio_kick){ t, i };
		r = iothread_add(vm->io, t->notify_fd[i], kick_handler,
				 &t->kick[i]);
		if (r)
			return r;
	}
	return 0;
}

void virtio_mmio_detach(struct virtio_mmio *t)
{
	unsigned int i;

	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		if (t->notify_fd[i] >= 0)
			close(t->notify_fd[i]);
		t->notify_fd[i] = -1;
	}
	if (t->irq_fd >= 0)
		close(t->irq_fd);
	t->irq_fd = -1;
}
