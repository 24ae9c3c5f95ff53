// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "run.h"
#include "seccomp.h"
#include "session.h"
#include "uart8250.h"
#include "virtio/console.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void lifecycle_handler(int sig)
{
	(void)sig;
}

int session_init(struct session *s, bool winch)
{
	struct sigaction sa;
	sigset_t sigs;
	int r;

	memset(s, 0, sizeof(*s));
	metrics_init(&s->metrics);
	s->sfd = -1;
	s->in.fd = -1;
	s->in.space_fd = -1;
	s->winch = winch;
	r = evloop_init(&s->loop);
	if (r)
		return r;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	if (winch)
		sigaddset(&sigs, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &sigs, &s->oldsigs);
	/*
	 * Blocked, they reach the signalfd; a handler rather than the default
	 * action, because PID 1 of a namespace (kiln in --jail) is sent only
	 * signals it handles.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lifecycle_handler;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	s->sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sfd < 0) {
		r = -errno;
		pthread_sigmask(SIG_SETMASK, &s->oldsigs, NULL);
		evloop_fini(&s->loop);
		return r;
	}
	return 0;
}

static void input_feed(struct session *s)
{
	struct session_input *in = &s->in;
	size_t n;

	if (in->held)
		return;
	n = in->receive(in->dev, in->buf + in->off, in->len - in->off);
	in->off += n;
	if (in->off == in->len) {
		in->off = in->len = 0;
		if (in->ended && in->eof) {
			in->ended = false;
			in->eof(in->dev);
		}
		if (in->blocked) {
			in->blocked = false;
			if (in->fd >= 0 && !in->file)
				evloop_mod(&s->loop, in->fd, EPOLLIN);
		}
	} else if (!in->blocked) {
		/*
		 * Back-pressure: stop reading until the guest drains. The fd
		 * leaves the epoll set, as a hang-up would still be reported.
		 */
		in->blocked = true;
		if (in->fd >= 0 && !in->file)
			evloop_mod(&s->loop, in->fd, 0);
	}
}

static void input_read(struct session *s)
{
	struct session_input *in = &s->in;
	uint8_t raw[sizeof(in->buf)];
	bool quit = false;
	ssize_t r;

	r = read(in->fd, raw, sizeof(raw));
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		/* End of input: the guest keeps running without it. */
		if (!in->file)
			evloop_del(&s->loop, in->fd);
		in->fd = -1;
		in->ended = true;
		in->len = in->off = 0;
		input_feed(s);
		return;
	}
	if (in->tty) {
		in->len = term_filter_escape(&in->esc, raw, r, in->buf, &quit);
		if (quit) {
			vm_request_stop(s->vm, VM_STOP_ESCAPE, 0);
			return;
		}
	} else {
		memcpy(in->buf, raw, r);
		in->len = r;
	}
	in->off = 0;
	input_feed(s);
}

/*
 * Control lines for the guest init (its size, signals) wait here until
 * the status port takes them: before the init opened it, nothing goes in.
 */
static void ctl_flush(struct session *s)
{
	size_t n;

	if (!s->vm || !s->vm->vcon || s->vm->state != VM_STATE_RUNNING)
		return;
	n = virtio_console_port_receive(s->vm->vcon, RUN_PORT_STATUS,
					(const uint8_t *)s->ctl, s->ctl_len);
	memmove(s->ctl, s->ctl + n, s->ctl_len - n);
	s->ctl_len -= n;
}

static int ctl_send(struct session *s, const char *line)
{
	size_t n = strlen(line);

	if (n > sizeof(s->ctl) - s->ctl_len) {
		pr_warn("the guest's control lines are not read: '%.*s' dropped",
			(int)n - 1, line);
		return -ENOSPC;
	}
	memcpy(s->ctl + s->ctl_len, line, n);
	s->ctl_len += n;
	ctl_flush(s);
	return 0;
}

static void on_input(void *opaque, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	input_read(opaque);
}

static void on_space(void *opaque, int fd, uint32_t events)
{
	struct session *s = opaque;
	uint64_t v;

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* Nothing pending: spurious wake-up. */
	}
	/* Input read before end of file still goes in. */
	if (s->in.len)
		input_feed(s);
	if (s->ctl_len)
		ctl_flush(s);
}

static void on_stop(void *opaque, int fd, uint32_t events)
{
	uint64_t v;

	(void)opaque;
	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* Only the stop reason matters. */
	}
}

/* -t: the terminal's size, to the guest init over the status port. */
static void send_winsize(struct session *s)
{
	struct winsize ws;
	char line[48];

	if (!s->vm->vcon || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws))
		return;
	snprintf(line, sizeof(line), "winsize %u %u\n", ws.ws_row, ws.ws_col);
	ctl_send(s, line);
}

void session_send_winsize(struct session *s)
{
	if (s->vm && s->vm->run_mode)
		send_winsize(s);
}

int session_signal_guest(struct session *s, int sig)
{
	char line[32];

	if (!s->vm || !s->vm->run_mode || !s->vm->vcon)
		return -ENODEV;
	snprintf(line, sizeof(line), "signal %d\n", sig);
	return ctl_send(s, line);
}

void session_forwarded_signals(sigset_t *sigs, bool winch)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGHUP);
	sigaddset(sigs, SIGQUIT);
	sigaddset(sigs, SIGUSR1);
	sigaddset(sigs, SIGUSR2);
	if (winch)
		sigaddset(sigs, SIGWINCH);
}

int session_forward_signals(struct session *s)
{
	sigset_t sigs;

	session_forwarded_signals(&sigs, s->winch);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (signalfd(s->sfd, &sigs, SFD_CLOEXEC | SFD_NONBLOCK) < 0)
		return -errno;
	s->forward_signals = true;
	return 0;
}

static void on_signal(void *opaque, int fd, uint32_t events)
{
	struct session *s = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGWINCH) {
		if (s->vm && s->vm->run_mode && s->winch)
			send_winsize(s);
		return;
	}
	if (s->forward_signals && s->vm &&
	    s->vm->state != VM_STATE_NOT_STARTED) {
		/* Held while paused, like anything else for the guest. */
		session_signal_guest(s, si.ssi_signo);
		return;
	}
	metric_add(si.ssi_signo == SIGTERM ? &s->metrics.sigterm :
		   si.ssi_signo == SIGINT  ? &s->metrics.sigint :
		   si.ssi_signo == SIGHUP  ? &s->metrics.sighup :
					     &s->metrics.sigquit,
		   1);
	pr_info("received signal %u, stopping%s", si.ssi_signo,
		s->vm ? " the guest" : "");
	if (s->vm) {
		/* Started or not: kiln's status says which signal. */
		vm_request_stop(s->vm, VM_STOP_SIGNAL, 128 + si.ssi_signo);
	} else {
		s->status = 128 + si.ssi_signo;
		s->done = true;
	}
}

static size_t uart_receive(void *dev, const uint8_t *buf, size_t n)
{
	return uart8250_receive(dev, buf, n);
}

static size_t vcon_receive(void *dev, const uint8_t *buf, size_t n)
{
	return virtio_console_receive(dev, buf, n);
}

static size_t stdin_port_receive(void *dev, const uint8_t *buf, size_t n)
{
	return virtio_console_port_receive(dev, RUN_PORT_STDIN, buf, n);
}

static void stdin_port_eof(void *dev)
{
	virtio_console_host_close(dev, RUN_PORT_STDIN);
}

int session_attach(struct session *s, struct vm *vm)
{
	struct session_input *in = &s->in;
	int r;

	s->vm = vm;
	if (!evloop_has(&s->loop, s->sfd)) {
		r = evloop_add(&s->loop, s->sfd, EPOLLIN, on_signal, s);
		if (r)
			return r;
	}
	r = evloop_add(&s->loop, vm->stop_efd, EPOLLIN, on_stop, s);
	if (r)
		return r;
	s->timeout = vm->cfg->timeout;
	if (s->timeout)
		s->deadline = now_ms() + (int64_t)(s->timeout * 1000);
	/* Command mode takes the terminal raw only for -t. */
	s->tty = (!vm->run_mode || vm->cfg->tty) && term_raw_enter(vm->in_fd);
	*in = (struct session_input){ .fd = vm->in_fd, .tty = s->tty };
	if (vm->run_mode) {
		in->receive = stdin_port_receive;
		in->eof = stdin_port_eof;
		in->dev = vm->vcon;
		in->space_fd = vm->vcon->space_fd;
		if (!vm->vcon->port[RUN_PORT_STDIN].host_open)
			in->fd = -1;
	} else if (vm->vcon) {
		in->receive = vcon_receive;
		in->dev = vm->vcon;
		in->space_fd = vm->vcon->space_fd;
	} else {
		in->receive = uart_receive;
		in->dev = vm->console;
		in->space_fd = uart8250_space_fd(vm->console);
	}
	r = evloop_add(&s->loop, in->space_fd, EPOLLIN, on_space, s);
	if (r)
		return r;
	if (in->fd >= 0) {
		/* Regular files cannot be polled: they are always readable. */
		r = evloop_add(&s->loop, in->fd, EPOLLIN, on_input, s);
		if (r == -EPERM && in->eof)
			in->file = true;
		else if (r)
			in->fd = -1;
	}
	return 0;
}

int session_seccomp(struct session *s, bool api)
{
	int r;

	if (!s->vm)
		return 0;
	if (!s->vm->cfg->no_seccomp) {
		r = seccomp_apply(api ? SECCOMP_API : SECCOMP_MAIN);
		if (r) {
			pr_err("cannot install the seccomp filter: %s",
			       strerror(-r));
			vm_request_stop(s->vm, VM_STOP_ERROR, 1);
			return r;
		}
		seccomp_test_hook(api ? SECCOMP_API : SECCOMP_MAIN);
	}
	vm_setup_done(s->vm);
	return 0;
}

int session_pause(struct session *s, char *err, size_t errlen)
{
	int r;

	if (!s->vm) {
		set_err(err, errlen, "cannot pause a VM that is not started");
		return -EINVAL;
	}
	r = vm_pause(s->vm, err, errlen);
	if (r)
		return r;
	/* Console input would write guest memory and interrupt: held. */
	s->in.held = true;
	if (s->in.fd >= 0 && !s->in.file && !s->in.blocked)
		evloop_mod(&s->loop, s->in.fd, 0);
	return 0;
}

int session_resume(struct session *s, char *err, size_t errlen)
{
	int r;

	if (!s->vm) {
		set_err(err, errlen, "cannot resume a VM that is not started");
		return -EINVAL;
	}
	r = vm_resume(s->vm, err, errlen);
	if (r)
		return r;
	if (s->ctl_len)
		ctl_flush(s);
	if (s->in.held) {
		s->in.held = false;
		if (s->in.fd >= 0 && !s->in.file && !s->in.blocked)
			evloop_mod(&s->loop, s->in.fd, EPOLLIN);
		if (s->in.len)
			input_feed(s);
	}
	return 0;
}

static bool vm_live(const struct session *s)
{
	return !s->vm || atomic_load(&s->vm->stop_reason) == VM_RUNNING;
}

void session_loop(struct session *s)
{
	struct session_input *in = &s->in;

	if (!evloop_has(&s->loop, s->sfd) &&
	    evloop_add(&s->loop, s->sfd, EPOLLIN, on_signal, s)) {
		pr_err("cannot watch signals");
		return;
	}
	while (!s->done && vm_live(s)) {
		int n, wait = -1;

		if (in->file && in->fd >= 0 && !in->blocked && !in->held)
			input_read(s);
		if (in->file && in->fd >= 0 && !in->blocked && !in->held)
			wait = 0;
		if (s->deadline) {
			int64_t left = s->deadline - now_ms();

			if (left <= 0) {
				pr_warn("the command ran past --timeout %gs: stopping the guest",
					s->timeout);
				vm_request_stop(s->vm, VM_STOP_TIMEOUT, 124);
				break;
			}
			if (wait < 0 || left < wait)
				wait = left > 1000000 ? 1000000 : left;
		}
		if (s->metrics.fd >= 0) {
			int64_t left = s->metrics.next_ms - now_ms();

			if (left <= 0) {
				metrics_flush(s);
				left = METRICS_PERIOD_MS;
			}
			if (wait < 0 || left < wait)
				wait = left;
		}
		n = evloop_run_once(&s->loop, wait);
		if (n < 0) {
			pr_err("epoll_wait: %s", strerror(-n));
			if (s->vm)
				vm_request_stop(s->vm, VM_STOP_ERROR, 1);
			s->status = 1;
			break;
		}
	}
}

int session_finish(struct session *s)
{
	struct vm *vm = s->vm;
	int status = s->status;

	if (vm) {
		vm_stop(vm);
		term_restore();
		/* The last counts, the VM's devices still there. */
		if (s->metrics.fd >= 0)
			metrics_flush(s);
		status = vm->stop_status;
		if (vm->run_mode) {
			int rs = atomic_load(&vm->run_status);

			status = run_exit_status(vm->stop_reason, rs, status);
			if (vm->stop_reason == VM_STOP_SIGNAL)
				pr_warn("stopped the guest on signal %d (%s)",
					status - 128, strsignal(status - 128));
			else if (status == 255 && rs != 255)
				pr_err("the guest ended (%s) without the command's exit status%s",
				       vm_stop_text(vm->stop_reason),
				       vm->cfg->console_log ?
					       "; see the console log" :
					       "; run with -v to see why");
		} else if (vm->stop_reason == VM_STOP_SIGNAL) {
			pr_warn("stopped the guest on signal %d (%s)",
				status - 128, strsignal(status - 128));
		} else {
			pr_info("%s", vm_stop_text(vm->stop_reason));
		}
		vm_destroy(vm);
		s->vm = NULL;
	} else if (s->metrics.fd >= 0) {
		metrics_flush(s);
	}
	metrics_close(&s->metrics);
	evloop_fini(&s->loop);
	if (s->sfd >= 0)
		close(s->sfd);
	s->sfd = -1;
	pthread_sigmask(SIG_SETMASK, &s->oldsigs, NULL);
	return status;
}

int vm_run(const struct vm_config *cfg)
{
	struct session s;
	struct vm *vm;
	char err[512];
	int r;

	r = session_init(&s, cfg->run_argv && cfg->tty);
	if (r) {
		pr_err("cannot set up signal handling: %s", strerror(-r));
		return 1;
	}
	vm = vm_create(cfg, err, sizeof(err));
	if (!vm) {
		pr_err("%s", err);
		session_finish(&s);
		return 1;
	}
	if (cfg->metrics_path &&
	    metrics_open(&s.metrics, cfg->metrics_path, err, sizeof(err))) {
		pr_err("%s", err);
		s.vm = vm;
		vm_request_stop(vm, VM_STOP_ERROR, 1);
		session_finish(&s);
		return 1;
	}
	r = session_attach(&s, vm);
	if (r) {
		pr_err("cannot watch the console: %s", strerror(-r));
		vm_request_stop(vm, VM_STOP_ERROR, 1);
	}
	if (!r && vm_start(vm, err, sizeof(err))) {
		pr_err("%s", err);
		r = -1;
	}
	/* Last: threads inherit the filters of the thread creating them. */
	if (!r)
		session_seccomp(&s, false);
	session_loop(&s);
	return session_finish(&s);
}
