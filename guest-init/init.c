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
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <arpa/inet.h>
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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 1024
#define MAX_SHARES 16
#define MAX_OPS 64
#define MAX_GROUPS 64
#define MAX_LIMITS 16

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

/* A mount an OCI bundle asks for, made by the guest: see mount_ops(). */
struct mount_op {
	enum { OP_SHARE, OP_FILE, OP_MOUNT } kind;
	const char *dest;
	int index; /* OP_SHARE: shares[]; OP_FILE: /kiln/files/N */
	bool ro;
	const char *type, *data; /* OP_MOUNT */
	unsigned long flags;
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
	/* An OCI bundle's (oci=1): its mounts instead of kiln run's. */
	bool oci, root_ro, no_new_privs;
	struct mount_op ops[MAX_OPS];
	int nr_ops;
	gid_t groups[MAX_GROUPS];
	int nr_groups;
	struct {
		const char *name;
		unsigned long long soft, hard;
	} limits[MAX_LIMITS];
	int nr_limits;
	const char *hostname;
	long umask_v;
	const char *sysctls[MAX_OPS];
	int nr_sysctls;
	unsigned int agent_port; /* vsock port for `kiln exec`, 0: none */
	char *net; /* MAC \x1f ADDR/PREFIX \x1f GATEWAY \x1f MTU, or NULL */
};

/* Splits v at its \x1f separators into at most n fields; returns the count. */
static int fields(char *v, char **f, int n)
{
	int i = 0;

	while (i < n) {
		f[i++] = v;
		v = strchr(v, 0x1f);
		if (!v)
			break;
		*v++ = 0;
	}
	return i;
}

/* NUL-terminated "key=value" records (buf[len] is a NUL) into c. */
static void parse_records(struct config *c, char *buf, size_t len)
{
	char *p, *next;

	memset(c, 0, sizeof(*c));
	c->uid = c->gid = -1;
	c->umask_v = -1;
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
		else if (!strcmp(p, "share") && c->nr_shares < MAX_SHARES &&
			 c->nr_ops < MAX_OPS) {
			/* TAG \x1f ro|rw \x1f PATH */
			struct share *s = &c->shares[c->nr_shares];
			char *f[3];

			if (fields(v, f, 3) != 3)
				continue;
			s->tag = f[0];
			s->ro = !strcmp(f[1], "ro");
			s->path = f[2];
			c->ops[c->nr_ops++] =
				(struct mount_op){ .kind = OP_SHARE,
						   .dest = s->path,
						   .index = c->nr_shares++,
						   .ro = s->ro };
		} else if (!strcmp(p, "file") && c->nr_ops < MAX_OPS) {
			/* N \x1f ro|rw \x1f PATH */
			char *f[3];

			if (fields(v, f, 3) != 3)
				continue;
			c->ops[c->nr_ops++] =
				(struct mount_op){ .kind = OP_FILE,
						   .dest = f[2],
						   .index = atoi(f[0]),
						   .ro = !strcmp(f[1], "ro") };
		} else if (!strcmp(p, "mount") && c->nr_ops < MAX_OPS) {
			/* TYPE \x1f PATH \x1f FLAGS \x1f DATA */
			char *f[4];

			if (fields(v, f, 4) != 4)
				continue;
			c->ops[c->nr_ops++] = (struct mount_op){
				.kind = OP_MOUNT,
				.type = f[0],
				.dest = f[1],
				.flags = strtoul(f[2], NULL, 10),
				.data = f[3]
			};
		} else if (!strcmp(p, "group") && c->nr_groups < MAX_GROUPS) {
			c->groups[c->nr_groups++] = strtoul(v, NULL, 10);
		} else if (!strcmp(p, "rlimit") && c->nr_limits < MAX_LIMITS) {
			/* NAME \x1f SOFT \x1f HARD (NAME without RLIMIT_) */
			char *f[3];

			if (fields(v, f, 3) != 3)
				continue;
			c->limits[c->nr_limits].name = f[0];
			c->limits[c->nr_limits].soft = strtoull(f[1], NULL, 10);
			c->limits[c->nr_limits++].hard =
				strtoull(f[2], NULL, 10);
		} else if (!strcmp(p, "sysctl") && c->nr_sysctls < MAX_OPS) {
			c->sysctls[c->nr_sysctls++] = v;
		} else if (!strcmp(p, "oci")) {
			c->oci = *v == '1';
		} else if (!strcmp(p, "rootro")) {
			c->root_ro = *v == '1';
		} else if (!strcmp(p, "nonewprivs")) {
			c->no_new_privs = *v == '1';
		} else if (!strcmp(p, "hostname")) {
			c->hostname = v;
		} else if (!strcmp(p, "umask")) {
			c->umask_v = strtol(v, NULL, 10);
		} else if (!strcmp(p, "agent")) {
			c->agent_port = strtoul(v, NULL, 10);
		} else if (!strcmp(p, "net")) {
			c->net = v;
		}
	}
}

static void read_config(struct config *c)
{
	static char buf[1 << 20];
	int fd = open("/kiln/config", O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	if (fd < 0)
		fail("/kiln/config");
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	parse_records(c, buf, len);
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

static int depth(const char *p)
{
	int n = 0;

	for (; *p; p++)
		n += *p == '/' && p[1] && p[1] != '/';
	return n;
}

/* A bind mount's target: a file, made (with its directory) if missing. */
static void file_target(const char *dst)
{
	char dir[4096], *slash;
	struct stat st;
	int fd;

	if (!lstat(dst, &st) && S_ISLNK(st.st_mode) && stat(dst, &st))
		unlink(dst); /* a dangling link: the file replaces it */
	snprintf(dir, sizeof(dir), "%s", dst);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdirs(dir);
	}
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0)
		close(fd);
}

/*
 * The shares, files and mounts, parents before children (a stable sort by
 * depth: a bundle lists /dev/pts after /dev, a volume may sit in another).
 * kiln run makes a read-only share writable by a throw-away layer; an OCI
 * bundle's read-only volume stays read-only, as in a container.
 */
static void mount_ops(struct config *c)
{
	struct mount_op *o[MAX_OPS], *t;
	int i, j, n = c->nr_ops;

	for (i = 0; i < n; i++)
		o[i] = &c->ops[i];
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && depth(o[j - 1]->dest) > depth(o[j]->dest);
		     j--) {
			t = o[j];
			o[j] = o[j - 1];
			o[j - 1] = t;
		}
	for (i = 0; i < n; i++) {
		char dst[4096], src[64];

		snprintf(dst, sizeof(dst), "/newroot%s", o[i]->dest);
		if (o[i]->kind == OP_SHARE) {
			struct share *s = &c->shares[o[i]->index];

			if (!s->ro || c->oci) {
				mount_9p(s->tag, dst, s->ro);
				continue;
			}
			snprintf(src, sizeof(src), "/kiln/lower/%d",
				 o[i]->index + 1);
			mount_9p(s->tag, src, true);
			mkdirs(dst);
			overlay(src, dst, o[i]->index + 1);
		} else if (o[i]->kind == OP_FILE) {
			snprintf(src, sizeof(src), "/kiln/files/%d",
				 o[i]->index);
			file_target(dst);
			if (mount(src, dst, NULL, MS_BIND, NULL))
				fail(dst);
			if (o[i]->ro &&
			    mount(NULL, dst, NULL,
				  MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
				fail(dst);
		} else {
			bool optional = !strcmp(o[i]->type, "cgroup2") ||
					!strcmp(o[i]->type, "mqueue");

			mkdirs(dst);
			if (mount(o[i]->type, dst, o[i]->type, o[i]->flags,
				  *o[i]->data ? o[i]->data : NULL)) {
				if (!optional)
					fail(dst);
				say("mount %s on %s: %s (left out)", o[i]->type,
				    o[i]->dest, strerror(errno));
			}
		}
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

/*
 * An OCI bundle lists its own mounts; the guest's /dev is its kernel's,
 * and a terminal needs a devpts the bundle may not list.
 */
static void setup_oci(struct config *c)
{
	struct stat a, b;
	int i;

	must_mount("devtmpfs", "/newroot/dev", "devtmpfs", 0, NULL);
	mount_ops(c);
	if (stat("/newroot/dev", &a) || stat("/newroot/dev/pts", &b) ||
	    a.st_dev == b.st_dev)
		must_mount("devpts", "/newroot/dev/pts", "devpts", 0,
			   "newinstance,ptmxmode=0666,mode=0620");
	for (i = 0; i < c->nr_sysctls; i++) {
		char *f[2], path[512], *p;
		int fd;

		if (fields((char *)c->sysctls[i], f, 2) != 2)
			continue;
		snprintf(path, sizeof(path), "/proc/sys/%s", f[0]);
		for (p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, f[1], strlen(f[1])) < 0)
			say("sysctl %s: %s", f[0], strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)))
		say("hostname %s: %s", c->hostname, strerror(errno));
	if (c->root_ro && mount(NULL, "/newroot", NULL,
				MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
		fail("make the root read-only");
}

/* Sets name's flags to up (and running); false on failure. */
static bool link_up(int s, const char *name)
{
	struct ifreq r = { 0 };

	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &r))
		return false;
	r.ifr_flags |= IFF_UP;
	return !ioctl(s, SIOCSIFFLAGS, &r);
}

/* The interface whose MAC is mac ("aa:bb:..."): its name in name. */
static bool link_by_mac(const char *mac, char name[IFNAMSIZ])
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		char p[300], a[32] = "";
		int fd;
		ssize_t n;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= IFNAMSIZ)
			continue;
		snprintf(p, sizeof(p), "/sys/class/net/%s/address", e->d_name);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, a, sizeof(a) - 1);
		close(fd);
		if (n > 0 && !strncasecmp(a, mac, 17)) {
			memcpy(name, e->d_name, strlen(e->d_name) + 1);
			found = true;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static void set_in(struct sockaddr *sa, in_addr_t a)
{
	struct sockaddr_in in = { .sin_family = AF_INET };

	in.sin_addr.s_addr = a;
	memcpy(sa, &in, sizeof(in));
}

/*
 * The loopback up, and the NIC the host wired into the container's
 * network (a "net" record): its address, mask, MTU and default route,
 * as the container's network namespace had them.
 */
static void setup_net(struct config *c)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	char name[IFNAMSIZ], *f[4], *slash;
	struct in_addr addr, gw;
	struct ifreq r = { 0 };
	struct rtentry rt = { 0 };
	int prefix;

	if (s < 0)
		return;
	if (!link_up(s, "lo"))
		say("loopback: %s", strerror(errno));
	if (!c->net || fields(c->net, f, 4) != 4)
		goto out;
	if (!link_by_mac(f[0], name)) {
		say("no network interface with address %s", f[0]);
		goto out;
	}
	slash = strchr(f[1], '/');
	prefix = slash ? atoi(slash + 1) : 32;
	if (slash)
		*slash = 0;
	if (!inet_aton(f[1], &addr) || prefix < 0 || prefix > 32) {
		say("%s: a bad address '%s'", name, f[1]);
		goto out;
	}
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	r.ifr_mtu = atoi(f[3]);
	if (r.ifr_mtu >= 68 && ioctl(s, SIOCSIFMTU, &r))
		say("%s: MTU %s: %s", name, f[3], strerror(errno));
	set_in(&r.ifr_addr, addr.s_addr);
	if (ioctl(s, SIOCSIFADDR, &r))
		say("%s: address %s: %s", name, f[1], strerror(errno));
	set_in(&r.ifr_netmask,
	       prefix ? htonl(0xffffffffu << (32 - prefix)) : 0);
	if (ioctl(s, SIOCSIFNETMASK, &r))
		say("%s: netmask /%d: %s", name, prefix, strerror(errno));
	if (!link_up(s, name))
		say("%s: up: %s", name, strerror(errno));
	if (*f[2] && inet_aton(f[2], &gw)) {
		set_in(&rt.rt_dst, 0);
		set_in(&rt.rt_genmask, 0);
		set_in(&rt.rt_gateway, gw.s_addr);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = name;
		if (ioctl(s, SIOCADDRT, &rt))
			say("%s: default route via %s: %s", name, f[2],
			    strerror(errno));
	}
out:
	close(s);
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

/* The command, on the terminal's slave or with fds in[0..2] as its
 * stdin (-1: /dev/null), stdout and stderr. */
static void child(struct config *c, const int fds[3], int pty_slave)
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
		in = fds[0] >= 0 ? fds[0] : open("/dev/null", O_RDONLY);
		dup2(in, 0);
		dup2(fds[1], 1);
		dup2(fds[2], 2);
	}
	err_fd = 2;
	clearenv();
	for (i = 0; defenv[i]; i++)
		putenv(defenv[i]);
	for (i = 0; i < c->envc; i++)
		putenv(c->envp[i]);
	/* A container's working directory is made if missing, as runc does. */
	if (c->oci && c->cwd)
		mkdirs(c->cwd);
	if (chdir(c->cwd ? c->cwd : "/")) {
		say("cannot change to directory %s: %s", c->cwd,
		    strerror(errno));
		_exit(126);
	}
	if (c->boot_timer)
		boot_timer_signal(c->boot_timer);
	for (i = 0; i < c->nr_limits; i++) {
		static const struct {
			const char *name;
			int res;
		} res[] = {
			{ "AS", RLIMIT_AS },
			{ "CORE", RLIMIT_CORE },
			{ "CPU", RLIMIT_CPU },
			{ "DATA", RLIMIT_DATA },
			{ "FSIZE", RLIMIT_FSIZE },
			{ "LOCKS", RLIMIT_LOCKS },
			{ "MEMLOCK", RLIMIT_MEMLOCK },
			{ "MSGQUEUE", RLIMIT_MSGQUEUE },
			{ "NICE", RLIMIT_NICE },
			{ "NOFILE", RLIMIT_NOFILE },
			{ "NPROC", RLIMIT_NPROC },
			{ "RSS", RLIMIT_RSS },
			{ "RTPRIO", RLIMIT_RTPRIO },
			{ "RTTIME", RLIMIT_RTTIME },
			{ "SIGPENDING", RLIMIT_SIGPENDING },
			{ "STACK", RLIMIT_STACK },
		};
		struct rlimit rl = { c->limits[i].soft, c->limits[i].hard };
		size_t k;

		for (k = 0; k < sizeof(res) / sizeof(res[0]); k++)
			if (!strcmp(res[k].name, c->limits[i].name))
				break;
		if (k == sizeof(res) / sizeof(res[0]) ||
		    setrlimit(res[k].res, &rl))
			say("RLIMIT_%s: %s", c->limits[i].name,
			    strerror(errno));
	}
	if (c->umask_v >= 0)
		umask(c->umask_v);
	if (c->gid >= 0 &&
	    (setgroups(c->nr_groups, c->groups) || setgid(c->gid))) {
		say("cannot set group %ld: %s", c->gid, strerror(errno));
		_exit(126);
	}
	if (c->uid >= 0 && setuid(c->uid)) {
		say("cannot set user %ld: %s", c->uid, strerror(errno));
		_exit(126);
	}
	if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		say("no_new_privs: %s", strerror(errno));
		_exit(126);
	}
	signal(SIGPIPE, SIG_DFL);
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	execvp(c->argv[0], c->argv);
	say("%s: %s", c->argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/*
 * `kiln exec`: a session per connection on the agent's vsock port, in a
 * helper process of its own. Frames both ways: a type byte, a 32-bit
 * little-endian length, the data. From kiln: R (the command's records,
 * first), I (stdin), E (stdin ended), W (rows, cols: two 32-bit), S
 * (a signal: 32-bit); to kiln: O (stdout), e (stderr), X (the exit
 * status: 32-bit), then the connection ends.
 */
struct sockaddr_vsock {
	sa_family_t family;
	unsigned short reserved;
	unsigned int port, cid;
	unsigned char zero[4];
};
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static int full_io(int fd, void *buf, size_t len, bool wr)
{
	char *p = buf;

	while (len) {
		ssize_t n = wr ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int put_frame(int fd, char type, const void *data, unsigned int len)
{
	unsigned char h[5] = { type, len, len >> 8, len >> 16, len >> 24 };

	if (full_io(fd, h, 5, true))
		return -1;
	return len ? full_io(fd, (void *)data, len, true) : 0;
}

static int get_frame(int fd, char *type, char *buf, unsigned int max,
		     unsigned int *len)
{
	unsigned char h[5];

	if (full_io(fd, h, 5, false))
		return -1;
	*type = h[0];
	*len = h[1] | h[2] << 8 | h[3] << 16 | (unsigned int)h[4] << 24;
	if (*len > max)
		return -1;
	return *len ? full_io(fd, buf, *len, false) : 0;
}

static unsigned int le32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return u[0] | u[1] << 8 | u[2] << 16 | (unsigned int)u[3] << 24;
}

static void __attribute__((noreturn)) exec_session(int conn)
{
	static char buf[1 << 20];
	static struct config x;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	static char ib[1 << 16];
	int master = -1, slave = -1, sfd, status = 0, fd, inw;
	bool conn_open = true, exited = false, in_eof = false;
	size_t ilen = 0, ioff = 0;
	unsigned int len, code;
	sigset_t chld;
	char type;
	pid_t pid;

	for (fd = 3; fd < 1024; fd++)
		if (fd != conn)
			close(fd);
	if (get_frame(conn, &type, buf, sizeof(buf) - 1, &len) || type != 'R')
		_exit(1);
	buf[len] = 0;
	parse_records(&x, buf, len);
	if (x.tty) {
		struct winsize ws = { .ws_row = x.rows, .ws_col = x.cols };

		master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) || unlockpt(master) ||
		    (slave = open(ptsname(master),
				  O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
			goto broken;
		if (ws.ws_row && ws.ws_col)
			ioctl(slave, TIOCSWINSZ, &ws);
	} else if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
		   pipe2(er, O_CLOEXEC)) {
		goto broken;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC);
	pid = sfd < 0 || !x.argc ? -1 : fork();
	if (pid < 0)
		goto broken;
	if (pid == 0) {
		int fds[3] = { in[0], out[1], er[1] };

		child(&x, fds, slave);
	}
	if (slave >= 0)
		close(slave);
	close(in[0]);
	close(out[1]);
	close(er[1]);
	if (master >= 0)
		out[0] = master;
	/*
	 * stdin is written without blocking, a frame at a time: the next
	 * frame is read once this one is in, so the process's output keeps
	 * flowing whatever it does with its input.
	 */
	inw = master >= 0 ? master : in[1];
	fcntl(inw, F_SETFL, fcntl(inw, F_GETFL) | O_NONBLOCK);
	while (!exited) {
		struct pollfd p[5] = {
			{ conn_open && !ilen ? conn : -1, POLLIN, 0 },
			{ out[0], POLLIN, 0 },
			{ er[0], POLLIN, 0 },
			{ sfd, POLLIN, 0 },
			{ ilen ? inw : -1, POLLOUT, 0 },
		};
		ssize_t n;
		int i;

		if (poll(p, 5, -1) < 0)
			continue;
		if (p[4].revents) {
			n = write(inw, ib + ioff, ilen - ioff);
			if (n > 0)
				ioff += n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    ioff == ilen)
				ilen = ioff = 0; /* all in, or nobody reads */
			if (!ilen && in_eof && master < 0 && in[1] >= 0) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (p[0].revents) {
			if (get_frame(conn, &type, buf, sizeof(buf), &len)) {
				/* kiln's end went away: as a hung-up terminal. */
				conn_open = false;
				kill(pid, SIGHUP);
			} else if (type == 'I' && len <= sizeof(ib) &&
				   inw >= 0 && (master >= 0 || in[1] >= 0)) {
				memcpy(ib, buf, len);
				ilen = len;
				ioff = 0;
			} else if (type == 'E' && master < 0) {
				in_eof = true;
				if (in[1] >= 0) {
					close(in[1]);
					in[1] = -1;
				}
			} else if (type == 'W' && len == 8 && master >= 0) {
				struct winsize ws = { .ws_row = le32(buf),
						      .ws_col = le32(buf + 4) };

				ioctl(master, TIOCSWINSZ, &ws);
			} else if (type == 'S' && len == 4) {
				kill(pid, le32(buf));
			}
		}
		for (i = 1; i < 3; i++) {
			int *f = i == 1 ? &out[0] : &er[0];

			if (!p[i].revents)
				continue;
			/* Frames kiln takes are at most 64 KiB, whatever size
			 * the process made its pipe. */
			n = read(*f, buf, 65536);
			if (n > 0) {
				put_frame(conn, i == 1 ? 'O' : 'e', buf, n);
			} else if (n == 0 ||
				   (errno != EAGAIN && errno != EINTR)) {
				/* Ended (a terminal nobody holds: EIO). */
				if (*f != master)
					close(*f);
				*f = -1;
			}
		}
		if (p[3].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) < 0) {
				/* waitpid says what happened. */
			}
			if (waitpid(pid, &status, WNOHANG) == pid)
				exited = true;
		}
	}
	/* What it wrote last; a background child may hold the pipes on. */
	for (int i = 0; i < 2; i++) {
		int f = i ? er[0] : out[0];

		while (f >= 0) {
			struct pollfd p = { f, POLLIN, 0 };
			ssize_t n;

			if (poll(&p, 1, i ? 0 : 20) <= 0)
				break;
			n = read(f, buf, 65536);
			if (n <= 0)
				break;
			put_frame(conn, i ? 'e' : 'O', buf, n);
		}
	}
	code = WIFEXITED(status)   ? WEXITSTATUS(status) :
	       WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
				     255;
	{
		char le[4] = { code, code >> 8, code >> 16, code >> 24 };

		put_frame(conn, 'X', le, 4);
	}
	_exit(0);
broken:
	snprintf(buf, sizeof(buf), "kiln-init: exec: %s\n",
		 x.argc ? strerror(errno) : "no command");
	put_frame(conn, 'e', buf, strlen(buf));
	code = 126;
	{
		char le[4] = { code, 0, 0, 0 };

		put_frame(conn, 'X', le, 4);
	}
	_exit(1);
}

static int agent_listen(unsigned int port)
{
	struct sockaddr_vsock sa = { .family = AF_VSOCK,
				     .port = port,
				     .cid = -1U };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 16)) {
		say("exec agent on vsock port %u: %s", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* A line from kiln on the status port: "winsize ROWS COLS", "signal N". */
static void control(const char *line, int master, pid_t pid)
{
	unsigned int r, c;
	int sig;

	if (sscanf(line, "winsize %u %u", &r, &c) == 2 && master >= 0) {
		struct winsize ws = { .ws_row = r, .ws_col = c };

		ioctl(master, TIOCSWINSZ, &ws);
	} else if (sscanf(line, "signal %d", &sig) == 1 && sig > 0 &&
		   sig < 65) {
		kill(pid, sig);
	}
}

/*
 * Until the command ends: reaps every orphan (PID 1's job), keeps the
 * command's status, takes kiln's control lines and, with -t, copies
 * between the terminal and the ports; starts an exec session for each
 * connection to the agent.
 */
static void supervise(int sfd, int agent, int master, int ports[4], pid_t pid,
		      int *status)
{
	char buf[4096], line[64];
	size_t llen = 0;
	bool in_open = master >= 0, ctl_open = true, done = false;

	while (!done) {
		struct pollfd p[5] = {
			{ sfd, POLLIN, 0 },
			{ ctl_open ? ports[3] : -1, POLLIN, 0 },
			{ master, POLLIN, 0 },
			{ in_open ? ports[0] : -1, POLLIN, 0 },
			{ agent, POLLIN, 0 },
		};
		ssize_t n;

		if (poll(p, 5, -1) < 0)
			continue;
		if (p[4].revents & POLLIN) {
			int conn = accept4(agent, NULL, NULL, SOCK_CLOEXEC);

			if (conn >= 0 && fork() == 0)
				exec_session(conn);
			if (conn >= 0)
				close(conn);
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			int st;
			pid_t w;

			if (read(sfd, &si, sizeof(si)) < 0) {
				/* The waitpid loop below is what counts. */
			}
			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				if (w == pid) {
					*status = st;
					done = true;
				}
		}
		if ((p[1].revents & (POLLHUP | POLLERR)) &&
		    !(p[1].revents & POLLIN))
			ctl_open = false;
		if (p[1].revents & POLLIN) {
			n = read(ports[3], buf, sizeof(buf));
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] != '\n') {
					if (llen < sizeof(line) - 1)
						line[llen++] = buf[i];
					continue;
				}
				line[llen] = 0;
				llen = 0;
				control(line, master, pid);
			}
		}
		if (p[2].revents & POLLIN) {
			n = read(master, buf, sizeof(buf));
			if (n > 0 && write(ports[1], buf, n) < 0)
				break;
		}
		if (p[3].revents & (POLLIN | POLLHUP)) {
			n = read(ports[0], buf, sizeof(buf));
			if (n > 0 && write(master, buf, n) < 0)
				break;
			if (n == 0)
				in_open = false;
		}
	}
	/* What the command wrote last is still in the terminal. */
	while (master >= 0) {
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
	int ports[4], master = -1, slave = -1, status = 0, i, sfd;
	char line[32];
	sigset_t chld;
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
	setup_net(&c);
	setup_root(&c);
	if (c.oci) {
		setup_oci(&c);
	} else {
		mount_ops(&c);
		setup_system();
	}
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
	/* SIGCHLD to a signalfd, so one poll waits for the command too. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC);
	if (sfd < 0)
		fail("signalfd");
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		int fds[3] = { c.stdin_on ? ports[0] : -1, ports[1], ports[2] };

		child(&c, fds, slave);
	}
	/* Only the command holds its streams: its exit is their end. */
	if (slave >= 0)
		close(slave);
	if (!c.tty) {
		for (i = 0; i < 3; i++)
			close(ports[i]);
		err_fd = -1;
	}
	supervise(sfd, c.agent_port ? agent_listen(c.agent_port) : -1, master,
		  ports, pid, &status);
	snprintf(line, sizeof(line), "exit %d\n",
		 WIFEXITED(status)   ? WEXITSTATUS(status) :
		 WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
				       255);
	if (write(ports[3], line, strlen(line)) < 0)
		say("cannot report the exit status: %s", strerror(errno));
	finish();
}
