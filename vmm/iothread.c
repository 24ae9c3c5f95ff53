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
#include "seccomp.h"

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
	uint64_t one = 1;
	sigset_t set;

	sigfillset(&set);
	sigdelset(&set, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	if (io->seccomp)
		io->setup_err = seccomp_apply(SECCOMP_IO);
	if (write(io->ready_fd, &one, sizeof(one)) < 0 || io->setup_err)
		return NULL;
	if (io->seccomp)
		seccomp_test_hook(SECCOMP_IO);
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

	uint64_t v;

	io->ready_fd = eventfd(0, EFD_CLOEXEC);
	if (io->ready_fd < 0)
		return -errno;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	r = pthread_create(&io->thread, &attr, iothread_main, io);
	pthread_attr_destroy(&attr);
	if (r) {
		close(io->ready_fd);
		return -r;
	}
	io->started = 1;
	while (read(io->ready_fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	close(io->ready_fd);
	return io->setup_err;
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
