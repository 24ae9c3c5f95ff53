// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "iothread.h"
#include "log.h"

struct iothread *iothread_new(void)
{
	struct iothread *io = calloc(1, sizeof(*io));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (!io)
		return NULL;
	io->epfd = epoll_create1(EPOLL_CLOEXEC);
	io->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (io->epfd < 0 || io->stop_fd < 0 ||
	    epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->stop_fd, &ev)) {
		if (io->epfd >= 0)
			close(io->epfd);
		if (io->stop_fd >= 0)
			close(io->stop_fd);
		free(io);
		return NULL;
	}
	return io;
}

int iothread_add(struct iothread *io, int fd, iothread_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct io_source *s;

	if (io->started || io->nr == IOTHREAD_MAX_SOURCES)
		return -ENOSPC;
	s = &io->src[io->nr];
	*s = (struct io_source){ fd, fn, opaque };
	ev.data.ptr = s;
	if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	io->nr++;
	return 0;
}

void iothread_enable(struct iothread *io, int fd, int on)
{
	unsigned int i;

	for (i = 0; i < io->nr; i++) {
		if (io->src[i].fd == fd) {
			struct epoll_event ev = { .events = EPOLLIN,
						  .data.ptr = &io->src[i] };

			/*
			 * Out of the set altogether: a hang-up is reported
			 * whatever events are asked for.
			 */
			if (on)
				epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev);
			else
				epoll_ctl(io->epfd, EPOLL_CTL_DEL, fd, NULL);
			return;
		}
	}
}

static void *iothread_main(void *arg)
{
	struct iothread *io = arg;
	sigset_t set;

	sigfillset(&set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	for (;;) {
		struct epoll_event evs[16];
		int i, n = epoll_wait(io->epfd, evs, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err("I/O thread: epoll_wait: %s", strerror(errno));
			return NULL;
		}
		for (i = 0; i < n; i++) {
			struct io_source *s = evs[i].data.ptr;

			if (!s)
				return NULL; /* stop requested */
			s->fn(s->opaque, evs[i].events);
		}
	}
}

int iothread_start(struct iothread *io)
{
	pthread_attr_t attr;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	r = pthread_create(&io->thread, &attr, iothread_main, io);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	io->started = 1;
	return 0;
}

void iothread_free(struct iothread *io)
{
	uint64_t one = 1;

	if (!io)
		return;
	if (io->started) {
		if (write(io->stop_fd, &one, sizeof(one)) < 0)
			pr_err("I/O thread: cannot stop it");
		pthread_join(io->thread, NULL);
	}
	close(io->stop_fd);
	close(io->epfd);
	free(io);
}
