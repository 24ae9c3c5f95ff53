// SPDX-License-Identifier: MIT
/*
 * kiln's guest init for `kiln run -- CMD`: PID 1 of the microVM.
 *
 * kiln puts this program at /kiln/init in an initramfs it writes in
 * memory, with /kiln/config beside it: NUL-terminated "key=value" records
 * (arg=, env=, cwd=, uid=, gid=, root=, share=, stdin=, tty=, rows=,
 * cols=, boottimer=). The init mounts the root and the shares, finds kiln's named
 * virtio-console ports (kiln.stdin, kiln.stdout, kiln.stderr,
 * kiln.status), runs the command with the ports as its stdin, stdout and
 * stderr, writes "exit N" to the status port and reboots, which ends kiln.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 1024
#define MAX_SHARES 16

static int err_fd = -1; /* the stderr port once found, else the console */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(err_fd >= 0 ? err_fd : 2, "kiln-init: ", 11) < 0 ||
	    write(err_fd >= 0 ? err_fd : 2, buf, n) < 0) {
		/* Nowhere left to say it. */
	}
}

/* Ends the VM: kiln sees the reset and exits. */
static void __attribute__((noreturn)) finish(void)
{
	sync();
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

static void __attribute__((noreturn)) fail(const char *what)
{
	say("%s: %s", what, strerror(errno));
	finish();
}

struct share {
	char *tag, *path;
	bool ro;
};

struct config {
	char *argv[MAX_ARGS + 1];
	int argc;
	char *envp[MAX_ARGS + 1];
	int envc;
	const char *cwd;
	const char *root; /* "9p:TAG:ro|rw" or "blk:DEV" */
	struct share shares[MAX_SHARES];
	int nr_shares;
	long uid, gid;
	bool stdin_on, tty;
	unsigned long long boot_timer; /* its address, 0 for none */
	unsigned short rows, cols;
};

static void read_config(struct config *c)
{
	static char buf[1 << 20];
	int fd = open("/kiln/config", O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;
	char *p, *next;

	if (fd < 0)
		fail("/kiln/config");
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	memset(c, 0, sizeof(*c));
	c->uid = c->gid = -1;
	for (p = buf; p < buf + len; p = next) {
		char *v = strchr(p, '=');

		next = p + strlen(p) + 1;

		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(p, "arg") && c->argc < MAX_ARGS)
			c->argv[c->argc++] = v;
		else if (!strcmp(p, "env") && c->envc < MAX_ARGS)
			c->envp[c->envc++] = v;
		else if (!strcmp(p, "cwd"))
			c->cwd = v;
		else if (!strcmp(p, "root"))
			c->root = v;
		else if (!strcmp(p, "uid"))
			c->uid = atol(v);
		else if (!strcmp(p, "gid"))
			c->gid = atol(v);
		else if (!strcmp(p, "stdin"))
			c->stdin_on = *v == '1';
		else if (!strcmp(p, "tty"))
			c->tty = *v == '1';
		else if (!strcmp(p, "boottimer"))
			c->boot_timer = strtoull(v, NULL, 0);
		else if (!strcmp(p, "rows"))
			c->rows = atoi(v);
		else if (!strcmp(p, "cols"))
			c->cols = atoi(v);
		else if (!strcmp(p, "share") && c->nr_shares < MAX_SHARES) {
			/* TAG \x1f ro|rw \x1f PATH */
			struct share *s = &c->shares[c->nr_shares];
			char *a = strchr(v, 0x1f),
			     *b = a ? strchr(a + 1, 0x1f) : NULL;

			if (!b)
				continue;
			*a = *b = 0;
			s->tag = v;
			s->ro = !strcmp(a + 1, "ro");
			s->path = b + 1;
			c->nr_shares++;
		}
	}
}

static void mkdirs(const char *path)
{
	char tmp[4096], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(tmp, 0755);
		*p = '/';
	}
	mkdir(tmp, 0755);
}

static void must_mount(const char *src, const char *dst, const char *type,
		       unsigned long flags, const char *data)
{
	mkdirs(dst);
	if (mount(src, dst, type, flags, data)) {
		char what[512];

		snprintf(what, sizeof(what), "mount %s (%s) on %s", src, type,
			 dst);
		fail(what);
	}
}

static void mount_9p(const char *tag, const char *dst, bool ro)
{
	must_mount(tag, dst, "9p", ro ? MS_RDONLY : 0,
		   "trans=virtio,version=9p2000.L,msize=512000,access=client");
}

/* A read-only lower directory made writable by a tmpfs layer on top. */
static void overlay(const char *lower, const char *dst, int n)
{
	char up[64], opts[4096];

	snprintf(up, sizeof(up), "/kiln/ovl/%d", n);
	must_mount("tmpfs", up, "tmpfs", 0, "mode=0755");
	snprintf(opts, sizeof(opts), "%s/upper", up);
	mkdir(opts, 0755);
	snprintf(opts, sizeof(opts), "%s/work", up);
	mkdir(opts, 0755);
	snprintf(opts, sizeof(opts),
		 "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower, up,
		 up);
	must_mount("overlay", dst, "overlay", 0, opts);
}

static void setup_root(struct config *c)
{
	const char *r = c->root ? c->root : "";

	if (!strncmp(r, "9p:", 3)) {
		char tag[64];
		const char *mode = strchr(r + 3, ':');
		bool ro = mode && !strcmp(mode, ":ro");

		snprintf(tag, sizeof(tag), "%.*s",
			 mode ? (int)(mode - r - 3) : (int)strlen(r + 3),
			 r + 3);
		if (ro) {
			mount_9p(tag, "/kiln/lower/root", true);
			overlay("/kiln/lower/root", "/newroot", 0);
		} else {
			mount_9p(tag, "/newroot", false);
		}
	} else if (!strncmp(r, "blk:", 4)) {
		static const char *const types[] = { "ext4", "erofs",
						     "squashfs", NULL };
		int i;

		mkdirs("/newroot");
		for (i = 0; types[i]; i++)
			if (!mount(r + 4, "/newroot", types[i], 0, NULL))
				break;
		if (!types[i]) {
			errno = ENODEV;
			fail("mount the root image (tried ext4, erofs, squashfs)");
		}
	} else {
		errno = EINVAL;
		fail("no root in /kiln/config");
	}
}

static void setup_shares(struct config *c)
{
	int i;

	for (i = 0; i < c->nr_shares; i++) {
		struct share *s = &c->shares[i];
		char dst[4096], lower[64];

		snprintf(dst, sizeof(dst), "/newroot%s", s->path);
		if (!s->ro) {
			mount_9p(s->tag, dst, false);
			continue;
		}
		snprintf(lower, sizeof(lower), "/kiln/lower/%d", i + 1);
		mount_9p(s->tag, lower, true);
		mkdirs(dst);
		overlay(lower, dst, i + 1);
	}
}

static void setup_system(void)
{
	/* Whatever the root held there, the guest's own view goes on top. */
	must_mount("proc", "/newroot/proc", "proc", 0, NULL);
	must_mount("sysfs", "/newroot/sys", "sysfs", 0, NULL);
	must_mount("devtmpfs", "/newroot/dev", "devtmpfs", 0, NULL);
	must_mount("devpts", "/newroot/dev/pts", "devpts", 0,
		   "newinstance,ptmxmode=0666,mode=0620");
	must_mount("tmpfs", "/newroot/dev/shm", "tmpfs", 0, "mode=1777");
	must_mount("tmpfs", "/newroot/tmp", "tmpfs", 0, "mode=1777");
	must_mount("tmpfs", "/newroot/run", "tmpfs", 0, "mode=0755");
}

/* Waits for kiln's named ports; opens them by name. */
static void open_ports(int fds[4])
{
	static const char *const names[4] = { "kiln.stdin", "kiln.stdout",
					      "kiln.stderr", "kiln.status" };
	static const int modes[4] = { O_RDONLY, O_WRONLY, O_WRONLY, O_RDWR };
	struct timespec nap = { 0, 1000000 };
	int found = 0, tries;

	fds[0] = fds[1] = fds[2] = fds[3] = -1;
	for (tries = 0; found < 4 && tries < 10000; tries++) {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char p[512], name[64] = "";
			int fd, i;
			ssize_t n;

			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p),
				 "/sys/class/virtio-ports/%s/name", e->d_name);
			fd = open(p, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			n = read(fd, name, sizeof(name) - 1);
			close(fd);
			if (n <= 0)
				continue;
			name[n] = 0;
			name[strcspn(name, "\n")] = 0;
			for (i = 0; i < 4; i++) {
				if (fds[i] >= 0 || strcmp(name, names[i]))
					continue;
				snprintf(p, sizeof(p), "/dev/%s", e->d_name);
				fds[i] = open(p, modes[i] | O_CLOEXEC);
				if (fds[i] >= 0)
					found++;
			}
		}
		if (d)
			closedir(d);
		if (found < 4)
			nanosleep(&nap, NULL);
	}
	if (found < 4) {
		errno = ENODEV;
		fail("kiln's virtio-console ports did not show up (CONFIG_VIRTIO_CONSOLE?)");
	}
}

/* --boot-timer: the byte 123 to kiln's boot timer, CMD about to run. */
static void boot_timer_signal(unsigned long long addr)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	volatile unsigned char *p;

	if (fd < 0)
		return;
	p = mmap(NULL, pg, PROT_WRITE, MAP_SHARED, fd, addr & ~(pg - 1));
	if (p != MAP_FAILED) {
		p[addr & (pg - 1)] = 123;
		munmap((void *)p, pg);
	}
	close(fd);
}

static void child(struct config *c, int ports[4], int pty_slave)
{
	static char *defenv[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		NULL,
	};
	int i, in;

	setsid();
	if (pty_slave >= 0) {
		ioctl(pty_slave, TIOCSCTTY, 0);
		dup2(pty_slave, 0);
		dup2(pty_slave, 1);
		dup2(pty_slave, 2);
	} else {
		in = c->stdin_on ? ports[0] : open("/dev/null", O_RDONLY);
		dup2(in, 0);
		dup2(ports[1], 1);
		dup2(ports[2], 2);
	}
	err_fd = 2;
	clearenv();
	for (i = 0; defenv[i]; i++)
		putenv(defenv[i]);
	for (i = 0; i < c->envc; i++)
		putenv(c->envp[i]);
	if (chdir(c->cwd ? c->cwd : "/")) {
		say("cannot change to directory %s: %s", c->cwd,
		    strerror(errno));
		_exit(126);
	}
	if (c->boot_timer)
		boot_timer_signal(c->boot_timer);
	if (c->gid >= 0 && (setgroups(0, NULL) || setgid(c->gid))) {
		say("cannot set group %ld: %s", c->gid, strerror(errno));
		_exit(126);
	}
	if (c->uid >= 0 && setuid(c->uid)) {
		say("cannot set user %ld: %s", c->uid, strerror(errno));
		_exit(126);
	}
	signal(SIGPIPE, SIG_DFL);
	execvp(c->argv[0], c->argv);
	say("%s: %s", c->argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* -t: copies between the terminal and the ports until the command ends. */
static void relay(int master, int ports[4], pid_t pid, int *status)
{
	char buf[4096], line[64];
	size_t llen = 0;
	bool in_open = true;

	for (;;) {
		struct pollfd p[3] = {
			{ master, POLLIN, 0 },
			{ in_open ? ports[0] : -1, POLLIN, 0 },
			{ ports[3], POLLIN, 0 },
		};
		ssize_t n;

		if (waitpid(pid, status, WNOHANG) == pid)
			break;
		if (poll(p, 3, 100) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			n = read(master, buf, sizeof(buf));
			if (n > 0 && write(ports[1], buf, n) < 0)
				break;
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			n = read(ports[0], buf, sizeof(buf));
			if (n > 0 && write(master, buf, n) < 0)
				break;
			if (n == 0)
				in_open = false;
		}
		if (p[2].revents & POLLIN) {
			/* "winsize ROWS COLS" lines from kiln. */
			n = read(ports[3], buf, sizeof(buf));
			for (ssize_t i = 0; i < n; i++) {
				unsigned int r, c;

				if (buf[i] != '\n') {
					if (llen < sizeof(line) - 1)
						line[llen++] = buf[i];
					continue;
				}
				line[llen] = 0;
				llen = 0;
				if (sscanf(line, "winsize %u %u", &r, &c) ==
				    2) {
					struct winsize ws = { .ws_row = r,
							      .ws_col = c };

					ioctl(master, TIOCSWINSZ, &ws);
				}
			}
		}
	}
	/* What the command wrote last is still in the terminal. */
	for (;;) {
		struct pollfd p = { master, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 0) <= 0)
			break;
		n = read(master, buf, sizeof(buf));
		if (n <= 0 || write(ports[1], buf, n) < 0)
			break;
	}
}

int main(void)
{
	struct config c;
	int ports[4], master = -1, slave = -1, status = 0, i;
	char line[32];
	pid_t pid;

	mkdirs("/proc");
	mkdirs("/sys");
	mkdirs("/dev");
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	read_config(&c);
	if (!c.argc) {
		errno = EINVAL;
		fail("no command in /kiln/config");
	}
	open_ports(ports);
	err_fd = ports[2];
	setup_root(&c);
	setup_shares(&c);
	setup_system();
	umount2("/dev", MNT_DETACH);
	umount2("/sys", MNT_DETACH);
	umount2("/proc", MNT_DETACH);
	if (chdir("/newroot") || mount(".", "/", NULL, MS_MOVE, NULL) ||
	    chroot("."))
		fail("switch to the new root");
	if (chdir("/"))
		fail("chdir /");

	if (c.tty) {
		struct winsize ws = { .ws_row = c.rows, .ws_col = c.cols };

		master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) || unlockpt(master))
			fail("open a terminal");
		slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			fail("open the terminal's other end");
		if (ws.ws_row && ws.ws_col)
			ioctl(slave, TIOCSWINSZ, &ws);
	}
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0)
		child(&c, ports, slave);
	/* Only the command holds its streams: its exit is their end. */
	if (slave >= 0)
		close(slave);
	if (!c.tty) {
		for (i = 0; i < 3; i++)
			close(ports[i]);
		err_fd = -1;
	}
	if (c.tty) {
		relay(master, ports, pid, &status);
	} else {
		/* PID 1 reaps every orphan; the command's status is kept. */
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, 0);

			if (w == pid) {
				status = st;
				break;
			}
			if (w < 0 && errno != EINTR)
				break;
		}
	}
	snprintf(line, sizeof(line), "exit %d\n",
		 WIFEXITED(status)   ? WEXITSTATUS(status) :
		 WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
				       255);
	if (write(ports[3], line, strlen(line)) < 0)
		say("cannot report the exit status: %s", strerror(errno));
	finish();
}
