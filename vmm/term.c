// SPDX-License-Identifier: MIT
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "term.h"

/*
 * Global on purpose: the saved mode must be reachable from signal handlers
 * (SIGSEGV, SIGABRT, ...) to give the user a working terminal back whatever
 * happens. Written before the handlers are installed, then read-only.
 */
static struct termios saved_mode;
static int saved_fd = -1;

void term_restore(void)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSAFLUSH, &saved_mode);
}

static void fatal_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	/* raise() is tkill in some C libraries; the filters allow tgkill. */
	syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

bool term_raw_enter(int fd)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct termios raw;
	struct sigaction sa;
	size_t i;

	if (!isatty(fd) || tcgetattr(fd, &saved_mode))
		return false;
	raw = saved_mode;
	cfmakeraw(&raw);
	/* Keep "\n" -> "\r\n" so kiln's own messages stay readable. */
	raw.c_oflag |= OPOST | ONLCR;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSAFLUSH, &raw))
		return false;
	saved_fd = fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_signal;
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		sigaction(fatal[i], &sa, NULL);
	atexit(term_restore);
	return true;
}

size_t term_filter_escape(struct term_escape *st, const uint8_t *in, size_t n,
			  uint8_t *out, bool *quit)
{
	size_t i, o = 0;

	*quit = false;
	for (i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (st->pending) {
			st->pending = false;
			if (c == 'x' || c == 'X') {
				*quit = true;
				return o;
			}
			if (c == TERM_ESCAPE_CHAR)
				out[o++] = c;
			/* Any other key after Ctrl-A is swallowed. */
			continue;
		}
		if (c == TERM_ESCAPE_CHAR) {
			st->pending = true;
			continue;
		}
		out[o++] = c;
	}
	return o;
}
