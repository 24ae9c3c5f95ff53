// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "event.h"

int evloop_init(struct evloop *l)
{
	*l = (struct evloop){ .epfd = epoll_create1(EPOLL_CLOEXEC) };
	return l->epfd < 0 ? -errno : 0;
}

static void reap(struct evloop *l)
{
	struct evloop_src **pp = &l->srcs;

	while (*pp) {
		struct evloop_src *s = *pp;

		if (s->dead) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

void evloop_fini(struct evloop *l)
{
	struct evloop_src *s;

	for (s = l->srcs; s; s = s->next)
		s->dead = true;
	reap(l);
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	l->nr = 0;
}

static struct evloop_src *find(const struct evloop *l, int fd)
{
	struct evloop_src *s;

	for (s = l->srcs; s; s = s->next)
		if (!s->dead && s->fd == fd)
			return s;
	return NULL;
}

bool evloop_has(const struct evloop *l, int fd)
{
	return find(l, fd) != NULL;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn,
	       void *opaque)
{
	struct epoll_event ev = { .events = events };
	struct evloop_src *s;

	if (fd < 0)
		return -EBADF;
	if (find(l, fd))
		return -EEXIST;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct evloop_src){ .fd = fd,
				  .events = events,
				  .fn = fn,
				  .opaque = opaque,
				  .watched = true };
	ev.data.ptr = s;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int r = -errno;

		free(s);
		return r;
	}
	s->next = l->srcs;
	l->srcs = s;
	l->nr++;
	return 0;
}

void evloop_del(struct evloop *l, int fd)
{
	struct evloop_src *s = find(l, fd);

	if (!s)
		return;
	if (s->watched)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* Events for it may be in the batch being dispatched. */
	s->dead = true;
	l->nr--;
	if (!l->dispatching)
		reap(l);
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	struct evloop_src *s = find(l, fd);
	struct epoll_event ev = { .events = events };
	int r = 0;

	if (!s)
		return -ENOENT;
	ev.data.ptr = s;
	if (!events) {
		if (s->watched)
			r = epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		s->watched = false;
	} else if (s->watched) {
		r = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
	} else {
		r = epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
		s->watched = !r;
	}
	s->events = events;
	return r ? -errno : 0;
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[16];
	int i, n, ran = 0;

	n = epoll_wait(l->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->dispatching = true;
	for (i = 0; i < n; i++) {
		struct evloop_src *s = evs[i].data.ptr;

		/* Removed, or out of the set, by an earlier handler. */
		if (s->dead || !s->watched)
			continue;
		s->fn(s->opaque, s->fd, evs[i].events);
		ran++;
	}
	l->dispatching = false;
	reap(l);
	return ran;
}
