// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
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
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->cond, NULL);
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

static bool control(struct iothread *io);

static void *iothread_loop(struct iothread *io)
{
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

			if (!s) {
				if (control(io))
					return NULL;
				/*
				 * What else this batch holds is still pending
				 * (every source is level-triggered): polled
				 * again, after a pause.
				 */
				break;
			}
			s->fn(s->opaque, evs[i].events);
		}
	}
}

/* A stop or a pause request: true to stop. Parks while paused. */
static bool control(struct iothread *io)
{
	uint64_t v;
	bool stop;

	if (read(io->stop_fd, &v, sizeof(v)) < 0) {
		/* Already drained: the flags below say what is wanted. */
	}
	pthread_mutex_lock(&io->lock);
	if (io->pause_req && !io->stopping) {
		io->parked = true;
		pthread_cond_broadcast(&io->cond);
		while (io->pause_req && !io->stopping)
			pthread_cond_wait(&io->cond, &io->lock);
		io->parked = false;
	}
	stop = io->stopping;
	pthread_mutex_unlock(&io->lock);
	return stop;
}

static void *iothread_main(void *arg)
{
	struct iothread *io = arg;

	iothread_loop(io);
	pthread_mutex_lock(&io->lock);
	io->exited = true;
	pthread_cond_broadcast(&io->cond);
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

void iothread_pause(struct iothread *io)
{
	uint64_t one = 1;

	if (!io || !io->started)
		return;
	pthread_mutex_lock(&io->lock);
	io->pause_req = true;
	pthread_mutex_unlock(&io->lock);
	if (write(io->stop_fd, &one, sizeof(one)) < 0)
		pr_err("I/O thread: cannot pause it");
	pthread_mutex_lock(&io->lock);
	while (!io->parked && !io->exited)
		pthread_cond_wait(&io->cond, &io->lock);
	pthread_mutex_unlock(&io->lock);
}

void iothread_resume(struct iothread *io)
{
	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	io->pause_req = false;
	pthread_cond_broadcast(&io->cond);
	pthread_mutex_unlock(&io->lock);
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
		pthread_mutex_lock(&io->lock);
		io->stopping = true;
		pthread_cond_broadcast(&io->cond);
		pthread_mutex_unlock(&io->lock);
		if (write(io->stop_fd, &one, sizeof(one)) < 0)
			pr_err("I/O thread: cannot stop it");
		pthread_join(io->thread, NULL);
	}
	close(io->stop_fd);
	close(io->epfd);
	pthread_mutex_destroy(&io->lock);
	pthread_cond_destroy(&io->cond);
	free(io);
}
