// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "device.h"

struct device *device_find(struct device_list *l, const char *name)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->dev[i].name, name))
			return &l->dev[i];
	return NULL;
}

void device_id_name(char *buf, const char *prefix, const char *id)
{
	snprintf(buf, DEVICE_NAME_MAX, "%s-%s", prefix, id);
}

struct device *device_add(struct device_list *l, const char *kind,
			  const char *name, const struct device_ops *ops,
			  void *dev, struct virtio_dev *virtio)
{
	struct device *d;
	unsigned int i, same = 0;
	char gen[DEVICE_NAME_MAX];

	if (l->nr == DEVICE_MAX)
		return NULL;
	if (!name) {
		for (i = 0; i < l->nr; i++)
			same += !strcmp(l->dev[i].kind, kind);
		snprintf(gen, sizeof(gen), "%s%u", kind, same);
		name = gen;
	}
	if (strlen(name) >= sizeof(d->name) || device_find(l, name))
		return NULL;
	d = &l->dev[l->nr++];
	*d = (struct device){
		.kind = kind, .ops = ops, .dev = dev, .virtio = virtio
	};
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

int device_list_place(struct device_list *l, device_slot_fn slot)
{
	unsigned int i, idx = 0;
	int r;

	for (i = 0; i < l->nr; i++) {
		struct device *d = &l->dev[i];

		if (!d->virtio)
			continue;
		if (!d->placed) {
			r = slot(idx, &d->base, &d->irq);
			if (r)
				return r;
			d->placed = true;
		}
		idx++;
	}
	return 0;
}

void device_list_pause(struct device_list *l)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (l->dev[i].ops && l->dev[i].ops->pause)
			l->dev[i].ops->pause(l->dev[i].dev);
}

void device_list_resume(struct device_list *l)
{
	unsigned int i;

	for (i = l->nr; i-- > 0;)
		if (l->dev[i].ops && l->dev[i].ops->resume)
			l->dev[i].ops->resume(l->dev[i].dev);
}

void device_list_destroy(struct device_list *l)
{
	while (l->nr > 0) {
		struct device *d = &l->dev[--l->nr];

		if (d->transport_free)
			d->transport_free(d->transport);
		if (d->ops && d->ops->destroy)
			d->ops->destroy(d->dev);
	}
}
