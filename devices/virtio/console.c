// SPDX-License-Identifier: MIT
/* virtio-console (virtio 1.x, 5.3), single port for now. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "console.h"
#include "log.h"

static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (fd >= 0 && len) {
		ssize_t r = write(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return; /* a closed output drops guest output */
		p += r;
		len -= r;
	}
}

static void console_tx(struct virtio_console *c, struct console_port *p)
{
	struct virtq *q = &c->t.vq[p->txq];
	bool any = false;
	int r;

	do {
		while ((r = virtq_pop(c->t.vm, q, &c->chain)) != 0) {
			unsigned int i;

			if (r == -EIO)
				break;
			for (i = 0; r > 0 && i < c->chain.n_out; i++)
				write_all(p->out_fd, c->chain.out[i].iov_base,
					  c->chain.out[i].iov_len);
			if (r > 0 && c->chain.out_len && !p->spoke) {
				uint64_t one = 1;

				/* Held input may go in now (see receive). */
				p->spoke = true;
				if (write(c->space_fd, &one, sizeof(one)) < 0) {
					/* Already signalled. */
				}
			}
			virtq_push(q, c->chain.head, 0);
			any = true;
		}
		if (r == -EIO)
			break;
	} while (virtq_enable_notify(q));
	if (any)
		virtio_mmio_complete(&c->t, p->txq);
}

static void console_notify(void *dev, unsigned int qi)
{
	struct virtio_console *c = dev;
	uint64_t one = 1;

	if (qi == c->port[0].txq) {
		console_tx(c, &c->port[0]);
	} else if (qi == c->port[0].rxq) {
		/* New receive buffers: the main loop may have input. */
		if (write(c->space_fd, &one, sizeof(one)) < 0) {
			/* Already signalled. */
		}
	}
}

static void console_config_read(void *dev, uint32_t off, uint8_t *data,
				uint32_t len)
{
	/* cols, rows, max_nr_ports, emerg_wr: one port, size unknown. */
	uint8_t cfg[12] = { 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };

	(void)dev;
	if (off < sizeof(cfg) && len <= sizeof(cfg) - off)
		memcpy(data, cfg + off, len);
}

static void console_reset(void *dev)
{
	struct virtio_console *c = dev;

	c->rx_chain.n_in = 0;
	c->port[0].spoke = false;
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = 3,
	.nr_queues = 2,
	.queue_max = CONSOLE_QUEUE_SIZE,
	.config_read = console_config_read,
	.reset = console_reset,
	.notify = console_notify,
};

size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
			      size_t n)
{
	struct virtq *q;
	size_t done = 0;
	bool any = false;

	pthread_mutex_lock(&c->t.lock);
	q = &c->t.vq[c->port[0].rxq];
	/*
	 * Without MULTIPORT the guest cannot tell us it opened the port, and
	 * Linux drops input that arrives before hvc0 is connected. Hold input
	 * until the guest has written to the port: then something is there.
	 */
	if (!(c->t.status & 4 /* DRIVER_OK */) || !q->ready ||
	    !c->port[0].spoke)
		goto out;
	while (done < n) {
		int r = virtq_pop(c->t.vm, q, &c->rx_chain);
		size_t put;

		if (r == 0 && virtq_enable_notify(q))
			continue;
		if (r <= 0) {
			if (r == -EINVAL) {
				virtq_push(q, c->rx_chain.head, 0);
				any = true;
				continue;
			}
			break;
		}
		put = buf_to_iov(c->rx_chain.in, c->rx_chain.n_in, 0,
				 buf + done, n - done);
		virtq_push(q, c->rx_chain.head, put);
		done += put;
		any = true;
	}
	if (any)
		virtio_mmio_complete(&c->t, c->port[0].rxq);
out:
	pthread_mutex_unlock(&c->t.lock);
	return done;
}

struct virtio_console *virtio_console_new(struct vm *vm, int out_fd)
{
	struct virtio_console *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->space_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->space_fd < 0) {
		free(c);
		return NULL;
	}
	c->port[0] =
		(struct console_port){ .out_fd = out_fd, .rxq = 0, .txq = 1 };
	virtio_mmio_init(&c->t, vm, &console_ops, c, 0);
	return c;
}

void virtio_console_free(struct virtio_console *c)
{
	if (!c)
		return;
	close(c->space_fd);
	free(c);
}
