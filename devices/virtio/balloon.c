// SPDX-License-Identifier: MIT
/* virtio-balloon (virtio 1.x, 5.5): guest pages back to the host. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "balloon.h"
#include "iothread.h"
#include "log.h"
#include "memory.h"
#include "vm.h"

#define F(x) (1ULL << VIRTIO_BALLOON_F_##x)
#define Q_INFLATE 0
#define Q_DEFLATE 1

unsigned int balloon_pfns(const struct guest_mem *m, const struct iovec *iov,
			  unsigned int n, unsigned int *bad,
			  void (*fn)(void *opaque, uint8_t *hva), void *opaque)
{
	size_t total = 0, off;
	unsigned int i, taken = 0;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	*bad = total % 4 ? 1 : 0;
	for (off = 0; off + 4 <= total; off += 4) {
		uint32_t pfn;
		uint8_t *hva;

		iov_to_buf(iov, n, off, &pfn, 4);
		hva = guest_mem_hva(m, (uint64_t)le32toh(pfn) * BALLOON_PAGE,
				    BALLOON_PAGE);
		if (!hva) {
			(*bad)++;
			continue;
		}
		if (fn)
			fn(opaque, hva);
		taken++;
	}
	return taken;
}

void balloon_parse_stats(struct virtio_balloon *b, const struct iovec *iov,
			 unsigned int n)
{
	size_t total = 0, off;
	unsigned int i;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	/* Each {le16 tag; le64 value}, packed; unknown tags ignored. */
	for (off = 0; off + 10 <= total; off += 10) {
		uint8_t e[10];
		uint16_t tag;
		uint64_t v;

		iov_to_buf(iov, n, off, e, sizeof(e));
		memcpy(&tag, e, 2);
		memcpy(&v, e + 2, 8);
		tag = le16toh(tag);
		if (tag < BALLOON_NR_STATS) {
			b->stats[tag] = le64toh(v);
			b->stats_valid[tag] = true;
		}
	}
}

/* Pages given back, run by run: one madvise for contiguous pages. */
struct run {
	uint8_t *p;
	size_t len;
	uint64_t pages;
};

static void run_flush(struct run *r)
{
	if (!r->len)
		return;
	if (madvise(r->p, r->len, MADV_DONTNEED))
		pr_err("balloon: madvise: %s", strerror(errno));
	else
		r->pages += r->len / BALLOON_PAGE;
	r->len = 0;
}

static void run_add(void *opaque, uint8_t *hva)
{
	struct run *r = opaque;

	if (r->len && r->p + r->len == hva) {
		r->len += BALLOON_PAGE;
		return;
	}
	run_flush(r);
	r->p = hva;
	r->len = BALLOON_PAGE;
}

/* Inflate: the PFNs the guest gave up go back to the host. */
static uint32_t inflate_chain(void *dev, struct virtq_chain *c)
{
	struct virtio_balloon *b = dev;
	struct run r = { 0 };
	unsigned int bad;

	balloon_pfns(b->vdev.mem, c->out, c->n_out, &bad, run_add, &r);
	run_flush(&r);
	if (bad) {
		pr_guest("balloon: %u page numbers outside guest RAM: skipped",
			 bad);
		metric_add(&b->invalid_pfns, bad);
	}
	metric_add(&b->inflate_count, 1);
	metric_add(&b->pages_returned, r.pages);
	return 0;
}

/* Deflate: the guest takes pages back; they fault in when touched. */
static uint32_t deflate_chain(void *dev, struct virtq_chain *c)
{
	struct virtio_balloon *b = dev;
	unsigned int bad;

	balloon_pfns(b->vdev.mem, c->out, c->n_out, &bad, NULL, NULL);
	if (bad)
		metric_add(&b->invalid_pfns, bad);
	metric_add(&b->deflate_count, 1);
	return 0;
}

/* Free page reporting: each writable buffer is a free range. */
static uint32_t report_chain(void *dev, struct virtq_chain *c)
{
	struct virtio_balloon *b = dev;
	uint64_t pages = 0;
	unsigned int i;

	for (i = 0; i < c->n_in; i++) {
		uintptr_t s = (uintptr_t)c->in[i].iov_base,
			  e = s + c->in[i].iov_len;

		/* Whole pages only. */
		s = (s + BALLOON_PAGE - 1) & ~(uintptr_t)(BALLOON_PAGE - 1);
		e &= ~(uintptr_t)(BALLOON_PAGE - 1);
		if (e <= s)
			continue;
		if (madvise((void *)s, e - s, MADV_DONTNEED))
			pr_err("balloon: madvise: %s", strerror(errno));
		else
			pages += (e - s) / BALLOON_PAGE;
	}
	metric_add(&b->reported_count, 1);
	metric_add(&b->pages_returned, pages);
	return 0;
}

/* A stats buffer: read it, keep it until the next poll. */
static void stats_in(struct virtio_balloon *b)
{
	struct virtq *q = &b->vdev.vq[b->q_stats];
	int r;

	do {
		while ((r = virtq_pop(q, &b->chain)) != 0) {
			if (r == -EIO)
				return;
			if (r < 0) {
				virtq_push(q, b->chain.head, 0);
				virtio_dev_complete(&b->vdev, b->q_stats);
				continue;
			}
			balloon_parse_stats(b, b->chain.out, b->chain.n_out);
			metric_add(&b->stats_updates_count, 1);
			if (b->stats_held) {
				/* A second one: the first goes back unused. */
				virtq_push(q, b->stats_head, 0);
				virtio_dev_complete(&b->vdev, b->q_stats);
			}
			b->stats_held = true;
			b->stats_head = b->chain.head;
		}
	} while (virtq_enable_notify(q));
}

static void balloon_notify(void *dev, unsigned int qi)
{
	struct virtio_balloon *b = dev;

	if (qi == Q_INFLATE)
		virtio_dev_drain(&b->vdev, qi, &b->chain, inflate_chain);
	else if (qi == Q_DEFLATE)
		virtio_dev_drain(&b->vdev, qi, &b->chain, deflate_chain);
	else if ((int)qi == b->q_stats)
		stats_in(b);
	else if ((int)qi == b->q_report)
		virtio_dev_drain(&b->vdev, qi, &b->chain, report_chain);
}

/* The statistics timer: the held buffer goes back, the guest refills it
 * and returns it (I/O thread). */
static void stats_timer(void *opaque, uint32_t events)
{
	struct virtio_balloon *b = opaque;
	uint64_t n;

	(void)events;
	if (read(b->timer_fd, &n, sizeof(n)) < 0)
		return;
	virtio_dev_lock(&b->vdev);
	if (b->stats_held && b->q_stats >= 0 && virtio_dev_live(&b->vdev)) {
		virtq_push(&b->vdev.vq[b->q_stats], b->stats_head, 0);
		b->stats_held = false;
		virtio_dev_complete(&b->vdev, b->q_stats);
	}
	virtio_dev_unlock(&b->vdev);
}

static int balloon_activate(void *dev, uint64_t features)
{
	struct virtio_balloon *b = dev;
	int next = 2;

	/* The driver numbers the queues it uses, in the spec's order. */
	b->q_stats = features & F(STATS_VQ) ? next++ : -1;
	if (features & F(FREE_PAGE_HINT))
		next++;
	b->q_report = features & F(REPORTING) ? next++ : -1;
	return 0;
}

static void balloon_reset(void *dev)
{
	struct virtio_balloon *b = dev;

	b->stats_held = false;
	b->q_stats = b->q_report = -1;
	b->cfg.actual = 0;
}

static void balloon_config_read(void *dev, uint32_t off, uint8_t *data,
				uint32_t len)
{
	struct virtio_balloon *b = dev;

	if (off < sizeof(b->cfg) && len <= sizeof(b->cfg) - off)
		memcpy(data, (uint8_t *)&b->cfg + off, len);
}

/* The driver writes only actual, the pages it holds now. */
static void balloon_config_write(void *dev, uint32_t off, const uint8_t *data,
				 uint32_t len)
{
	struct virtio_balloon *b = dev;
	const uint32_t at = offsetof(struct virtio_balloon_config, actual);

	if (off >= at && len <= at + 4 - off && off - at < 4)
		memcpy((uint8_t *)&b->cfg.actual + (off - at), data, len);
	else
		pr_guest("balloon: a config write at %u (%u bytes) ignored",
			 off, len);
}

static const struct virtio_dev_ops balloon_ops = {
	.name = "virtio-balloon",
	.device_id = 5,
	.nr_queues = 4,
	.queue_max = BALLOON_QUEUE_SIZE,
	.config_read = balloon_config_read,
	.config_write = balloon_config_write,
	.activate = balloon_activate,
	.reset = balloon_reset,
	.notify = balloon_notify,
};

static uint64_t ram_pages_of(const struct guest_mem *m)
{
	uint64_t p = 0;
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		p += m->region[i].size / BALLOON_PAGE;
	return p;
}

/* The configuration's own check, against the RAM this VM has (at most
 * 1 TiB, so num_pages, 32 bits, always holds the target). */
static int check_target(const struct virtio_balloon *b, uint64_t mib, char *err,
			size_t errlen)
{
	return config_check_balloon(mib, b->ram_pages * BALLOON_PAGE, err,
				    errlen);
}

static void arm(struct virtio_balloon *b)
{
	struct itimerspec t = {
		.it_interval = { b->spec.stats_interval_s, 0 },
		.it_value = { b->spec.stats_interval_s, 0 },
	};

	if (b->timer_fd >= 0)
		timerfd_settime(b->timer_fd, 0, &t, NULL);
}

struct virtio_balloon *virtio_balloon_new(struct vm *vm,
					  const struct balloon_spec *s,
					  char *err, size_t errlen)
{
	struct virtio_balloon *b = calloc(1, sizeof(*b));
	uint64_t f = 0;

	if (!b) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	b->spec = *s;
	b->timer_fd = -1;
	b->q_stats = b->q_report = -1;
	b->ram_pages = ram_pages_of(&vm->mem);
	if (check_target(b, s->amount_mib, err, errlen)) {
		free(b);
		return NULL;
	}
	b->cfg.num_pages = htole32((uint32_t)(s->amount_mib * 256));
	if (s->deflate_on_oom)
		f |= F(DEFLATE_ON_OOM);
	if (s->stats_interval_s)
		f |= F(STATS_VQ);
	if (s->reporting)
		f |= F(REPORTING);
	virtio_dev_init(&b->vdev, &balloon_ops, b, f, &vm->mem, vm->io);
	if (s->stats_interval_s && vm->io) {
		b->timer_fd = timerfd_create(CLOCK_MONOTONIC,
					     TFD_NONBLOCK | TFD_CLOEXEC);
		if (b->timer_fd < 0 ||
		    iothread_add(vm->io, b->timer_fd, stats_timer, b)) {
			set_err(err, errlen, "balloon: cannot make its timer");
			virtio_dev_fini(&b->vdev);
			virtio_balloon_free(b);
			return NULL;
		}
		arm(b);
	}
	return b;
}

int virtio_balloon_set_target(struct virtio_balloon *b, uint64_t mib, char *err,
			      size_t errlen)
{
	if (check_target(b, mib, err, errlen))
		return -EINVAL;
	virtio_dev_lock(&b->vdev);
	b->spec.amount_mib = mib;
	b->cfg.num_pages = htole32((uint32_t)(mib * 256));
	virtio_dev_config_changed(&b->vdev);
	virtio_dev_unlock(&b->vdev);
	return 0;
}

int virtio_balloon_set_interval(struct virtio_balloon *b, unsigned int secs,
				char *err, size_t errlen)
{
	if (!b->spec.stats_interval_s || !secs) {
		set_err(err, errlen,
			"balloon: statistics can be neither turned on nor off once the VM runs: change stats_polling_interval_s to another number of seconds");
		return -EINVAL;
	}
	virtio_dev_lock(&b->vdev);
	b->spec.stats_interval_s = secs;
	virtio_dev_unlock(&b->vdev);
	arm(b);
	return 0;
}

bool virtio_balloon_stats(struct virtio_balloon *b, struct balloon_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!b->spec.stats_interval_s)
		return false;
	virtio_dev_lock(&b->vdev);
	out->target_pages = le32toh(b->cfg.num_pages);
	out->actual_pages = le32toh(b->cfg.actual);
	memcpy(out->v, b->stats, sizeof(out->v));
	memcpy(out->valid, b->stats_valid, sizeof(out->valid));
	virtio_dev_unlock(&b->vdev);
	return true;
}

void virtio_balloon_free(struct virtio_balloon *b)
{
	if (!b)
		return;
	if (b->timer_fd >= 0)
		close(b->timer_fd);
	free(b);
}

static void virtio_balloon_metrics(void *dev, metric_emit_fn emit, void *ctx)
{
	struct virtio_balloon *b = dev;

	emit(ctx, "inflate_count", &b->inflate_count);
	emit(ctx, "deflate_count", &b->deflate_count);
	emit(ctx, "stats_updates_count", &b->stats_updates_count);
	emit(ctx, "free_page_report_count", &b->reported_count);
	emit(ctx, "pages_returned", &b->pages_returned);
	emit(ctx, "invalid_pfns", &b->invalid_pfns);
}

VIRTIO_DEVICE_OPS_METRICS(virtio_balloon);
