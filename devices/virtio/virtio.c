// SPDX-License-Identifier: MIT
/* The transport-neutral part of a virtio 1.x device (virtio spec 2, 3). */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
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

void virtio_dev_save(struct virtio_dev *d, struct virtio_state *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->device_id = htole32(d->ops->device_id);
	s->nr_queues = htole32(d->ops->nr_queues);
	s->features = htole64(d->features);
	s->acked = htole64(d->acked);
	s->status = htole32(d->status);
	s->config_generation = htole32(d->config_generation);
	for (i = 0; i < d->ops->nr_queues && i < VIRTIO_MAX_QUEUES; i++) {
		const struct virtq *q = &d->vq[i];
		struct virtio_state_queue *o = &s->q[i];

		o->num = htole16(q->num);
		o->ready = q->ready;
		o->broken = q->broken;
		o->last_avail = htole16(q->last_avail);
		o->used_idx = htole16(q->used_idx);
		o->signalled = htole16(q->signalled);
		o->desc_gpa = htole64(q->desc_gpa);
		o->avail_gpa = htole64(q->avail_gpa);
		o->used_gpa = htole64(q->used_gpa);
	}
}

#define KNOWN_STATUS                                               \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |    \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK | \
	 VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)

/* Refuses saved state: why (of queue qi, -1 for the device). */
static int restore_bad(struct virtio_dev *d, char *err, size_t errlen,
		       const char *why, int qi)
{
	if (err && errlen && qi >= 0)
		snprintf(err, errlen, "%s: saved state: %s (queue %d)",
			 d->ops->name, why, qi);
	else if (err && errlen)
		snprintf(err, errlen, "%s: saved state: %s", d->ops->name, why);
	reset(d);
	d->config_generation = 0;
	return -EINVAL;
}

int virtio_dev_restore(struct virtio_dev *d, const void *buf, size_t len,
		       char *err, size_t errlen)
{
	struct virtio_state s;
	uint32_t status;
	uint64_t acked;
	unsigned int i;

	if (len != sizeof(s))
		return restore_bad(d, err, errlen, "not the size of one", -1);
	memcpy(&s, buf, sizeof(s));
	status = le32toh(s.status);
	acked = le64toh(s.acked);
	if (le32toh(s.device_id) != d->ops->device_id ||
	    le32toh(s.nr_queues) != d->ops->nr_queues)
		return restore_bad(
			d, err, errlen,
			"another kind of device, or another count of queues",
			-1);
	if (le64toh(s.features) != d->features)
		return restore_bad(d, err, errlen,
				   "the device offered other features", -1);
	if (acked & ~d->features || status & ~KNOWN_STATUS)
		return restore_bad(
			d, err, errlen,
			"features never offered, or unknown status bits", -1);
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK &&
	     !(acked & (1ULL << VIRTIO_F_VERSION_1))) ||
	    (status & VIRTIO_CONFIG_S_DRIVER_OK &&
	     !(status & VIRTIO_CONFIG_S_FEATURES_OK)))
		return restore_bad(d, err, errlen,
				   "a status the driver could not have set",
				   -1);
	reset(d);
	d->acked = acked;
	d->status = status & ~VIRTIO_CONFIG_S_DRIVER_OK;
	d->config_generation = le32toh(s.config_generation);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		const struct virtio_state_queue *o = &s.q[i];
		struct virtq *q = &d->vq[i];

		if (i >= d->ops->nr_queues) {
			if (o->ready || o->num || o->desc_gpa || o->avail_gpa ||
			    o->used_gpa)
				return restore_bad(
					d, err, errlen,
					"a queue the device does not have",
					(int)i);
			continue;
		}
		q->num = le16toh(o->num);
		q->desc_gpa = le64toh(o->desc_gpa);
		q->avail_gpa = le64toh(o->avail_gpa);
		q->used_gpa = le64toh(o->used_gpa);
		/* Set up but not ready yet: checked when the driver says so. */
		if (!o->ready)
			continue;
		if (!(status & VIRTIO_CONFIG_S_FEATURES_OK))
			return restore_bad(d, err, errlen,
					   "a ready queue before FEATURES_OK",
					   (int)i);
		if (virtio_dev_queue_enable(d, i))
			return restore_bad(
				d, err, errlen,
				"a ring outside guest memory or a bad size",
				(int)i);
		q->last_avail = le16toh(o->last_avail);
		q->used_idx = le16toh(o->used_idx);
		q->signalled = le16toh(o->signalled);
		q->broken = o->broken;
	}
	if (status & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (d->ops->activate && d->ops->activate(d->priv, d->acked))
			return restore_bad(d, err, errlen,
					   "the device refused its features",
					   -1);
		d->status = status;
	}
	return 0;
}
