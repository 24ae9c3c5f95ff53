// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "device.h"
#include "event.h"
#include "unit.h"
#include "vm.h"

/* Every pair of states: which moves are allowed, and the refusals' words. */
static void test_state_transitions(void)
{
	static const bool allowed[4][4] = {
		/* to:        not started, running, paused, stopped */
		[VM_STATE_NOT_STARTED] = { false, true, false, true },
		[VM_STATE_RUNNING] = { false, false, true, true },
		[VM_STATE_PAUSED] = { false, true, false, true },
		[VM_STATE_STOPPED] = { false, false, false, false },
	};
	char err[200];
	int from, to;

	for (from = 0; from < 4; from++)
		for (to = 0; to < 4; to++) {
			err[0] = 0;
			int r = vm_state_check(from, to, err, sizeof(err));

			CU_ASSERT_EQUAL(r, allowed[from][to] ? 0 : -EINVAL);
			if (r) {
				/* Both states are named. */
				CU_ASSERT_PTR_NOT_NULL(
					strstr(err, vm_state_name(from)));
				CU_ASSERT_PTR_NOT_NULL(
					strstr(err, vm_state_name(to)));
			} else {
				CU_ASSERT_EQUAL(err[0], 0);
			}
		}
	vm_state_check(VM_STATE_NOT_STARTED, VM_STATE_PAUSED, err, sizeof(err));
	CU_ASSERT_STRING_EQUAL(
		err,
		"cannot pause a VM that is not started (the move from 'Not started' to 'Paused' is not allowed)");
	CU_ASSERT_EQUAL(vm_state_check(7, VM_STATE_RUNNING, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(vm_state_name(VM_STATE_RUNNING), "Running");
}

static char order[64];

static void rec_destroy(void *dev)
{
	size_t n = strlen(order);

	order[n] = *(const char *)dev;
	order[n + 1] = 0;
}

static const struct device_ops rec_ops = { .destroy = rec_destroy };

static int slot(unsigned int idx, uint64_t *base, uint32_t *irq)
{
	if (idx >= 3)
		return -ENOSPC;
	*base = 0x1000 + 0x100 * idx;
	*irq = 5 + idx;
	return 0;
}

static void test_device_list(void)
{
	static struct device_list l; /* large: not on the stack */
	struct virtio_dev *t = (struct virtio_dev *)&l; /* any non-NULL */
	static const char names[] = "abcde";
	struct device *d;

	memset(&l, 0, sizeof(l));
	order[0] = 0;
	/* a: virtio, b: platform, c d: virtio; names made by kind. */
	CU_ASSERT_PTR_NOT_NULL(device_add(&l, "virtio-blk", NULL, &rec_ops,
					  (void *)&names[0], t));
	CU_ASSERT_PTR_NOT_NULL(device_add(&l, "uart", "serial", &rec_ops,
					  (void *)&names[1], NULL));
	CU_ASSERT_PTR_NOT_NULL(device_add(&l, "virtio-blk", NULL, &rec_ops,
					  (void *)&names[2], t));
	CU_ASSERT_PTR_NOT_NULL(device_add(&l, "virtio-net", NULL, &rec_ops,
					  (void *)&names[3], t));
	/* A taken name is refused. */
	CU_ASSERT_PTR_NULL(
		device_add(&l, "uart", "serial", &rec_ops, NULL, NULL));
	CU_ASSERT_EQUAL(l.nr, 4);
	CU_ASSERT_STRING_EQUAL(l.dev[0].name, "virtio-blk0");
	CU_ASSERT_STRING_EQUAL(l.dev[2].name, "virtio-blk1");
	CU_ASSERT_STRING_EQUAL(l.dev[3].name, "virtio-net0");
	CU_ASSERT_PTR_EQUAL(device_find(&l, "serial"), &l.dev[1]);
	CU_ASSERT_PTR_NULL(device_find(&l, "nope"));

	/* Slots in list order, virtio devices only. */
	CU_ASSERT_EQUAL(device_list_place(&l, slot), 0);
	CU_ASSERT_EQUAL(l.dev[0].base, 0x1000);
	CU_ASSERT_EQUAL(l.dev[0].irq, 5);
	CU_ASSERT_FALSE(l.dev[1].placed);
	CU_ASSERT_EQUAL(l.dev[2].base, 0x1100);
	CU_ASSERT_EQUAL(l.dev[2].irq, 6);
	CU_ASSERT_EQUAL(l.dev[3].base, 0x1200);
	CU_ASSERT_EQUAL(l.dev[3].irq, 7);
	/* Placing again keeps what was given; a fourth finds no slot. */
	d = device_add(&l, "virtio-rng", NULL, &rec_ops, (void *)&names[4], t);
	CU_ASSERT_PTR_NOT_NULL(d);
	CU_ASSERT_EQUAL(device_list_place(&l, slot), -ENOSPC);
	CU_ASSERT_EQUAL(l.dev[3].base, 0x1200);
	CU_ASSERT_FALSE(d->placed);

	/* Teardown: the last registered first. */
	device_list_destroy(&l);
	CU_ASSERT_STRING_EQUAL(order, "edcba");
	CU_ASSERT_EQUAL(l.nr, 0);
}

static void test_device_list_full(void)
{
	static struct device_list l;
	unsigned int i;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < DEVICE_MAX; i++)
		CU_ASSERT_PTR_NOT_NULL(
			device_add(&l, "x", NULL, NULL, NULL, NULL));
	CU_ASSERT_PTR_NULL(device_add(&l, "x", NULL, NULL, NULL, NULL));
	device_list_destroy(&l); /* no ops: nothing to call */
	CU_ASSERT_EQUAL(l.nr, 0);
}

static int hits[8];
static struct evloop loop;

static void on_ev(void *opaque, int fd, uint32_t events)
{
	uint64_t v;
	int i = (int)(long)opaque;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* counted anyway */
	}
	hits[i]++;
}

/* A handler that removes another source, and itself. */
static int efd[3];
static void on_remover(void *opaque, int fd, uint32_t events)
{
	(void)opaque;
	(void)events;
	hits[2]++;
	evloop_del(&loop, efd[1]);
	evloop_del(&loop, fd);
}

static void test_evloop(void)
{
	uint64_t one = 1;
	int i;

	memset(hits, 0, sizeof(hits));
	CU_ASSERT_EQUAL_FATAL(evloop_init(&loop), 0);
	for (i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_NONBLOCK);
	CU_ASSERT_EQUAL(evloop_add(&loop, efd[0], EPOLLIN, on_ev, (void *)0L),
			0);
	CU_ASSERT_EQUAL(evloop_add(&loop, efd[0], EPOLLIN, on_ev, (void *)0L),
			-EEXIST);
	CU_ASSERT_EQUAL(evloop_add(&loop, -1, EPOLLIN, on_ev, NULL), -EBADF);
	CU_ASSERT_EQUAL(evloop_run_once(&loop, 0), 0);
	CU_ASSERT_EQUAL(write(efd[0], &one, 8), 8);
	CU_ASSERT_EQUAL(evloop_run_once(&loop, 0), 1);
	CU_ASSERT_EQUAL(hits[0], 1);
	/* Out of the set and back. */
	CU_ASSERT_EQUAL(evloop_mod(&loop, efd[0], 0), 0);
	CU_ASSERT_EQUAL(write(efd[0], &one, 8), 8);
	CU_ASSERT_EQUAL(evloop_run_once(&loop, 0), 0);
	CU_ASSERT_EQUAL(evloop_mod(&loop, efd[0], EPOLLIN), 0);
	CU_ASSERT_EQUAL(evloop_run_once(&loop, 0), 1);
	CU_ASSERT_EQUAL(hits[0], 2);
	/* Removed from inside a dispatch, both ready in the same batch. */
	CU_ASSERT_EQUAL(evloop_add(&loop, efd[1], EPOLLIN, on_ev, (void *)1L),
			0);
	CU_ASSERT_EQUAL(evloop_add(&loop, efd[2], EPOLLIN, on_remover, NULL),
			0);
	CU_ASSERT_EQUAL(write(efd[1], &one, 8), 8);
	CU_ASSERT_EQUAL(write(efd[2], &one, 8), 8);
	evloop_run_once(&loop, 0);
	CU_ASSERT_EQUAL(hits[2], 1);
	CU_ASSERT_FALSE(evloop_has(&loop, efd[1]));
	CU_ASSERT_FALSE(evloop_has(&loop, efd[2]));
	CU_ASSERT_TRUE(evloop_has(&loop, efd[0]));
	CU_ASSERT_EQUAL(loop.nr, 1);
	/* And nothing of theirs runs after. */
	CU_ASSERT_EQUAL(evloop_run_once(&loop, 0), 0);
	evloop_fini(&loop);
	for (i = 0; i < 3; i++)
		close(efd[i]);
}

void suite_lifecycle(void)
{
	static const CU_TestInfo tests[] = {
		{ "state transitions", test_state_transitions },
		{ "device list: slots, names, reverse teardown",
		  test_device_list },
		{ "device list full", test_device_list_full },
		{ "event loop: add, remove, remove while dispatching",
		  test_evloop },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("lifecycle", tests);
}
