// SPDX-License-Identifier: MIT
/* The virtio-mmio transport, version 2 (virtio 1.x, 4.2). */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "iothread.h"
#include "log.h"
#include "mmio.h"
#include "vm.h"

#define MMIO_MAGIC 0x74726976 /* "virt" */
#define MMIO_VERSION 2
#define VENDOR_ID 0x4e4c494b /* "KILN" */

void virtio_mmio_init(struct virtio_mmio *t, struct vm *vm,
		      const struct virtio_dev_ops *ops, void *dev,
		      uint64_t features)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->vm = vm;
	t->ops = ops;
	t->dev = dev;
	t->features = features | (1ULL << VIRTIO_F_VERSION_1) |
		      (1ULL << VIRTIO_RING_F_EVENT_IDX) |
		      (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	t->irq_fd = -1;
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		t->notify_fd[i] = -1;
	pthread_mutex_init(&t->lock, NULL);
}

void virtio_mmio_signal(struct virtio_mmio *t)
{
	uint64_t one = 1;

	__atomic_fetch_or(&t->isr, VIRTIO_MMIO_INT_VRING, __ATOMIC_SEQ_CST);
	if (t->irq_fd >= 0 && write(t->irq_fd, &one, sizeof(one)) < 0)
		pr_warn("%s: cannot raise the interrupt", t->ops->name);
}

void virtio_mmio_complete(struct virtio_mmio *t, unsigned int q)
{
	virtq_publish(&t->vq[q]);
	if (virtq_should_notify(&t->vq[q]))
		virtio_mmio_signal(t);
}

bool virtio_mmio_drain(struct virtio_mmio *t, unsigned int qi,
		       struct virtq_chain *c, virtq_chain_fn fn)
{
	struct virtq *q = &t->vq[qi];
	bool any = false;
	int r;

	do {
		while ((r = virtq_pop(q, c)) != 0) {
			if (r == -EIO)
				break;
			virtq_push(q, c->head, r > 0 ? fn(t->dev, c) : 0);
			any = true;
		}
		if (r == -EIO)
			break;
	} while (virtq_enable_notify(q));
	if (any)
		virtio_mmio_complete(t, qi);
	return any;
}

/* Back to the state after power-on; the caller holds the lock. */
static void do_reset(struct virtio_mmio *t)
{
	unsigned int i;

	if (t->ops->reset)
		t->ops->reset(t->dev);
	for (i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		virtq_reset(&t->vq[i]);
	t->status = 0;
	t->driver_features = 0;
	t->dev_features_sel = t->drv_features_sel = t->queue_sel = 0;
	__atomic_store_n(&t->isr, 0, __ATOMIC_SEQ_CST);
}

static struct virtq *sel_queue(struct virtio_mmio *t)
{
	if (t->queue_sel >= t->ops->nr_queues)
		return NULL;
	return &t->vq[t->queue_sel];
}

/* Queue registers may change only between FEATURES_OK and DRIVER_OK. */
static bool queue_setup_allowed(struct virtio_mmio *t, struct virtq *q)
{
	return q && !q->ready && (t->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	       !(t->status & VIRTIO_CONFIG_S_DRIVER_OK);
}

static void set_status(struct virtio_mmio *t, uint32_t v)
{
	uint32_t added = v & ~t->status;
	unsigned int i;

	if (v == 0) {
		do_reset(t);
		return;
	}
	if (t->status & ~v) {
		/* Only a reset may clear bits. */
		pr_guest(
			"%s: guest cleared status bits 0x%x without a reset; ignored",
			t->ops->name, t->status & ~v);
		return;
	}
	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		if (!(t->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
			pr_guest(
				"%s: driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)",
				t->ops->name);
			v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		}
	}
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (!(v & VIRTIO_CONFIG_S_FEATURES_OK)) {
			pr_guest("%s: DRIVER_OK before FEATURES_OK",
				 t->ops->name);
			v = (v & ~VIRTIO_CONFIG_S_DRIVER_OK) |
			    VIRTIO_CONFIG_S_NEEDS_RESET;
		} else if (t->ops->activate &&
			   t->ops->activate(t->dev, t->driver_features)) {
			v = (v & ~VIRTIO_CONFIG_S_DRIVER_OK) |
			    VIRTIO_CONFIG_S_NEEDS_RESET;
		}
	}
	t->status = v;
	if (added & VIRTIO_CONFIG_S_DRIVER_OK &&
	    (v & VIRTIO_CONFIG_S_DRIVER_OK))
		/* Buffers may have been queued before DRIVER_OK. */
		for (i = 0; i < t->ops->nr_queues; i++)
			if (t->vq[i].ready && t->notify_fd[i] >= 0) {
				uint64_t one = 1;

				if (write(t->notify_fd[i], &one, sizeof(one)) <
				    0) {
					/* The I/O thread is due anyway. */
				}
			}
}

static void queue_ready(struct virtio_mmio *t, struct virtq *q, uint32_t v)
{
	if (!v) {
		/* Disabling a live queue is not supported in 1.x MMIO; the
		 * driver resets the device instead. */
		if (q->ready && (t->status & VIRTIO_CONFIG_S_DRIVER_OK))
			return;
		q->ready = false;
		return;
	}
	if (!queue_setup_allowed(t, q))
		return;
	q->event_idx = t->driver_features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	q->indirect = t->driver_features &
		      (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	if (virtq_enable(&t->vm->mem, q, t->ops->queue_max)) {
		pr_guest(
			"%s: queue %u rejected: size %u, rings at 0x%llx/0x%llx/0x%llx not valid guest RAM",
			t->ops->name, t->queue_sel, q->num,
			(unsigned long long)q->desc_gpa,
			(unsigned long long)q->avail_gpa,
			(unsigned long long)q->used_gpa);
		return;
	}
	q->ready = true;
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
	struct virtq *q = sel_queue(t);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Only before FEATURES_OK; never a bit the device lacks. */
		if (t->status & VIRTIO_CONFIG_S_FEATURES_OK ||
		    t->drv_features_sel > 1)
			break;
		if (t->drv_features_sel == 0)
			set_low(&t->driver_features, v);
		else
			set_high(&t->driver_features, v);
		t->driver_features &= t->features;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (queue_setup_allowed(t, q))
			q->num = v > 0xffff ? 0 : v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q)
			queue_ready(t, q, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Normally caught by KVM_IOEVENTFD; this is the slow path. */
		if (v < t->ops->nr_queues && t->notify_fd[v] >= 0) {
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
		set_status(t, v & 0xff);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH: {
		uint64_t *r;

		if (!queue_setup_allowed(t, q))
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
			t->ops->name, v, off);
		break;
	}
}

static uint32_t reg_read(struct virtio_mmio *t, uint32_t off)
{
	struct virtq *q = sel_queue(t);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (t->dev_features_sel > 1)
			return 0;
		return t->features >> (32 * t->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? t->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&t->isr, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->config_generation;
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

	pthread_mutex_lock(&t->lock);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint32_t off = offset - VIRTIO_MMIO_CONFIG;

		if (is_write) {
			if (t->ops->config_write)
				t->ops->config_write(t->dev, off, data, len);
		} else {
			memset(data, 0, len);
			if (t->ops->config_read)
				t->ops->config_read(t->dev, off, data, len);
		}
	} else if (len != 4 || (offset & 3)) {
		/* Registers are 32-bit wide and aligned (4.2.2.1). */
		pr_debug("%s: %u-byte access to register 0x%llx ignored",
			 t->ops->name, len, (unsigned long long)offset);
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
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_queue_kick(struct virtio_mmio *t, unsigned int q)
{
	uint64_t v;

	if (t->notify_fd[q] >= 0 && read(t->notify_fd[q], &v, sizeof(v)) < 0) {
		/* Spurious: process anyway, it is cheap. */
	}
	pthread_mutex_lock(&t->lock);
	if ((t->status & VIRTIO_CONFIG_S_DRIVER_OK) && t->vq[q].ready &&
	    t->ops->notify)
		t->ops->notify(t->dev, q);
	pthread_mutex_unlock(&t->lock);
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
	t->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->irq_fd < 0)
		return -errno;
	{
		struct kvm_irqfd f = { .fd = t->irq_fd, .gsi = irq };

		if (ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0) {
			r = -errno;
			pr_err("%s: KVM_IRQFD for IRQ %u failed: %s",
			       t->ops->name, irq, strerror(errno));
			return r;
		}
	}
	for (i = 0; i < t->ops->nr_queues; i++) {
		struct kvm_ioeventfd io = {
			.datamatch = i,
			.addr = base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.len = 4,
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};

		t->notify_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->notify_fd[i] < 0)
			return -errno;
		io.fd = t->notify_fd[i];
		if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
			r = -errno;
			pr_err("%s: KVM_IOEVENTFD failed: %s", t->ops->name,
			       strerror(errno));
			return r;
		}
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
	pthread_mutex_destroy(&t->lock);
}
