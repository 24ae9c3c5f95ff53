// SPDX-License-Identifier: MIT
/* virtio-rng (virtio 1.x, 5.4): the guest's /dev/hwrng, from getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "log.h"
#include "vm.h"
#include "rng.h"

static uint32_t rng_chain(void *dev, struct virtq_chain *c)
{
	uint32_t done = 0;
	unsigned int i;

	(void)dev;
	for (i = 0; i < c->n_in; i++) {
		ssize_t got = getrandom(c->in[i].iov_base, c->in[i].iov_len,
					GRND_NONBLOCK);
		if (got <= 0)
			break;
		done += got;
		if ((size_t)got < c->in[i].iov_len)
			break;
	}
	return done;
}

static void rng_notify(void *dev, unsigned int qi)
{
	struct virtio_rng *r = dev;

	virtio_dev_drain(&r->vdev, qi, &r->chain, rng_chain);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = 4,
	.nr_queues = 1,
	.queue_max = 64,
	.notify = rng_notify,
};

struct virtio_rng *virtio_rng_new(struct vm *vm)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));

	if (r)
		virtio_dev_init(&r->vdev, &rng_ops, r, 0, &vm->mem, vm->io);
	return r;
}

void virtio_rng_free(struct virtio_rng *r)
{
	free(r);
}

VIRTIO_DEVICE_OPS(virtio_rng);
