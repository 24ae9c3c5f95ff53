// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <string.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>

#include "unit.h"
#include "vq.h"
#include "virtio/net.h"
#include "vm.h"

#define F(x) (1ULL << VIRTIO_NET_F_##x)

static uint8_t frame[NET_MAX_FRAME];

static size_t put_frame(uint8_t *buf, uint32_t len, uint8_t fill)
{
	uint32_t be = htonl(len);

	memcpy(buf, &be, 4);
	memset(buf + 4, fill, len);
	return len + 4;
}

static void test_codec_whole_and_split(void)
{
	static uint8_t stream[3 * 2000];
	struct passt_codec c = { 0 };
	uint32_t flen;
	size_t n, used, i;

	n = put_frame(stream, 60, 0xaa);
	n += put_frame(stream + n, 1514, 0xbb);
	/* Two frames in one buffer: the first comes out, then the second. */
	used = passt_decode(&c, stream, n, frame, &flen);
	CU_ASSERT_EQUAL(flen, 60);
	CU_ASSERT_EQUAL(used, 64);
	CU_ASSERT_EQUAL(frame[59], 0xaa);
	used += passt_decode(&c, stream + used, n - used, frame, &flen);
	CU_ASSERT_EQUAL(flen, 1514);
	CU_ASSERT_EQUAL(used, n);
	CU_ASSERT_EQUAL(frame[1513], 0xbb);

	/* Byte by byte: the length and the frame split across reads. */
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 64; i++) {
		CU_ASSERT_EQUAL(passt_decode(&c, stream + i, 1, frame, &flen),
				1);
		CU_ASSERT_EQUAL(flen, i == 63 ? 60 : 0);
	}
	CU_ASSERT_FALSE(c.error);
	/* Nothing in, nothing out. */
	CU_ASSERT_EQUAL(passt_decode(&c, stream, 0, frame, &flen), 0);
	CU_ASSERT_EQUAL(flen, 0);
}

static void test_codec_bad_length(void)
{
	struct passt_codec c = { 0 };
	uint8_t buf[8];
	uint32_t flen, be = htonl(NET_MAX_FRAME + 1);

	memcpy(buf, &be, 4);
	passt_decode(&c, buf, 8, frame, &flen);
	CU_ASSERT_TRUE(c.error);
	CU_ASSERT_EQUAL(flen, 0);
	/* Once broken, it stays so. */
	CU_ASSERT_EQUAL(passt_decode(&c, buf, 8, frame, &flen), 0);

	memset(&c, 0, sizeof(c));
	be = htonl(3); /* shorter than an Ethernet header */
	memcpy(buf, &be, 4);
	passt_decode(&c, buf, 4, frame, &flen);
	CU_ASSERT_TRUE(c.error);
}

static void test_offloads(void)
{
	CU_ASSERT_EQUAL(net_tap_offloads(0), 0);
	CU_ASSERT_EQUAL(net_tap_offloads(F(GUEST_CSUM)), TUN_F_CSUM);
	CU_ASSERT_EQUAL(net_tap_offloads(F(GUEST_CSUM) | F(GUEST_TSO4)),
			TUN_F_CSUM | TUN_F_TSO4);
	CU_ASSERT_EQUAL(net_tap_offloads(F(GUEST_CSUM) | F(GUEST_TSO4) |
					 F(GUEST_TSO6)),
			TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	/* TSO without checksum offload is not a thing the TAP may use. */
	CU_ASSERT_EQUAL(net_tap_offloads(F(GUEST_TSO4) | F(GUEST_TSO6)), 0);
	/* Host-side offloads do not change what the TAP may send us. */
	CU_ASSERT_EQUAL(net_tap_offloads(F(CSUM) | F(HOST_TSO4)), 0);
}

/* --- receive into guest buffers --- */

#define RAM_SIZE (1 << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUFS 0x10000
#define QN 16

static uint8_t *ram;
static struct vm vm;

static struct virtio_net *net_with_buffers(bool mrg, unsigned int nbufs,
					   uint32_t buflen)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct virtio_net *n;
	struct vring_avail *a;
	unsigned int i;

	if (!ram)
		ram = calloc(1, RAM_SIZE);
	unit_vm(&vm, ram, RAM_SIZE);
	n = virtio_net_alloc(&vm, NET_TAP, mac, 0);
	n->acked = mrg ? F(MRG_RXBUF) : 0;
	unit_queue_on(&n->vdev, &vm.mem, 0, QN, DESC, AVAIL, USED);
	a = (void *)(ram + AVAIL);
	for (i = 0; i < nbufs; i++) {
		struct vring_desc *d = (void *)(ram + DESC + 16 * i);

		d->addr = BUFS + i * 0x2000;
		d->len = buflen;
		d->flags = VRING_DESC_F_WRITE;
		a->ring[a->idx++ % QN] = i;
	}
	return n;
}

static void stage(struct virtio_net *n, uint32_t frame_len)
{
	uint32_t i;

	memset(n->rx, 0, NET_HDR_LEN);
	for (i = 0; i < frame_len; i++)
		n->rx[NET_HDR_LEN + i] = i * 13;
	n->rx_len = NET_HDR_LEN + frame_len;
}

static void test_rx_mergeable(void)
{
	struct virtio_net *n = net_with_buffers(true, 4, 1526);
	struct vring_used *u = (void *)(ram + USED);
	struct virtio_net_hdr_v1 *h = (void *)(ram + BUFS);

	stage(n, 4000); /* 4012 bytes with the header: three buffers */
	CU_ASSERT_EQUAL(net_rx_deliver(n), 1);
	CU_ASSERT_EQUAL(u->idx, 3);
	CU_ASSERT_EQUAL(h->num_buffers, 3);
	CU_ASSERT_EQUAL(u->ring[0].len, 1526);
	CU_ASSERT_EQUAL(u->ring[1].len, 1526);
	CU_ASSERT_EQUAL(u->ring[2].len, 4012 - 2 * 1526);
	/* The frame continues in the second buffer where the first ended. */
	CU_ASSERT_EQUAL(ram[BUFS + 0x2000], (uint8_t)((1526 - 12) * 13));
	CU_ASSERT_EQUAL(n->vdev.vq[0].last_avail, 3);

	/* One buffer left: a 2000-byte frame must wait, nothing consumed. */
	stage(n, 2000);
	CU_ASSERT_EQUAL(net_rx_deliver(n), 0);
	CU_ASSERT_EQUAL(n->vdev.vq[0].last_avail, 3);
	CU_ASSERT_EQUAL(u->idx, 3);
	/* A small one fits in it. */
	stage(n, 100);
	CU_ASSERT_EQUAL(net_rx_deliver(n), 1);
	CU_ASSERT_EQUAL(u->idx, 4);
	CU_ASSERT_EQUAL(u->ring[3].len, 112);
	CU_ASSERT_EQUAL(((struct virtio_net_hdr_v1 *)(ram + BUFS + 3 * 0x2000))
				->num_buffers,
			1);
	virtio_dev_fini(&n->vdev);
	virtio_net_free(n);
}

static void test_rx_without_mergeable(void)
{
	struct virtio_net *n = net_with_buffers(false, 2, 1526);
	struct vring_used *u = (void *)(ram + USED);

	/* Too big for one buffer: dropped, the buffer handed back empty. */
	stage(n, 4000);
	CU_ASSERT_EQUAL(net_rx_deliver(n), -1);
	CU_ASSERT_EQUAL(u->idx, 1);
	CU_ASSERT_EQUAL(u->ring[0].len, 0);
	CU_ASSERT_EQUAL(n->rx_dropped.v, 1);
	stage(n, 1514);
	CU_ASSERT_EQUAL(net_rx_deliver(n), 1);
	CU_ASSERT_EQUAL(u->ring[1].len, 1526);
	/* No buffers at all: wait. */
	stage(n, 60);
	CU_ASSERT_EQUAL(net_rx_deliver(n), 0);
	/* Not yet DRIVER_OK: wait too. */
	n->vdev.status = 0;
	CU_ASSERT_EQUAL(net_rx_deliver(n), 0);
	virtio_dev_fini(&n->vdev);
	virtio_net_free(n);
}

/* Host-bound frames under a 1000-byte bucket that refills in a second:
 * the first goes, the next waits on the ring (not dropped, not lost). */
static void test_tx_rate_limiter(void)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 2 };
	struct rate_spec spec = { .bw = { 1000, 0, 1000 } };
	struct virtio_net *n;
	struct vring_avail *a;
	struct vring_used *u;
	uint8_t buf[2048];
	int sv[2], i;

	if (!ram)
		ram = calloc(1, RAM_SIZE);
	unit_vm(&vm, ram, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	n = virtio_net_alloc(&vm, NET_USER, mac, 0);
	n->fd = sv[0];
	ratelimit_from_spec(&n->tx_rl, &spec, ratelimit_now());
	unit_queue_on(&n->vdev, &vm.mem, 1, QN, DESC, AVAIL, USED);
	a = (void *)(ram + AVAIL);
	u = (void *)(ram + USED);
	for (i = 0; i < 3; i++) {
		struct vring_desc *d = (void *)(ram + DESC + 16 * i);

		d->addr = BUFS + i * 0x2000;
		d->len = NET_HDR_LEN + 600;
		a->ring[a->idx++ % QN] = i;
	}
	n->vdev.ops->notify(n, 1);
	CU_ASSERT_EQUAL(u->idx, 1);
	CU_ASSERT_TRUE(n->tx_throttled);
	CU_ASSERT_EQUAL(n->vdev.vq[1].last_avail, 1);
	CU_ASSERT_EQUAL(n->tx_throttled_count.v, 1);
	CU_ASSERT_EQUAL(n->tx_packets_count.v, 1);
	/* One frame on passt's socket: its length, then 600 bytes. */
	CU_ASSERT_EQUAL(read(sv[1], buf, sizeof(buf)), 604);
	/* A kick while held changes nothing. */
	n->vdev.ops->notify(n, 1);
	CU_ASSERT_EQUAL(u->idx, 1);
	/* Limits lifted: the rest goes. */
	memset(&spec, 0, sizeof(spec));
	ratelimit_from_spec(&n->tx_rl, &spec, ratelimit_now());
	n->tx_throttled = false;
	n->vdev.ops->notify(n, 1);
	CU_ASSERT_EQUAL(u->idx, 3);
	CU_ASSERT_EQUAL(n->tx_packets_count.v, 3);
	close(sv[1]);
	virtio_dev_fini(&n->vdev);
	virtio_net_free(n);
}

void suite_net(void)
{
	static const CU_TestInfo tests[] = {
		{ "passt frames whole and split", test_codec_whole_and_split },
		{ "passt bad lengths", test_codec_bad_length },
		{ "TAP offloads from guest features", test_offloads },
		{ "mergeable receive buffers", test_rx_mergeable },
		{ "receive without mergeable buffers",
		  test_rx_without_mergeable },
		{ "transmit rate limiter holds frames on the ring",
		  test_tx_rate_limiter },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("virtio-net", tests);
}
