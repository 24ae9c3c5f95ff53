// SPDX-License-Identifier: MIT
/* The transport-neutral part of a virtio 1.x device (virtio spec 2, 3). */
#include <errno.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "log.h"
#include "virtio.h"

void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		     void *priv, uint64_t features, const struct guest_mem *mem,
		     struct iothread *io)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->priv = priv;
	d->mem = mem;
	d->io = io;
	d->features = features | (1ULL << VIRTIO_F_VERSION_1) |
		      (1ULL << VIRTIO_RING_F_EVENT_IDX) |
		      (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	pthread_mutex_init(&d->lock, NULL);
}

void virtio_dev_fini(struct virtio_dev *d)
{
	pthread_mutex_destroy(&d->lock);
}

struct virtq *virtio_dev_queue(struct virtio_dev *d, unsigned int q)
{
	if (q >= d->ops->nr_queues || q >= VIRTIO_MAX_QUEUES || !d->vq[q].ready)
		return NULL;
	return &d->vq[q];
}

void virtio_dev_signal(struct virtio_dev *d)
{
	if (d->interrupt)
		d->interrupt(d->transport, VIRTIO_INT_VRING);
}

void virtio_dev_complete(struct virtio_dev *d, unsigned int q)
{
	virtq_publish(&d->vq[q]);
	if (virtq_should_notify(&d->vq[q]))
		virtio_dev_signal(d);
}

void virtio_dev_config_changed(struct virtio_dev *d)
{
	d->config_generation++;
	if (virtio_dev_live(d) && d->interrupt)
		d->interrupt(d->transport, VIRTIO_INT_CONFIG);
}

bool virtio_dev_drain(struct virtio_dev *d, unsigned int qi,
		      struct virtq_chain *c, virtq_chain_fn fn)
{
	struct virtq *q = &d->vq[qi];
	bool any = false;
	int r;

	do {
		while ((r = virtq_pop(q, c)) != 0) {
			if (r == -EIO)
				break;
			virtq_push(q, c->head, r > 0 ? fn(d->priv, c) : 0);
			any = true;
		}
		if (r == -EIO)
			break;
	} while (virtq_enable_notify(q));
	if (any)
		virtio_dev_complete(d, qi);
	return any;
}

void virtio_dev_set_driver_features(struct virtio_dev *d, uint32_t sel,
				    uint32_t v)
{
	if (d->status & VIRTIO_CONFIG_S_FEATURES_OK || sel > 1)
		return;
	if (sel == 0)
		d->acked = (d->acked & ~0xffffffffULL) | v;
	else
		d->acked = (d->acked & 0xffffffffULL) | ((uint64_t)v << 32);
	d->acked &= d->features;
}

/* Back to the state after power-on. */
static void reset(struct virtio_dev *d)
{
	unsigned int i;

	if (d->ops->reset)
		d->ops->reset(d->priv);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_reset(&d->vq[i]);
	d->status = 0;
	d->acked = 0;
}

void virtio_dev_set_status(struct virtio_dev *d, uint32_t v)
{
	uint32_t added = v & ~d->status;

	if (v == 0) {
		reset(d);
		return;
	}
	if (d->status & ~v) {
		/* Only a reset may clear bits. */
		pr_guest(
			"%s: guest cleared status bits 0x%x without a reset; ignored",
			d->ops->name, d->status & ~v);
		return;
	}
	if (added & VIRTIO_CONFIG_S_FEATURES_OK &&
	    !(d->acked & (1ULL << VIRTIO_F_VERSION_1))) {
		pr_guest(
			"%s: driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)",
			d->ops->name);
		v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (!(v & VIRTIO_CONFIG_S_FEATURES_OK)) {
			pr_guest("%s: DRIVER_OK before FEATURES_OK",
				 d->ops->name);
			v = (v & ~VIRTIO_CONFIG_S_DRIVER_OK) |
			    VIRTIO_CONFIG_S_NEEDS_RESET;
		} else if (d->ops->activate &&
			   d->ops->activate(d->priv, d->acked)) {
			v = (v & ~VIRTIO_CONFIG_S_DRIVER_OK) |
			    VIRTIO_CONFIG_S_NEEDS_RESET;
		}
	}
	d->status = v;
	if (added & VIRTIO_CONFIG_S_DRIVER_OK &&
	    (v & VIRTIO_CONFIG_S_DRIVER_OK) && d->live)
		d->live(d->transport);
}

bool virtio_dev_queue_setup_allowed(const struct virtio_dev *d,
				    const struct virtq *q)
{
	return q && !q->ready && (d->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	       !(d->status & VIRTIO_CONFIG_S_DRIVER_OK);
}

int virtio_dev_queue_enable(struct virtio_dev *d, unsigned int qi)
{
	struct virtq *q = &d->vq[qi];

	if (qi >= d->ops->nr_queues || !virtio_dev_queue_setup_allowed(d, q))
		return -EINVAL;
	q->event_idx = d->acked & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	q->indirect = d->acked & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	if (virtq_enable(d->mem, q, d->ops->queue_max)) {
		pr_guest(
			"%s: queue %u rejected: size %u, rings at 0x%llx/0x%llx/0x%llx not valid guest RAM",
			d->ops->name, qi, q->num,
			(unsigned long long)q->desc_gpa,
			(unsigned long long)q->avail_gpa,
			(unsigned long long)q->used_gpa);
		return -EINVAL;
	}
	q->ready = true;
	return 0;
}

void virtio_dev_kick(struct virtio_dev *d, unsigned int q)
{
	pthread_mutex_lock(&d->lock);
	if (virtio_dev_live(d) && q < d->ops->nr_queues && d->vq[q].ready &&
	    d->ops->notify)
		d->ops->notify(d->priv, q);
	pthread_mutex_unlock(&d->lock);
}
