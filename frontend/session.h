/* SPDX-License-Identifier: MIT */
#ifndef KILN_SESSION_H
#define KILN_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "term.h"
#include "metrics_file.h"
#include "vm.h"

/*
 * The main thread's side of a VM: one event loop for lifecycle signals,
 * the stop request, console input from the terminal, --timeout and, with
 * --api-sock, the API socket and its connections. `kiln run` is
 * session_init, vm_create, session_attach, vm_start, session_loop,
 * session_finish.
 */

/* Console input, owned by the loop. */
struct session_input {
	size_t (*receive)(void *dev, const uint8_t *buf, size_t n);
	void (*eof)(void *dev); /* called once every byte went in */
	void *dev;
	int fd;
	int space_fd; /* the device has room again */
	bool tty;
	bool ended; /* end of input seen, eof() not yet called */
	bool file; /* a regular file: always readable, not polled */
	bool blocked; /* waiting for the device to drain */
	bool held; /* the VM is paused: nothing goes in */
	struct term_escape esc;
	uint8_t buf[256];
	size_t len, off;
};

struct session {
	struct evloop loop;
	struct vm *vm; /* NULL until one is created */
	int sfd; /* signalfd */
	sigset_t oldsigs;
	bool tty; /* the terminal is raw */
	bool winch; /* SIGWINCH goes to the guest (kiln run -t) */
	int64_t deadline; /* CLOCK_MONOTONIC ms, 0: none */
	double timeout;
	bool done; /* ends session_loop */
	int status; /* kiln's exit status when done before a VM stops */
	struct session_input in;
	void *api; /* struct api, with --api-sock */
	/*
	 * An OCI container's VM: once started, the lifecycle signals (and
	 * SIGUSR1, SIGUSR2) kiln receives go to the container's process.
	 */
	bool forward_signals;
	/* Control lines not yet taken by the guest's status port. */
	char ctl[256];
	size_t ctl_len;
	struct session_metrics metrics;
};

/* Blocks the lifecycle signals into a signalfd. Returns 0 or -errno. */
int session_init(struct session *s, bool winch);
/* Console input, the stop request and --timeout of a created VM. */
int session_attach(struct session *s, struct vm *vm);
/* The main thread's own filter (after vm_start: threads inherit it). */
int session_seccomp(struct session *s, bool api);
/*
 * From now on, lifecycle signals and SIGUSR1/2 are the container's
 * (s->forward_signals). Returns 0 or -errno.
 */
int session_forward_signals(struct session *s);
/* The signals passed on to a guest's process (with SIGWINCH for a
 * terminal): kiln's for a container, `kiln exec`'s relay's. */
void session_forwarded_signals(sigset_t *sigs, bool winch);
/*
 * Signal sig to the command's process in the guest (run mode): queued
 * until the guest's init reads its control port (after a pause too).
 * Returns 0, or -ENOSPC when the guest has left too many unread.
 */
int session_signal_guest(struct session *s, int sig);
/* -t: the terminal's size (kiln's stdin) to the guest. */
void session_send_winsize(struct session *s);
/* Runs until the VM stops or s->done. */
void session_loop(struct session *s);
/* vm_pause / vm_resume, holding console input while paused. */
int session_pause(struct session *s, char *err, size_t errlen);
int session_resume(struct session *s, char *err, size_t errlen);
/*
 * Stops and destroys the VM (if any), restores the terminal and signals.
 * Returns kiln's exit status.
 */
int session_finish(struct session *s);

#endif
