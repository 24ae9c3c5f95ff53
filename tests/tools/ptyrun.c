// SPDX-License-Identifier: MIT
/*
 * ptyrun ROWS COLS [--resize-on MARKER ROWS2 COLS2] [--type-on MARKER TEXT]
 *        -- CMD [ARGS...]
 *
 * Runs CMD on a new pseudo-terminal of ROWS x COLS (its session leader,
 * the terminal its controlling one) and copies what CMD writes there to
 * stdout. With --resize-on, once MARKER appears in that output the
 * terminal becomes ROWS2 x COLS2 (CMD gets SIGWINCH); with --type-on, once
 * its MARKER appears TEXT is typed (\n in it is Enter). Exits with CMD's
 * status. For testing `kiln run -t` where no terminal exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct winsize ws = { 0 }, ws2 = { 0 };
	const char *marker = NULL, *tmarker = NULL;
	char text[512] = "";
	char seen[8192];
	size_t seen_len = 0;
	int master, i = 3, status;
	pid_t pid;

	if (argc < 5)
		goto usage;
	ws.ws_row = atoi(argv[1]);
	ws.ws_col = atoi(argv[2]);
	for (;;) {
		if (i + 4 < argc && !strcmp(argv[i], "--resize-on")) {
			marker = argv[i + 1];
			ws2.ws_row = atoi(argv[i + 2]);
			ws2.ws_col = atoi(argv[i + 3]);
			i += 4;
		} else if (i + 3 < argc && !strcmp(argv[i], "--type-on")) {
			const char *t = argv[i + 2];
			size_t n = 0;

			tmarker = argv[i + 1];
			for (; *t && n < sizeof(text) - 1; t++) {
				if (t[0] == '\\' && t[1] == 'n') {
					text[n++] = '\r';
					t++;
				} else {
					text[n++] = *t;
				}
			}
			text[n] = 0;
			i += 3;
		} else {
			break;
		}
	}
	if (i >= argc || strcmp(argv[i], "--") || i + 1 >= argc)
		goto usage;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		perror("ptyrun: posix_openpt");
		return 2;
	}
	ioctl(master, TIOCSWINSZ, &ws);
	pid = fork();
	if (pid == 0) {
		int s;

		setsid();
		s = open(ptsname(master), O_RDWR);
		if (s < 0) {
			perror("ptyrun: open the terminal");
			_exit(2);
		}
		ioctl(s, TIOCSCTTY, 0);
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		close(master);
		execvp(argv[i + 1], argv + i + 1);
		perror("ptyrun: exec");
		_exit(127);
	}
	for (;;) {
		char buf[4096];
		ssize_t n = read(master, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EIO: the last holder of the terminal is gone */
		if (write(1, buf, n) < 0)
			break;
		if (marker || tmarker) {
			size_t keep = sizeof(seen) - 1 - seen_len;

			if ((size_t)n > keep) {
				seen_len = 0;
				keep = sizeof(seen) - 1;
			}
			memcpy(seen + seen_len, buf,
			       (size_t)n < keep ? (size_t)n : keep);
			seen_len += (size_t)n < keep ? (size_t)n : keep;
			seen[seen_len] = 0;
			if (marker && strstr(seen, marker)) {
				ioctl(master, TIOCSWINSZ, &ws2);
				marker = NULL;
			}
			if (tmarker && strstr(seen, tmarker)) {
				if (write(master, text, strlen(text)) < 0)
					perror("ptyrun: type");
				tmarker = NULL;
			}
		}
	}
	if (waitpid(pid, &status, 0) < 0)
		return 2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
usage:
	fprintf(stderr,
		"usage: ptyrun ROWS COLS [--resize-on MARKER ROWS2 COLS2] [--type-on MARKER TEXT] -- CMD [ARGS...]\n");
	return 2;
}
