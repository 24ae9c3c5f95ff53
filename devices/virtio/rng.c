// SPDX-License-Identifier: MIT
/* virtio-rng (virtio 1.x, 5.4): the guest's /dev/hwrng, from getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "log.h"
#include "rng.h"

static void rng_notify(void *dev, unsigned int qi)
{
	struct virtio_rng *r = dev;
	struct virtq *q = &r->t.vq[qi];
	bool any = false;
	int n;

	do {
		while ((n = virtq_pop(r->t.vm, q, &r->chain)) != 0) {
			uint32_t done = 0;
			unsigned int i;

			if (n == -EIO)
				break;
			for (i = 0; n > 0 && i < r->chain.n_in; i++) {
				ssize_t got = getrandom(r->chain.in[i].iov_base,
							r->chain.in[i].iov_len,
							GRND_NONBLOCK);
				if (got <= 0)
					break;
				done += got;
				if ((size_t)got < r->chain.in[i].iov_len)
					break;
			}
			virtq_push(q, r->chain.head, done);
			any = true;
		}
		if (n == -EIO)
			break;
	} while (virtq_enable_notify(q));
	if (any)
		virtio_mmio_complete(&r->t, qi);
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
		virtio_mmio_init(&r->t, vm, &rng_ops, r, 0);
	return r;
}

void virtio_rng_free(struct virtio_rng *r)
{
	free(r);
}
