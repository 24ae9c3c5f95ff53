// SPDX-License-Identifier: MIT
/* virtio-net (virtio 1.x, 5.1) over a TAP device or passt. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iothread.h"
#include "log.h"
#include "net.h"
#include "vm.h"

#define RXQ 0
#define TXQ 1
#define F(x) (1ULL << VIRTIO_NET_F_##x)

size_t passt_decode(struct passt_codec *c, const uint8_t *in, size_t n,
		    uint8_t *frame, uint32_t *frame_len)
{
	size_t used = 0;

	*frame_len = 0;
	while (used < n && !c->error) {
		if (c->have_len < 4) {
			c->len_bytes[c->have_len++] = in[used++];
			if (c->have_len == 4) {
				uint32_t be;

				memcpy(&be, c->len_bytes, 4);
				c->want = ntohl(be);
				c->got = 0;
				/* Shorter than an Ethernet header, or huge. */
				if (c->want < 14 || c->want > NET_MAX_FRAME)
					c->error = true;
			}
			continue;
		}
		{
			size_t k = c->want - c->got;

			if (k > n - used)
				k = n - used;
			memcpy(frame + c->got, in + used, k);
			c->got += k;
			used += k;
		}
		if (c->got == c->want) {
			*frame_len = c->want;
			c->have_len = 0;
			return used;
		}
	}
	return used;
}

unsigned int net_tap_offloads(uint64_t f)
{
	unsigned int o = 0;

	/* What the guest can take in is what the TAP may hand us. */
	if (f & F(GUEST_CSUM)) {
		o |= TUN_F_CSUM;
		if (f & F(GUEST_TSO4))
			o |= TUN_F_TSO4;
		if (f & F(GUEST_TSO6))
			o |= TUN_F_TSO6;
	}
	return o;
}

int net_rx_deliver(struct virtio_net *n)
{
	struct virtq *q = &n->vdev.vq[RXQ];
	bool mrg = n->acked & F(MRG_RXBUF);
	struct iovec first[12] = { { 0 } };
	unsigned int nfirst = 0, used = 0, i;
	static uint16_t heads[NET_QUEUE_SIZE];
	static uint32_t lens[NET_QUEUE_SIZE];
	uint32_t off = 0;
	uint16_t nbuf;
	int r;

	if (!virtio_dev_live(&n->vdev) || !q->ready)
		return 0;
	while (off < n->rx_len) {
		size_t put;

		/* A frame spread over a whole queue of tiny buffers: the
		 * guest's buffers are unusable (checked before taking one,
		 * so that none is lost). */
		r = used == NET_QUEUE_SIZE ? -EINVAL : virtq_pop(q, &n->chain);
		if (r == 0 && virtq_enable_notify(q))
			continue;
		if (r == 0) {
			/* Not enough room yet: give the buffers back. */
			q->last_avail -= used;
			return 0;
		}
		if (r == -EIO)
			return -1;
		if (r < 0 || (!mrg && n->chain.in_len < n->rx_len)) {
			/* Unusable buffer: complete it empty, drop the frame. */
			for (i = 0; i < used; i++)
				virtq_push(q, heads[i], 0);
			if (used < NET_QUEUE_SIZE)
				virtq_push(q, n->chain.head, 0);
			metric_add(&n->rx_dropped, 1);
			virtio_dev_complete(&n->vdev, RXQ);
			return -1;
		}
		put = buf_to_iov(n->chain.in, n->chain.n_in, 0, n->rx + off,
				 n->rx_len - off);
		if (!used) {
			nfirst = n->chain.n_in < 12 ? n->chain.n_in : 12;
			memcpy(first, n->chain.in, nfirst * sizeof(first[0]));
		}
		heads[used] = n->chain.head;
		lens[used] = put;
		used++;
		off += put;
		if (!put && !mrg)
			break;
	}
	/* The header of the first buffer says how many the frame took. */
	nbuf = used;
	buf_to_iov(first, nfirst,
		   offsetof(struct virtio_net_hdr_v1, num_buffers), &nbuf,
		   sizeof(nbuf));
	for (i = 0; i < used; i++)
		virtq_push(q, heads[i], lens[i]);
	virtio_dev_complete(&n->vdev, RXQ);
	metric_add(&n->rx_packets_count, 1);
	metric_add(&n->rx_bytes_count, n->rx_len - NET_HDR_LEN);
	return 1;
}

static void set_polling(struct virtio_net *n, bool on)
{
	if (n->dead)
		return;
	if (n->rx_stalled == !on)
		return;
	n->rx_stalled = !on;
	iothread_enable(n->vdev.io, n->fd, on);
}

/* Reads the next frame from the backend into n->rx; false when none. */
static bool backend_read(struct virtio_net *n)
{
	uint32_t flen;
	ssize_t r;

	if (n->backend == NET_TAP) {
		r = read(n->fd, n->rx, sizeof(n->rx));
		if (r < (ssize_t)NET_HDR_LEN)
			return false;
		n->rx_len = r;
		return true;
	}
	for (;;) {
		if (n->stream_off < n->stream_len) {
			n->stream_off += passt_decode(
				&n->codec, n->stream + n->stream_off,
				n->stream_len - n->stream_off,
				n->rx + NET_HDR_LEN, &flen);
			if (n->codec.error) {
				pr_err("net: passt sent a frame of %u bytes; closing user networking",
				       n->codec.want);
				set_polling(n, false);
				n->dead = true;
				return false;
			}
			if (flen) {
				memset(n->rx, 0, NET_HDR_LEN);
				n->rx_len = NET_HDR_LEN + flen;
				return true;
			}
		}
		r = recv(n->fd, n->stream, sizeof(n->stream), MSG_DONTWAIT);
		if (r <= 0) {
			if (r == 0) {
				pr_err("net: passt closed its socket; the guest's user network is down");
				set_polling(n, false);
				n->dead = true;
			}
			return false;
		}
		n->stream_off = 0;
		n->stream_len = r;
	}
}

/* Arms a rate limiter's timer for wait_ns from now. */
static void arm(int fd, uint64_t wait_ns)
{
	struct itimerspec t = { .it_value = { wait_ns / 1000000000ULL,
					      wait_ns % 1000000000ULL } };

	if (fd >= 0)
		timerfd_settime(fd, 0, &t, NULL);
}

/*
 * The frame in n->rx towards the guest, under the receive limiter: 1 when
 * it went (or was dropped), 0 when the guest has no room yet, -1 when the
 * limiter holds it (the backend is not read until its timer).
 */
static int rx_try(struct virtio_net *n)
{
	uint64_t wait;
	int r;

	if (n->rx_throttled)
		return -1;
	if (!n->rx_paid && ratelimit_on(&n->rx_rl)) {
		if (!ratelimit_take(&n->rx_rl, n->rx_len - NET_HDR_LEN,
				    ratelimit_now(), &wait)) {
			n->rx_throttled = true;
			metric_add(&n->rx_throttled_count, 1);
			set_polling(n, false);
			arm(n->rx_timer_fd, wait);
			return -1;
		}
		n->rx_paid = true;
	}
	r = net_rx_deliver(n);
	if (r == 0)
		return 0;
	n->rx_len = 0;
	n->rx_paid = false;
	return 1;
}

/* The backend fd is readable (I/O thread). */
static void backend_ready(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;
	int budget = 64, r;

	(void)events;
	virtio_dev_lock(&n->vdev);
	while (budget--) {
		if (!n->rx_len && !backend_read(n))
			break;
		r = rx_try(n);
		if (r == 0) {
			/* Back-pressure: wait for the guest's buffers. */
			set_polling(n, false);
			break;
		}
		if (r < 0)
			break;
	}
	virtio_dev_unlock(&n->vdev);
}

static void net_tx(struct virtio_net *n)
{
	struct virtq *q = &n->vdev.vq[TXQ];
	bool any = false;
	uint64_t wait;
	int r;

	if (n->tx_throttled)
		return;
	do {
		while ((r = virtq_pop(q, &n->chain)) != 0) {
			struct virtio_net_hdr_v1 hdr;
			uint64_t len = n->chain.out_len;
			ssize_t w = -1;

			if (r == -EIO)
				break;
			any = true;
			if (r < 0 || len < NET_HDR_LEN + 14 ||
			    len > NET_HDR_LEN + NET_MAX_FRAME) {
				metric_add(&n->tx_dropped, 1);
				virtq_push(q, n->chain.head, 0);
				continue;
			}
			if (ratelimit_on(&n->tx_rl) &&
			    !ratelimit_take(&n->tx_rl, len - NET_HDR_LEN,
					    ratelimit_now(), &wait)) {
				/* Back on the ring until the timer. */
				q->last_avail--;
				n->tx_throttled = true;
				metric_add(&n->tx_throttled_count, 1);
				arm(n->tx_timer_fd, wait);
				goto out;
			}
			if (n->backend == NET_TAP) {
				w = writev(n->fd, n->chain.out, n->chain.n_out);
			} else {
				uint32_t flen = len - NET_HDR_LEN,
					 be = htonl(flen);

				/* No offloads offered: the header must be empty. */
				iov_to_buf(n->chain.out, n->chain.n_out, 0,
					   &hdr, sizeof(hdr));
				if (!hdr.flags && !hdr.gso_type) {
					memcpy(n->tx, &be, 4);
					iov_to_buf(n->chain.out, n->chain.n_out,
						   NET_HDR_LEN, n->tx + 4,
						   flen);
					w = send(n->fd, n->tx, flen + 4,
						 MSG_NOSIGNAL);
				}
			}
			if (w < 0) {
				metric_add(&n->tx_dropped, 1);
			} else {
				metric_add(&n->tx_packets_count, 1);
				metric_add(&n->tx_bytes_count,
					   len - NET_HDR_LEN);
			}
			virtq_push(q, n->chain.head, 0);
		}
		if (r == -EIO)
			break;
	} while (virtq_enable_notify(q));
out:
	if (any)
		virtio_dev_complete(&n->vdev, TXQ);
}

static void net_notify(void *dev, unsigned int qi)
{
	struct virtio_net *n = dev;

	if (qi == TXQ) {
		net_tx(n);
		return;
	}
	/* New receive buffers: a held frame may fit now. */
	if (n->rx_len)
		rx_try(n);
	if (!n->rx_len && !n->rx_throttled)
		set_polling(n, true);
}

/* A limiter's timer: tokens enough for what it held back. */
static void rx_timer(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;
	uint64_t v;

	(void)events;
	if (read(n->rx_timer_fd, &v, sizeof(v)) < 0)
		return;
	virtio_dev_lock(&n->vdev);
	n->rx_throttled = false;
	if (n->rx_len)
		rx_try(n);
	if (!n->rx_len && !n->rx_throttled)
		set_polling(n, true);
	virtio_dev_unlock(&n->vdev);
}

static void tx_timer(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;
	uint64_t v;

	(void)events;
	if (read(n->tx_timer_fd, &v, sizeof(v)) < 0)
		return;
	virtio_dev_lock(&n->vdev);
	n->tx_throttled = false;
	if (virtio_dev_live(&n->vdev) && n->vdev.vq[TXQ].ready)
		net_tx(n);
	virtio_dev_unlock(&n->vdev);
}

void virtio_net_set_limits(struct virtio_net *n, const struct ratelimit *rx,
			   const struct ratelimit *tx)
{
	virtio_dev_lock(&n->vdev);
	n->rx_rl = *rx;
	n->tx_rl = *tx;
	virtio_dev_unlock(&n->vdev);
	/* Both fire at once: what waited is looked at under the new ones. */
	arm(n->rx_timer_fd, 1);
	arm(n->tx_timer_fd, 1);
}

static int net_activate(void *dev, uint64_t features)
{
	struct virtio_net *n = dev;
	unsigned int off = net_tap_offloads(features);

	n->acked = features;
	if (n->backend == NET_TAP && ioctl(n->fd, TUNSETOFFLOAD, off) < 0) {
		pr_err("net: %s: TUNSETOFFLOAD 0x%x failed: %s", n->ifname, off,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;

	n->rx_len = 0;
	n->rx_paid = false;
	n->rx_throttled = false;
	n->tx_throttled = false;
	n->acked = 0;
	if (n->vdev.io)
		set_polling(n, true);
}

static void net_config_read(void *dev, uint32_t off, uint8_t *data,
			    uint32_t len)
{
	struct virtio_net *n = dev;

	if (off < sizeof(n->cfg) && len <= sizeof(n->cfg) - off)
		memcpy(data, (uint8_t *)&n->cfg + off, len);
}

static const struct virtio_dev_ops net_ops = {
	.name = "virtio-net",
	.device_id = 1,
	.nr_queues = 2,
	.queue_max = NET_QUEUE_SIZE,
	.config_read = net_config_read,
	.activate = net_activate,
	.reset = net_reset,
	.notify = net_notify,
};

struct virtio_net *virtio_net_alloc(struct vm *vm, enum net_backend b,
				    const uint8_t mac[6], uint64_t features)
{
	struct virtio_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->backend = b;
	n->fd = -1;
	n->rx_timer_fd = n->tx_timer_fd = -1;
	memcpy(n->mac, mac, 6);
	memcpy(n->cfg.mac, mac, 6);
	n->cfg.status = VIRTIO_NET_S_LINK_UP;
	n->cfg.max_virtqueue_pairs = 1;
	virtio_dev_init(&n->vdev, &net_ops, n,
			features | F(MAC) | F(STATUS) | F(MRG_RXBUF), &vm->mem,
			vm->io);
	return n;
}

struct virtio_net *virtio_net_new_tap(struct vm *vm, const char *ifname,
				      const uint8_t mac[6], char *err,
				      size_t errlen)
{
	struct virtio_net *n = virtio_net_alloc(
		vm, NET_TAP, mac,
		F(CSUM) | F(GUEST_CSUM) | F(HOST_TSO4) | F(HOST_TSO6) |
			F(GUEST_TSO4) | F(GUEST_TSO6));
	struct ifreq ifr;
	int hdr = NET_HDR_LEN;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(n->ifname, sizeof(n->ifname), "%s", ifname);
	n->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->fd < 0) {
		snprintf(err, errlen,
			 "/dev/net/tun: %s: load the tun module (modprobe tun)",
			 strerror(errno));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	/*
	 * Attaches to an existing TAP, or creates one when we have
	 * CAP_NET_ADMIN; one we created is not persistent, so it goes away
	 * with kiln.
	 */
	if (ioctl(n->fd, TUNSETIFF, &ifr) < 0) {
		snprintf(
			err, errlen,
			errno == EPERM ?
				"TAP '%s': permission denied: create it first (ip tuntap add %s mode tap user $USER) or run with CAP_NET_ADMIN" :
				"TAP '%s': %s",
			ifname, errno == EPERM ? ifname : strerror(errno));
		goto fail;
	}
	if (ioctl(n->fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(n->fd, TUNSETOFFLOAD, 0) < 0) {
		snprintf(err, errlen,
			 "TAP '%s': cannot set up its virtio header: %s",
			 ifname, strerror(errno));
		goto fail;
	}
	return n;
fail:
	virtio_net_free(n);
	return NULL;
}

struct virtio_net *virtio_net_new_user(struct vm *vm, const char *fwds,
				       const uint8_t mac[6], char *err,
				       size_t errlen)
{
	struct virtio_net *n = virtio_net_alloc(vm, NET_USER, mac, 0);
	char fdarg[16], *argv[64];
	int sv[2], argc = 0;
	char *spec = NULL;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(n->ifname, sizeof(n->ifname), "user");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
	argv[argc++] = "passt";
	argv[argc++] = "-f";
	argv[argc++] = "-q";
	argv[argc++] = "-e"; /* errors on our stderr, not only syslog */
	argv[argc++] = "-F";
	argv[argc++] = fdarg;
	if (fwds && *fwds) {
		char *save = NULL, *tok;

		spec = strdup(fwds);
		for (tok = strtok_r(spec, " ", &save); tok && argc < 60;
		     tok = strtok_r(NULL, " ", &save)) {
			argv[argc++] = "-t";
			argv[argc++] = tok;
		}
	}
	argv[argc] = NULL;
	n->passt = fork();
	if (n->passt == 0) {
		sigset_t all;

		/* passt's socket must survive exec; ours must not. */
		fcntl(sv[1], F_SETFD, 0);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execvp("passt", argv);
		_exit(127);
	}
	close(sv[1]);
	free(spec);
	n->fd = sv[0];
	if (n->passt < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	/* A passt that is missing or refused its options exits at once. */
	usleep(50000);
	{
		int st;

		if (waitpid(n->passt, &st, WNOHANG) == n->passt) {
			n->passt = 0;
			snprintf(
				err, errlen,
				WIFEXITED(st) && WEXITSTATUS(st) == 127 ?
					"--net user needs passt: apt-get install passt" :
					"passt exited at start (status %d): check the fwd= options",
				WIFEXITED(st) ? WEXITSTATUS(st) :
						128 + WTERMSIG(st));
			goto fail;
		}
	}
	return n;
fail:
	virtio_net_free(n);
	return NULL;
}

int virtio_net_start(struct virtio_net *n)
{
	int r = iothread_add(n->vdev.io, n->fd, backend_ready, n);

	/* The rate limiters' timers, on the same thread. */
	if (!r) {
		n->rx_timer_fd = timerfd_create(CLOCK_MONOTONIC,
						TFD_NONBLOCK | TFD_CLOEXEC);
		n->tx_timer_fd = timerfd_create(CLOCK_MONOTONIC,
						TFD_NONBLOCK | TFD_CLOEXEC);
		if (n->rx_timer_fd < 0 || n->tx_timer_fd < 0)
			return -errno;
		r = iothread_add(n->vdev.io, n->rx_timer_fd, rx_timer, n);
		if (!r)
			r = iothread_add(n->vdev.io, n->tx_timer_fd, tx_timer,
					 n);
	}
	return r;
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	if (n->rx_timer_fd >= 0)
		close(n->rx_timer_fd);
	if (n->tx_timer_fd >= 0)
		close(n->tx_timer_fd);
	if (n->passt > 0) {
		kill(n->passt, SIGTERM);
		waitpid(n->passt, NULL, 0);
	}
	free(n);
}

static void virtio_net_metrics(void *dev, metric_emit_fn emit, void *ctx)
{
	struct virtio_net *n = dev;

	emit(ctx, "rx_packets_count", &n->rx_packets_count);
	emit(ctx, "rx_bytes_count", &n->rx_bytes_count);
	emit(ctx, "rx_dropped", &n->rx_dropped);
	emit(ctx, "tx_packets_count", &n->tx_packets_count);
	emit(ctx, "tx_bytes_count", &n->tx_bytes_count);
	emit(ctx, "tx_dropped", &n->tx_dropped);
	emit(ctx, "rx_rate_limiter_throttled", &n->rx_throttled_count);
	emit(ctx, "tx_rate_limiter_throttled", &n->tx_throttled_count);
}

VIRTIO_DEVICE_OPS_METRICS(virtio_net);
