// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "log.h"
#include "virtq.h"
#include "memory.h"

/* Guest-shared fields: read and written with single, ordered accesses. */
#define LOAD(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
#define STORE_REL(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_enable(const struct guest_mem *mem, struct virtq *q, uint16_t max)
{
	uint64_t n = q->num;
	/* The event fields sit after each ring (2.7.6, 2.7.8). */
	uint64_t desc_sz = 16 * n, avail_sz = 6 + 2 * n, used_sz = 6 + 8 * n;

	if (!n || n > max || (n & (n - 1)))
		return -EINVAL;
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	q->desc = guest_mem_hva(mem, q->desc_gpa, desc_sz);
	q->avail = guest_mem_hva(mem, q->avail_gpa, avail_sz);
	q->used = guest_mem_hva(mem, q->used_gpa, used_sz);
	if (!q->desc || !q->avail || !q->used)
		return -EINVAL;
	q->mem = mem;
	q->last_avail = 0;
	q->used_idx = 0;
	q->signalled = 0;
	q->broken = false;
	return 0;
}

/* Maps one descriptor's buffer into the chain. */
static int add_buf(const struct guest_mem *mem, struct virtq_chain *c,
		   const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	struct iovec *iov;
	void *hva;

	/* Readable buffers must all come before writable ones. */
	if (!writable && c->n_in)
		return -EINVAL;
	/* An empty buffer carries nothing: keep it out of the iovecs. */
	if (!d->len)
		return 0;
	hva = guest_mem_hva(mem, d->addr, d->len);
	if (!hva || c->n_out + c->n_in >= VIRTQ_MAX_CHAIN)
		return -EINVAL;
	if (writable) {
		iov = &c->in[c->n_in++];
		c->in_len += d->len;
	} else {
		iov = &c->out[c->n_out++];
		c->out_len += d->len;
	}
	iov->iov_base = hva;
	iov->iov_len = d->len;
	return 0;
}

static void bad_chain(const struct virtq *q, uint16_t head, const char *why)
{
	pr_guest("virtqueue: dropped request %u from the guest: %s", head, why);
	(void)q;
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	const struct vring_desc *table;
	unsigned int max, i, steps = 0;
	bool in_indirect = false;
	uint16_t avail_idx, head;

	if (!q->ready || q->broken)
		return 0;
	/* Acquire: ring entries up to idx are valid once idx is seen. */
	avail_idx = LOAD_ACQ(q->avail->idx);
	if (avail_idx == q->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - q->last_avail) > q->num) {
		pr_guest(
			"virtqueue: the guest claims %u new buffers in a queue of %u; ignoring the queue until reset",
			(uint16_t)(avail_idx - q->last_avail), q->num);
		q->broken = true;
		return -EIO;
	}
	head = LOAD(q->avail->ring[q->last_avail & (q->num - 1)]);
	q->last_avail++;

	c->head = head;
	c->n_out = c->n_in = 0;
	c->out_len = c->in_len = 0;
	if (head >= q->num) {
		bad_chain(q, head, "head index out of range");
		return -EINVAL;
	}
	table = q->desc;
	max = q->num;
	i = head;
	for (;;) {
		struct vring_desc d;

		/*
		 * Copy each descriptor once (the guest may be rewriting it);
		 * memcpy also copes with an indirect table the guest placed
		 * at an odd address.
		 */
		memcpy(&d, (const uint8_t *)table + (size_t)i * sizeof(d),
		       sizeof(d));
		__atomic_signal_fence(__ATOMIC_ACQ_REL);

		if (++steps > max) {
			bad_chain(q, head, "descriptor loop");
			return -EINVAL;
		}
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect || in_indirect) {
				bad_chain(
					q, head,
					in_indirect ?
						"nested indirect table" :
						"indirect descriptor not negotiated");
				return -EINVAL;
			}
			if (d.flags & VRING_DESC_F_NEXT || c->n_out ||
			    c->n_in) {
				bad_chain(q, head,
					  "indirect table inside a chain");
				return -EINVAL;
			}
			if (!d.len || d.len % sizeof(d) ||
			    d.len / sizeof(d) > VIRTQ_MAX_INDIRECT) {
				bad_chain(q, head, "bad indirect table length");
				return -EINVAL;
			}
			table = guest_mem_hva(q->mem, d.addr, d.len);
			if (!table) {
				bad_chain(q, head,
					  "indirect table outside RAM");
				return -EINVAL;
			}
			max = d.len / sizeof(d);
			in_indirect = true;
			steps = 0;
			i = 0;
			continue;
		}
		if (add_buf(q->mem, c, &d)) {
			bad_chain(q, head,
				  "buffer outside guest RAM or misordered");
			return -EINVAL;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 1;
		i = d.next;
		if (i >= max) {
			bad_chain(q, head, "next index out of range");
			return -EINVAL;
		}
	}
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->num - 1)];

	STORE(e->id, head);
	STORE(e->len, len);
	q->used_idx++;
}

void virtq_publish(struct virtq *q)
{
	/* Release: the used entries are visible before the new idx. */
	STORE_REL(q->used->idx, q->used_idx);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old = q->signalled, new = q->used_idx;

	/*
	 * Full barrier: our used->idx store must be visible before we read
	 * the driver's used_event/flags, or both sides can miss a wake-up.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		uint16_t event = LOAD(q->avail->ring[q->num]);

		q->signalled = new;
		return vring_need_event(event, new, old);
	}
	q->signalled = new;
	return !(LOAD(q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

bool virtq_enable_notify(struct virtq *q)
{
	if (!q->ready || q->broken)
		return false;
	if (q->event_idx)
		STORE(*(uint16_t *)&q->used->ring[q->num], q->last_avail);
	/* Same pairing as above, from the other side. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return LOAD_ACQ(q->avail->idx) != q->last_avail;
}

/*
 * Copies len bytes between a flat buffer and an iovec array, starting at
 * byte offset skip of the array; to_iov says which way. Returns the bytes
 * copied (fewer when the array ends first).
 */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t skip,
		       uint8_t *buf, size_t len, bool to_iov)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < n && done < len; i++) {
		uint8_t *base = iov[i].iov_base;
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len - done)
			l = len - done;
		if (to_iov)
			memcpy(base + skip, buf + done, l);
		else
			memcpy(buf + done, base + skip, l);
		done += l;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip,
		  void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

size_t buf_to_iov(const struct iovec *iov, unsigned int n, size_t skip,
		  const void *buf, size_t len)
{
	/* Only read from buf in this direction. */
	return iov_copy(iov, n, skip, (uint8_t *)buf, len, true);
}

unsigned int iov_slice(const struct iovec *iov, unsigned int n, size_t skip,
		       size_t len, struct iovec *dst)
{
	unsigned int i, k = 0;

	for (i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		dst[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		dst[k].iov_len = l < len ? l : len;
		len -= dst[k].iov_len;
		skip = 0;
		k++;
	}
	return k;
}
