// SPDX-License-Identifier: MIT
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "unit.h"
#include "vq.h"
#include "virtio/vsock.h"
#include "vm.h"

static int feed(const char *s, uint32_t *port)
{
	struct vsock_line l = { 0 };
	int r = 0;

	for (; *s && !r; s++)
		r = vsock_line_feed(&l, *s, port);
	return r;
}

static void test_connect_line(void)
{
	uint32_t port = 0;
	struct vsock_line l = { 0 };
	const char *p;

	CU_ASSERT_EQUAL(feed("CONNECT 52\n", &port), 1);
	CU_ASSERT_EQUAL(port, 52);
	CU_ASSERT_EQUAL(feed("CONNECT 4294967295\r\n", &port), 1);
	CU_ASSERT_EQUAL(port, 4294967295U);
	/* A partial line wants more, byte by byte. */
	for (p = "CONNECT 1234"; *p; p++)
		CU_ASSERT_EQUAL(vsock_line_feed(&l, *p, &port), 0);
	CU_ASSERT_EQUAL(vsock_line_feed(&l, '\n', &port), 1);
	CU_ASSERT_EQUAL(port, 1234);
	/* Garbage, a port out of range, no port, lower case, too long. */
	CU_ASSERT_EQUAL(feed("GET / HTTP/1.1\n", &port), -1);
	CU_ASSERT_EQUAL(feed("CONNECT 4294967296\n", &port), -1);
	CU_ASSERT_EQUAL(feed("CONNECT \n", &port), -1);
	CU_ASSERT_EQUAL(feed("CONNECT 12a\n", &port), -1);
	CU_ASSERT_EQUAL(feed("connect 5\n", &port), -1);
	CU_ASSERT_EQUAL(feed("CONNECT -5\n", &port), -1);
	CU_ASSERT_EQUAL(feed("\n", &port), -1);
	CU_ASSERT_EQUAL(
		feed("CONNECT 000000000000000000000000000000000000001\n",
		     &port),
		-1);
}

static void test_credit(void)
{
	CU_ASSERT_EQUAL(vsock_credit(1000, 0, 0), 1000);
	CU_ASSERT_EQUAL(vsock_credit(1000, 0, 400), 600);
	CU_ASSERT_EQUAL(vsock_credit(1000, 400, 1400), 0);
	CU_ASSERT_EQUAL(vsock_credit(1000, 900, 1400), 500);
	/* Counters that wrapped. */
	CU_ASSERT_EQUAL(vsock_credit(1000, 0xfffffff0U, 0x10), 968);
	/* A peer that claims more forwarded than was sent: none. */
	CU_ASSERT_EQUAL(vsock_credit(1000, 500, 100), 0);
	CU_ASSERT_EQUAL(vsock_credit(0, 0, 0), 0);
}

static struct virtio_vsock_hdr hdr(uint16_t op, uint32_t src_port,
				   uint32_t dst_port, uint32_t len)
{
	struct virtio_vsock_hdr h = { 0 };

	h.src_cid = htole64(3);
	h.dst_cid = htole64(VSOCK_HOST_CID);
	h.src_port = htole32(src_port);
	h.dst_port = htole32(dst_port);
	h.len = htole32(len);
	h.type = htole16(VIRTIO_VSOCK_TYPE_STREAM);
	h.op = htole16(op);
	h.buf_alloc = htole32(1 << 20);
	return h;
}

static void test_hdr_check(void)
{
	struct virtio_vsock_hdr h = hdr(VIRTIO_VSOCK_OP_RW, 1, 2, 100);

	CU_ASSERT_PTR_NULL(vsock_hdr_check(&h, 3, 100));
	CU_ASSERT_PTR_NOT_NULL(vsock_hdr_check(&h, 3, 99));
	CU_ASSERT_PTR_NOT_NULL(vsock_hdr_check(&h, 4, 100));
	h.len = htole32(VSOCK_MAX_PAYLOAD + 1);
	CU_ASSERT_PTR_NOT_NULL(vsock_hdr_check(&h, 3, 1 << 20));
	h = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 2, 1);
	CU_ASSERT_PTR_NOT_NULL(vsock_hdr_check(&h, 3, 1));
	h = hdr(0, 1, 2, 0);
	CU_ASSERT_PTR_NOT_NULL(vsock_hdr_check(&h, 3, 0));
	h = hdr(VIRTIO_VSOCK_OP_CREDIT_REQUEST + 1, 1, 2, 0);
	CU_ASSERT_PTR_NOT_NULL(vsock_hdr_check(&h, 3, 0));
	h = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 2, 0);
	h.type = htole16(2); /* SEQPACKET: not offered */
	CU_ASSERT_PTR_NOT_NULL(vsock_hdr_check(&h, 3, 0));
	h = hdr(VIRTIO_VSOCK_OP_REQUEST, 1, 2, 0);
	h.dst_cid = htole64(3); /* to itself */
	CU_ASSERT_PTR_NOT_NULL(vsock_hdr_check(&h, 3, 0));
}

/* --- the whole device over hand-made queues --- */

#define RAM_SIZE (4 << 20)
#define QN 64
#define RXBUFS 0x100000
#define TXBUFS 0x300000
#define RXBUF_LEN 4096

static uint8_t *ram;
static struct vm vm;
static char dir[64], uds[96];
static uint16_t tx_next;

static uint64_t ring_base(unsigned int q)
{
	return 0x1000 + q * 0x3000;
}

static void queue_on(struct virtio_vsock *v, unsigned int q)
{
	unit_queue_on(&v->vdev, &vm.mem, q, QN, ring_base(q),
		      ring_base(q) + 0x1000, ring_base(q) + 0x2000);
}

static struct vring_used *used(unsigned int q)
{
	return (void *)(ram + ring_base(q) + 0x2000);
}

/* n more receive buffers of RXBUF_LEN each. */
static void rx_post(struct virtio_vsock *v, unsigned int n)
{
	struct vring_avail *a = (void *)(ram + ring_base(0) + 0x1000);

	while (n--) {
		uint16_t i = a->idx % QN;
		struct vring_desc *d = (void *)(ram + ring_base(0) + 16 * i);

		d->addr = RXBUFS + (uint64_t)i * RXBUF_LEN;
		d->len = RXBUF_LEN;
		d->flags = VRING_DESC_F_WRITE;
		a->ring[i] = i;
		a->idx++;
	}
	v->vdev.ops->notify(v, 0);
}

/* The guest sends a packet (header and payload in two descriptors). */
static void tx_send(struct virtio_vsock *v, struct virtio_vsock_hdr h,
		    const void *data)
{
	struct vring_avail *a = (void *)(ram + ring_base(1) + 0x1000);
	uint16_t i = (uint16_t)(tx_next++ % (QN / 2)) * 2;
	struct vring_desc *d = (void *)(ram + ring_base(1) + 16 * i);
	uint64_t at = TXBUFS + (uint64_t)i * 0x8000;
	uint32_t len = le32toh(h.len);

	memcpy(ram + at, &h, sizeof(h));
	d[0].addr = at;
	d[0].len = sizeof(h);
	d[0].flags = len ? VRING_DESC_F_NEXT : 0;
	d[0].next = i + 1;
	if (len) {
		memcpy(ram + at + 0x1000, data, len);
		d[1].addr = at + 0x1000;
		d[1].len = len;
		d[1].flags = 0;
	}
	a->ring[a->idx % QN] = i;
	a->idx++;
	v->vdev.ops->notify(v, 1);
}

/* The k-th packet kiln put in the receive queue. */
static struct virtio_vsock_hdr *rx_pkt(unsigned int k)
{
	struct vring_used *u = used(0);

	if (k >= u->idx)
		return NULL;
	return (void *)(ram + RXBUFS +
			(uint64_t)u->ring[k % QN].id * RXBUF_LEN);
}

static struct virtio_vsock *vsock_up(void)
{
	char err[256];
	struct virtio_vsock *v;

	if (!ram)
		ram = calloc(1, RAM_SIZE);
	unit_vm(&vm, ram, RAM_SIZE);
	snprintf(dir, sizeof(dir), "/tmp/kiln-vsock-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	v = virtio_vsock_new(&vm, 3, uds, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	queue_on(v, 0);
	queue_on(v, 1);
	tx_next = 0;
	return v;
}

static void vsock_down(struct virtio_vsock *v)
{
	virtio_dev_fini(&v->vdev);
	virtio_vsock_free(v);
	/* The socket it listened on is gone with it. */
	CU_ASSERT_EQUAL(access(uds, F_OK), -1);
	rmdir(dir);
}

static int listen_at(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(listen(fd, 4), 0);
	return fd;
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Reads what is there within a moment. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 1000) != 1)
		return -1;
	return read(fd, buf, len);
}

static void test_guest_connects(void)
{
	struct virtio_vsock *v = vsock_up();
	struct virtio_vsock_hdr *p;
	char path[128], buf[64];
	int lfd, hfd;

	snprintf(path, sizeof(path), "%s_5000", uds);
	lfd = listen_at(path);
	rx_post(v, 8);
	/* To a port with a listener: accepted, RESPONSE. */
	tx_send(v, hdr(VIRTIO_VSOCK_OP_REQUEST, 1025, 5000, 0), NULL);
	p = rx_pkt(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_RESPONSE);
	CU_ASSERT_EQUAL(le32toh(p->src_port), 5000);
	CU_ASSERT_EQUAL(le32toh(p->dst_port), 1025);
	CU_ASSERT_EQUAL(le64toh(p->dst_cid), 3);
	CU_ASSERT_EQUAL(le32toh(p->buf_alloc), VSOCK_BUF_ALLOC);
	hfd = accept(lfd, NULL, NULL);
	CU_ASSERT_FATAL(hfd >= 0);
	/* Guest to host. */
	tx_send(v, hdr(VIRTIO_VSOCK_OP_RW, 1025, 5000, 5), "hello");
	CU_ASSERT_EQUAL(read_some(hfd, buf, sizeof(buf)), 5);
	CU_ASSERT_EQUAL(memcmp(buf, "hello", 5), 0);
	/* Host to guest. */
	CU_ASSERT_EQUAL(write(hfd, "world!", 6), 6);
	virtio_vsock_poll(v);
	p = rx_pkt(1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_RW);
	CU_ASSERT_EQUAL(le32toh(p->len), 6);
	CU_ASSERT_EQUAL(used(0)->ring[1].len, VSOCK_HDR_LEN + 6);
	CU_ASSERT_EQUAL(memcmp((uint8_t *)p + VSOCK_HDR_LEN, "world!", 6), 0);
	/* It told the guest what was forwarded. */
	CU_ASSERT_EQUAL(le32toh(p->fwd_cnt), 5);
	/* To a port nobody listens on: RST. */
	tx_send(v, hdr(VIRTIO_VSOCK_OP_REQUEST, 1026, 5001, 0), NULL);
	p = rx_pkt(2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_RST);
	CU_ASSERT_EQUAL(le32toh(p->dst_port), 1026);
	/* Data on no connection: RST; an RST on none: nothing. */
	tx_send(v, hdr(VIRTIO_VSOCK_OP_RW, 1027, 5000, 2), "xx");
	p = rx_pkt(3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_RST);
	tx_send(v, hdr(VIRTIO_VSOCK_OP_RST, 1027, 5000, 0), NULL);
	CU_ASSERT_EQUAL(used(0)->idx, 4);
	/* The guest closes: the host reads the end, kiln answers RST. */
	{
		struct virtio_vsock_hdr s =
			hdr(VIRTIO_VSOCK_OP_SHUTDOWN, 1025, 5000, 0);

		s.flags = htole32(VIRTIO_VSOCK_SHUTDOWN_RCV |
				  VIRTIO_VSOCK_SHUTDOWN_SEND);
		tx_send(v, s, NULL);
	}
	CU_ASSERT_EQUAL(read_some(hfd, buf, sizeof(buf)), 0);
	p = rx_pkt(4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_RST);
	CU_ASSERT_EQUAL(v->nr_conns, 0);
	close(hfd);
	close(lfd);
	unlink(path);
	vsock_down(v);
}

static void test_host_connects(void)
{
	struct virtio_vsock *v = vsock_up();
	struct virtio_vsock_hdr *p, r;
	char buf[64];
	int fd, bad;
	uint32_t hport;

	rx_post(v, 8);
	fd = connect_to(uds);
	/* In two pieces: the line waits for its end. */
	CU_ASSERT_EQUAL(write(fd, "CONNECT ", 8), 8);
	virtio_vsock_poll(v);
	virtio_vsock_poll(v);
	CU_ASSERT_EQUAL(used(0)->idx, 0);
	CU_ASSERT_EQUAL(write(fd, "52\nearly", 8), 8);
	virtio_vsock_poll(v);
	p = rx_pkt(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_REQUEST);
	CU_ASSERT_EQUAL(le32toh(p->dst_port), 52);
	hport = le32toh(p->src_port);
	CU_ASSERT(hport >= 1024);
	/* The guest accepts: the program reads OK and its host port, then
	 * what it sent early reaches the guest. */
	r = hdr(VIRTIO_VSOCK_OP_RESPONSE, 52, hport, 0);
	tx_send(v, r, NULL);
	CU_ASSERT_EQUAL(read_some(fd, buf, sizeof(buf)),
			snprintf(buf + 32, 32, "OK %u\n", hport));
	CU_ASSERT_EQUAL(memcmp(buf, buf + 32, strlen(buf + 32)), 0);
	virtio_vsock_poll(v);
	p = rx_pkt(1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_RW);
	CU_ASSERT_EQUAL(le32toh(p->len), 5);
	CU_ASSERT_EQUAL(memcmp((uint8_t *)p + VSOCK_HDR_LEN, "early", 5), 0);
	/* Beyond the credit given: reset, the program sees the end. */
	{
		static uint8_t big[VSOCK_MAX_PAYLOAD];
		unsigned int i;

		/* The program does not read: what kiln holds grows. */
		for (i = 0;
		     i < VSOCK_BUF_ALLOC / VSOCK_MAX_PAYLOAD + 8 && v->nr_conns;
		     i++)
			tx_send(v,
				hdr(VIRTIO_VSOCK_OP_RW, 52, hport,
				    VSOCK_MAX_PAYLOAD),
				big);
		CU_ASSERT_EQUAL(v->nr_conns, 0);
		CU_ASSERT(v->tx_invalid.v >= 1);
	}
	close(fd);
	/* Garbage instead of CONNECT: closed, the guest never hears of it. */
	bad = connect_to(uds);
	CU_ASSERT_EQUAL(write(bad, "HELLO\n", 6), 6);
	virtio_vsock_poll(v);
	virtio_vsock_poll(v);
	CU_ASSERT_EQUAL(read_some(bad, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(v->nr_conns, 0);
	close(bad);
	/* A port the guest refuses: RST, the program sees the end. */
	fd = connect_to(uds);
	CU_ASSERT_EQUAL(write(fd, "CONNECT 53\n", 11), 11);
	virtio_vsock_poll(v);
	{
		unsigned int k = used(0)->idx - 1;

		p = rx_pkt(k);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_REQUEST);
		tx_send(v,
			hdr(VIRTIO_VSOCK_OP_RST, 53, le32toh(p->src_port), 0),
			NULL);
	}
	CU_ASSERT_EQUAL(read_some(fd, buf, sizeof(buf)), 0);
	close(fd);
	vsock_down(v);
}

static void test_no_buffers_waits(void)
{
	struct virtio_vsock *v = vsock_up();
	char path[128];
	int lfd, hfd;
	struct virtio_vsock_hdr *p;

	snprintf(path, sizeof(path), "%s_7", uds);
	lfd = listen_at(path);
	/* No receive buffer yet: the RESPONSE waits, nothing is lost. */
	tx_send(v, hdr(VIRTIO_VSOCK_OP_REQUEST, 2000, 7, 0), NULL);
	CU_ASSERT_EQUAL(used(0)->idx, 0);
	hfd = accept(lfd, NULL, NULL);
	CU_ASSERT_EQUAL(write(hfd, "abc", 3), 3);
	virtio_vsock_poll(v);
	CU_ASSERT_EQUAL(used(0)->idx, 0);
	rx_post(v, 1);
	p = rx_pkt(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_RESPONSE);
	rx_post(v, 1);
	virtio_vsock_poll(v);
	p = rx_pkt(1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_RW);
	CU_ASSERT_EQUAL(le32toh(p->len), 3);
	/* The host closes its end: SHUTDOWN(SEND) for the guest. */
	close(hfd);
	rx_post(v, 1);
	virtio_vsock_poll(v);
	p = rx_pkt(2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(le16toh(p->op), VIRTIO_VSOCK_OP_SHUTDOWN);
	CU_ASSERT_EQUAL(le32toh(p->flags), VIRTIO_VSOCK_SHUTDOWN_SEND);
	/* A device reset drops every connection. */
	v->vdev.ops->reset(v);
	CU_ASSERT_EQUAL(v->nr_conns, 0);
	close(lfd);
	unlink(path);
	vsock_down(v);
}

static void test_new_errors(void)
{
	char err[256], path[200];
	struct virtio_vsock *v;
	int fd;

	memset(&vm, 0, sizeof(vm));
	v = virtio_vsock_new(&vm, 2, "/tmp/x", err, sizeof(err));
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "CID 2"));
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = 0;
	CU_ASSERT_PTR_NULL(virtio_vsock_new(&vm, 3, path, err, sizeof(err)));
	/* A path that exists is not taken over (nor removed). */
	snprintf(dir, sizeof(dir), "/tmp/kiln-vsock-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(uds, sizeof(uds), "%s/taken", dir);
	fd = listen_at(uds);
	CU_ASSERT_PTR_NULL(virtio_vsock_new(&vm, 3, uds, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exists: remove it"));
	CU_ASSERT_EQUAL(access(uds, F_OK), 0);
	close(fd);
	unlink(uds);
	rmdir(dir);
}

void suite_vsock(void)
{
	static const CU_TestInfo tests[] = {
		{ "CONNECT lines", test_connect_line },
		{ "credit", test_credit },
		{ "packet header checks", test_hdr_check },
		{ "guest connects to a host listener", test_guest_connects },
		{ "host program connects to the guest", test_host_connects },
		{ "no receive buffers: packets wait", test_no_buffers_waits },
		{ "bad CID, path, a path in use", test_new_errors },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("virtio-vsock", tests);
}
