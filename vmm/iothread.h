/* SPDX-License-Identifier: MIT */
#ifndef KILN_IOTHREAD_H
#define KILN_IOTHREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The device I/O thread: an epoll loop that runs device work (virtqueue
 * processing, host file and socket I/O) off the vCPU threads.
 */

typedef void (*iothread_fn)(void *opaque, uint32_t events);

struct io_source {
	int fd;
	iothread_fn fn;
	void *opaque;
};

#define IOTHREAD_MAX_SOURCES 64

struct iothread {
	int epfd;
	int stop_fd;
	pthread_t thread;
	int started;
	int seccomp; /* install the I/O role's filter (set before start) */
	int setup_err; /* the thread's set-up result, for iothread_start */
	int ready_fd; /* eventfd: set-up done */
	unsigned int nr;
	struct io_source src[IOTHREAD_MAX_SOURCES];

	pthread_mutex_t lock; /* guards the flags below */
	pthread_cond_t cond;
	bool pause_req, parked, stopping, exited;
};

struct iothread *iothread_new(void);
/* Watches fd for input; fn runs on the I/O thread. Before start only. */
int iothread_add(struct iothread *io, int fd, iothread_fn fn, void *opaque);
/* Starts the thread; returns once its filter is on (0 or -errno). */
int iothread_start(struct iothread *io);
/* Stops or resumes watching fd: from the I/O thread (a backend paused
 * while the guest has no buffers) or a vCPU thread (a NIC started or
 * stopped by its driver); epoll_ctl makes either safe. */
void iothread_enable(struct iothread *io, int fd, int on);
/*
 * Pause: returns once the thread is parked between two handlers, so no
 * device work runs until iothread_resume; kicks wait in their eventfds.
 * A thread not started: no-op.
 */
void iothread_pause(struct iothread *io);
void iothread_resume(struct iothread *io);
/* Stops and joins the thread, then frees it. NULL is fine. */
void iothread_free(struct iothread *io);

#endif
