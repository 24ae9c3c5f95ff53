// SPDX-License-Identifier: MIT
/* virtio-vsock (virtio 1.x, 5.10): guest stream sockets to UNIX sockets. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "iothread.h"
#include "log.h"
#include "vm.h"
#include "vsock.h"

#define RXQ 0
#define TXQ 1

/* Control packets a connection owes the guest, sent in this order. */
#define PEND_REQUEST 1u
#define PEND_RESPONSE 2u
#define PEND_SHUTDOWN 4u /* the host side sends no more */
#define PEND_CREDIT 8u

/* Host ports for connections a host program starts. */
#define FIRST_HOST_PORT (1U << 30)

int vsock_line_feed(struct vsock_line *l, char c, uint32_t *port)
{
	uint64_t v = 0;
	unsigned int i = 8;

	if (c != '\n') {
		if (l->len >= sizeof(l->buf) - 1)
			return -1;
		l->buf[l->len++] = c;
		return 0;
	}
	if (l->len && l->buf[l->len - 1] == '\r')
		l->len--;
	l->buf[l->len] = 0;
	if (strncmp(l->buf, "CONNECT ", 8) || !l->buf[i])
		return -1;
	for (; l->buf[i]; i++) {
		if (l->buf[i] < '0' || l->buf[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(l->buf[i] - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*port = (uint32_t)v;
	return 1;
}

uint32_t vsock_credit(uint32_t peer_buf_alloc, uint32_t peer_fwd_cnt,
		      uint32_t sent)
{
	uint32_t in_flight = sent - peer_fwd_cnt;

	return in_flight >= peer_buf_alloc ? 0 : peer_buf_alloc - in_flight;
}

const char *vsock_hdr_check(const struct virtio_vsock_hdr *h,
			    uint64_t guest_cid, uint64_t payload_room)
{
	uint16_t op = le16toh(h->op);
	uint32_t len = le32toh(h->len);

	if (le64toh(h->src_cid) != guest_cid)
		return "its source CID is not the guest's";
	if (le64toh(h->dst_cid) != VSOCK_HOST_CID)
		return "it is not for the host (CID 2)";
	if (le16toh(h->type) != VIRTIO_VSOCK_TYPE_STREAM)
		return "it is not a stream packet";
	if (op < VIRTIO_VSOCK_OP_REQUEST || op > VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		return "unknown operation";
	if (len > VSOCK_MAX_PAYLOAD)
		return "payload over 64 KiB";
	if (len > payload_room)
		return "payload longer than its buffers";
	if (len && op != VIRTIO_VSOCK_OP_RW)
		return "payload on a control packet";
	return NULL;
}

static unsigned int hkey(uint32_t local, uint32_t peer)
{
	return (local * 2654435761U ^ peer) % VSOCK_HASH;
}

static struct vconn *conn_find(struct virtio_vsock *v, uint32_t local,
			       uint32_t peer)
{
	struct vconn *c;

	for (c = v->hash[hkey(local, peer)]; c; c = c->hnext)
		if (c->local_port == local && c->peer_port == peer)
			return c;
	return NULL;
}

static void conn_hash(struct virtio_vsock *v, struct vconn *c)
{
	unsigned int k = hkey(c->local_port, c->peer_port);

	c->hnext = v->hash[k];
	v->hash[k] = c;
}

static void conn_unhash(struct virtio_vsock *v, struct vconn *c)
{
	struct vconn **p = &v->hash[hkey(c->local_port, c->peer_port)];

	for (; *p; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			return;
		}
}

static struct vconn *conn_new(struct virtio_vsock *v, int fd,
			      enum vconn_state st)
{
	struct vconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->state = st;
	c->next = v->all;
	if (v->all)
		v->all->prev = c;
	v->all = c;
	v->nr_conns++;
	metric_add(&v->conns_added, 1);
	return c;
}

/* What the event loop watches on c's socket, from its state. */
static void conn_watch(struct virtio_vsock *v, struct vconn *c)
{
	struct epoll_event ev = { 0 };
	uint32_t want = 0;

	if (c->dead)
		return;
	if (c->state == VC_HANDSHAKE) {
		want = EPOLLIN;
	} else if (c->state == VC_ESTABLISHED) {
		if (!c->host_eof && !c->guest_no_recv && !c->want_rx &&
		    vsock_credit(c->peer_buf_alloc, c->peer_fwd_cnt, c->sent))
			want |= EPOLLIN;
		if (c->ring_len)
			want |= EPOLLOUT;
	}
	if (want == c->events)
		return;
	/* Out of the set when nothing is wanted: a hang-up is reported
	 * whatever is asked for, and would be reported again and again. */
	ev.events = want;
	ev.data.ptr = c;
	if (!want)
		epoll_ctl(v->ep, EPOLL_CTL_DEL, c->fd, NULL);
	else if (epoll_ctl(v->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
			   c->fd, &ev))
		pr_err("vsock: cannot watch a connection: %s", strerror(errno));
	c->events = want;
}

static void conn_owe(struct virtio_vsock *v, struct vconn *c, unsigned int p)
{
	if (!c->pend)
		v->nr_pend++;
	c->pend |= p;
}

static void orphan_rst(struct virtio_vsock *v, uint32_t local, uint32_t peer)
{
	if (v->nr_orphans < VSOCK_ORPHAN_RSTS) {
		v->orphan[v->nr_orphans].local = local;
		v->orphan[v->nr_orphans].peer = peer;
		v->nr_orphans++;
	}
}

/* Closes c (telling the guest with an RST when rst): freed by reap(). */
static void conn_close(struct virtio_vsock *v, struct vconn *c, bool rst)
{
	if (c->dead)
		return;
	if (c->state != VC_HANDSHAKE) {
		if (rst)
			orphan_rst(v, c->local_port, c->peer_port);
		conn_unhash(v, c);
	}
	if (c->events)
		epoll_ctl(v->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->pend)
		v->nr_pend--;
	c->pend = 0;
	if (c->prev)
		c->prev->next = c->next;
	else
		v->all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->dead = true;
	c->next = v->graveyard;
	v->graveyard = c;
	v->nr_conns--;
	metric_add(rst ? &v->conns_killed : &v->conns_removed, 1);
}

static void reap(struct virtio_vsock *v)
{
	while (v->graveyard) {
		struct vconn *c = v->graveyard;

		v->graveyard = c->next;
		free(c->ring);
		free(c);
	}
}

/* The next receive buffer into v->rxc: false when the guest has none. */
static bool rx_take(struct virtio_vsock *v)
{
	struct virtq *q = virtio_dev_queue(&v->vdev, RXQ);
	int r;

	if (!q || !virtio_dev_live(&v->vdev) || v->rx_starved)
		return false;
	for (;;) {
		r = virtq_pop(q, &v->rxc);
		if (r == 0 && virtq_enable_notify(q))
			continue;
		if (r == 0 || r == -EIO) {
			v->rx_starved = true;
			return false;
		}
		if (r > 0 && !v->rxc.n_out && v->rxc.in_len >= VSOCK_HDR_LEN)
			return true;
		pr_guest(
			"vsock: a receive buffer that cannot hold a packet header: completed empty");
		virtq_push(q, v->rxc.head, 0);
		v->rx_any = true;
	}
}

/* Puts a packet's header into the buffer taken, and the buffer back. */
static void rx_put(struct virtio_vsock *v, uint32_t local, uint32_t peer,
		   uint16_t op, uint32_t flags, uint32_t len, struct vconn *c)
{
	struct virtio_vsock_hdr h = { 0 };

	h.src_cid = htole64(VSOCK_HOST_CID);
	h.dst_cid = htole64(v->cid);
	h.src_port = htole32(local);
	h.dst_port = htole32(peer);
	h.len = htole32(len);
	h.type = htole16(VIRTIO_VSOCK_TYPE_STREAM);
	h.op = htole16(op);
	h.flags = htole32(flags);
	if (c) {
		h.buf_alloc = htole32(VSOCK_BUF_ALLOC);
		h.fwd_cnt = htole32(c->fwd_cnt);
		c->fwd_told = c->fwd_cnt;
	}
	buf_to_iov(v->rxc.in, v->rxc.n_in, 0, &h, sizeof(h));
	virtq_push(&v->vdev.vq[RXQ], v->rxc.head, VSOCK_HDR_LEN + len);
	v->rx_any = true;
	metric_add(&v->rx_packets_count, 1);
	metric_add(&v->rx_bytes_count, len);
}

/* Control packets owed: false when the guest ran out of buffers. */
static bool rx_control(struct virtio_vsock *v)
{
	struct vconn *c;

	while (v->nr_orphans) {
		if (!rx_take(v))
			return false;
		v->nr_orphans--;
		rx_put(v, v->orphan[v->nr_orphans].local,
		       v->orphan[v->nr_orphans].peer, VIRTIO_VSOCK_OP_RST, 0, 0,
		       NULL);
	}
	for (c = v->all; c && v->nr_pend; c = c->next) {
		while (c->pend) {
			uint16_t op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
			uint32_t flags = 0;
			unsigned int p = PEND_CREDIT;

			if (!rx_take(v))
				return false;
			if (c->pend & PEND_REQUEST) {
				op = VIRTIO_VSOCK_OP_REQUEST;
				p = PEND_REQUEST;
			} else if (c->pend & PEND_RESPONSE) {
				op = VIRTIO_VSOCK_OP_RESPONSE;
				p = PEND_RESPONSE;
			} else if (c->pend & PEND_SHUTDOWN) {
				op = VIRTIO_VSOCK_OP_SHUTDOWN;
				flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
				p = PEND_SHUTDOWN;
			}
			c->pend &= ~p;
			/* Every packet tells the credit: no separate one. */
			if (op != VIRTIO_VSOCK_OP_CREDIT_UPDATE)
				c->pend &= ~PEND_CREDIT;
			if (!c->pend)
				v->nr_pend--;
			rx_put(v, c->local_port, c->peer_port, op, flags, 0, c);
		}
	}
	return true;
}

static void rx_complete(struct virtio_vsock *v)
{
	if (v->rx_any) {
		v->rx_any = false;
		virtio_dev_complete(&v->vdev, RXQ);
	}
}

/* Host to guest: what the host socket has, as far as the guest's credit
 * and buffers go. */
static void rx_data(struct virtio_vsock *v, struct vconn *c)
{
	for (;;) {
		uint32_t room = vsock_credit(c->peer_buf_alloc, c->peer_fwd_cnt,
					     c->sent);
		unsigned int n;
		ssize_t r;

		if (c->dead || c->state != VC_ESTABLISHED || c->host_eof ||
		    c->guest_no_recv || !room)
			break;
		if (!rx_control(v) || !rx_take(v)) {
			c->want_rx = true;
			break;
		}
		if (room > v->rxc.in_len - VSOCK_HDR_LEN)
			room = (uint32_t)(v->rxc.in_len - VSOCK_HDR_LEN);
		if (room > VSOCK_MAX_PAYLOAD)
			room = VSOCK_MAX_PAYLOAD;
		/* The buffer past its header, up to room bytes. */
		n = iov_slice(v->rxc.in, v->rxc.n_in, VSOCK_HDR_LEN, room,
			      v->iov);
		if (!n) {
			/* A buffer with room for a header only: for control
			 * packets; data waits for the next kick. */
			v->vdev.vq[RXQ].last_avail--;
			c->want_rx = true;
			break;
		}
		r = readv(c->fd, v->iov, (int)n);
		if (r > 0) {
			rx_put(v, c->local_port, c->peer_port,
			       VIRTIO_VSOCK_OP_RW, 0, (uint32_t)r, c);
			c->sent += (uint32_t)r;
			continue;
		}
		/* Nothing read: the buffer goes back for later. */
		v->vdev.vq[RXQ].last_avail--;
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (r == 0) {
			c->host_eof = true;
			conn_owe(v, c, PEND_SHUTDOWN);
			rx_control(v);
			break;
		}
		metric_add(&v->rx_read_fails, 1);
		conn_close(v, c, true);
		return;
	}
	conn_watch(v, c);
}

/* Tells the guest it may send more once a quarter of its credit came
 * back, so that a sender never waits on a credit kiln has. */
static void credit_check(struct virtio_vsock *v, struct vconn *c)
{
	if (c->fwd_cnt - c->fwd_told >= VSOCK_BUF_ALLOC / 4)
		conn_owe(v, c, PEND_CREDIT);
}

/* Both of the guest's directions done and nothing left to forward:
 * the connection ends, the guest told with an RST as its close wants. */
static void conn_settle(struct virtio_vsock *v, struct vconn *c)
{
	if (c->dead || c->ring_len)
		return;
	if (c->guest_no_send && !c->host_wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->host_wr_shut = true;
	}
	if (c->guest_no_send && c->guest_no_recv)
		conn_close(v, c, true);
}

/* Sends up to len bytes of iov to the host socket: bytes sent, or -1
 * when the socket is gone. */
static ssize_t host_send(struct vconn *c, struct iovec *iov, unsigned int n)
{
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
	ssize_t w;

	do
		w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	if (w < 0 && errno == EAGAIN)
		return 0;
	return w;
}

/* What the host socket had not taken, on its way again. */
static void ring_flush(struct virtio_vsock *v, struct vconn *c)
{
	while (c->ring_len) {
		struct iovec iov[2];
		uint32_t first = VSOCK_BUF_ALLOC - c->ring_head;
		unsigned int n = 1;
		ssize_t w;

		iov[0].iov_base = c->ring + c->ring_head;
		iov[0].iov_len = first < c->ring_len ? first : c->ring_len;
		if (iov[0].iov_len < c->ring_len) {
			iov[1].iov_base = c->ring;
			iov[1].iov_len = c->ring_len - iov[0].iov_len;
			n = 2;
		}
		w = host_send(c, iov, n);
		if (w < 0) {
			metric_add(&v->tx_write_fails, 1);
			conn_close(v, c, true);
			return;
		}
		if (!w)
			break;
		c->ring_head = (c->ring_head + (uint32_t)w) % VSOCK_BUF_ALLOC;
		c->ring_len -= (uint32_t)w;
		c->fwd_cnt += (uint32_t)w;
	}
	credit_check(v, c);
	conn_settle(v, c);
	conn_watch(v, c);
}

/* Guest to host: a RW packet's len bytes, past the header of ch. */
static void conn_write(struct virtio_vsock *v, struct vconn *c,
		       struct virtq_chain *ch, uint32_t len)
{
	unsigned int k =
		iov_slice(ch->out, ch->n_out, VSOCK_HDR_LEN, len, v->iov);
	size_t off = 0;
	ssize_t w = 0;

	if (!c->ring_len && k) {
		w = host_send(c, v->iov, k);
		if (w < 0) {
			metric_add(&v->tx_write_fails, 1);
			conn_close(v, c, true);
			return;
		}
		c->fwd_cnt += (uint32_t)w;
	}
	if ((size_t)w < len) {
		/* The rest waits, within the credit given. */
		if (!c->ring)
			c->ring = malloc(VSOCK_BUF_ALLOC);
		if (!c->ring) {
			pr_err("vsock: out of memory for a connection's data");
			conn_close(v, c, true);
			return;
		}
		for (off = (size_t)w; off < len;) {
			uint32_t at = (c->ring_head + c->ring_len) %
				      VSOCK_BUF_ALLOC,
				 room = VSOCK_BUF_ALLOC - at;
			size_t take = len - off < room ? len - off : room;

			iov_to_buf(ch->out, ch->n_out, VSOCK_HDR_LEN + off,
				   c->ring + at, take);
			c->ring_len += (uint32_t)take;
			off += take;
		}
	}
	credit_check(v, c);
}

/* A guest connection to host port port: "<uds_path>_<port>". */
static void guest_connect(struct virtio_vsock *v, uint32_t port, uint32_t peer)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct vconn *c;
	int fd = -1;

	if (v->nr_conns >= VSOCK_MAX_CONNS ||
	    (size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u",
			     v->uds_path, port) >= sizeof(a.sun_path))
		goto refuse;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		pr_debug("vsock: guest port %u to host port %u: %s", peer, port,
			 strerror(errno));
		goto refuse;
	}
	c = conn_new(v, fd, VC_ESTABLISHED);
	if (!c)
		goto refuse;
	c->local_port = port;
	c->peer_port = peer;
	conn_hash(v, c);
	conn_owe(v, c, PEND_RESPONSE);
	return;
refuse:
	if (fd >= 0)
		close(fd);
	orphan_rst(v, port, peer);
}

/* One packet the guest sent. */
static void tx_packet(struct virtio_vsock *v, struct virtq_chain *ch)
{
	struct virtio_vsock_hdr h;
	const char *why = NULL;
	uint32_t local, peer, len;
	struct vconn *c;
	uint16_t op;

	metric_add(&v->tx_packets_count, 1);
	if (ch->out_len < VSOCK_HDR_LEN) {
		pr_guest(
			"vsock: a packet of %llu bytes, shorter than its header: dropped",
			(unsigned long long)ch->out_len);
		metric_add(&v->tx_invalid, 1);
		return;
	}
	iov_to_buf(ch->out, ch->n_out, 0, &h, sizeof(h));
	op = le16toh(h.op);
	local = le32toh(h.dst_port);
	peer = le32toh(h.src_port);
	len = le32toh(h.len);
	why = vsock_hdr_check(&h, v->cid, ch->out_len - VSOCK_HDR_LEN);
	if (why) {
		pr_guest("vsock: a packet from port %u to %u refused: %s", peer,
			 local, why);
		metric_add(&v->tx_invalid, 1);
		c = conn_find(v, local, peer);
		if (c)
			conn_close(v, c, true);
		else if (op != VIRTIO_VSOCK_OP_RST)
			orphan_rst(v, local, peer);
		return;
	}
	c = conn_find(v, local, peer);
	if (c) {
		c->peer_buf_alloc = le32toh(h.buf_alloc);
		c->peer_fwd_cnt = le32toh(h.fwd_cnt);
	}
	switch (op) {
	case VIRTIO_VSOCK_OP_REQUEST:
		if (c)
			conn_close(v, c, true);
		else
			guest_connect(v, local, peer);
		c = conn_find(v, local, peer);
		if (c) {
			c->peer_buf_alloc = le32toh(h.buf_alloc);
			c->peer_fwd_cnt = le32toh(h.fwd_cnt);
		}
		break;
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c && c->state == VC_CONNECTING) {
			char line[24];
			int n = snprintf(line, sizeof(line), "OK %u\n", local);

			c->state = VC_ESTABLISHED;
			if (send(c->fd, line, (size_t)n,
				 MSG_NOSIGNAL | MSG_DONTWAIT) != n)
				conn_close(v, c, true);
		} else if (c) {
			conn_close(v, c, true);
		} else {
			orphan_rst(v, local, peer);
		}
		break;
	case VIRTIO_VSOCK_OP_RST:
		if (c)
			conn_close(v, c, false);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (!c) {
			orphan_rst(v, local, peer);
			break;
		}
		if (le32toh(h.flags) & VIRTIO_VSOCK_SHUTDOWN_RCV)
			c->guest_no_recv = true;
		if (le32toh(h.flags) & VIRTIO_VSOCK_SHUTDOWN_SEND)
			c->guest_no_send = true;
		conn_settle(v, c);
		break;
	case VIRTIO_VSOCK_OP_RW:
		if (!c || c->state != VC_ESTABLISHED || c->guest_no_send) {
			if (c)
				conn_close(v, c, true);
			else
				orphan_rst(v, local, peer);
			break;
		}
		if (c->ring_len + (uint64_t)len > VSOCK_BUF_ALLOC) {
			pr_guest(
				"vsock: port %u sent %u bytes beyond the credit it had: reset",
				peer, len);
			metric_add(&v->tx_invalid, 1);
			conn_close(v, c, true);
			break;
		}
		c->recv_cnt += len;
		metric_add(&v->tx_bytes_count, len);
		conn_write(v, c, ch, len);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		if (c)
			conn_owe(v, c, PEND_CREDIT);
		else
			orphan_rst(v, local, peer);
		break;
	}
	if (c)
		conn_watch(v, c);
}

static uint32_t tx_chain(void *dev, struct virtq_chain *ch)
{
	tx_packet(dev, ch);
	return 0;
}

static void conn_handshake(struct virtio_vsock *v, struct vconn *c);

/* A host program connected to uds_path. */
static void host_accept(struct virtio_vsock *v)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		int fd = accept4(v->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vconn *c;

		if (fd < 0)
			return;
		c = v->nr_conns < VSOCK_MAX_CONNS ?
			    conn_new(v, fd, VC_HANDSHAKE) :
			    NULL;
		if (!c) {
			pr_debug("vsock: a host connection refused: %u open",
				 v->nr_conns);
			close(fd);
			continue;
		}
		conn_watch(v, c);
		/* Its line may be there already. */
		conn_handshake(v, c);
	}
}

/* Its CONNECT line, a byte at a time (what follows is the guest's). */
static void conn_handshake(struct virtio_vsock *v, struct vconn *c)
{
	uint32_t port = 0;
	int k = 0;
	char ch;

	while (!k) {
		ssize_t r = recv(c->fd, &ch, 1, MSG_DONTWAIT);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			conn_close(v, c, false);
			return;
		}
		k = vsock_line_feed(&c->line, ch, &port);
	}
	if (k < 0) {
		pr_debug(
			"vsock: a host connection began with no CONNECT line: closed");
		conn_close(v, c, false);
		return;
	}
	c->peer_port = port;
	do {
		c->local_port = v->next_port++;
		if (v->next_port < FIRST_HOST_PORT)
			v->next_port = FIRST_HOST_PORT;
	} while (conn_find(v, c->local_port, port));
	conn_hash(v, c);
	c->state = VC_CONNECTING;
	conn_owe(v, c, PEND_REQUEST);
	conn_watch(v, c);
}

void virtio_vsock_poll(struct virtio_vsock *v)
{
	struct epoll_event evs[32];
	int i, n = epoll_wait(v->ep, evs, 32, 0);

	for (i = 0; i < n; i++) {
		struct vconn *c = evs[i].data.ptr;

		if (!c) {
			host_accept(v);
			continue;
		}
		if (c->dead)
			continue;
		if (c->state == VC_HANDSHAKE) {
			conn_handshake(v, c);
			continue;
		}
		if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			ring_flush(v, c);
		if (!c->dead && evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			rx_data(v, c);
	}
	rx_control(v);
	rx_complete(v);
	reap(v);
}

/* The event set is ready (I/O thread). */
static void vsock_event(void *opaque, uint32_t events)
{
	struct virtio_vsock *v = opaque;

	(void)events;
	virtio_dev_lock(&v->vdev);
	virtio_vsock_poll(v);
	virtio_dev_unlock(&v->vdev);
}

static void vsock_notify(void *dev, unsigned int qi)
{
	struct virtio_vsock *v = dev;
	struct vconn *c;

	if (qi == TXQ) {
		virtio_dev_drain(&v->vdev, TXQ, &v->txc, tx_chain);
	} else if (qi == RXQ) {
		/* New buffers: what waited for them goes (epoll says which
		 * sockets have data). */
		v->rx_starved = false;
		for (c = v->all; c; c = c->next)
			if (c->want_rx) {
				c->want_rx = false;
				conn_watch(v, c);
			}
	}
	/* The event queue's buffers are kept: kiln sends no events. */
	rx_control(v);
	rx_complete(v);
	reap(v);
}

static void close_all(struct virtio_vsock *v)
{
	while (v->all)
		conn_close(v, v->all, false);
	reap(v);
	v->nr_orphans = 0;
	v->rx_starved = false;
	v->rx_any = false;
}

static void vsock_reset(void *dev)
{
	close_all(dev);
}

static void vsock_config_read(void *dev, uint32_t off, uint8_t *data,
			      uint32_t len)
{
	struct virtio_vsock *v = dev;

	if (off < sizeof(v->cfg) && len <= sizeof(v->cfg) - off)
		memcpy(data, (uint8_t *)&v->cfg + off, len);
}

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = 19,
	.nr_queues = 3,
	.queue_max = VSOCK_QUEUE_SIZE,
	.config_read = vsock_config_read,
	.reset = vsock_reset,
	.notify = vsock_notify,
};

struct virtio_vsock *virtio_vsock_new(struct vm *vm, uint64_t cid,
				      const char *uds_path, char *err,
				      size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct virtio_vsock *v;

	if (cid < 3 || cid > UINT32_MAX) {
		snprintf(err, errlen,
			 "vsock: guest CID %llu: give one from 3 to 4294967295",
			 (unsigned long long)cid);
		return NULL;
	}
	/* Room for "_<port>" after it, for the guest's connections. */
	if (!uds_path || !*uds_path ||
	    strlen(uds_path) + 11 >= sizeof(a.sun_path)) {
		snprintf(err, errlen,
			 "vsock: the socket path must have 1 to %zu characters",
			 sizeof(a.sun_path) - 12);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v || !(v->uds_path = strdup(uds_path))) {
		free(v);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->cid = cid;
	v->cfg.guest_cid = htole64(cid);
	v->next_port = FIRST_HOST_PORT;
	v->ep = epoll_create1(EPOLL_CLOEXEC);
	v->listen_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	virtio_dev_init(&v->vdev, &vsock_ops, v, 0, &vm->mem, vm->io);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds_path);
	if (v->ep < 0 || v->listen_fd < 0) {
		snprintf(err, errlen, "vsock: %s", strerror(errno));
		goto fail;
	}
	if (bind(v->listen_fd, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(
			err, errlen,
			errno == EADDRINUSE ?
				"vsock: %s exists: remove it, or give another uds_path" :
				"vsock: cannot listen on %s: %s",
			uds_path, strerror(errno));
		goto fail;
	}
	v->bound = true;
	if (listen(v->listen_fd, 128) ||
	    epoll_ctl(v->ep, EPOLL_CTL_ADD, v->listen_fd, &ev) ||
	    (vm->io && iothread_add(vm->io, v->ep, vsock_event, v))) {
		snprintf(err, errlen, "vsock: cannot listen on %s: %s",
			 uds_path, strerror(errno));
		goto fail;
	}
	return v;
fail:
	virtio_dev_fini(&v->vdev);
	virtio_vsock_free(v);
	return NULL;
}

void virtio_vsock_free(struct virtio_vsock *v)
{
	if (!v)
		return;
	close_all(v);
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	if (v->ep >= 0)
		close(v->ep);
	if (v->bound)
		unlink(v->uds_path);
	free(v->uds_path);
	free(v);
}

static void virtio_vsock_metrics(void *dev, metric_emit_fn emit, void *ctx)
{
	struct virtio_vsock *v = dev;

	emit(ctx, "rx_packets_count", &v->rx_packets_count);
	emit(ctx, "rx_bytes_count", &v->rx_bytes_count);
	emit(ctx, "tx_packets_count", &v->tx_packets_count);
	emit(ctx, "tx_bytes_count", &v->tx_bytes_count);
	emit(ctx, "conns_added", &v->conns_added);
	emit(ctx, "conns_killed", &v->conns_killed);
	emit(ctx, "conns_removed", &v->conns_removed);
	emit(ctx, "tx_write_fails", &v->tx_write_fails);
	emit(ctx, "rx_read_fails", &v->rx_read_fails);
	emit(ctx, "tx_invalid", &v->tx_invalid);
}

VIRTIO_DEVICE_OPS_METRICS(virtio_vsock);
