// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "unit.h"
#include "vq.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/virtq.h"
#include "vm.h"

#define RAM_SIZE (1 << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define QN 16

static uint8_t *ram;
static struct vm vm;
static struct virtq q;
static struct virtq_chain chain;

static void *G(uint64_t gpa)
{
	return ram + gpa;
}

static void fake_vm(void)
{
	if (!ram)
		ram = calloc(1, RAM_SIZE);
	unit_vm(&vm, ram, RAM_SIZE);
	vm.stop_efd = -1;
}

static void setup_q(bool indirect, bool event_idx)
{
	fake_vm();
	virtq_reset(&q);
	q.num = QN;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	q.indirect = indirect;
	q.event_idx = event_idx;
	CU_ASSERT_EQUAL_FATAL(virtq_enable(&vm.mem, &q, 256), 0);
	q.ready = true;
}

static void set_desc(uint64_t table, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc *d = G(table + 16 * i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static void offer(uint16_t head)
{
	struct vring_avail *a = G(AVAIL);

	a->ring[a->idx % QN] = head;
	a->idx++;
}

static void test_enable_checks(void)
{
	fake_vm();
	virtq_reset(&q);
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	q.num = 0;
	CU_ASSERT_EQUAL(virtq_enable(&vm.mem, &q, 256), -EINVAL);
	q.num = 24; /* not a power of two */
	CU_ASSERT_EQUAL(virtq_enable(&vm.mem, &q, 256), -EINVAL);
	q.num = 512; /* more than offered */
	CU_ASSERT_EQUAL(virtq_enable(&vm.mem, &q, 256), -EINVAL);
	q.num = 16;
	q.desc_gpa = DESC + 8; /* misaligned */
	CU_ASSERT_EQUAL(virtq_enable(&vm.mem, &q, 256), -EINVAL);
	q.desc_gpa = RAM_SIZE - 16; /* runs off the end of RAM */
	CU_ASSERT_EQUAL(virtq_enable(&vm.mem, &q, 256), -EINVAL);
	q.desc_gpa = DESC;
	q.used_gpa = 0xfffffffffffffff0ULL;
	CU_ASSERT_EQUAL(virtq_enable(&vm.mem, &q, 256), -EINVAL);
	q.used_gpa = USED;
	CU_ASSERT_EQUAL(virtq_enable(&vm.mem, &q, 256), 0);
}

static void test_direct_chain(void)
{
	setup_q(false, false);
	set_desc(DESC, 0, 0x10000, 16, VRING_DESC_F_NEXT, 3);
	set_desc(DESC, 3, 0x11000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		 7);
	set_desc(DESC, 7, 0x12000, 1, VRING_DESC_F_WRITE, 0);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), 0); /* empty */
	offer(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), 1);
	CU_ASSERT_EQUAL(chain.head, 0);
	CU_ASSERT_EQUAL(chain.n_out, 1);
	CU_ASSERT_EQUAL(chain.n_in, 2);
	CU_ASSERT_EQUAL(chain.out_len, 16);
	CU_ASSERT_EQUAL(chain.in_len, 513);
	CU_ASSERT_PTR_EQUAL(chain.out[0].iov_base, ram + 0x10000);
	CU_ASSERT_PTR_EQUAL(chain.in[1].iov_base, ram + 0x12000);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), 0);
}

static void test_indirect(void)
{
	uint64_t table = 0x20000;

	setup_q(true, false);
	set_desc(table, 0, 0x10000, 16, VRING_DESC_F_NEXT, 1);
	set_desc(table, 1, 0x11000, 4096,
		 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set_desc(table, 2, 0x12000, 1, VRING_DESC_F_WRITE, 0);
	set_desc(DESC, 5, table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(5);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), 1);
	CU_ASSERT_EQUAL(chain.head, 5);
	CU_ASSERT_EQUAL(chain.n_out + chain.n_in, 3);
	CU_ASSERT_EQUAL(chain.in_len, 4097);

	/* Not negotiated: refused. */
	q.indirect = false;
	offer(5);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	CU_ASSERT_EQUAL(chain.head, 5);
	q.indirect = true;

	/* An indirect table pointing at another: refused (2.7.5.3.1). */
	set_desc(table, 1, 0x30000, 16, VRING_DESC_F_INDIRECT, 0);
	offer(5);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);

	/* INDIRECT together with NEXT: refused. */
	set_desc(DESC, 5, table, 3 * 16,
		 VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	offer(5);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);

	/* Table length not a multiple of 16, or outside RAM. */
	set_desc(DESC, 5, table, 40, VRING_DESC_F_INDIRECT, 0);
	offer(5);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	set_desc(DESC, 5, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	offer(5);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	/* The queue itself still works. */
	set_desc(DESC, 1, 0x10000, 8, 0, 0);
	offer(1);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), 1);
}

static void test_indirect_loop(void)
{
	uint64_t table = 0x20000;

	setup_q(true, false);
	set_desc(table, 0, 0x10000, 16, VRING_DESC_F_NEXT, 1);
	set_desc(table, 1, 0x10000, 16, VRING_DESC_F_NEXT, 0);
	set_desc(DESC, 0, table, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	/* next beyond the table */
	set_desc(table, 1, 0x10000, 16, VRING_DESC_F_NEXT, 2);
	offer(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
}

static void test_loops_and_bounds(void)
{
	setup_q(false, false);
	/* A loop: 0 -> 1 -> 0. */
	set_desc(DESC, 0, 0x10000, 8, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, 0x10000, 8, VRING_DESC_F_NEXT, 0);
	offer(0);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	/* A self-loop. */
	set_desc(DESC, 2, 0x10000, 8, VRING_DESC_F_NEXT, 2);
	offer(2);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	/* next out of range */
	set_desc(DESC, 3, 0x10000, 8, VRING_DESC_F_NEXT, QN);
	offer(3);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	/* head out of range */
	offer(QN + 1);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	CU_ASSERT_EQUAL(chain.head, QN + 1);
	/* buffer outside RAM */
	set_desc(DESC, 4, RAM_SIZE, 8, 0, 0);
	offer(4);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	/* address + length overflows */
	set_desc(DESC, 4, 0xfffffffffffffff0ULL, 0x20, 0, 0);
	offer(4);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	/* over-long: longer than all of RAM */
	set_desc(DESC, 4, 0x1000, 0xffffffff, 0, 0);
	offer(4);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	/* a readable buffer after a writable one */
	set_desc(DESC, 5, 0x10000, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		 6);
	set_desc(DESC, 6, 0x10000, 8, 0, 0);
	offer(5);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EINVAL);
	/* zero-length buffers are fine */
	set_desc(DESC, 7, 0x10000, 0, VRING_DESC_F_NEXT, 8);
	set_desc(DESC, 8, 0, 0, VRING_DESC_F_WRITE, 0);
	offer(7);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), 1);
	CU_ASSERT_EQUAL(chain.out_len + chain.in_len, 0);
	CU_ASSERT_FALSE(q.broken);
}

static void test_wraparound(void)
{
	struct vring_avail *a;
	struct vring_used *u;
	int i;

	setup_q(false, false);
	a = G(AVAIL);
	u = G(USED);
	set_desc(DESC, 0, 0x10000, 8, 0, 0);
	/* Indices near 65535, as after a long uptime. */
	q.last_avail = 65534;
	q.used_idx = 65534;
	a->idx = 65534;
	for (i = 0; i < 3; i++)
		offer(0);
	CU_ASSERT_EQUAL(a->idx, 1);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(virtq_pop(&q, &chain), 1);
		virtq_push(&q, chain.head, 8);
	}
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), 0);
	virtq_publish(&q);
	CU_ASSERT_EQUAL(u->idx, 1);
	CU_ASSERT_EQUAL(u->ring[65535 % QN].len, 8);

	/* The guest claims more new entries than the queue holds. */
	a->idx = q.last_avail + QN + 1;
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), -EIO);
	CU_ASSERT_TRUE(q.broken);
	CU_ASSERT_EQUAL(virtq_pop(&q, &chain), 0);
}

static void test_notify_event_idx(void)
{
	struct vring_avail *a;
	uint16_t *used_event;

	setup_q(false, true);
	a = G(AVAIL);
	used_event = &a->ring[QN];
	set_desc(DESC, 0, 0x10000, 8, 0, 0);

	/* The driver wants an interrupt after used entry 0. */
	*used_event = 0;
	offer(0);
	virtq_pop(&q, &chain);
	virtq_push(&q, 0, 0);
	virtq_publish(&q);
	CU_ASSERT_TRUE(virtq_should_notify(&q));
	/* It now asks only after entry 5: entries 1..4 stay silent. */
	*used_event = 5;
	offer(0);
	virtq_pop(&q, &chain);
	virtq_push(&q, 0, 0);
	virtq_publish(&q);
	CU_ASSERT_FALSE(virtq_should_notify(&q));
	while (q.used_idx < 6) {
		offer(0);
		virtq_pop(&q, &chain);
		virtq_push(&q, 0, 0);
	}
	virtq_publish(&q);
	CU_ASSERT_TRUE(virtq_should_notify(&q));

	/* avail_event tells the driver where we are. */
	CU_ASSERT_FALSE(virtq_enable_notify(&q));
	CU_ASSERT_EQUAL(*(uint16_t *)&((struct vring_used *)G(USED))->ring[QN],
			q.last_avail);
	offer(0);
	CU_ASSERT_TRUE(virtq_enable_notify(&q));
}

static void test_notify_flags(void)
{
	struct vring_avail *a;

	setup_q(false, false);
	a = G(AVAIL);
	set_desc(DESC, 0, 0x10000, 8, 0, 0);
	offer(0);
	virtq_pop(&q, &chain);
	virtq_push(&q, 0, 0);
	virtq_publish(&q);
	CU_ASSERT_TRUE(virtq_should_notify(&q));
	a->flags = VRING_AVAIL_F_NO_INTERRUPT;
	CU_ASSERT_FALSE(virtq_should_notify(&q));
}

/* --- the MMIO transport --- */

static int activated, resets, notified;

static int t_activate(void *dev, uint64_t f)
{
	(void)dev;
	(void)f;
	activated++;
	return 0;
}

static void t_reset(void *dev)
{
	(void)dev;
	resets++;
}

static void t_notify(void *dev, unsigned int qi)
{
	(void)dev;
	(void)qi;
	notified++;
}

static void t_cfg(void *dev, uint32_t off, uint8_t *d, uint32_t len)
{
	static const uint8_t cfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)dev;
	if (off < 8 && len <= 8 - off)
		memcpy(d, cfg + off, len);
}

static const struct virtio_dev_ops test_ops = {
	.name = "test",
	.device_id = 42,
	.nr_queues = 2,
	.queue_max = 64,
	.config_read = t_cfg,
	.activate = t_activate,
	.reset = t_reset,
	.notify = t_notify,
};

static struct virtio_dev tdev;

/* The test device behind a virtio-mmio transport. */
static void mmio_setup(struct virtio_mmio *t, uint64_t features)
{
	virtio_dev_init(&tdev, &test_ops, NULL, features, &vm.mem, NULL);
	virtio_mmio_init(t, &vm, &tdev);
}

static uint32_t mr(struct virtio_mmio *t, uint32_t off)
{
	uint32_t v;

	virtio_mmio_access(t, off, (uint8_t *)&v, 4, false);
	return v;
}

static void mw(struct virtio_mmio *t, uint32_t off, uint32_t v)
{
	virtio_mmio_access(t, off, (uint8_t *)&v, 4, true);
}

static void setup_queue(struct virtio_mmio *t, unsigned int qi)
{
	mw(t, VIRTIO_MMIO_QUEUE_SEL, qi);
	mw(t, VIRTIO_MMIO_QUEUE_NUM, 16);
	mw(t, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC + qi * 0x4000);
	mw(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	mw(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, AVAIL + qi * 0x4000);
	mw(t, VIRTIO_MMIO_QUEUE_USED_LOW, USED + qi * 0x4000);
	mw(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void test_mmio_identity(void)
{
	struct virtio_mmio t;
	uint8_t b[2];

	fake_vm();
	mmio_setup(&t, 1ULL << 3);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_VERSION), 2);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_DEVICE_ID), 42);
	mw(&t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_DEVICE_FEATURES),
			(1U << 3) | (1U << VIRTIO_RING_F_EVENT_IDX) |
				(1U << VIRTIO_RING_F_INDIRECT_DESC));
	mw(&t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_DEVICE_FEATURES), 1); /* VERSION_1 */
	mw(&t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	/* Odd-sized register accesses are ignored, reads see 0. */
	b[0] = b[1] = 0xee;
	virtio_mmio_access(&t, VIRTIO_MMIO_MAGIC_VALUE, b, 2, false);
	CU_ASSERT_EQUAL(b[0], 0);
	b[0] = 0xff;
	virtio_mmio_access(&t, VIRTIO_MMIO_STATUS, b, 1, true);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_STATUS), 0);
	virtio_mmio_access(&t, VIRTIO_MMIO_STATUS + 1, b, 1, false);
	/* Config space takes any size. */
	virtio_mmio_access(&t, VIRTIO_MMIO_CONFIG + 2, b, 2, false);
	CU_ASSERT_EQUAL(b[0], 3);
	CU_ASSERT_EQUAL(b[1], 4);
	virtio_mmio_access(&t, VIRTIO_MMIO_CONFIG + 7, b, 2, false);
	CU_ASSERT_EQUAL(b[0], 0); /* past the end: zeroes */
	virtio_mmio_detach(&t);
}

static void test_mmio_negotiation(void)
{
	struct virtio_mmio t;

	fake_vm();
	activated = resets = 0;
	mmio_setup(&t, 1ULL << 3);
	mw(&t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	mw(&t, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	/* Queue set-up before FEATURES_OK is ignored. */
	setup_queue(&t, 0);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_QUEUE_READY), 0);
	CU_ASSERT_EQUAL(tdev.vq[0].num, 0);
	/* Bits never offered are dropped. */
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	CU_ASSERT_EQUAL(tdev.acked, tdev.features);
	CU_ASSERT_EQUAL(tdev.acked & (1ULL << 4), 0);
	mw(&t, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
	CU_ASSERT_TRUE(mr(&t, VIRTIO_MMIO_STATUS) &
		       VIRTIO_CONFIG_S_FEATURES_OK);
	/* Features are frozen now. */
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	CU_ASSERT_EQUAL(tdev.acked, tdev.features);

	/* QUEUE_SEL out of range: nothing there, writes go nowhere. */
	mw(&t, VIRTIO_MMIO_QUEUE_SEL, 2);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	mw(&t, VIRTIO_MMIO_QUEUE_NUM, 16);
	mw(&t, VIRTIO_MMIO_QUEUE_READY, 1);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_QUEUE_READY), 0);
	mw(&t, VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);

	mw(&t, VIRTIO_MMIO_QUEUE_SEL, 0);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), 64);
	setup_queue(&t, 0);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_QUEUE_READY), 1);
	CU_ASSERT_TRUE(tdev.vq[0].event_idx);
	/* A queue whose rings are outside RAM never becomes ready. */
	mw(&t, VIRTIO_MMIO_QUEUE_SEL, 1);
	mw(&t, VIRTIO_MMIO_QUEUE_NUM, 16);
	mw(&t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	mw(&t, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x10);
	mw(&t, VIRTIO_MMIO_QUEUE_READY, 1);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_QUEUE_READY), 0);

	mw(&t, VIRTIO_MMIO_STATUS, 0x0f);
	CU_ASSERT_EQUAL(activated, 1);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_STATUS), 0x0f);
	/* Ready queues cannot be reconfigured while running. */
	mw(&t, VIRTIO_MMIO_QUEUE_SEL, 0);
	mw(&t, VIRTIO_MMIO_QUEUE_NUM, 32);
	CU_ASSERT_EQUAL(tdev.vq[0].num, 16);
	/* Clearing bits needs a reset. */
	mw(&t, VIRTIO_MMIO_STATUS, 0x03);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_STATUS), 0x0f);

	/* Interrupt status and acknowledge. */
	virtio_dev_signal(&tdev);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	mw(&t, VIRTIO_MMIO_INTERRUPT_ACK, 1);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* Reset: back to the start. */
	mw(&t, VIRTIO_MMIO_STATUS, 0);
	CU_ASSERT_EQUAL(resets, 1);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_STATUS), 0);
	CU_ASSERT_EQUAL(mr(&t, VIRTIO_MMIO_QUEUE_READY), 0);
	CU_ASSERT_EQUAL(tdev.acked, 0);
	virtio_mmio_detach(&t);
}

/* A device brought up through the transport, its state saved and taken
 * by a fresh one; then saved states that do not fit, each refused. */
static void test_state_save_restore(void)
{
	struct virtio_mmio t;
	struct virtio_state st, bad;
	struct virtio_dev d2;
	char err[200];

	fake_vm();
	activated = resets = 0;
	mmio_setup(&t, 1ULL << 3);
	mw(&t, VIRTIO_MMIO_STATUS, 0x03);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES, 1u << 3);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32));
	mw(&t, VIRTIO_MMIO_STATUS, 0x0b);
	setup_queue(&t, 0);
	/* Queue 1 set up but not made ready when the snapshot came. */
	mw(&t, VIRTIO_MMIO_QUEUE_SEL, 1);
	mw(&t, VIRTIO_MMIO_QUEUE_NUM, 8);
	mw(&t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x9000);
	mw(&t, VIRTIO_MMIO_STATUS, 0x0f);
	CU_ASSERT_EQUAL_FATAL(activated, 1);
	tdev.vq[0].last_avail = 7;
	tdev.vq[0].used_idx = 5;
	tdev.vq[0].signalled = 4;
	tdev.config_generation = 3;
	virtio_dev_save(&tdev, &st);
	virtio_mmio_detach(&t);

	virtio_dev_init(&d2, &test_ops, NULL, 1ULL << 3, &vm.mem, NULL);
	CU_ASSERT_EQUAL_FATAL(
		virtio_dev_restore(&d2, &st, sizeof(st), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(activated, 2);
	CU_ASSERT_EQUAL(d2.status, 0x0f);
	CU_ASSERT_EQUAL(d2.acked, (1ULL << 3) | (1ULL << VIRTIO_F_VERSION_1));
	CU_ASSERT_EQUAL(d2.config_generation, 3);
	CU_ASSERT_TRUE(d2.vq[0].ready);
	CU_ASSERT_PTR_NOT_NULL(d2.vq[0].desc);
	CU_ASSERT_EQUAL(d2.vq[0].num, 16);
	CU_ASSERT_EQUAL(d2.vq[0].avail_gpa, AVAIL);
	CU_ASSERT_EQUAL(d2.vq[0].last_avail, 7);
	CU_ASSERT_EQUAL(d2.vq[0].used_idx, 5);
	CU_ASSERT_EQUAL(d2.vq[0].signalled, 4);
	CU_ASSERT_FALSE(d2.vq[0].event_idx);
	CU_ASSERT_FALSE(d2.vq[1].ready);
	CU_ASSERT_EQUAL(d2.vq[1].num, 8);
	CU_ASSERT_EQUAL(d2.vq[1].desc_gpa, 0x9000);
	CU_ASSERT_PTR_NOT_NULL(virtio_dev_queue(&d2, 0));
	CU_ASSERT_PTR_NULL(virtio_dev_queue(&d2, 1));

#define REFUSED(mutate, words)                                             \
	do {                                                               \
		bad = st;                                                  \
		mutate;                                                    \
		err[0] = 0;                                                \
		CU_ASSERT_EQUAL(virtio_dev_restore(&d2, &bad, sizeof(bad), \
						   err, sizeof(err)),      \
				-EINVAL);                                  \
		CU_ASSERT_PTR_NOT_NULL(strstr(err, words));                \
		CU_ASSERT_EQUAL(d2.status, 0);                             \
		CU_ASSERT_FALSE(d2.vq[0].ready);                           \
	} while (0)
	CU_ASSERT_EQUAL(virtio_dev_restore(&d2, &st, sizeof(st) - 1, err,
					   sizeof(err)),
			-EINVAL);
	REFUSED(bad.device_id = 43, "another kind of device");
	REFUSED(bad.nr_queues = 3, "another count of queues");
	REFUSED(bad.features ^= 1ULL << 3, "offered other features");
	REFUSED(bad.acked |= 1ULL << 4, "never offered");
	REFUSED(bad.status |= 0x10, "unknown status bits");
	REFUSED(bad.status = 0x07, "could not have set");
	REFUSED(bad.acked &= ~(1ULL << VIRTIO_F_VERSION_1),
		"could not have set");
	REFUSED(bad.q[0].desc_gpa = 1ULL << 40,
		"outside guest memory or a bad size (queue 0)");
	REFUSED(bad.q[0].num = 12, "bad size (queue 0)");
	REFUSED(bad.q[0].num = 128, "bad size (queue 0)");
	REFUSED(bad.q[2].num = 16, "does not have (queue 2)");
	REFUSED(bad.q[15].ready = 1, "does not have (queue 15)");
	/* A ready queue while features were still being negotiated. */
	REFUSED((bad.status = 0x03, bad.q[1].ready = 0), "before FEATURES_OK");
#undef REFUSED
	/* After all that, the good state still goes in. */
	CU_ASSERT_EQUAL(
		virtio_dev_restore(&d2, &st, sizeof(st), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(d2.vq[0].last_avail, 7);
	virtio_dev_fini(&d2);
}

static void test_mmio_needs_version1(void)
{
	struct virtio_mmio t;

	fake_vm();
	activated = 0;
	mmio_setup(&t, 0);
	mw(&t, VIRTIO_MMIO_STATUS, 3);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(&t, VIRTIO_MMIO_DRIVER_FEATURES, 1U << VIRTIO_RING_F_EVENT_IDX);
	mw(&t, VIRTIO_MMIO_STATUS, 0x0b);
	CU_ASSERT_FALSE(mr(&t, VIRTIO_MMIO_STATUS) &
			VIRTIO_CONFIG_S_FEATURES_OK);
	mw(&t, VIRTIO_MMIO_STATUS, 0x0f);
	CU_ASSERT_EQUAL(activated, 0);
	CU_ASSERT_FALSE(mr(&t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK);
	virtio_mmio_detach(&t);
}

/* --- virtio-blk requests --- */

struct req {
	struct virtio_blk_outhdr hdr;
	uint8_t data[4096];
	uint8_t status;
};

static char img[64];

static struct virtio_blk *open_img(bool ro, size_t size)
{
	char err[256];
	struct virtio_blk *b;
	int fd;

	strcpy(img, "/tmp/kiln-unit-blk.XXXXXX");
	fd = mkstemp(img);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(ftruncate(fd, size), 0);
	{
		uint8_t pat[512];
		size_t i;

		for (i = 0; i < sizeof(pat); i++)
			pat[i] = i * 7;
		CU_ASSERT_EQUAL(pwrite(fd, pat, sizeof(pat), 512), 512);
	}
	close(fd);
	fake_vm();
	b = virtio_blk_open(&vm, img, ro, "disk-one", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	return b;
}

static void close_img(struct virtio_blk *b)
{
	virtio_blk_device_ops.destroy(b);
	unlink(img);
}

static uint32_t do_req(struct virtio_blk *b, struct req *r, uint32_t type,
		       uint64_t sector, size_t len)
{
	r->hdr.type = type;
	r->hdr.ioprio = 0;
	r->hdr.sector = sector;
	r->status = 0xaa;
	memset(&chain, 0, sizeof(chain));
	chain.out[chain.n_out++] = (struct iovec){ &r->hdr, sizeof(r->hdr) };
	chain.out_len = sizeof(r->hdr);
	if (type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_DISCARD ||
	    type == VIRTIO_BLK_T_WRITE_ZEROES) {
		chain.out[chain.n_out++] = (struct iovec){ r->data, len };
		chain.out_len += len;
	} else if (len) {
		chain.in[chain.n_in++] = (struct iovec){ r->data, len };
		chain.in_len += len;
	}
	chain.in[chain.n_in++] = (struct iovec){ &r->status, 1 };
	chain.in_len += 1;
	return virtio_blk_request(b, &chain);
}

static void test_blk_read_write(void)
{
	struct virtio_blk *b = open_img(false, 1 << 20);
	static struct req r;
	int i;

	CU_ASSERT_EQUAL(b->cfg.capacity, 2048);
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_IN, 1, 512), 513);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_OK);
	for (i = 0; i < 512; i++)
		if (r.data[i] != (uint8_t)(i * 7))
			break;
	CU_ASSERT_EQUAL(i, 512);
	memset(r.data, 0x5c, 1024);
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_OUT, 2047, 512), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_OK);
	memset(r.data, 0, 1024);
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_IN, 2047, 512), 513);
	CU_ASSERT_EQUAL(r.data[511], 0x5c);
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_FLUSH, 0, 0), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_OK);
	/* The data is a multi-buffer chain too. */
	close_img(b);
}

static void test_blk_bad_requests(void)
{
	struct virtio_blk *b = open_img(false, 1 << 20);
	static struct req r;

	/* Beyond the end, or straddling it. */
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_IN, 2048, 512), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_OUT, 2047, 1024), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_IN, UINT64_MAX, 512), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_IOERR);
	/* Not a whole number of sectors. */
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_IN, 0, 100), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_IOERR);
	/* Unknown type. */
	CU_ASSERT_EQUAL(do_req(b, &r, 99, 0, 0), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_UNSUPP);
	/* Short header. */
	do_req(b, &r, VIRTIO_BLK_T_IN, 0, 512);
	chain.out[0].iov_len = 8;
	chain.out_len = 8;
	CU_ASSERT_EQUAL(virtio_blk_request(b, &chain), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_IOERR);
	/* No status byte: nothing to answer with. */
	memset(&chain, 0, sizeof(chain));
	chain.out[chain.n_out++] = (struct iovec){ &r.hdr, sizeof(r.hdr) };
	chain.out_len = sizeof(r.hdr);
	CU_ASSERT_EQUAL(virtio_blk_request(b, &chain), 0);
	/* The header split over two buffers still parses. */
	r.hdr.type = VIRTIO_BLK_T_GET_ID;
	memset(&chain, 0, sizeof(chain));
	chain.out[0] = (struct iovec){ &r.hdr, 5 };
	chain.out[1] = (struct iovec){ (uint8_t *)&r.hdr + 5, 11 };
	chain.n_out = 2;
	chain.out_len = 16;
	chain.in[0] = (struct iovec){ r.data, 20 };
	chain.in[1] = (struct iovec){ &r.status, 1 };
	chain.n_in = 2;
	chain.in_len = 21;
	CU_ASSERT_EQUAL(virtio_blk_request(b, &chain), 21);
	CU_ASSERT_EQUAL(memcmp(r.data, "disk-one", 9), 0);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_OK);
	close_img(b);
}

static void test_blk_readonly(void)
{
	struct virtio_blk *b = open_img(true, 1 << 20);
	static struct req r;

	memset(r.data, 0x11, 512);
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_OUT, 1, 512), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_IOERR);
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_IN, 1, 512), 513);
	CU_ASSERT_EQUAL(r.data[1], 7); /* unchanged */
	close_img(b);
}

static void test_blk_discard(void)
{
	struct virtio_blk *b = open_img(false, 4 << 20);
	struct virtio_blk_discard_write_zeroes seg = { 0, 2048, 0 };
	static struct req r;
	struct stat before, after;
	int fd = open(img, O_RDWR);

	memset(r.data, 0x77, 4096);
	CU_ASSERT_EQUAL(pwrite(fd, r.data, 4096, 0), 4096);
	CU_ASSERT_EQUAL(pwrite(fd, r.data, 4096, 1 << 20), 4096);
	fsync(fd);
	fstat(fd, &before);
	memcpy(r.data, &seg, sizeof(seg));
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg)), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_OK);
	fstat(fd, &after);
	CU_ASSERT_TRUE(after.st_blocks < before.st_blocks);
	CU_ASSERT_EQUAL(after.st_size, 4 << 20);
	/* Past the end: refused. */
	seg.sector = 8000;
	seg.num_sectors = 1000;
	memcpy(r.data, &seg, sizeof(seg));
	CU_ASSERT_EQUAL(do_req(b, &r, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg)), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_IOERR);
	/* Write zeroes reads back as zeroes. */
	seg = (struct virtio_blk_discard_write_zeroes){ 2048, 8, 0 };
	memcpy(r.data, &seg, sizeof(seg));
	CU_ASSERT_EQUAL(
		do_req(b, &r, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg)), 1);
	CU_ASSERT_EQUAL(r.status, VIRTIO_BLK_S_OK);
	CU_ASSERT_EQUAL(pread(fd, r.data, 4096, 1 << 20), 4096);
	CU_ASSERT_EQUAL(r.data[0], 0);
	CU_ASSERT_EQUAL(r.data[4095], 0);
	close(fd);
	close_img(b);
}

static void test_blk_lock(void)
{
	struct virtio_blk *b = open_img(false, 1 << 20);
	char err[256] = "";
	pid_t pid;
	int st;

	/* POSIX locks are per process: try from a child. */
	pid = fork();
	if (pid == 0) {
		struct virtio_blk *b2 = virtio_blk_open(&vm, img, false, NULL,
							err, sizeof(err));
		int ok = b2 == NULL && strstr(err, "is in use by process");

		/* The parent's copy, freed for leak checkers. */
		virtio_blk_free(b);
		_exit(ok ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close_img(b);
}

static int reported = -1;

static void on_status(void *opaque, int st)
{
	(void)opaque;
	reported = st;
}

/*
 * The guest writes its exit status and resets the device on its way to
 * reboot before the I/O thread saw the kick: the status still counts.
 */
static void test_console_status_before_reset(void)
{
	static const char line[] = "exit 3\n";
	struct virtio_console *c;
	struct virtio_mmio ct;
	struct vring_avail *a;
	int id;

	fake_vm();
	c = virtio_console_new_multi(&vm, -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	id = virtio_console_add_port(c, "kiln.status", PORT_STATUS, -1, true);
	CU_ASSERT_EQUAL_FATAL(id, 1);
	c->on_status = on_status;
	virtio_mmio_init(&ct, &vm, &c->vdev);
	reported = -1;
	mw(&ct, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	mw(&ct, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(&ct, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	mw(&ct, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
	setup_queue(&ct, 5); /* port 1's transmit queue */
	mw(&ct, VIRTIO_MMIO_STATUS,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	CU_ASSERT_EQUAL_FATAL(mr(&ct, VIRTIO_MMIO_QUEUE_READY), 1);
	memcpy(G(0x80000), line, sizeof(line) - 1);
	set_desc(DESC + 5 * 0x4000, 0, 0x80000, sizeof(line) - 1, 0, 0);
	a = G(AVAIL + 5 * 0x4000);
	a->ring[0] = 0;
	a->idx = 1;
	/* No notification served: the reset comes first. */
	mw(&ct, VIRTIO_MMIO_STATUS, 0);
	CU_ASSERT_EQUAL(reported, 3);
	CU_ASSERT_EQUAL(mr(&ct, VIRTIO_MMIO_STATUS), 0);
	/* A reset of a device that never went live serves nothing. */
	reported = -1;
	mw(&ct, VIRTIO_MMIO_STATUS, 0);
	CU_ASSERT_EQUAL(reported, -1);
	virtio_mmio_detach(&ct);
	virtio_console_device_ops.destroy(c);
}

/* A slice of an iovec array: from a byte inside its second entry, cut
 * short inside its fourth; past the end, nothing. */
static void test_iov_slice(void)
{
	static uint8_t a[10], b[20], c[30], d[40];
	struct iovec src[4] = { { a, 10 }, { b, 20 }, { c, 30 }, { d, 40 } };
	struct iovec dst[4];

	CU_ASSERT_EQUAL(iov_slice(src, 4, 15, 50, dst), 3);
	CU_ASSERT_PTR_EQUAL(dst[0].iov_base, b + 5);
	CU_ASSERT_EQUAL(dst[0].iov_len, 15);
	CU_ASSERT_PTR_EQUAL(dst[1].iov_base, c);
	CU_ASSERT_EQUAL(dst[1].iov_len, 30);
	CU_ASSERT_PTR_EQUAL(dst[2].iov_base, d);
	CU_ASSERT_EQUAL(dst[2].iov_len, 5);
	CU_ASSERT_EQUAL(iov_slice(src, 4, 10, 20, dst), 1);
	CU_ASSERT_EQUAL(dst[0].iov_len, 20);
	CU_ASSERT_EQUAL(iov_slice(src, 4, 100, 5, dst), 0);
	CU_ASSERT_EQUAL(iov_slice(src, 4, 0, 0, dst), 0);
}

void suite_virtio(void)
{
	static const CU_TestInfo tests[] = {
		{ "queue set-up checks", test_enable_checks },
		{ "iovec slices", test_iov_slice },
		{ "direct chain", test_direct_chain },
		{ "indirect table", test_indirect },
		{ "indirect loops", test_indirect_loop },
		{ "loops and bad buffers", test_loops_and_bounds },
		{ "index wrap-around", test_wraparound },
		{ "EVENT_IDX notification", test_notify_event_idx },
		{ "NO_INTERRUPT flag", test_notify_flags },
		{ "MMIO identity and sizes", test_mmio_identity },
		{ "state saved and restored, bad state refused",
		  test_state_save_restore },
		{ "MMIO negotiation and reset", test_mmio_negotiation },
		{ "MMIO needs VERSION_1", test_mmio_needs_version1 },
		{ "blk read and write", test_blk_read_write },
		{ "blk bad requests", test_blk_bad_requests },
		{ "blk read-only", test_blk_readonly },
		{ "blk discard and write zeroes", test_blk_discard },
		{ "blk image lock", test_blk_lock },
		{ "console status before a reset",
		  test_console_status_before_reset },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("virtio", tests);
}
