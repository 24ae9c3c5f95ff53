// SPDX-License-Identifier: MIT
/*
 * hostile: a guest program that attacks kiln's virtio-mmio devices the way a
 * guest kernel taken over by an attacker could. Run as root inside a kiln
 * guest (the e2e suite runs it through `kiln run --disk IMG --share
 * DIR:/hostile -- hostile`): the first virtio-blk disk and the 9P share
 * kiln.share.0, which it unmounts from /hostile first.
 *
 *   hostile [--flood N]
 *
 * It unbinds each target from its guest driver, maps the device registers
 * through /dev/mem and builds its own rings in pages whose guest-physical
 * addresses it reads from /proc/self/pagemap. Attacks: odd-sized and
 * unmapped register accesses, feature bits never offered, QUEUE_SEL and
 * QueueNotify beyond the queue count, rings outside RAM or unaligned,
 * descriptor loops, buffers beyond RAM or wrapping the address space, huge
 * lengths, bad indirect tables, an avail index far ahead, resets with
 * requests in flight, and 9P messages with bad sizes and fids. After each,
 * the device must still serve a well-formed request after a reset. Prints
 * "hostile: PASS ..." and exits 0 when kiln held; non-zero otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* kiln's virtio-mmio slots (arch/<arch>/layout.h). */
#ifdef __aarch64__
#define MMIO_BASE 0x0a000000ULL
#else
#define MMIO_BASE 0xd0000000ULL
#endif
#define MMIO_SLOTS 32
#define PAGE 4096
#define QSZ 16

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEAT 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_AVAIL_LO 0x090
#define R_AVAIL_HI 0x094
#define R_USED_LO 0x0a0
#define R_USED_HI 0x0a4
#define R_CONFIG 0x100

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* A page of our own, and its guest-physical address. */
struct page {
	uint8_t *va;
	uint64_t pa;
};

struct dev {
	volatile uint8_t *r;
	uint64_t base;
	uint32_t id;
	char name[64]; /* the platform device, for unbinding */
	struct page desc, avail, used, buf[4];
	uint16_t avail_idx, used_seen;
};

static int failures;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("hostile: FAIL ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	failures++;
}

static void die(const char *what)
{
	printf("hostile: cannot %s: %s\n", what, strerror(errno));
	exit(2);
}

static struct page page_new(void)
{
	static int pm = -1;
	struct page p;
	uint64_t e;

	if (pm < 0 && (pm = open("/proc/self/pagemap", O_RDONLY)) < 0)
		die("open /proc/self/pagemap");
	p.va = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1,
		    0);
	if (p.va == MAP_FAILED)
		die("map a locked page");
	memset(p.va, 0, PAGE);
	if (pread(pm, &e, 8, (uintptr_t)p.va / PAGE * 8) != 8)
		die("read pagemap");
	if (!(e >> 63) || !(e & ((1ULL << 55) - 1))) {
		errno = EPERM;
		die("learn a page's physical address");
	}
	p.pa = (e & ((1ULL << 55) - 1)) * PAGE;
	return p;
}

static uint32_t rd(struct dev *d, uint32_t off)
{
	return *(volatile uint32_t *)(d->r + off);
}

static void wr(struct dev *d, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(d->r + off) = v;
}

/* The platform device whose registers start at base, from /proc/iomem. */
static void find_name(struct dev *d)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[256];

	d->name[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start;
		char *name = strstr(line, " : ");

		if (sscanf(line, " %llx-", &start) == 1 && start == d->base &&
		    name) {
			snprintf(d->name, sizeof(d->name), "%s", name + 3);
			/* "a000000.virtio_mmio virtio_mmio@a000000" on a
			 * device tree: the device's name comes first. */
			d->name[strcspn(d->name, " \n")] = 0;
			break;
		}
	}
	fclose(f);
}

static void unbind(struct dev *d)
{
	int fd = open("/sys/bus/platform/drivers/virtio-mmio/unbind", O_WRONLY);

	if (fd < 0 || !d->name[0] || write(fd, d->name, strlen(d->name)) < 0)
		printf("hostile: note: could not unbind %s (%s)\n", d->name,
		       strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Finds a device by ID (and, for 9P, by mount tag). */
static int find_dev(int memfd, uint32_t id, const char *tag, struct dev *d)
{
	unsigned int i;

	for (i = 0; i < MMIO_SLOTS; i++) {
		uint64_t base = MMIO_BASE + i * 0x1000ULL;
		volatile uint8_t *r = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
					   MAP_SHARED, memfd, base);

		if (r == MAP_FAILED)
			die("map the device registers through /dev/mem");
		memset(d, 0, sizeof(*d));
		d->r = r;
		d->base = base;
		if (rd(d, R_MAGIC) != 0x74726976 || rd(d, R_DEVICE_ID) != id) {
			munmap((void *)r, PAGE);
			continue;
		}
		if (tag) {
			uint16_t n = r[R_CONFIG] | r[R_CONFIG + 1] << 8;
			char t[64] = "";
			unsigned int k;

			for (k = 0; k < n && k < sizeof(t) - 1; k++)
				t[k] = r[R_CONFIG + 2 + k];
			if (strcmp(t, tag)) {
				munmap((void *)r, PAGE);
				continue;
			}
		}
		d->id = id;
		find_name(d);
		d->desc = page_new();
		d->avail = page_new();
		d->used = page_new();
		for (i = 0; i < 4; i++)
			d->buf[i] = page_new();
		return 0;
	}
	return -1;
}

/* A well-behaved driver's set-up of queue 0. Returns 0 when it took. */
static int setup(struct dev *d)
{
	uint32_t f;

	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, 1);
	wr(d, R_STATUS, 3);
	for (f = 0; f < 2; f++) {
		wr(d, R_DEV_FEAT_SEL, f);
		wr(d, R_DRV_FEAT_SEL, f);
		/* VERSION_1 only: no event index, no indirect unless asked. */
		wr(d, R_DRV_FEAT, f == 1 ? 1 : 0);
	}
	wr(d, R_STATUS, 0xb);
	if (!(rd(d, R_STATUS) & 8))
		return -1;
	memset(d->desc.va, 0, PAGE);
	memset(d->avail.va, 0, PAGE);
	memset(d->used.va, 0, PAGE);
	d->avail_idx = d->used_seen = 0;
	wr(d, R_QUEUE_SEL, 0);
	wr(d, R_QUEUE_NUM, QSZ);
	wr(d, R_DESC_LO, d->desc.pa);
	wr(d, R_DESC_HI, d->desc.pa >> 32);
	wr(d, R_AVAIL_LO, d->avail.pa);
	wr(d, R_AVAIL_HI, d->avail.pa >> 32);
	wr(d, R_USED_LO, d->used.pa);
	wr(d, R_USED_HI, d->used.pa >> 32);
	wr(d, R_QUEUE_READY, 1);
	if (rd(d, R_QUEUE_READY) != 1)
		return -1;
	wr(d, R_STATUS, 0xf);
	return rd(d, R_STATUS) == 0xf ? 0 : -1;
}

static struct desc *dt(struct dev *d)
{
	return (struct desc *)d->desc.va;
}

/* Offers the chain at head and notifies queue q (0 unless attacking). */
static void offer(struct dev *d, uint16_t head, uint32_t q)
{
	volatile uint16_t *avail = (volatile uint16_t *)d->avail.va;

	avail[2 + d->avail_idx % QSZ] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail[1] = ++d->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(d, R_QUEUE_NOTIFY, q);
}

/* Waits for the next used entry; its length, or -1 after 3 s. */
static long wait_used(struct dev *d)
{
	volatile uint16_t *used = (volatile uint16_t *)d->used.va;
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < 3000; i++) {
		if (used[1] != d->used_seen) {
			uint32_t len = *(
				volatile uint32_t *)(d->used.va + 4 +
						     8 * (d->used_seen % QSZ) +
						     4);

			d->used_seen++;
			wr(d, R_INT_ACK, rd(d, R_INT_STATUS));
			return len;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* ---- virtio-blk ---- */

struct blk_req {
	uint32_t type, reserved;
	uint64_t sector;
};

/* One request: header, data, status. Returns the status byte or -1. */
static int blk_io(struct dev *d, uint32_t type, uint64_t sector, int write)
{
	struct blk_req *h = (struct blk_req *)d->buf[0].va;
	struct desc *t = dt(d);
	uint8_t *st = d->buf[2].va;

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	*st = 0xee;
	t[0] = (struct desc){ d->buf[0].pa, 16, F_NEXT, 1 };
	t[1] = (struct desc){ d->buf[1].pa, 512, F_NEXT | (write ? 0 : F_WRITE),
			      2 };
	t[2] = (struct desc){ d->buf[2].pa, 1, F_WRITE, 0 };
	offer(d, 0, 0);
	if (wait_used(d) < 0)
		return -1;
	return *st;
}

/* The device still works: a fresh set-up, a write, a read back. */
static void blk_check(struct dev *d, const char *after)
{
	static unsigned int n;
	char pat[32];

	if (setup(d)) {
		fail("blk: set-up refused after %s", after);
		return;
	}
	snprintf(pat, sizeof(pat), "kiln-hostile-%u", ++n);
	memset(d->buf[1].va, 0, 512);
	strcpy((char *)d->buf[1].va, pat);
	if (blk_io(d, 1, 8, 1) != 0) {
		fail("blk: write failed after %s", after);
		return;
	}
	memset(d->buf[1].va, 0, 512);
	if (blk_io(d, 0, 8, 0) != 0 || strcmp((char *)d->buf[1].va, pat))
		fail("blk: read back failed after %s", after);
}

/* A chain the device must refuse (or fail) without touching the host. */
static void bad_chain(struct dev *d, const char *what, struct desc *c,
		      unsigned int n)
{
	unsigned int i;

	if (setup(d)) {
		fail("blk: set-up refused before %s", what);
		return;
	}
	for (i = 0; i < n; i++)
		dt(d)[i] = c[i];
	offer(d, 0, 0);
	/* Refused chains are returned used with length 0, or dropped. */
	wait_used(d);
	blk_check(d, what);
}

/*
 * One plain 64-bit load: not a post-indexed one the compiler would pick in
 * a loop, which an Arm CPU cannot describe to the hypervisor (see
 * attack_undescribed_access).
 */
static __attribute__((noinline)) uint64_t rd64(volatile uint8_t *r,
					       unsigned int off)
{
	return *(volatile uint64_t *)(r + off);
}

/*
 * A register access with writeback (a post-indexed load on aarch64): the
 * CPU gives no syndrome for it, so no VMM can emulate it. kiln must refuse
 * it with an external abort, which the guest kernel turns into SIGBUS for
 * this process, and run on. Done in a child that is expected to die so.
 */
static void attack_undescribed_access(struct dev *d, const char *who)
{
#ifdef __aarch64__
	volatile uint8_t *p = d->r;
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		uint64_t v;

		__asm__ volatile("ldr %0, [%1], #8"
				 : "=r"(v), "+r"(p)::"memory");
		(void)v;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		die("fork a child for the undescribed access");
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGBUS)
		fail("%s: a post-indexed register load did not end in SIGBUS (status 0x%x)",
		     who, status);
#else
	(void)d;
	(void)who;
#endif
}

static void attack_transport(struct dev *d, const char *who)
{
	volatile uint8_t *r = d->r;
	uint64_t v8;
	unsigned int off;

	/* Odd sizes everywhere, unmapped offsets, beyond the config. */
	for (off = 0; off < 0x200; off += 1) {
		(void)r[off];
		if (off % 2 == 0)
			(void)*(volatile uint16_t *)(r + off);
	}
	for (off = 0; off < 0x1000; off += 8)
		v8 = rd64(r, off);
	(void)v8;
	for (off = 0x0c0; off < 0x100; off += 4)
		wr(d, off, 0xffffffff);
	*(volatile uint16_t *)(r + R_STATUS) = 0xf;
	*(volatile uint8_t *)(r + R_QUEUE_SEL) = 0xff;
	*(volatile uint64_t *)(r + R_DESC_LO) = ~0ULL;
	for (off = R_CONFIG; off < 0x1000; off += 4)
		wr(d, off, 0xdeadbeef);
	attack_undescribed_access(d, who);

	/* Feature bits never offered: every bit, every select. */
	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, 3);
	for (off = 0; off < 8; off++) {
		wr(d, R_DRV_FEAT_SEL, off);
		wr(d, R_DRV_FEAT, 0xffffffff);
	}
	wr(d, R_STATUS, 0xb);
	/* Legacy (no VERSION_1): FEATURES_OK must not stick. */
	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, 3);
	wr(d, R_DRV_FEAT_SEL, 1);
	wr(d, R_DRV_FEAT, 0);
	wr(d, R_STATUS, 0xb);
	if (rd(d, R_STATUS) & 8)
		fail("%s: FEATURES_OK accepted without VERSION_1", who);
	/* DRIVER_OK before FEATURES_OK, and clearing bits without reset. */
	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, 7);
	wr(d, R_STATUS, 1);

	/* Queues that do not exist. */
	wr(d, R_STATUS, 0);
	wr(d, R_STATUS, 3);
	wr(d, R_DRV_FEAT_SEL, 1);
	wr(d, R_DRV_FEAT, 1);
	wr(d, R_STATUS, 0xb);
	for (off = 1; off < 64; off += 7) {
		wr(d, R_QUEUE_SEL, off * 1000);
		if (rd(d, R_QUEUE_NUM_MAX) != 0)
			fail("%s: queue %u exists", who, off * 1000);
		wr(d, R_QUEUE_NUM, QSZ);
		wr(d, R_DESC_LO, d->desc.pa);
		wr(d, R_QUEUE_READY, 1);
		wr(d, R_QUEUE_NOTIFY, off * 1000);
	}
	/* Rings outside RAM, wrapping, unaligned; sizes not a power of 2. */
	{
		static const uint64_t bad[] = {
			0xfffffffffffff000ULL, 1ULL << 40, MMIO_BASE,
			3, /* unaligned */
		};

		for (off = 0; off < 4; off++) {
			wr(d, R_QUEUE_SEL, 0);
			wr(d, R_QUEUE_NUM, off == 3 ? 13 : QSZ);
			wr(d, R_DESC_LO, bad[off]);
			wr(d, R_DESC_HI, bad[off] >> 32);
			wr(d, R_AVAIL_LO, d->avail.pa + (off == 3));
			wr(d, R_AVAIL_HI, 0);
			wr(d, R_USED_LO, d->used.pa);
			wr(d, R_USED_HI, 0);
			wr(d, R_QUEUE_READY, 1);
			if (rd(d, R_QUEUE_READY))
				fail("%s: accepted a ring at 0x%llx", who,
				     (unsigned long long)bad[off]);
			wr(d, R_QUEUE_NOTIFY, 0);
		}
	}
	/* Queue set-up after DRIVER_OK must not move a live ring. */
	if (!setup(d)) {
		wr(d, R_QUEUE_SEL, 0);
		wr(d, R_DESC_LO, 0xfff00000);
		wr(d, R_QUEUE_READY, 0);
	}
}

static void attack_blk(struct dev *d, unsigned int flood)
{
	uint64_t huge = 0xfffffffffffff000ULL;
	unsigned int i;

	attack_transport(d, "blk");
	blk_check(d, "the transport attacks");

	{
		struct desc c[] = {
			{ d->buf[0].pa, 16, F_NEXT, 1 },
			{ d->buf[1].pa, 512, F_NEXT | F_WRITE, 0 }, /* loop */
		};
		bad_chain(d, "a descriptor loop", c, 2);
	}
	{
		struct desc c[] = {
			{ d->buf[0].pa, 16, F_NEXT, 1 },
			{ 1ULL << 40, 512, F_NEXT | F_WRITE, 2 },
			{ d->buf[2].pa, 1, F_WRITE, 0 },
		};
		bad_chain(d, "a buffer beyond RAM", c, 3);
	}
	{
		struct desc c[] = {
			{ d->buf[0].pa, 16, F_NEXT, 1 },
			{ huge, 0x2000, F_NEXT | F_WRITE, 2 },
			{ d->buf[2].pa, 1, F_WRITE, 0 },
		};
		bad_chain(d, "a buffer wrapping the address space", c, 3);
	}
	{
		struct desc c[] = {
			{ d->buf[0].pa, 16, F_NEXT, 1 },
			{ d->buf[1].pa, 0xffffffff, F_NEXT | F_WRITE, 2 },
			{ d->buf[2].pa, 1, F_WRITE, 0 },
		};
		bad_chain(d, "a 4 GiB buffer", c, 3);
	}
	{
		struct desc c[] = {
			{ d->buf[0].pa, 16, F_NEXT, 99 }, /* next beyond */
		};
		bad_chain(d, "a next index beyond the queue", c, 1);
	}
	{
		/* Indirect tables: not offered; then odd size, out of RAM. */
		struct desc c[] = {
			{ d->buf[3].pa, 40, F_INDIRECT, 0 },
		};
		bad_chain(d, "an indirect table never negotiated", c, 1);
		c[0].addr = 1ULL << 41;
		bad_chain(d, "an indirect table beyond RAM", c, 1);
	}
	{
		/* A request for a sector far beyond the disk. */
		if (!setup(d) && blk_io(d, 0, 1ULL << 60, 0) == 0)
			fail("blk: read beyond the disk succeeded");
		blk_check(d, "a read beyond the disk");
	}
	/* The avail index far ahead of the ring. */
	if (!setup(d)) {
		((volatile uint16_t *)d->avail.va)[1] = 1000;
		wr(d, R_QUEUE_NOTIFY, 0);
		wait_used(d);
	}
	blk_check(d, "an avail index 1000 ahead");
	/* Resets with requests in flight. */
	for (i = 0; i < 50; i++) {
		if (setup(d))
			break;
		blk_io(d, 1, i, 1);
		offer(d, 0, 0);
		wr(d, R_STATUS, 0);
	}
	blk_check(d, "resets with requests in flight");
	/* A flood of bad requests: kiln's log must stay bounded. */
	if (!setup(d)) {
		struct desc c = { 1ULL << 40, 16, 0, 0 };

		for (i = 0; i < flood; i++) {
			dt(d)[i % QSZ] = c;
			offer(d, i % QSZ, 0);
			if (i % QSZ == QSZ - 1)
				while (wait_used(d) >= 0 &&
				       d->used_seen != d->avail_idx)
					;
		}
		while (d->used_seen != d->avail_idx && wait_used(d) >= 0)
			;
		/* Long enough for the limiter to let one line through. */
		sleep(1);
		dt(d)[0] = c;
		offer(d, 0, 0);
		wait_used(d);
	}
	blk_check(d, "a flood of bad requests");
}

/* ---- virtio-9p ---- */

/* Sends a 9P message (size field as given), returns the reply type. */
static int p9_send(struct dev *d, const uint8_t *msg, uint32_t len,
		   uint32_t out_len)
{
	struct desc *t = dt(d);
	long got;

	memset(d->buf[1].va, 0, PAGE);
	memcpy(d->buf[0].va, msg, len);
	t[0] = (struct desc){ d->buf[0].pa, out_len, F_NEXT, 1 };
	t[1] = (struct desc){ d->buf[1].pa, PAGE, F_WRITE, 0 };
	offer(d, 0, 0);
	got = wait_used(d);
	return got >= 7 ? d->buf[1].va[4] : -1;
}

static uint32_t p9_msg(uint8_t *m, uint8_t type, const void *body,
		       uint32_t blen)
{
	uint32_t size = 7 + blen;

	memcpy(m, &size, 4);
	m[4] = type;
	m[5] = 1;
	m[6] = 0;
	memcpy(m + 7, body, blen);
	return size;
}

static void p9_check(struct dev *d, const char *after)
{
	uint8_t m[64], body[32] = { 0 };
	uint32_t msize = 8192, n;

	if (setup(d)) {
		fail("9p: set-up refused after %s", after);
		return;
	}
	memcpy(body, &msize, 4);
	body[4] = 8;
	memcpy(body + 6, "9P2000.L", 8);
	n = p9_msg(m, 100, body, 14);
	if (p9_send(d, m, n, n) != 101)
		fail("9p: no Rversion after %s", after);
}

static void attack_9p(struct dev *d)
{
	uint8_t m[256], body[64];
	uint32_t n, v;
	unsigned int i;

	attack_transport(d, "9p");
	p9_check(d, "the transport attacks");
	/* Sizes: below the header, above the buffer, above msize. */
	for (i = 0; i < 4; i++) {
		static const uint32_t sizes[] = { 0, 3, 0x7fffffff, 1 << 20 };

		n = p9_msg(m, 100, "", 0);
		memcpy(m, &sizes[i], 4);
		p9_send(d, m, n, n);
	}
	p9_check(d, "bad message sizes");
	/* Bad fids: walk, open, read and clunk of fids never attached. */
	memset(body, 0, sizeof(body));
	v = 0xdeadbeef;
	memcpy(body, &v, 4);
	for (i = 0; i < 4; i++) {
		static const uint8_t types[] = { 110, 12, 116, 120 };

		n = p9_msg(m, types[i], body, 24);
		if (p9_send(d, m, n, n) != 7)
			fail("9p: type %u on a bad fid was not an Rlerror",
			     types[i]);
	}
	/* An unknown type, and a message cut short. */
	n = p9_msg(m, 222, body, 8);
	p9_send(d, m, n, n);
	n = p9_msg(m, 24, body, 2);
	p9_send(d, m, n, n);
	p9_check(d, "bad fids and types");
}

int main(int argc, char **argv)
{
	unsigned int flood = 2000;
	struct dev blk, p9;
	int memfd;

	if (argc == 3 && !strcmp(argv[1], "--flood"))
		flood = atoi(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memfd = open("/dev/mem", O_RDWR | O_SYNC);
	if (memfd < 0)
		die("open /dev/mem (a kernel with CONFIG_DEVMEM)");
	if (find_dev(memfd, 2, NULL, &blk))
		die("find a virtio-blk device");
	if (find_dev(memfd, 9, "kiln.share.0", &p9))
		die("find the virtio-9p device of the first share");
	/* A mounted 9P device cannot be unbound. */
	if (umount("/hostile"))
		printf("hostile: note: umount /hostile: %s\n", strerror(errno));
	unbind(&blk);
	unbind(&p9);
	printf("hostile: blk at 0x%llx (%s), 9p at 0x%llx (%s)\n",
	       (unsigned long long)blk.base, blk.name,
	       (unsigned long long)p9.base, p9.name);
	attack_blk(&blk, flood);
	attack_9p(&p9);
	wr(&blk, R_STATUS, 0);
	wr(&p9, R_STATUS, 0);
	if (failures) {
		printf("hostile: %d checks failed\n", failures);
		return 1;
	}
	printf("hostile: PASS every attack refused, both devices still work\n");
	return 0;
}
