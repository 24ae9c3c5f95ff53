// SPDX-License-Identifier: MIT
/* virtio-console (virtio 1.x, 5.3): hvc0, and named ports with multiport. */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_console.h>

#include "console.h"
#include "log.h"
#include "vm.h"

#define CTRL_RXQ 2
#define CTRL_TXQ 3
#ifndef VIRTIO_CONSOLE_DEVICE_ADD
#define VIRTIO_CONSOLE_DEVICE_ADD 1 /* not in every uapi header */
#endif
#define F_MULTIPORT (1ULL << VIRTIO_CONSOLE_F_MULTIPORT)

/* Writes everything, waiting out a non-blocking fd; false if it closed. */
static bool write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (fd >= 0 && len) {
		ssize_t r = write(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			poll(&pfd, 1, -1);
			continue;
		}
		if (r <= 0)
			return false; /* a closed output drops guest output */
		p += r;
		len -= r;
	}
	return true;
}

static void signal_space(struct virtio_console *c)
{
	uint64_t one = 1;

	if (write(c->space_fd, &one, sizeof(one)) < 0) {
		/* Already signalled. */
	}
}

int console_parse_status(const char *line)
{
	char *end;
	long v;

	if (strncmp(line, "exit ", 5) || line[5] < '0' || line[5] > '9')
		return -1;
	errno = 0;
	v = strtol(line + 5, &end, 10);
	if (errno || *end || v < 0 || v > 255)
		return -1;
	return v;
}

static void status_bytes(struct virtio_console *c, struct console_port *p,
			 const uint8_t *b, size_t n)
{
	for (; n; b++, n--) {
		if (*b != '\n') {
			if (p->line_len < sizeof(p->line) - 1)
				p->line[p->line_len] = *b;
			p->line_len++;
			continue;
		}
		if (p->line_len < sizeof(p->line)) {
			int st;

			p->line[p->line_len] = 0;
			st = console_parse_status(p->line);
			if (st >= 0 && c->on_status)
				c->on_status(c->opaque, st);
			else if (st < 0)
				pr_guest(
					"virtio-console: bad status line from the guest");
		} else {
			pr_guest("virtio-console: status line too long");
		}
		p->line_len = 0;
	}
}

static uint32_t port_tx_chain(void *dev, struct virtq_chain *ch)
{
	struct virtio_console *c = dev;
	struct console_port *p = c->tx_port;
	unsigned int i;

	if (!c->multiport && ch->out_len && !p->guest_open) {
		/*
		 * Without multiport the guest cannot say it opened hvc0, and
		 * Linux drops input that arrives before that: writing is the
		 * sign that something is there.
		 */
		p->guest_open = true;
		signal_space(c);
	}
	for (i = 0; i < ch->n_out; i++) {
		if (p->role == PORT_STATUS)
			status_bytes(c, p, ch->out[i].iov_base,
				     ch->out[i].iov_len);
		else if (p->role != PORT_INPUT &&
			 !write_all(p->out_fd, ch->out[i].iov_base,
				    ch->out[i].iov_len))
			break;
	}
	return 0;
}

static void port_tx(struct virtio_console *c, struct console_port *p)
{
	c->tx_port = p;
	virtio_dev_drain(&c->vdev, p->txq, &c->chain, port_tx_chain);
}

static void queue_ctrl(struct virtio_console *c, uint32_t id, uint16_t event,
		       uint16_t value, const char *name)
{
	struct console_ctrl_msg *m;

	if (c->nr_pending == CONSOLE_CTRL_PENDING) {
		pr_guest("virtio-console: control queue full, message dropped");
		return;
	}
	m = &c->pending[c->nr_pending++];
	*m = (struct console_ctrl_msg){ id, event, value, "" };
	if (name)
		memcpy(m->name, name, strnlen(name, sizeof(m->name) - 1));
}

/* Moves pending control messages into the guest's control buffers. */
static void ctrl_flush(struct virtio_console *c)
{
	struct virtq *q = &c->vdev.vq[CTRL_RXQ];
	unsigned int done = 0;
	bool any = false;

	if (!q->ready || !virtio_dev_live(&c->vdev))
		return;
	while (done < c->nr_pending) {
		struct console_ctrl_msg *m = &c->pending[done];
		struct virtio_console_control hdr = { .id = m->id,
						      .event = m->event,
						      .value = m->value };
		int r = virtq_pop(q, &c->rx_chain);
		size_t put;

		if (r == 0 && virtq_enable_notify(q))
			continue;
		if (r == 0 || r == -EIO)
			break;
		any = true;
		if (r < 0) {
			virtq_push(q, c->rx_chain.head, 0);
			continue;
		}
		put = buf_to_iov(c->rx_chain.in, c->rx_chain.n_in, 0, &hdr,
				 sizeof(hdr));
		if (m->event == VIRTIO_CONSOLE_PORT_NAME)
			put += buf_to_iov(c->rx_chain.in, c->rx_chain.n_in,
					  sizeof(hdr), m->name,
					  strlen(m->name));
		virtq_push(q, c->rx_chain.head, put);
		done++;
	}
	memmove(c->pending, c->pending + done,
		(c->nr_pending - done) * sizeof(c->pending[0]));
	c->nr_pending -= done;
	if (any)
		virtio_dev_complete(&c->vdev, CTRL_RXQ);
}

static void guest_closed(struct virtio_console *c, struct console_port *p)
{
	/* Output sent before the close goes out first. */
	port_tx(c, p);
	if (p->role == PORT_OUTPUT && p->out_fd >= 0) {
		/*
		 * Whoever reads kiln's output sees end-of-file. /dev/null was
		 * opened up front: this thread's seccomp filter has no open.
		 */
		if (c->null_fd >= 0)
			dup2(c->null_fd, p->out_fd);
		p->out_fd = -1;
	}
}

static uint32_t ctrl_tx_chain(void *dev, struct virtq_chain *ch)
{
	struct virtio_console *c = dev;
	struct virtio_console_control m;
	struct console_port *p;
	unsigned int i;

	if (iov_to_buf(ch->out, ch->n_out, 0, &m, sizeof(m)) < sizeof(m)) {
		pr_guest("virtio-console: short control message");
		return 0;
	}
	if (m.event == VIRTIO_CONSOLE_DEVICE_READY) {
		if (m.value != 1) {
			pr_guest("virtio-console: the guest failed to set up");
			return 0;
		}
		for (i = 0; i < c->nr_ports; i++)
			queue_ctrl(c, i, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
		return 0;
	}
	if (m.id >= c->nr_ports) {
		pr_guest("virtio-console: control message for port %u of %u",
			 m.id, c->nr_ports);
		return 0;
	}
	p = &c->port[m.id];
	switch (m.event) {
	case VIRTIO_CONSOLE_PORT_READY:
		if (m.value != 1) {
			pr_guest(
				"virtio-console: the guest failed to add port %u",
				m.id);
			break;
		}
		if (p->role == PORT_CONSOLE) {
			queue_ctrl(c, m.id, VIRTIO_CONSOLE_CONSOLE_PORT, 1,
				   NULL);
		} else {
			queue_ctrl(c, m.id, VIRTIO_CONSOLE_PORT_NAME, 0,
				   p->name);
		}
		if (p->host_open)
			queue_ctrl(c, m.id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		p->guest_open = m.value == 1;
		if (p->guest_open)
			signal_space(c);
		else
			guest_closed(c, p);
		break;
	default:
		/* RESIZE and the rest carry nothing kiln needs. */
		break;
	}
	return 0;
}

static void console_notify(void *dev, unsigned int qi)
{
	struct virtio_console *c = dev;
	unsigned int i;

	if (c->multiport && qi == CTRL_TXQ) {
		virtio_dev_drain(&c->vdev, qi, &c->chain, ctrl_tx_chain);
		ctrl_flush(c);
		return;
	}
	if (c->multiport && qi == CTRL_RXQ) {
		ctrl_flush(c);
		return;
	}
	for (i = 0; i < c->nr_ports; i++) {
		if (qi == c->port[i].txq)
			port_tx(c, &c->port[i]);
		else if (qi == c->port[i].rxq)
			signal_space(c); /* the main loop may have input */
	}
}

static void console_config_read(void *dev, uint32_t off, uint8_t *data,
				uint32_t len)
{
	struct virtio_console *c = dev;
	/* cols, rows (unknown), max_nr_ports, emerg_wr. */
	uint8_t cfg[12] = { 0 };

	cfg[4] = c->nr_ports;
	if (off < sizeof(cfg) && len <= sizeof(cfg) - off)
		memcpy(data, cfg + off, len);
}

static int console_activate(void *dev, uint64_t features)
{
	struct virtio_console *c = dev;

	if (c->multiport && !(features & F_MULTIPORT))
		pr_guest("virtio-console: the guest supports hvc0 only");
	return 0;
}

static void console_reset(void *dev)
{
	struct virtio_console *c = dev;
	unsigned int i;

	/*
	 * Linux resets every virtio device on its way to reboot, right after
	 * the last write: what the guest queued and kicked before the reset
	 * (the command's last output, its exit status) is served first, or
	 * the I/O thread's kick may come after the queues are gone.
	 */
	if (virtio_dev_live(&c->vdev))
		for (i = 0; i < c->nr_ports; i++)
			if (c->vdev.vq[c->port[i].txq].ready)
				port_tx(c, &c->port[i]);
	c->rx_chain.n_in = 0;
	c->nr_pending = 0;
	for (i = 0; i < c->nr_ports; i++) {
		c->port[i].guest_open = false;
		c->port[i].line_len = 0;
	}
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = 3,
	.nr_queues = 2,
	.queue_max = CONSOLE_QUEUE_SIZE,
	.config_read = console_config_read,
	.activate = console_activate,
	.reset = console_reset,
	.notify = console_notify,
};

static const struct virtio_dev_ops console_multi_ops = {
	.name = "virtio-console",
	.device_id = 3,
	.nr_queues = 2 + 2 * CONSOLE_MAX_PORTS,
	.queue_max = CONSOLE_QUEUE_SIZE,
	.config_read = console_config_read,
	.activate = console_activate,
	.reset = console_reset,
	.notify = console_notify,
};

size_t virtio_console_port_receive(struct virtio_console *c, unsigned int id,
				   const uint8_t *buf, size_t n)
{
	struct console_port *p;
	struct virtq *q;
	size_t done = 0;
	bool any = false;

	if (id >= c->nr_ports)
		return 0;
	p = &c->port[id];
	virtio_dev_lock(&c->vdev);
	q = &c->vdev.vq[p->rxq];
	/* Linux drops input for a port nobody opened: hold it. */
	if (!virtio_dev_live(&c->vdev) || !q->ready || !p->guest_open)
		goto out;
	while (done < n) {
		int r = virtq_pop(q, &c->rx_chain);
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
		virtio_dev_complete(&c->vdev, p->rxq);
out:
	virtio_dev_unlock(&c->vdev);
	return done;
}

size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
			      size_t n)
{
	return virtio_console_port_receive(c, 0, buf, n);
}

void virtio_console_host_close(struct virtio_console *c, unsigned int id)
{
	if (id >= c->nr_ports)
		return;
	virtio_dev_lock(&c->vdev);
	if (c->port[id].host_open) {
		c->port[id].host_open = false;
		queue_ctrl(c, id, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
		ctrl_flush(c);
	}
	virtio_dev_unlock(&c->vdev);
}

void virtio_console_flush(struct virtio_console *c)
{
	unsigned int i;

	virtio_dev_lock(&c->vdev);
	if (virtio_dev_live(&c->vdev)) {
		for (i = 0; i < c->nr_ports; i++)
			if (c->vdev.vq[c->port[i].txq].ready)
				port_tx(c, &c->port[i]);
		if (c->multiport && c->vdev.vq[CTRL_TXQ].ready)
			virtio_dev_drain(&c->vdev, CTRL_TXQ, &c->chain,
					 ctrl_tx_chain);
	}
	virtio_dev_unlock(&c->vdev);
}

static struct virtio_console *console_alloc(struct vm *vm, int out_fd,
					    bool multi)
{
	struct virtio_console *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->space_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->space_fd < 0) {
		free(c);
		return NULL;
	}
	c->null_fd = multi ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
	c->multiport = multi;
	c->nr_ports = 1;
	c->port[0] = (struct console_port){ .role = PORT_CONSOLE,
					    .out_fd = out_fd,
					    .rxq = 0,
					    .txq = 1,
					    .host_open = true };
	virtio_dev_init(&c->vdev, multi ? &console_multi_ops : &console_ops, c,
			multi ? F_MULTIPORT : 0, &vm->mem, vm->io);
	return c;
}

struct virtio_console *virtio_console_new(struct vm *vm, int out_fd)
{
	return console_alloc(vm, out_fd, false);
}

struct virtio_console *virtio_console_new_multi(struct vm *vm, int console_fd)
{
	return console_alloc(vm, console_fd, true);
}

int virtio_console_add_port(struct virtio_console *c, const char *name,
			    enum console_port_role role, int out_fd,
			    bool host_open)
{
	unsigned int id = c->nr_ports;

	if (!c->multiport || id == CONSOLE_MAX_PORTS)
		return -1;
	c->port[id] = (struct console_port){ .role = role,
					     .out_fd = out_fd,
					     .rxq = 2 + 2 * id,
					     .txq = 3 + 2 * id,
					     .host_open = host_open };
	snprintf(c->port[id].name, sizeof(c->port[id].name), "%s", name);
	c->nr_ports++;
	return id;
}

void virtio_console_free(struct virtio_console *c)
{
	if (!c)
		return;
	close(c->space_fd);
	if (c->null_fd >= 0)
		close(c->null_fd);
	free(c);
}

VIRTIO_DEVICE_OPS(virtio_console);
