// SPDX-License-Identifier: MIT
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "unit.h"
#include "vq.h"
#include "virtio/balloon.h"
#include "vm.h"

#define RAM_SIZE (2 << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define PFNS 0x8000
#define QN 16

static uint8_t *ram;
static struct vm vm;

static void count(void *opaque, uint8_t *hva)
{
	(void)hva;
	(*(unsigned int *)opaque)++;
}

static void test_pfns(void)
{
	struct guest_mem m = { .nr = 1 };
	static uint8_t fake[1 << 16];
	uint32_t pfn[5] = { htole32(0), htole32(15), htole32(16),
			    htole32(0xffffffff), htole32(3) };
	struct iovec iov[2] = { { pfn, 6 }, { (uint8_t *)pfn + 6, 13 } };
	unsigned int bad, n = 0;

	m.region[0] = (struct mem_region){ 0, sizeof(fake), fake };
	/* Split across two iovecs, with a trailing partial number: 0, 15
	 * and 3 are in 64 KiB of RAM; 16 and 2^32-1 are not. */
	CU_ASSERT_EQUAL(balloon_pfns(&m, iov, 2, &bad, count, &n), 2);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(bad, 3); /* 16, 0xffffffff, the partial one */
	iov[1].iov_len = 14;
	n = 0;
	CU_ASSERT_EQUAL(balloon_pfns(&m, iov, 2, &bad, count, &n), 3);
	CU_ASSERT_EQUAL(bad, 2);
	CU_ASSERT_EQUAL(balloon_pfns(&m, iov, 0, &bad, count, &n), 0);
	CU_ASSERT_EQUAL(bad, 0);
}

static struct virtio_balloon *balloon(uint64_t mib, unsigned int stats,
				      bool reporting)
{
	struct balloon_spec s = { .on = 1,
				  .amount_mib = mib,
				  .stats_interval_s = stats,
				  .reporting = reporting };
	char err[200];

	if (!ram)
		ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unit_vm(&vm, ram, RAM_SIZE);
	return virtio_balloon_new(&vm, &s, err, sizeof(err));
}

static void test_stats_and_config(void)
{
	struct virtio_balloon *b = balloon(1, 5, true);
	uint8_t e[3 * 10] = { 0 }, buf[4];
	struct iovec iov = { e, sizeof(e) - 1 };
	uint64_t v = htole64(12345);
	uint16_t t;
	char err[200];

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* Offered: statistics and reporting, as asked. */
	CU_ASSERT(b->vdev.features & (1ULL << VIRTIO_BALLOON_F_STATS_VQ));
	CU_ASSERT(b->vdev.features & (1ULL << VIRTIO_BALLOON_F_REPORTING));
	CU_ASSERT_FALSE(b->vdev.features &
			(1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	/* tag 4 (free memory), tag 99 (unknown), a cut-off third. */
	t = htole16(4);
	memcpy(e, &t, 2);
	memcpy(e + 2, &v, 8);
	t = htole16(99);
	memcpy(e + 10, &t, 2);
	balloon_parse_stats(b, &iov, 1);
	CU_ASSERT_TRUE(b->stats_valid[4]);
	CU_ASSERT_EQUAL(b->stats[4], 12345);
	CU_ASSERT_FALSE(b->stats_valid[0]);
	/* Queues as the driver numbers them: without statistics, the
	 * reporting queue is the third. */
	b->vdev.ops->activate(b, 1ULL << VIRTIO_BALLOON_F_REPORTING);
	CU_ASSERT_EQUAL(b->q_stats, -1);
	CU_ASSERT_EQUAL(b->q_report, 2);
	b->vdev.ops->activate(b, (1ULL << VIRTIO_BALLOON_F_REPORTING) |
					 (1ULL << VIRTIO_BALLOON_F_STATS_VQ));
	CU_ASSERT_EQUAL(b->q_stats, 2);
	CU_ASSERT_EQUAL(b->q_report, 3);
	/* The target in pages; the driver may write actual, nothing else. */
	b->vdev.ops->config_read(b, 0, buf, 4);
	CU_ASSERT_EQUAL(buf[0] | buf[1] << 8, 256);
	memcpy(buf, "\x10\x00\x00\x00", 4);
	b->vdev.ops->config_write(b, 4, buf, 4);
	CU_ASSERT_EQUAL(le32toh(b->cfg.actual), 16);
	b->vdev.ops->config_write(b, 0, buf, 4);
	CU_ASSERT_EQUAL(le32toh(b->cfg.num_pages), 256);
	b->vdev.ops->config_write(b, 6, buf, 4); /* across the end */
	CU_ASSERT_EQUAL(le32toh(b->cfg.actual), 16);
	/* Targets: within RAM (2 MiB here); the interval, not to 0. */
	CU_ASSERT_EQUAL(virtio_balloon_set_target(b, 2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(le32toh(b->cfg.num_pages), 512);
	CU_ASSERT_NOT_EQUAL(virtio_balloon_set_target(b, 3, err, sizeof(err)),
			    0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than the guest's 2 MiB"));
	CU_ASSERT_NOT_EQUAL(virtio_balloon_set_interval(b, 0, err, sizeof(err)),
			    0);
	CU_ASSERT_EQUAL(virtio_balloon_set_interval(b, 2, err, sizeof(err)), 0);
	virtio_dev_fini(&b->vdev);
	virtio_balloon_free(b);
	/* Too big a target at the start. */
	CU_ASSERT_PTR_NULL(balloon(3, 0, false));
}

/* Inflating gives the pages back: no longer resident, zero when read. */
static void test_inflate_returns_pages(void)
{
	struct virtio_balloon *b = balloon(1, 0, false);
	struct vring_avail *a;
	struct vring_desc *d;
	unsigned char vec[RAM_SIZE / 4096];
	uint32_t *pfn;
	unsigned int i, resident = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	unit_queue_on(&b->vdev, &vm.mem, 0, QN, DESC, AVAIL, USED);
	/* The guest used pages 256-511 (the second MiB). */
	memset(ram + (1 << 20), 0xab, 1 << 20);
	pfn = (uint32_t *)(ram + PFNS);
	for (i = 0; i < 256; i++)
		pfn[i] = htole32(256 + i);
	pfn[256] = htole32(100000); /* beyond RAM: skipped */
	d = (void *)(ram + DESC);
	d->addr = PFNS;
	d->len = 257 * 4;
	a = (void *)(ram + AVAIL);
	a->ring[0] = 0;
	a->idx = 1;
	b->vdev.ops->notify(b, 0);
	CU_ASSERT_EQUAL(((struct vring_used *)(ram + USED))->idx, 1);
	CU_ASSERT_EQUAL(b->pages_returned.v, 256);
	CU_ASSERT_EQUAL(b->invalid_pfns.v, 1);
	CU_ASSERT_EQUAL_FATAL(mincore(ram, RAM_SIZE, vec), 0);
	for (i = 256; i < 512; i++)
		resident += vec[i] & 1;
	CU_ASSERT_EQUAL(resident, 0);
	CU_ASSERT_EQUAL(ram[(1 << 20) + 77], 0);
	/* The first MiB, with the rings, is untouched. */
	CU_ASSERT_EQUAL(vec[PFNS / 4096] & 1, 1);
	virtio_dev_fini(&b->vdev);
	virtio_balloon_free(b);
}

void suite_balloon(void)
{
	static const CU_TestInfo tests[] = {
		{ "page frame numbers", test_pfns },
		{ "statistics, queues, config space, targets",
		  test_stats_and_config },
		{ "inflating returns pages to the host",
		  test_inflate_returns_pages },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("virtio-balloon", tests);
}
