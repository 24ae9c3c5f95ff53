// SPDX-License-Identifier: MIT
/* The metrics file (metrics_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "metrics_file.h"
#include "session.h"
#include "vm.h"

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void metrics_init(struct session_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->start_ms = mono_ms();
}

int metrics_open(struct session_metrics *m, const char *path, char *err,
		 size_t errlen)
{
	int fd = open(path,
		      O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC,
		      0600);

	if (fd < 0) {
		int r = -errno;

		snprintf(
			err, errlen,
			"metrics: cannot open '%s': %s (give a writable file or FIFO)",
			path, strerror(errno));
		return r;
	}
	if (m->fd >= 0)
		close(m->fd);
	m->fd = fd;
	m->next_ms = mono_ms() + METRICS_PERIOD_MS;
	return 0;
}

static void emit(void *ctx, const char *name, struct metric *m)
{
	struct json_out *o = ctx;

	json_out_key(o, name);
	json_out_u64(o, metric_take(m));
}

/* "block_ID" for "drive-ID", "net_ID" for "iface-ID", else by kind. */
static bool group_name(const struct device *d, char *buf, size_t len)
{
	const char *grp, *id = d->name;

	if (!strcmp(d->kind, "virtio-blk")) {
		grp = "block";
		if (!strncmp(id, "drive-", 6))
			id += 6;
	} else if (!strcmp(d->kind, "virtio-net")) {
		grp = "net";
		if (!strncmp(id, "iface-", 6))
			id += 6;
	} else if (!strcmp(d->kind, "virtio-vsock") ||
		   !strcmp(d->kind, "virtio-balloon")) {
		/* One a VM: Firecracker's groups have no id. */
		return snprintf(buf, len, "%s", d->kind + 7) < (int)len;
	} else {
		grp = d->kind;
	}
	return snprintf(buf, len, "%s_%s", grp, id) < (int)len;
}

char *metrics_line(struct session *s)
{
	struct session_metrics *m = &s->metrics;
	char name[DEVICE_NAME_MAX + 16], *text, *line;
	struct json_out o;
	struct timespec now;
	unsigned int i;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &now);
	json_out_init(&o, false);
	json_out_begin_object(&o);
	json_out_key(&o, "utc_timestamp_ms");
	json_out_u64(&o, (uint64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	json_out_key(&o, "kiln");
	json_out_begin_object(&o);
	json_out_key(&o, "uptime_ms");
	json_out_u64(&o, mono_ms() - m->start_ms);
	json_out_key(&o, "flushes");
	json_out_u64(&o, ++m->flushes);
	json_out_end_object(&o);
	json_out_key(&o, "api_server");
	json_out_begin_object(&o);
	emit(&o, "requests", &m->api_requests);
	emit(&o, "errors", &m->api_errors);
	json_out_end_object(&o);
	json_out_key(&o, "signals");
	json_out_begin_object(&o);
	emit(&o, "sigterm", &m->sigterm);
	emit(&o, "sigint", &m->sigint);
	emit(&o, "sighup", &m->sighup);
	emit(&o, "sigquit", &m->sigquit);
	json_out_end_object(&o);
	/* A thread outside its filter ends kiln: there are never any. */
	json_out_key(&o, "seccomp");
	json_out_begin_object(&o);
	json_out_key(&o, "num_faults");
	json_out_u64(&o, 0);
	json_out_end_object(&o);
	if (s->vm) {
		struct vcpu_metrics *v = &s->vm->vcpu_metrics;

		json_out_key(&o, "vcpu");
		json_out_begin_object(&o);
		emit(&o, "exit_io_in", &v->exit_io_in);
		emit(&o, "exit_io_out", &v->exit_io_out);
		emit(&o, "exit_mmio_read", &v->exit_mmio_read);
		emit(&o, "exit_mmio_write", &v->exit_mmio_write);
		emit(&o, "failures", &v->failures);
		json_out_end_object(&o);
		for (i = 0; i < s->vm->devs.nr; i++) {
			struct device *d = &s->vm->devs.dev[i];

			if (!d->ops || !d->ops->metrics ||
			    !group_name(d, name, sizeof(name)))
				continue;
			json_out_key(&o, name);
			json_out_begin_object(&o);
			d->ops->metrics(d->dev, emit, &o);
			json_out_end_object(&o);
		}
	}
	json_out_end_object(&o);
	text = json_out_finish(&o, &len);
	line = text ? realloc(text, len + 2) : NULL;
	if (!line) {
		free(text);
		return NULL;
	}
	/* One object a line. */
	line[len] = '\n';
	line[len + 1] = 0;
	return line;
}

int metrics_flush(struct session *s)
{
	struct session_metrics *m = &s->metrics;
	char *line;
	size_t len, off = 0;
	int r = 0;

	if (m->fd < 0)
		return -ENOENT;
	line = metrics_line(s);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	while (off < len) {
		ssize_t n = write(m->fd, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* A FIFO nobody reads: this line is lost, not kiln. */
			r = n < 0 ? -errno : -EIO;
			break;
		}
		off += n;
	}
	free(line);
	m->next_ms = mono_ms() + METRICS_PERIOD_MS;
	return r;
}

void metrics_close(struct session_metrics *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}
