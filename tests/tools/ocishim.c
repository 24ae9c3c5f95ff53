// SPDX-License-Identifier: MIT
/*
 * ocishim: drives an OCI runtime as conmon and containerd's shim do, for
 * the end-to-end tests.
 *
 *   ocishim RUNTIME ROOT BUNDLE ID [tty ROWSxCOLS]
 *
 * Becomes a child subreaper, runs `RUNTIME --root ROOT create --bundle
 * BUNDLE --pid-file F [--console-socket S] ID` with its own stdin, stdout
 * and stderr, waits for it, reads the pid, runs `RUNTIME start ID` and
 * waits for that pid (not its child when create returns): exits with its
 * status (128+N for signal N), as conmon reports it. With tty: receives
 * the terminal's master on the console socket (the name then NUL), sets
 * its size, and copies stdin to it and it to stdout.
 * Prints "ocishim: pid N" on stderr once the container runs.
 * OCISHIM_NOSTART=1 leaves it created (something else kills it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int run(char *const argv[])
{
	int st;
	pid_t p = fork();

	if (p < 0)
		return -1;
	if (p == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(p, &st, 0) != p)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int recv_master(int lfd)
{
	char buf[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int c, fd = -1;

	c = accept(lfd, NULL, NULL);
	if (c < 0)
		return -1;
	if (recvmsg(c, &mh, 0) > 0) {
		cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	}
	close(c);
	return fd;
}

int main(int argc, char **argv)
{
	char pidf[256], sock[108], pidbuf[32];
	int master = -1, lfd = -1, st, n;
	unsigned int rows = 0, cols = 0;
	pid_t pid, w = -1;
	int fd;

	if (argc != 5 && !(argc == 7 && !strcmp(argv[5], "tty"))) {
		fprintf(stderr,
			"usage: ocishim RUNTIME ROOT BUNDLE ID [tty ROWSxCOLS]\n");
		return 2;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(pidf, sizeof(pidf), "/tmp/ocishim-%s.pid", argv[4]);
	unlink(pidf);
	if (argc == 7) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		sscanf(argv[6], "%ux%u", &rows, &cols);
		snprintf(sock, sizeof(sock), "/tmp/ocishim-%s.sock", argv[4]);
		unlink(sock);
		strcpy(sa.sun_path, sock);
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(lfd, 1)) {
			perror("ocishim: console socket");
			return 2;
		}
		{
			char *cargv[] = {
				argv[1],      "--root",	  argv[2],
				"create",     "--bundle", argv[3],
				"--pid-file", pidf,	  "--console-socket",
				sock,	      argv[4],	  NULL
			};
			pid_t c = fork();

			if (c == 0) {
				execv(cargv[0], cargv);
				_exit(127);
			}
			master = recv_master(lfd);
			if (waitpid(c, &st, 0) != c || !WIFEXITED(st) ||
			    WEXITSTATUS(st)) {
				fprintf(stderr, "ocishim: create failed\n");
				return 3;
			}
		}
		unlink(sock);
		if (master < 0) {
			fprintf(stderr, "ocishim: no terminal received\n");
			return 3;
		}
		{
			struct winsize ws = { .ws_row = rows, .ws_col = cols };
			struct termios t;

			/* As conmon: output post-processing on, the size set. */
			if (!tcgetattr(master, &t)) {
				t.c_oflag |= ONLCR;
				tcsetattr(master, TCSANOW, &t);
			}
			ioctl(master, TIOCSWINSZ, &ws);
		}
	} else {
		char *cargv[] = { argv[1],    "--root", argv[2],      "create",
				  "--bundle", argv[3],	"--pid-file", pidf,
				  argv[4],    NULL };

		n = run(cargv);
		if (n) {
			fprintf(stderr, "ocishim: create exited %d\n", n);
			return 3;
		}
	}
	fd = open(pidf, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, pidbuf, sizeof(pidbuf) - 1);
	if (n <= 0) {
		fprintf(stderr, "ocishim: no pid file\n");
		return 3;
	}
	pidbuf[n] = 0;
	pid = atoi(pidbuf);
	/* OCISHIM_NOSTART=1: left created, for a kill before start. */
	if (!getenv("OCISHIM_NOSTART")) {
		char *sargv[] = { argv[1], "--root", argv[2],
				  "start", argv[4],  NULL };

		n = run(sargv);
		if (n) {
			fprintf(stderr, "ocishim: start exited %d\n", n);
			return 3;
		}
	}
	fprintf(stderr, "ocishim: pid %d\n", (int)pid);
	if (master >= 0) {
		bool in_open = true;
		char buf[4096];

		for (;;) {
			struct pollfd p[2] = { { master, POLLIN, 0 },
					       { in_open ? 0 : -1, POLLIN,
						 0 } };
			ssize_t r;

			w = waitpid(pid, &st, WNOHANG);
			if (w == pid)
				break;
			if (poll(p, 2, 50) <= 0)
				continue;
			if (p[0].revents & POLLIN) {
				r = read(master, buf, sizeof(buf));
				if (r > 0 && write(1, buf, r) < 0)
					break;
			} else if (p[0].revents & POLLHUP) {
				/* The terminal closed: wait for the end. */
				w = waitpid(pid, &st, 0);
				break;
			}
			if (p[1].revents & (POLLIN | POLLHUP)) {
				r = read(0, buf, sizeof(buf));
				if (r <= 0)
					in_open = false;
				else if (write(master, buf, r) < 0)
					in_open = false;
			}
		}
		for (;;) {
			struct pollfd p = { master, POLLIN, 0 };
			ssize_t r;

			if (poll(&p, 1, 0) <= 0)
				break;
			r = read(master, buf, sizeof(buf));
			if (r <= 0 || write(1, buf, r) < 0)
				break;
		}
	} else {
		/* Orphans of ours may end first: only the container counts. */
		while ((w = waitpid(-1, &st, 0)) != pid)
			if (w < 0 && errno != EINTR) {
				perror("ocishim: waitpid");
				return 3;
			}
	}
	unlink(pidf);
	if (w != pid) {
		fprintf(stderr, "ocishim: pid %d not waited for: %s\n",
			(int)pid, strerror(errno));
		return 3;
	}
	fprintf(stderr, "ocishim: the container's process %d %s %d\n", (int)pid,
		WIFEXITED(st) ? "exited" : "was killed by signal",
		WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}
