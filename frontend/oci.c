// SPDX-License-Identifier: MIT
/* kiln as an OCI runtime: see oci.h and README.md. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "fdio.h"
#include "cli.h"
#include "json.h"
#include "log.h"
#include "netns.h"
#include "oci.h"
#include "run.h"
#include "session.h"
#include "vm.h"

#define OCI_VERSION "1.2.0"
#define DEFAULT_ROOT "/run/kiln"
#define RUNTIME_CONFIG "/etc/kiln/runtime.json"
/* The guest init's exec agent listens there (vsock). */
#define AGENT_PORT 1024
/* The most the agent takes as one request (guest-init/init.c). */
#define AGENT_MAX_REQUEST ((1U << 20) - 1)

/* The global flags. */
struct oci {
	const char *root;
	const char *log_path;
	bool json;
	bool debug;
	int log_fd; /* --log's file, -1 without */
};

static struct oci g = { .root = DEFAULT_ROOT, .log_fd = -1 };

/* An error: to stderr, and to --log's file in its format. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "kiln: %s\n", msg);
	if (g.log_fd >= 0)
		pr_err("%s", msg);
	return 1;
}

bool oci_id_ok(const char *id)
{
	size_t n = strlen(id), i;

	if (!n || n > 128 || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._-+", id[i]))
			return false;
	return true;
}

int oci_parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{ "HUP", SIGHUP },   { "INT", SIGINT },
		{ "QUIT", SIGQUIT }, { "ILL", SIGILL },
		{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
		{ "IOT", SIGIOT },   { "BUS", SIGBUS },
		{ "FPE", SIGFPE },   { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
		{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },
		{ "ALRM", SIGALRM }, { "TERM", SIGTERM },
		{ "CHLD", SIGCHLD }, { "CONT", SIGCONT },
		{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
		{ "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
		{ "URG", SIGURG },   { "XCPU", SIGXCPU },
		{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
		{ "PROF", SIGPROF }, { "WINCH", SIGWINCH },
		{ "IO", SIGIO },     { "PWR", SIGPWR },
		{ "SYS", SIGSYS },
	};
	size_t i;
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)*s)) {
		v = strtol(s, &end, 10);
		return *end || v < 1 || v > 64 ? -1 : (int)v;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].sig;
	return -1;
}

/* --- the state directory --- */

static int state_path(const char *id, const char *file, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s%s%s", g.root, id, file ? "/" : "",
			 file ? file : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* mkdir -p */
static int mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/* rm -r of a container's state directory (flat: files only). */
static void remove_state(const char *id)
{
	char dir[PATH_MAX], p[PATH_MAX + 260];
	struct dirent *e;
	DIR *d;

	if (state_path(id, NULL, dir, sizeof(dir)))
		return;
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Writes text to path through a temporary file and a rename. */
static int write_atomic(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX + 8];
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* A process's start time (clock ticks since boot), 0 when it is gone
 * or a zombie: with the pid, it names the process across pid reuse. */
static unsigned long long proc_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd, i;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	/* Field 3 is the state; the start time is field 22. */
	for (i = 3, p += 2; i < 22 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		t = strtoull(p, NULL, 10);
	return t;
}

struct state {
	char id[130];
	char *bundle, *rootfs, *created, *annotations;
	pid_t pid;
	unsigned long long start;
	bool alive;
	char status[16];
};

static void state_free(struct state *st)
{
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->annotations);
}

static char *dup_member(const struct json_node *o, const char *key)
{
	const char *s = json_get_str(json_get(o, key), NULL);

	return strdup(s ? s : "");
}

/*
 * A socket of type connected to <root>/<id>/<name>, with send and receive
 * timeouts of timeout_s seconds. Returns it or -errno.
 */
static int state_connect(const char *id, const char *name, int type,
			 int timeout_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	char dir[PATH_MAX];
	int fd, r, cwd;

	if (state_path(id, NULL, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Relative to the directory: its path may be longer than sun_path. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dir)) {
		r = -errno;
	} else {
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno :
								      0;
		if (fchdir(cwd)) {
			/* Nothing after depends on the directory. */
		}
	}
	if (cwd >= 0)
		close(cwd);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/* Talks to the container's process: one request, one reply line. */
static int ctl_request(const char *id, const char *req, char *reply, size_t len)
{
	/* A container's process answers at once, or is on its way out. */
	int fd = state_connect(id, "ctl", SOCK_SEQPACKET, 5), r = 0;
	ssize_t n;

	if (fd < 0)
		return fd;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		r = -errno;
	} else {
		n = recv(fd, reply, len - 1, 0);
		if (n <= 0)
			r = n < 0 ? -errno : -ECONNRESET;
		else
			reply[n] = 0;
	}
	close(fd);
	return r;
}

/* Reads <root>/<id>/state.json and finds out the status. */
static int state_load(const char *id, struct state *st)
{
	struct json_doc doc = { 0 };
	const struct json_node *rt, *an;
	char path[PATH_MAX], reply[64], *text;
	uint64_t v;
	size_t len;
	int r;

	memset(st, 0, sizeof(*st));
	if (!oci_id_ok(id))
		return -EINVAL;
	snprintf(st->id, sizeof(st->id), "%s", id);
	if (state_path(id, "state.json", path, sizeof(path)))
		return -ENAMETOOLONG;
	text = bundle_read_file(path, 1 << 20, &len);
	if (!text)
		return -errno;
	r = json_parse(text, len, &doc, NULL, 0);
	free(text);
	if (r) {
		json_free(&doc);
		return -EINVAL;
	}
	rt = json_root(&doc);
	st->bundle = dup_member(rt, "bundle");
	st->rootfs = dup_member(rt, "rootfs");
	st->created = dup_member(rt, "created");
	if (!json_get_u64(json_get(rt, "pid"), &v))
		st->pid = v;
	if (!json_get_u64(json_get(rt, "starttime"), &v))
		st->start = v;
	an = json_get(rt, "annotations");
	if (an && an->type == JSON_OBJECT) {
		struct json_out o;
		const struct json_node *e;

		json_out_init(&o, false);
		json_out_begin_object(&o);
		for (e = json_first(an); e; e = json_next(e)) {
			json_out_key(&o, e->key);
			json_out_str(&o, e->str ? e->str : "");
		}
		json_out_end_object(&o);
		st->annotations = json_out_finish(&o, NULL);
	}
	json_free(&doc);
	st->alive = st->start && proc_start(st->pid) == st->start;
	snprintf(st->status, sizeof(st->status), "stopped");
	if (st->alive) {
		/* It answers unless it is on its way out. */
		/* No answer: its VM has stopped and it is tearing down. */
		if (!ctl_request(id, "state", reply, sizeof(reply)) &&
		    !strncmp(reply, "ok ", 3))
			snprintf(st->status, sizeof(st->status), "%.15s",
				 reply + 3);
	}
	return 0;
}

static void state_json(struct json_out *o, const struct state *st,
		       bool with_version)
{
	json_out_begin_object(o);
	if (with_version) {
		json_out_key(o, "ociVersion");
		json_out_str(o, OCI_VERSION);
	}
	json_out_key(o, "id");
	json_out_str(o, st->id);
	json_out_key(o, "pid");
	json_out_i64(o, st->alive ? st->pid : 0);
	json_out_key(o, "status");
	json_out_str(o, st->status);
	json_out_key(o, "bundle");
	json_out_str(o, st->bundle);
	json_out_key(o, "rootfs");
	json_out_str(o, st->rootfs);
	json_out_key(o, "created");
	json_out_str(o, st->created);
	json_out_key(o, "owner");
	json_out_str(o, "");
	json_out_key(o, "annotations");
	if (st->annotations) {
		struct json_doc d = { 0 };
		const struct json_node *e;

		/* Our own text, parsed back to be written as members. */
		json_out_begin_object(o);
		if (!json_parse(st->annotations, strlen(st->annotations), &d,
				NULL, 0))
			for (e = json_first(json_root(&d)); e;
			     e = json_next(e)) {
				json_out_key(o, e->key);
				json_out_str(o, e->str);
			}
		json_free(&d);
		json_out_end_object(o);
	} else {
		json_out_begin_object(o);
		json_out_end_object(o);
	}
	json_out_end_object(o);
}

static int print_json(struct json_out *o)
{
	size_t len;
	char *t = json_out_finish(o, &len);

	if (!t)
		return fail("out of memory");
	fwrite(t, 1, len, stdout);
	putchar('\n');
	free(t);
	return 0;
}

/* Loads a container that must exist: 0, or an error already said. */
static int must_load(const char *id, struct state *st)
{
	int r;

	if (!oci_id_ok(id))
		return fail(
			"'%s' is not a container id (letters, digits, '.', '_', '-', '+')",
			id);
	r = state_load(id, st);
	if (r == -ENOENT)
		return fail("container '%s' does not exist", id);
	if (r)
		return fail("container '%s': its state cannot be read: %s", id,
			    strerror(-r));
	return 0;
}

/* --- the container's process: the VM and its control socket --- */

struct daemon {
	struct session s;
	struct vm *vm;
	int ctl_fd;
	bool tty;
};

static const char *vm_status(const struct daemon *d)
{
	switch (d->vm->state) {
	case VM_STATE_NOT_STARTED:
		return "created";
	case VM_STATE_PAUSED:
		return "paused";
	case VM_STATE_RUNNING:
		return "running";
	default:
		return "stopped";
	}
}

static void ctl_handle(struct daemon *d, const char *req, char *reply,
		       size_t len)
{
	char err[512];
	int sig;

	if (!strcmp(req, "state")) {
		snprintf(reply, len, "ok %s", vm_status(d));
	} else if (!strcmp(req, "start")) {
		if (d->vm->state != VM_STATE_NOT_STARTED) {
			snprintf(reply, len,
				 "err the container is %s, not created",
				 vm_status(d));
			return;
		}
		if (vm_start(d->vm, err, sizeof(err))) {
			snprintf(reply, len, "err %s", err);
			pr_err("%s", err);
			vm_request_stop(d->vm, VM_STOP_ERROR, 1);
			return;
		}
		if (d->tty)
			session_send_winsize(&d->s);
		/* Last: threads inherit the filters of the thread making them. */
		session_seccomp(&d->s, true);
		snprintf(reply, len, "ok running");
	} else if (sscanf(req, "kill %d", &sig) == 1 && sig > 0 && sig < 65) {
		if (d->vm->state == VM_STATE_NOT_STARTED) {
			/* The process never ran: it ends as if it got it. */
			vm_request_stop(d->vm, VM_STOP_SIGNAL, 128 + sig);
		} else if (session_signal_guest(&d->s, sig)) {
			snprintf(
				reply, len,
				"err the guest's init reads no signals: kill it with KILL");
			return;
		}
		snprintf(reply, len, "ok");
	} else if (!strcmp(req, "pause")) {
		if (session_pause(&d->s, err, sizeof(err)))
			snprintf(reply, len, "err %s", err);
		else
			snprintf(reply, len, "ok");
	} else if (!strcmp(req, "resume")) {
		if (session_resume(&d->s, err, sizeof(err)))
			snprintf(reply, len, "err %s", err);
		else
			snprintf(reply, len, "ok");
	} else {
		snprintf(reply, len, "err unknown request");
	}
}

static void on_ctl_conn(void *opaque, int fd, uint32_t events)
{
	struct daemon *d = opaque;
	char req[256], reply[600];
	ssize_t n;

	(void)events;
	n = recv(fd, req, sizeof(req) - 1, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n > 0) {
		req[n] = 0;
		ctl_handle(d, req, reply, sizeof(reply));
		if (send(fd, reply, strlen(reply),
			 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* The asker left: nothing to tell. */
		}
	}
	evloop_del(&d->s.loop, fd);
	close(fd);
}

static void on_ctl(void *opaque, int fd, uint32_t events)
{
	struct daemon *d = opaque;
	int c;

	(void)events;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	if (evloop_add(&d->s.loop, c, EPOLLIN, on_ctl_conn, d))
		close(c);
}

/* Sends the pty's master to --console-socket, as runc does. */
static int send_master(const char *sock, int master, const char *name,
		       char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)name, strlen(name) + 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int fd, r = 0;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		set_err(err, errlen, "--console-socket '%s': path too long",
			sock);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		set_err(err, errlen, "--console-socket '%s': %s", sock,
			strerror(errno));
		goto out;
	}
	memset(u.buf, 0, sizeof(u.buf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0) {
		r = -errno;
		set_err(err, errlen, "--console-socket '%s': %s", sock,
			strerror(errno));
	}
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* The container's terminal: a pty whose master goes to the caller. */
static int open_terminal(const char *sock, char *err, size_t errlen)
{
	int master, slave;
	char name[128];

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    ptsname_r(master, name, sizeof(name))) {
		set_err(err, errlen, "cannot open a terminal: %s",
			strerror(errno));
		return -EIO;
	}
	/* A session leader without a terminal: this one becomes kiln's. */
	slave = open(name, O_RDWR | O_CLOEXEC);
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0)) {
		set_err(err, errlen, "cannot open %s: %s", name,
			strerror(errno));
		close(master);
		return -EIO;
	}
	if (send_master(sock, master, name, err, errlen)) {
		close(master);
		close(slave);
		return -EIO;
	}
	close(master);
	dup2(slave, 0);
	dup2(slave, 1);
	dup2(slave, 2);
	if (slave > 2)
		close(slave);
	return 0;
}

/* Closes what the caller left open but fds 0-2 and keep. */
static void close_others(int keep)
{
	int fds[256], n, i;

	do {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;

		n = 0;
		while (d && (e = readdir(d)) && n < 256) {
			int fd = atoi(e->d_name);

			if (fd > 2 && fd != keep && fd != dirfd(d))
				fds[n++] = fd;
		}
		if (d)
			closedir(d);
		for (i = 0; i < n; i++)
			close(fds[i]);
	} while (n == 256); /* more than a batch: again */
}

static void tell(int fd, const char *msg)
{
	if (write(fd, msg, strlen(msg)) < 0) {
		/* create sees the pipe end without a word: it says so. */
	}
}

/*
 * The container's network namespace, when its engine made one: this
 * thread enters it (*saved: the way back), and when it has a link to
 * join, the VM gets a NIC on a TAP made there with the link's MAC, and
 * the guest init its address (a "net" record). 1 joined, 0 nothing to
 * join, -errno with err.
 */
static int join_network(struct vm_config *cfg, struct netns_link *l, int *saved,
			char *err, size_t errlen)
{
	struct run_blob b = { .buf = cfg->init_extra,
			      .len = cfg->init_extra_len,
			      .cap = cfg->init_extra_len };
	struct net_spec *n;
	char rec[128];
	int r;

	*saved = -1;
	if (!cfg->netns)
		return 0;
	r = netns_enter(cfg->netns, saved, err, errlen);
	if (r)
		return r;
	r = netns_probe(l, err, errlen);
	if (r <= 0)
		return r;
	if (cfg->nr_nics >= KILN_MAX_NICS ||
	    netns_record(l, rec, sizeof(rec)) < 0) {
		snprintf(err, errlen, "the container's network: no NIC left");
		return -ENOSPC;
	}
	n = &cfg->nics[cfg->nr_nics++];
	memset(n, 0, sizeof(*n));
	snprintf(n->ifname, sizeof(n->ifname), "%s", NETNS_TAP);
	memcpy(n->mac, l->mac, sizeof(n->mac));
	n->has_mac = 1;
	run_rec(&b, "net", "%s", rec);
	cfg->init_extra = b.buf;
	cfg->init_extra_len = b.len;
	if (b.failed) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 1;
}

/* The container's process; ready is create's pipe. Never returns. */
static void __attribute__((noreturn))
daemon_main(struct vm_config *cfg, const char *id, const char *console,
	    int ready)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct daemon d = { .ctl_fd = -1, .tty = cfg->tty };
	char err[600], dir[PATH_MAX];
	struct netns_link link;
	int status, joined, saved_ns;

	close_others(ready);
	setsid();
	if (g.log_path) {
		g.log_fd = open(g.log_path,
				O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				0644);
		if (g.log_fd >= 0)
			log_set_fd(g.log_fd);
	}
	if (cfg->tty) {
		if (!console) {
			tell(ready,
			     "err process.terminal is set: give --console-socket");
			_exit(1);
		}
		if (open_terminal(console, err + 4, sizeof(err) - 4)) {
			memcpy(err, "err ", 4);
			tell(ready, err);
			_exit(1);
		}
	}
	if (session_init(&d.s, cfg->tty)) {
		tell(ready, "err cannot set up signal handling");
		_exit(1);
	}
	joined = join_network(cfg, &link, &saved_ns, err + 4, sizeof(err) - 4);
	if (joined >= 0) {
		d.vm = vm_create(cfg, err + 4, sizeof(err) - 4);
		if (d.vm && joined > 0 &&
		    netns_wire(&link, NETNS_TAP, err + 4, sizeof(err) - 4))
			joined = -1;
	}
	netns_leave(saved_ns);
	if (joined < 0 || !d.vm) {
		memcpy(err, "err ", 4);
		tell(ready, err);
		_exit(1);
	}
	state_path(id, NULL, dir, sizeof(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "ctl");
	d.ctl_fd = socket(AF_UNIX,
			  SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (d.ctl_fd < 0 || chdir(dir) ||
	    bind(d.ctl_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(d.ctl_fd, 16) ||
	    evloop_add(&d.s.loop, d.ctl_fd, EPOLLIN, on_ctl, &d)) {
		snprintf(err, sizeof(err), "err %.400s/ctl: %s", dir,
			 strerror(errno));
		tell(ready, err);
		_exit(1);
	}
	if (session_attach(&d.s, d.vm) || session_forward_signals(&d.s)) {
		tell(ready, "err cannot watch the container's streams");
		_exit(1);
	}
	tell(ready, "ok");
	close(ready);
	session_loop(&d.s);
	/* Nobody is answered from here: `state` says stopped at once. */
	evloop_del(&d.s.loop, d.ctl_fd);
	close(d.ctl_fd);
	unlink("ctl");
	status = session_finish(&d.s);
	_exit(status);
}

static void now_rfc3339(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, len - n, ".%09ldZ", ts.tv_nsec);
}

static int write_state(const char *id, const char *bundle,
		       const struct vm_config *cfg, pid_t pid)
{
	struct json_doc doc = { .max_nodes = 65536 };
	const struct json_node *an = NULL, *e;
	char path[PATH_MAX], created[64], *text;
	struct json_out o;
	size_t len;
	int r;

	/* The annotations, from the bundle as it is now. */
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	text = bundle_read_file(path, 4 << 20, &len);
	if (text && !json_parse(text, len, &doc, NULL, 0))
		an = json_get(json_root(&doc), "annotations");
	free(text);
	now_rfc3339(created, sizeof(created));
	json_out_init(&o, false);
	json_out_begin_object(&o);
	json_out_key(&o, "ociVersion");
	json_out_str(&o, OCI_VERSION);
	json_out_key(&o, "id");
	json_out_str(&o, id);
	json_out_key(&o, "pid");
	json_out_i64(&o, pid);
	json_out_key(&o, "starttime");
	json_out_u64(&o, proc_start(pid));
	json_out_key(&o, "bundle");
	json_out_str(&o, bundle);
	json_out_key(&o, "rootfs");
	json_out_strn(&o, cfg->rootfs, cfg->rootfs_path_len);
	json_out_key(&o, "created");
	json_out_str(&o, created);
	json_out_key(&o, "annotations");
	json_out_begin_object(&o);
	for (e = json_first(an); e; e = json_next(e))
		if (e->type == JSON_STRING) {
			json_out_key(&o, e->key);
			json_out_str(&o, e->str);
		}
	json_out_end_object(&o);
	json_out_end_object(&o);
	json_free(&doc);
	text = json_out_finish(&o, &len);
	if (!text)
		return -ENOMEM;
	if (state_path(id, "state.json", path, sizeof(path))) {
		free(text);
		return -ENAMETOOLONG;
	}
	r = write_atomic(path, text, len);
	free(text);
	return r;
}

/*
 * The runtime's own defaults (RUNTIME_CONFIG, or $KILN_RUNTIME_CONFIG):
 * {"kernel": PATH, "memory": "512M", "cpus": N, "append": "..."}; the
 * bundle's limits and annotations come after.
 */
static int runtime_defaults(struct vm_config *cfg, char *err, size_t errlen)
{
	const char *path = getenv("KILN_RUNTIME_CONFIG");
	struct json_doc doc = { 0 };
	const struct json_node *rt;
	const char *s;
	char *text;
	uint64_t v;
	size_t len;
	int r = 0;

	cfg->mem_size = BUNDLE_DEFAULT_MEM;
	if (!path)
		path = RUNTIME_CONFIG;
	text = bundle_read_file(path, 1 << 20, &len);
	if (!text) {
		if (errno == ENOENT)
			return 0;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (json_parse(text, len, &doc, err, errlen) ||
	    json_root(&doc)->type != JSON_OBJECT) {
		free(text);
		json_free(&doc);
		set_err(err, errlen, "%s: not a JSON object of kiln's settings",
			path);
		return -EINVAL;
	}
	free(text);
	rt = json_root(&doc);
	if ((s = json_get_str(json_get(rt, "kernel"), NULL)) &&
	    !(cfg->kernel = config_strdup(cfg, s)))
		r = -ENOMEM;
	if ((s = json_get_str(json_get(rt, "append"), NULL)) &&
	    !(cfg->append = config_strdup(cfg, s)))
		r = -ENOMEM;
	if ((s = json_get_str(json_get(rt, "memory"), NULL))) {
		if (parse_size(s, &v) || config_check_mem(v, err, errlen)) {
			set_err(err, errlen,
				"%s: memory '%s': give a size such as 512M",
				path, s);
			r = -EINVAL;
		} else {
			cfg->mem_size = v;
		}
	}
	if (json_get(rt, "cpus")) {
		if (json_get_u64(json_get(rt, "cpus"), &v) ||
		    config_check_cpus(v, err, errlen)) {
			set_err(err, errlen,
				"%s: cpus: give a number from 1 to %d", path,
				KILN_MAX_CPUS);
			r = -EINVAL;
		} else {
			cfg->cpus = v;
		}
	}
	json_free(&doc);
	return r;
}

/* --- the commands --- */

struct opt {
	const char *name; /* "--bundle" */
	char abbr; /* 'b', or 0 */
	bool arg;
	const char **val; /* where its argument (or "1") goes */
};

/*
 * Takes the options in opts (in any order, "--x v", "--x=v", "-x v")
 * and up to max positional arguments. Returns their count, or -1 with
 * the error said.
 */
static int parse_opts(int argc, char **argv, struct opt *opts, const char **pos,
		      int max)
{
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *eq = NULL;
		struct opt *o = NULL;

		if (a[0] != '-' || !a[1] || n) {
			if (n == max) {
				fail("unexpected argument '%s'", a);
				return -1;
			}
			pos[n++] = a;
			continue;
		}
		for (o = opts; o->name; o++) {
			size_t l = strlen(o->name);

			if (!strncmp(a, o->name, l) && (!a[l] || a[l] == '=')) {
				eq = a[l] ? a + l + 1 : NULL;
				break;
			}
			if (o->abbr && a[1] == o->abbr && !a[2])
				break;
		}
		if (!o->name) {
			fail("unknown option '%s'", a);
			return -1;
		}
		if (!o->arg) {
			*o->val = "1";
			continue;
		}
		if (!eq) {
			if (i + 1 == argc) {
				fail("%s needs a value", o->name);
				return -1;
			}
			eq = argv[++i];
		}
		*o->val = eq;
	}
	return n;
}

static int cmd_create(int argc, char **argv)
{
	const char *bundle = ".", *pid_file = NULL, *console = NULL,
		   *preserve = NULL, *ignored = NULL, *pos[1];
	struct opt opts[] = {
		{ "--bundle", 'b', true, &bundle },
		{ "--pid-file", 0, true, &pid_file },
		{ "--console-socket", 0, true, &console },
		{ "--preserve-fds", 0, true, &preserve },
		{ "--no-pivot", 0, false, &ignored },
		{ "--no-new-keyring", 0, false, &ignored },
		{ NULL },
	};
	char err[600], dir[PATH_MAX], *bdir;
	struct vm_config cfg;
	int n, ready[2], r;
	ssize_t len;
	pid_t pid;

	n = parse_opts(argc, argv, opts, pos, 1);
	if (n < 0)
		return 1;
	if (n != 1)
		return fail("create: give the container id");
	if (!oci_id_ok(pos[0]))
		return fail(
			"'%s' is not a container id (letters, digits, '.', '_', '-', '+')",
			pos[0]);
	bdir = realpath(bundle, NULL);
	if (!bdir)
		return fail("bundle '%s': %s", bundle, strerror(errno));
	config_init(&cfg);
	if (runtime_defaults(&cfg, err, sizeof(err)) ||
	    bundle_load(bdir, &cfg, err, sizeof(err))) {
		config_free(&cfg);
		fail("%s", err);
		free(bdir);
		return 1;
	}
	if (cfg.tty && !console) {
		config_free(&cfg);
		free(bdir);
		return fail("process.terminal is set: give --console-socket");
	}
	/* exec's way in: the init's agent, over vsock through this socket. */
	if (!state_path(pos[0], "vsock.sock", dir, sizeof(dir)) &&
	    !config_check_vsock(3, dir, NULL, 0)) {
		struct run_blob b = { .buf = cfg.init_extra,
				      .len = cfg.init_extra_len,
				      .cap = cfg.init_extra_len };

		cfg.vsock_uds = config_strdup(&cfg, dir);
		cfg.vsock_cid = 3;
		run_rec(&b, "agent", "%d", AGENT_PORT);
		cfg.init_extra = b.buf;
		cfg.init_extra_len = b.len;
		if (b.failed || !cfg.vsock_uds) {
			config_free(&cfg);
			free(bdir);
			return fail("out of memory");
		}
	}
	r = state_path(pos[0], "state.json", dir, sizeof(dir));
	if (!r)
		r = mkdirs(g.root, 0700);
	if (r) {
		config_free(&cfg);
		free(bdir);
		return fail("--root '%s': %s", g.root, strerror(-r));
	}
	state_path(pos[0], NULL, dir, sizeof(dir));
	if (mkdir(dir, 0700)) {
		r = errno;
		config_free(&cfg);
		free(bdir);
		if (r == EEXIST)
			return fail("container '%s' exists: delete it first",
				    pos[0]);
		return fail("%s: %s", dir, strerror(r));
	}
	if (pipe2(ready, O_CLOEXEC)) {
		r = errno;
		goto undo;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = errno;
		close(ready[0]);
		close(ready[1]);
		goto undo;
	}
	if (pid == 0) {
		close(ready[0]);
		daemon_main(&cfg, pos[0], console, ready[1]);
	}
	close(ready[1]);
	len = read(ready[0], err, sizeof(err) - 1);
	close(ready[0]);
	err[len > 0 ? len : 0] = 0;
	if (strcmp(err, "ok")) {
		int st;

		waitpid(pid, &st, 0);
		remove_state(pos[0]);
		fail("%s",
		     !strncmp(err, "err ", 4) ?
			     err + 4 :
			     "the container's process ended before it was ready");
		config_free(&cfg);
		free(bdir);
		return 1;
	}
	r = write_state(pos[0], bdir, &cfg, pid);
	if (!r && pid_file) {
		char num[32];

		n = snprintf(num, sizeof(num), "%d", (int)pid);
		r = write_atomic(pid_file, num, n);
		if (r)
			snprintf(err, sizeof(err), "--pid-file '%s'", pid_file);
	} else if (r) {
		snprintf(err, sizeof(err), "%.500s/state.json", dir);
	}
	config_free(&cfg);
	free(bdir);
	if (r) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		remove_state(pos[0]);
		return fail("%s: %s", err, strerror(-r));
	}
	return 0;
undo:
	remove_state(pos[0]);
	config_free(&cfg);
	free(bdir);
	return fail("cannot start the container's process: %s", strerror(r));
}

static int one_id(int argc, char **argv, struct opt *opts, const char *cmd,
		  const char **pos, int max)
{
	int n = parse_opts(argc, argv, opts, pos, max);

	if (n < 0)
		return -1;
	if (n < 1) {
		fail("%s: give the container id", cmd);
		return -1;
	}
	return n;
}

static int simple_request(const char *id, const char *req, const char *need)
{
	struct state st;
	char reply[600];
	int r;

	if (must_load(id, &st))
		return 1;
	if (!st.alive || (need && strcmp(st.status, need))) {
		r = fail("container '%s' is %s%s%s", id, st.status,
			 need ? ", not " : "", need ? need : "");
		state_free(&st);
		return r;
	}
	state_free(&st);
	r = ctl_request(id, req, reply, sizeof(reply));
	if (r)
		return fail("container '%s': %s", id, strerror(-r));
	if (strncmp(reply, "ok", 2))
		return fail("container '%s': %s", id,
			    !strncmp(reply, "err ", 4) ? reply + 4 : reply);
	return 0;
}

static int cmd_start(int argc, char **argv)
{
	struct opt opts[] = { { NULL } };
	const char *pos[1];

	if (one_id(argc, argv, opts, "start", pos, 1) < 0)
		return 1;
	return simple_request(pos[0], "start", "created");
}

static int cmd_pause(int argc, char **argv, bool pause)
{
	struct opt opts[] = { { NULL } };
	const char *pos[1];

	if (one_id(argc, argv, opts, pause ? "pause" : "resume", pos, 1) < 0)
		return 1;
	return simple_request(pos[0], pause ? "pause" : "resume",
			      pause ? "running" : "paused");
}

static int cmd_state(int argc, char **argv)
{
	struct opt opts[] = { { NULL } };
	const char *pos[1];
	struct json_out o;
	struct state st;

	if (one_id(argc, argv, opts, "state", pos, 1) < 0 ||
	    must_load(pos[0], &st))
		return 1;
	json_out_init(&o, true);
	state_json(&o, &st, true);
	state_free(&st);
	return print_json(&o);
}

/* Waits (up to ms) for a process that is not our child to be gone. */
static bool wait_gone(pid_t pid, unsigned long long start, int ms)
{
	struct timespec nap = { 0, 10 * 1000000 };

	for (; ms > 0; ms -= 10) {
		if (proc_start(pid) != start)
			return true;
		nanosleep(&nap, NULL);
	}
	return proc_start(pid) != start;
}

static int cmd_kill(int argc, char **argv)
{
	const char *all = NULL, *pos[2];
	struct opt opts[] = { { "--all", 'a', false, &all }, { NULL } };
	char req[32], reply[600];
	struct state st;
	int n, sig = SIGTERM, r;

	n = one_id(argc, argv, opts, "kill", pos, 2);
	if (n < 0)
		return 1;
	if (n == 2 && (sig = oci_parse_signal(pos[1])) < 0)
		return fail("kill: '%s' is not a signal", pos[1]);
	if (must_load(pos[0], &st))
		return 1;
	if (!st.alive || !strcmp(st.status, "stopped")) {
		state_free(&st);
		/* The words containerd and podman look for. */
		return fail("kill %s: container not running", pos[0]);
	}
	if (sig == SIGKILL) {
		/* At once, whatever the guest does: the VM is gone. */
		r = kill(st.pid, SIGKILL) ? errno : 0;
		state_free(&st);
		return r ? fail("kill %s: %s", pos[0], strerror(r)) : 0;
	}
	state_free(&st);
	snprintf(req, sizeof(req), "kill %d", sig);
	r = ctl_request(pos[0], req, reply, sizeof(reply));
	if (r)
		return fail("kill %s: container not running (%s)", pos[0],
			    strerror(-r));
	if (strncmp(reply, "ok", 2))
		return fail("container '%s': %s", pos[0], reply);
	return 0;
}

static int cmd_delete(int argc, char **argv)
{
	const char *force = NULL, *pos[1];
	struct opt opts[] = { { "--force", 'f', false, &force }, { NULL } };
	struct state st;
	int r;

	if (one_id(argc, argv, opts, "delete", pos, 1) < 0)
		return 1;
	if (!oci_id_ok(pos[0]))
		return fail("'%s' is not a container id", pos[0]);
	r = state_load(pos[0], &st);
	if (r == -ENOENT) {
		char dir[PATH_MAX];

		/* A directory left half-made is removed all the same. */
		if (!state_path(pos[0], NULL, dir, sizeof(dir)) &&
		    !access(dir, F_OK)) {
			remove_state(pos[0]);
			return 0;
		}
		return force ? 0 :
			       fail("container '%s' does not exist", pos[0]);
	}
	if (r) {
		if (!force)
			return fail("container '%s': %s", pos[0], strerror(-r));
		remove_state(pos[0]);
		return 0;
	}
	if (st.alive) {
		if (!force && strcmp(st.status, "created") &&
		    strcmp(st.status, "stopped")) {
			r = fail(
				"container '%s' is %s: stop it first, or delete --force",
				pos[0], st.status);
			state_free(&st);
			return r;
		}
		kill(st.pid, SIGKILL);
		if (!wait_gone(st.pid, st.start, 10000)) {
			r = fail("container '%s': its process %d did not end",
				 pos[0], (int)st.pid);
			state_free(&st);
			return r;
		}
	}
	state_free(&st);
	remove_state(pos[0]);
	return 0;
}

static int cmd_ps(int argc, char **argv)
{
	const char *format = "table", *pos[1];
	struct opt opts[] = { { "--format", 'f', true, &format }, { NULL } };
	struct state st;

	if (one_id(argc, argv, opts, "ps", pos, 1) < 0 ||
	    must_load(pos[0], &st))
		return 1;
	if (!strcmp(format, "json")) {
		if (st.alive)
			printf("[%d]\n", (int)st.pid);
		else
			printf("[]\n");
	} else {
		printf("PID\n");
		if (st.alive)
			printf("%d\n", (int)st.pid);
	}
	state_free(&st);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	const char *format = "table", *quiet = NULL, *pos[1];
	struct opt opts[] = { { "--format", 'f', true, &format },
			      { "--quiet", 'q', false, &quiet },
			      { NULL } };
	bool json = false;
	struct json_out o;
	struct dirent *e;
	DIR *d;

	if (parse_opts(argc, argv, opts, pos, 0) < 0)
		return 1;
	json = !strcmp(format, "json");
	if (json) {
		json_out_init(&o, false);
		json_out_begin_array(&o);
	} else if (!quiet) {
		printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS",
		       "BUNDLE", "CREATED");
	}
	d = opendir(g.root);
	while (d && (e = readdir(d))) {
		struct state st;

		if (e->d_name[0] == '.' || state_load(e->d_name, &st))
			continue;
		if (json)
			state_json(&o, &st, false);
		else if (quiet)
			printf("%s\n", st.id);
		else
			printf("%-24s %-8d %-10s %-40s %s\n", st.id,
			       st.alive ? (int)st.pid : 0, st.status, st.bundle,
			       st.created);
		state_free(&st);
	}
	if (d)
		closedir(d);
	if (json) {
		json_out_end_array(&o);
		return print_json(&o);
	}
	return 0;
}

static int cmd_features(void)
{
	static const char *const opts[] = {
		"async",	 "atime",      "bind",	  "dev",
		"diratime",	 "dirsync",    "exec",	  "noatime",
		"nodev",	 "nodiratime", "noexec",  "norelatime",
		"nostrictatime", "nosuid",     "private", "rbind",
		"relatime",	 "rprivate",   "ro",	  "rw",
		"strictatime",	 "suid",       "sync",	  NULL,
	};
	struct json_out o;
	int i;

	json_out_init(&o, true);
	json_out_begin_object(&o);
	json_out_key(&o, "ociVersionMin");
	json_out_str(&o, "1.0.0");
	json_out_key(&o, "ociVersionMax");
	json_out_str(&o, OCI_VERSION);
	json_out_key(&o, "hooks");
	json_out_begin_array(&o);
	json_out_end_array(&o);
	json_out_key(&o, "mountOptions");
	json_out_begin_array(&o);
	for (i = 0; opts[i]; i++)
		json_out_str(&o, opts[i]);
	json_out_end_array(&o);
	json_out_key(&o, "annotations");
	json_out_begin_object(&o);
	json_out_key(&o, "org.opencontainers.runtime-spec.features.kiln");
	json_out_str(&o, "microVM: the container runs in a KVM guest");
	json_out_end_object(&o);
	json_out_end_object(&o);
	return print_json(&o);
}

/* --- exec: a process more in the container, through the guest's agent --- */

/* A frame to the agent: type, 32-bit little-endian length, data. */
static int put_frame(int fd, char type, const void *data, uint32_t len)
{
	unsigned char h[5] = { type, len, len >> 8, len >> 16, len >> 24 };

	if (write_full(fd, h, 5))
		return -1;
	return len ? write_full(fd, data, len) : 0;
}

/* Connects to the agent through the VM's vsock socket (Firecracker's
 * CONNECT handshake). Returns the socket or -errno. */
static int agent_connect(const char *id)
{
	char line[64];
	size_t n = 0;
	int fd, r;

	/* The handshake and the request: a guest that does not answer
	 * within 30 s is not going to. */
	fd = state_connect(id, "vsock.sock", SOCK_STREAM, 30);
	if (fd < 0)
		return fd;
	snprintf(line, sizeof(line), "CONNECT %d\n", AGENT_PORT);
	if (write_full(fd, line, strlen(line))) {
		r = -EIO;
		goto fail;
	}
	/* "OK <port>\n", a byte at a time: what follows is the agent's. */
	while (n < sizeof(line) - 1) {
		if (read(fd, line + n, 1) != 1) {
			r = -ECONNREFUSED;
			goto fail;
		}
		if (line[n++] == '\n')
			break;
	}
	line[n] = 0;
	if (strncmp(line, "OK ", 3)) {
		r = -ECONNREFUSED;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

/* What goes to the agent, waiting for the socket to take it. */
struct wqueue {
	unsigned char buf[4 * 65536];
	size_t len;
};

/* Room is always left for control frames (see exec_relay). */
static void queue_frame(struct wqueue *q, char type, const void *data,
			uint32_t len)
{
	unsigned char *p = q->buf + q->len;

	if (q->len + 5 + len > sizeof(q->buf))
		return;
	p[0] = type;
	p[1] = len;
	p[2] = len >> 8;
	p[3] = len >> 16;
	p[4] = len >> 24;
	if (len) /* an end-of-input frame has no data (and no pointer) */
		memcpy(p + 5, data, len);
	q->len += 5 + len;
}

static void queue_u32s(struct wqueue *q, char type, uint32_t a, uint32_t b,
		       int n)
{
	unsigned char d[8] = { a, a >> 8, a >> 16, a >> 24,
			       b, b >> 8, b >> 16, b >> 24 };

	queue_frame(q, type, d, n * 4);
}

/*
 * Copies between the exec'd process (through conn) and in/out/err until
 * it ends; forwards the signals kiln gets and, on a terminal, its size.
 * Nothing here waits on the guest: the socket is non-blocking, frames
 * are taken as they come (a guest that sends half of one stalls nothing
 * else) and what is sent waits in a queue, stdin read only while it has
 * room. Returns the process's exit status.
 */
static int exec_relay(int conn, int in, int out, int err, bool tty)
{
	static unsigned char rb[5 + 65536], chunk[65536];
	static struct wqueue q;
	bool in_open = true;
	struct winsize ws;
	size_t rlen = 0;
	sigset_t sigs;
	int sfd;

	session_forwarded_signals(&sigs, true);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	fcntl(conn, F_SETFL, fcntl(conn, F_GETFL) | O_NONBLOCK);
	if (tty && !ioctl(in, TIOCGWINSZ, &ws) && ws.ws_row)
		queue_u32s(&q, 'W', ws.ws_row, ws.ws_col, 2);
	for (;;) {
		/* stdin only while a whole chunk and control frames fit. */
		bool room = q.len + 5 + sizeof(chunk) + 64 <= sizeof(q.buf);
		struct pollfd p[3] = {
			{ conn, POLLIN | (q.len ? POLLOUT : 0), 0 },
			{ in_open && room ? in : -1, POLLIN, 0 },
			{ sfd, POLLIN, 0 },
		};
		ssize_t n;

		if (poll(p, 3, -1) < 0)
			continue;
		if (p[0].revents & POLLOUT) {
			n = send(conn, q.buf, q.len, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				break;
			if (n > 0) {
				memmove(q.buf, q.buf + n, q.len - n);
				q.len -= n;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(conn, rb + rlen, sizeof(rb) - rlen, 0);
			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (n > 0)
				rlen += n;
			while (rlen >= 5) {
				uint32_t len = rb[1] | rb[2] << 8 |
					       rb[3] << 16 |
					       (uint32_t)rb[4] << 24;

				if (len > sizeof(rb) - 5) {
					fprintf(stderr,
						"kiln: exec: the guest sent a frame of %u bytes\n",
						len);
					return 255;
				}
				if (rlen < 5 + len)
					break;
				if (rb[0] == 'X' && len == 4)
					return rb[5];
				if ((rb[0] == 'O' || rb[0] == 'e') &&
				    write_full(rb[0] == 'O' ? out : err, rb + 5,
					       len)) {
					/* Nobody reads: the process goes on. */
				}
				memmove(rb, rb + 5 + len, rlen - 5 - len);
				rlen -= 5 + len;
			}
		}
		if (p[1].revents) {
			n = read(in, chunk, sizeof(chunk));
			if (n > 0) {
				queue_frame(&q, 'I', chunk, n);
			} else if (n == 0 || errno != EINTR) {
				in_open = false;
				queue_frame(&q, 'E', NULL, 0);
			}
		}
		if (p[2].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGWINCH) {
				if (tty && !ioctl(in, TIOCGWINSZ, &ws))
					queue_u32s(&q, 'W', ws.ws_row,
						   ws.ws_col, 2);
			} else {
				queue_u32s(&q, 'S', si.ssi_signo, 0, 1);
			}
		}
	}
	fprintf(stderr,
		"kiln: exec: the connection to the guest ended before the process did\n");
	return 255;
}

static int cmd_exec(int argc, char **argv)
{
	const char *process = NULL, *pid_file = NULL, *detach = NULL,
		   *tty_opt = NULL, *console = NULL, *cwd = NULL, *user = NULL,
		   *ignored = NULL, *pos[1024];
	struct opt opts[] = {
		{ "--process", 'p', true, &process },
		{ "--pid-file", 0, true, &pid_file },
		{ "--detach", 'd', false, &detach },
		{ "--tty", 't', false, &tty_opt },
		{ "--console-socket", 0, true, &console },
		{ "--cwd", 0, true, &cwd },
		{ "--user", 'u', true, &user },
		{ "--preserve-fds", 0, true, &ignored },
		{ "--process-label", 0, true, &ignored },
		{ "--apparmor", 0, true, &ignored },
		{ "--no-new-privs", 0, false, &ignored },
		{ "--cap", 'c', true, &ignored },
		{ NULL },
	};
	struct run_blob b = { 0 };
	struct vm_config cfg;
	char err[600];
	struct state st;
	int n, conn, status, io = -1;
	unsigned int i;
	pid_t pid;

	n = one_id(argc, argv, opts, "exec", pos, 1024);
	if (n < 0)
		return 1;
	config_init(&cfg);
	if (process) {
		size_t len;
		char *text = bundle_read_file(process, 1 << 22, &len);

		if (!text)
			return fail("--process '%s': %s", process,
				    strerror(errno));
		n = bundle_process(text, len, &cfg, err, sizeof(err));
		free(text);
		if (n) {
			config_free(&cfg);
			return fail("%s", err);
		}
	} else {
		if (n < 2)
			return fail(
				"exec: give --process FILE or a command after the id");
		cfg.run_argv = (char **)pos + 1;
		cfg.run_argc = n - 1;
		cfg.cwd = cwd ? cwd : "/";
		cfg.tty = !!tty_opt;
		if (user && sscanf(user, "%ld:%ld", &cfg.uid, &cfg.gid) < 1) {
			config_free(&cfg);
			return fail("--user '%s': give UID[:GID]", user);
		}
		if (cfg.uid >= 0 && cfg.gid < 0)
			cfg.gid = 0;
	}
	if (must_load(pos[0], &st)) {
		config_free(&cfg);
		return 1;
	}
	n = st.alive && !strcmp(st.status, "running");
	state_free(&st);
	if (!n) {
		config_free(&cfg);
		return fail("container '%s' is not running", pos[0]);
	}
	for (i = 0; i < (unsigned int)cfg.run_argc; i++)
		run_rec(&b, "arg", "%s", cfg.run_argv[i]);
	for (i = 0; i < cfg.nr_env; i++)
		run_rec(&b, "env", "%s", cfg.env[i]);
	run_rec(&b, "cwd", "%s", cfg.cwd ? cfg.cwd : "/");
	if (cfg.uid >= 0) {
		run_rec(&b, "uid", "%ld", cfg.uid);
		run_rec(&b, "gid", "%ld", cfg.gid);
	}
	run_rec(&b, "tty", "%d", cfg.tty);
	run_rec(&b, "oci", "1");
	/* The process's groups, rlimits, umask...: records already. */
	run_blob_append(&b, cfg.init_extra, cfg.init_extra_len);
	if (b.failed) {
		config_free(&cfg);
		free(b.buf);
		return fail("out of memory");
	}
	if (b.len > AGENT_MAX_REQUEST) {
		config_free(&cfg);
		free(b.buf);
		return fail(
			"exec: the process's arguments and environment take %zu bytes, more than %u",
			b.len, AGENT_MAX_REQUEST);
	}
	conn = agent_connect(pos[0]);
	if (conn < 0 || put_frame(conn, 'R', b.buf, b.len)) {
		free(b.buf);
		config_free(&cfg);
		return fail("container '%s': cannot reach its exec agent: %s",
			    pos[0], strerror(conn < 0 ? -conn : EIO));
	}
	free(b.buf);
	if (cfg.tty && console) {
		int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		char name[128];
		struct termios t;

		if (master < 0 || grantpt(master) || unlockpt(master) ||
		    ptsname_r(master, name, sizeof(name)) ||
		    (io = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
			config_free(&cfg);
			return fail("cannot open a terminal: %s",
				    strerror(errno));
		}
		/* The guest's terminal does the line discipline. */
		if (!tcgetattr(io, &t)) {
			cfmakeraw(&t);
			tcsetattr(io, TCSANOW, &t);
		}
		if (send_master(console, master, name, err, sizeof(err))) {
			close(master);
			config_free(&cfg);
			return fail("%s", err);
		}
		close(master);
	}
	config_free(&cfg);
	if (detach) {
		fflush(NULL);
		pid = fork();
		if (pid < 0)
			return fail("exec: fork: %s", strerror(errno));
		if (pid > 0) {
			char num[32];

			n = snprintf(num, sizeof(num), "%d", (int)pid);
			if (pid_file && write_atomic(pid_file, num, n)) {
				kill(pid, SIGKILL);
				return fail("--pid-file '%s': %s", pid_file,
					    strerror(errno));
			}
			return 0;
		}
		setsid();
		if (io >= 0)
			ioctl(io, TIOCSCTTY, 0);
	} else if (pid_file) {
		char num[32];

		n = snprintf(num, sizeof(num), "%d", (int)getpid());
		if (write_atomic(pid_file, num, n))
			return fail("--pid-file '%s': %s", pid_file,
				    strerror(errno));
	}
	status = exec_relay(conn, io >= 0 ? io : 0, io >= 0 ? io : 1,
			    io >= 0 ? io : 2, io >= 0 || isatty(0));
	if (detach)
		_exit(status);
	return status;
}

/*
 * `spec`: a config.json to start from, as runc's: sh on a terminal, the
 * root in rootfs/, the usual mounts. A file already there is kept.
 */
const char oci_default_spec[] =
	"{\n"
	"  \"ociVersion\": \"" OCI_VERSION "\",\n"
	"  \"process\": {\n"
	"    \"terminal\": true,\n"
	"    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
	"    \"args\": [ \"sh\" ],\n"
	"    \"env\": [\n"
	"      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
	"      \"TERM=xterm\"\n"
	"    ],\n"
	"    \"cwd\": \"/\",\n"
	"    \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],\n"
	"    \"noNewPrivileges\": true\n"
	"  },\n"
	"  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
	"  \"hostname\": \"kiln\",\n"
	"  \"mounts\": [\n"
	"    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
	"    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\" ] },\n"
	"    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
	"    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n"
	"    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
	"      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\" ] },\n"
	"    { \"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
	"      \"options\": [ \"nosuid\", \"nodev\", \"mode=1777\" ] }\n"
	"  ],\n"
	"  \"linux\": {\n"
	"    \"resources\": { \"memory\": { \"limit\": 268435456 } },\n"
	"    \"namespaces\": [ { \"type\": \"pid\" }, { \"type\": \"mount\" }, { \"type\": \"network\" } ]\n"
	"  }\n"
	"}\n";

static int cmd_spec(int argc, char **argv)
{
	const char *bundle = ".", *ignored = NULL, *pos[1];
	struct opt opts[] = { { "--bundle", 'b', true, &bundle },
			      { "--rootless", 0, false, &ignored },
			      { NULL } };
	char path[PATH_MAX];
	int fd;

	if (parse_opts(argc, argv, opts, pos, 0) < 0)
		return 1;
	if (snprintf(path, sizeof(path), "%s/config.json", bundle) >=
	    (int)sizeof(path))
		return fail("--bundle '%s': path too long", bundle);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail("%s: %s%s", path, strerror(errno),
			    errno == EEXIST ? ": remove it first" : "");
	if (write_full(fd, oci_default_spec, strlen(oci_default_spec))) {
		close(fd);
		unlink(path);
		return fail("%s: cannot write it", path);
	}
	close(fd);
	return 0;
}

static const char *const commands[] = {
	"create",   "start", "state",  "kill", "delete", "ps", "list",
	"features", "pause", "resume", "exec", "spec",	 NULL,
};

static const char *const global_flags[] = {
	"--root",	    "--log",   "--log-format", "--systemd-cgroup",
	"--cgroup-manager", "--debug", "--rootless",   NULL,
};

bool oci_is_command(const char *arg)
{
	int i;

	for (i = 0; commands[i]; i++)
		if (!strcmp(arg, commands[i]))
			return true;
	for (i = 0; global_flags[i]; i++) {
		size_t l = strlen(global_flags[i]);

		if (!strncmp(arg, global_flags[i], l) &&
		    (!arg[l] || arg[l] == '='))
			return true;
	}
	return false;
}

int oci_main(int argc, char **argv)
{
	const char *fmt = "text", *ignored = NULL, *debug = NULL, *cmd;
	struct opt opts[] = {
		{ "--root", 0, true, &g.root },
		{ "--log", 0, true, &g.log_path },
		{ "--log-format", 0, true, &fmt },
		{ "--systemd-cgroup", 0, false, &ignored },
		{ "--cgroup-manager", 0, true, &ignored },
		{ "--rootless", 0, true, &ignored },
		{ "--debug", 0, false, &debug },
		{ NULL },
	};
	int i;

	/* The global flags, up to the command word. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		struct opt *o;
		const char *a = argv[i];

		for (o = opts; o->name; o++) {
			size_t l = strlen(o->name);

			if (!strncmp(a, o->name, l) && (!a[l] || a[l] == '='))
				break;
		}
		if (!o->name)
			return fail("unknown option '%s': see 'kiln --help'",
				    a);
		if (!o->arg)
			*o->val = "1";
		else if (a[strlen(o->name)] == '=')
			*o->val = a + strlen(o->name) + 1;
		else if (i + 1 < argc)
			*o->val = argv[++i];
		else
			return fail("%s needs a value", o->name);
	}
	/* The VM's sockets are reached after a chdir: an absolute root. */
	if (g.root[0] != '/') {
		static char abs_root[PATH_MAX];
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)) ||
		    snprintf(abs_root, sizeof(abs_root), "%s/%s", cwd,
			     g.root) >= (int)sizeof(abs_root))
			return fail("--root '%s': path too long", g.root);
		g.root = abs_root;
	}
	g.json = !strcmp(fmt, "json");
	if (strcmp(fmt, "json") && strcmp(fmt, "text"))
		return fail("--log-format '%s': give text or json", fmt);
	if (g.log_path) {
		g.log_fd = open(g.log_path,
				O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				0644);
		if (g.log_fd < 0)
			return fail("--log '%s': %s", g.log_path,
				    strerror(errno));
		log_set_fd(g.log_fd);
	}
	log_set_json(g.json);
	log_set_level(debug ? LOG_DEBUG : LOG_ERR);
	g.debug = debug;
	if (i == argc)
		return fail(
			"give a command: create, start, state, kill, delete, ps, list, features");
	cmd = argv[i++];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv);
	if (!strcmp(cmd, "start"))
		return cmd_start(argc, argv);
	if (!strcmp(cmd, "state"))
		return cmd_state(argc, argv);
	if (!strcmp(cmd, "kill"))
		return cmd_kill(argc, argv);
	if (!strcmp(cmd, "delete"))
		return cmd_delete(argc, argv);
	if (!strcmp(cmd, "ps"))
		return cmd_ps(argc, argv);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc, argv);
	if (!strcmp(cmd, "features"))
		return cmd_features();
	if (!strcmp(cmd, "pause"))
		return cmd_pause(argc, argv, true);
	if (!strcmp(cmd, "resume"))
		return cmd_pause(argc, argv, false);
	if (!strcmp(cmd, "exec"))
		return cmd_exec(argc, argv);
	if (!strcmp(cmd, "spec"))
		return cmd_spec(argc, argv);
	return fail("unknown command '%s': see 'kiln --help'", cmd);
}
