// SPDX-License-Identifier: MIT
/* virtio-9p: the 9P2000.L server (p9.c) behind one request queue. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "9p.h"
#include "log.h"
#include "vm.h"

#define VIRTIO_9P_MOUNT_TAG (1ULL << 0)

static uint32_t p9_chain(void *dev, struct virtq_chain *c)
{
	struct virtio_9p *p = dev;
	size_t len = iov_to_buf(c->out, c->n_out, 0, p->req, P9_MAX_MSIZE);
	size_t cap = c->in_len < P9_MAX_MSIZE ? c->in_len : P9_MAX_MSIZE;
	size_t n = p9_handle(&p->srv, p->req, len, p->rep, cap);

	return buf_to_iov(c->in, c->n_in, 0, p->rep, n);
}

static void p9_notify(void *dev, unsigned int qi)
{
	struct virtio_9p *p = dev;

	virtio_dev_drain(&p->vdev, qi, &p->chain, p9_chain);
}

static void p9_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_9p *p = dev;
	uint8_t cfg[2 + VIRTIO_9P_TAG_MAX] = { 0 };
	size_t n = strlen(p->tag);

	cfg[0] = n;
	memcpy(cfg + 2, p->tag, n);
	if (off < 2 + n && len <= 2 + n - off)
		memcpy(data, cfg + off, len);
	else
		memset(data, 0, len);
}

static void virtio_9p_reset(void *dev)
{
	struct virtio_9p *p = dev;

	/* A new driver starts a new session: every fid goes. */
	p9_reset(&p->srv);
}

static const struct virtio_dev_ops p9_ops = {
	.name = "virtio-9p",
	.device_id = 9,
	.nr_queues = 1,
	.queue_max = 128,
	.config_read = p9_config_read,
	.reset = virtio_9p_reset,
	.notify = p9_notify,
};

struct virtio_9p *virtio_9p_new(struct vm *vm, const char *dir, const char *tag,
				bool ro, char *err, size_t errlen)
{
	struct virtio_9p *p;
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(
			err, errlen,
			errno == ENOENT ?
				"'%s' does not exist: check the path" :
			errno == ENOTDIR ?
				"'%s' is not a directory: give a directory to share" :
				"cannot open '%s': %s",
			dir, strerror(errno));
		return NULL;
	}
	if (strlen(tag) >= VIRTIO_9P_TAG_MAX) {
		snprintf(err, errlen, "9p tag '%s' too long", tag);
		close(fd);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p) {
		p->req = malloc(P9_MAX_MSIZE);
		p->rep = malloc(P9_MAX_MSIZE);
	}
	if (!p || !p->req || !p->rep) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		virtio_9p_free(p);
		return NULL;
	}
	p9_init(&p->srv, fd, ro);
	snprintf(p->tag, sizeof(p->tag), "%s", tag);
	virtio_dev_init(&p->vdev, &p9_ops, p, VIRTIO_9P_MOUNT_TAG, &vm->mem,
			vm->io);
	return p;
}

void virtio_9p_free(struct virtio_9p *p)
{
	if (!p)
		return;
	if (p->req)
		p9_destroy(&p->srv);
	free(p->req);
	free(p->rep);
	free(p);
}

VIRTIO_DEVICE_OPS(virtio_9p);
