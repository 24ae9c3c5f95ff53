/* SPDX-License-Identifier: MIT */
#ifndef KILN_DEVICE_H
#define KILN_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

/*
 * The VM's devices, one list: each is registered once, in creation order;
 * virtio-mmio windows and interrupt lines are given in that order, and
 * teardown walks it backwards. A new device kind is a device model file
 * plus one registration line, nothing in struct vm.
 */

struct virtio_dev;

#define DEVICE_NAME_MAX 72

struct device_ops {
	/* Back to power-on state (a guest reset is the transport's). */
	void (*reset)(void *dev);
	/* Work in flight is finished or held: no guest memory written and no
	 * interrupt raised until resume. NULL: the I/O thread's pause is
	 * enough (all its work runs there). */
	void (*pause)(void *dev);
	void (*resume)(void *dev);
	/* Releases the device: its transport first, then the model. */
	void (*destroy)(void *dev);
	/* Its counters, one emit each (NULL: none). */
	void (*metrics)(void *dev, metric_emit_fn emit, void *ctx);
};

struct device {
	/* Unique: "virtio-blk0", "drive-rootfs" (a drive's id has up to 63
	 * characters), ... */
	char name[DEVICE_NAME_MAX];
	const char *kind; /* "virtio-blk", "virtio-net", ... */
	const struct device_ops *ops;
	void *dev; /* the model */
	struct virtio_dev *virtio; /* its virtio device, or NULL */
	/* The transport the core put in front of it, freed first. */
	void *transport;
	void (*transport_free)(void *transport);
	/* Given by device_list_place(): */
	uint64_t base;
	uint32_t irq;
	bool placed;
};

#define DEVICE_MAX 48

struct device_list {
	struct device dev[DEVICE_MAX];
	unsigned int nr;
};

/*
 * Appends a device; name is made unique by its kind and the count of that
 * kind so far when NULL. Returns the entry, or NULL when the list is full
 * or the name is taken.
 */
struct device *device_add(struct device_list *l, const char *kind,
			  const char *name, const struct device_ops *ops,
			  void *dev, struct virtio_dev *virtio);
/*
 * The device name of a drive or NIC given an id by the configuration
 * ("drive-ID", "iface-ID": the API finds them by it), into buf.
 */
void device_id_name(char *buf, const char *prefix, const char *id);

/* The device called name, or NULL. */
struct device *device_find(struct device_list *l, const char *name);

/*
 * Gives each virtio device not yet placed, in list order, the window and
 * interrupt line slot(index) says, index counting virtio devices from 0.
 * Returns 0, or slot's error (the devices after it stay unplaced).
 */
typedef int (*device_slot_fn)(unsigned int index, uint64_t *base,
			      uint32_t *irq);
int device_list_place(struct device_list *l, device_slot_fn slot);

/* Calls pause (resume) on each device that has it, in list order
 * (resume in reverse). */
void device_list_pause(struct device_list *l);
void device_list_resume(struct device_list *l);

/* Destroys every device, last registered first, and empties the list. */
void device_list_destroy(struct device_list *l);

#endif
