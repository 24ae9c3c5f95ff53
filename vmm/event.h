/* SPDX-License-Identifier: MIT */
#ifndef KILN_EVENT_H
#define KILN_EVENT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * An epoll loop whose set of file descriptors changes while it runs:
 * console input, signals, the stop request, the API socket and each of its
 * connections. One thread runs it; handlers may add and remove
 * descriptors (their own included) from inside a dispatch.
 */

typedef void (*evloop_fn)(void *opaque, int fd, uint32_t events);

struct evloop_src {
	int fd;
	uint32_t events;
	evloop_fn fn;
	void *opaque;
	bool dead; /* removed during a dispatch: freed after it */
	bool watched; /* in the epoll set now */
	struct evloop_src *next;
};

struct evloop {
	int epfd;
	struct evloop_src *srcs;
	unsigned int nr; /* live sources */
	bool dispatching;
};

/* Returns 0 or -errno. */
int evloop_init(struct evloop *l);
/* Removes every source (closing none) and the epoll instance. */
void evloop_fini(struct evloop *l);
/*
 * Watches fd for events (EPOLLIN, EPOLLOUT...); fn runs on the loop's
 * thread. A regular file, which epoll refuses, is -EPERM. Returns 0 or
 * -errno (-EEXIST when fd is watched already).
 */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn,
	       void *opaque);
/* Forgets fd (closing it is the caller's business). Unknown fds: no-op. */
void evloop_del(struct evloop *l, int fd);
/* Changes the events watched for fd; 0 takes it out of the epoll set
 * (a hang-up is reported whatever is asked for) until asked again. */
int evloop_mod(struct evloop *l, int fd, uint32_t events);
/* Whether fd is a live source. */
bool evloop_has(const struct evloop *l, int fd);
/*
 * Waits up to timeout_ms (-1: for ever) and runs the handlers of what is
 * ready. Returns the number of handlers run, or -errno (EINTR is 0).
 */
int evloop_run_once(struct evloop *l, int timeout_ms);

#endif
