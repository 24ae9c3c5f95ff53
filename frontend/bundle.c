// SPDX-License-Identifier: MIT
/* An OCI bundle's config.json as a run-mode configuration: see bundle.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "cli.h"
#include "json.h"
#include "run.h"

/* A podman bundle holds ~600 values; room for much larger ones. */
#define BUNDLE_MAX_NODES 65536
#define BUNDLE_MAX_SIZE (4U << 20)
/* What the guest's init keeps (guest-init/init.c: MAX_ARGS, MAX_OPS...). */
#define BUNDLE_MAX_ARGS 1024
#define BUNDLE_MAX_GROUPS 64
#define BUNDLE_MAX_LIMITS 16
#define BUNDLE_MAX_MOUNTS 64
#define BUNDLE_MAX_SYSCTLS 64

char *bundle_read_file(const char *path, size_t max, size_t *len)
{
	/* Non-blocking: a file of /proc that waits (kmsg) is refused. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	size_t n = 0, cap = 4096;
	char *buf = NULL;
	struct stat st;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st))
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	for (;;) {
		ssize_t r;

		if (!buf || n + 1 >= cap) {
			char *nb;

			if (buf)
				cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (!r)
			break;
		n += r;
		if (n > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
fail:
	n = errno;
	close(fd);
	free(buf);
	errno = n;
	return NULL;
}

struct ctx {
	const char *file; /* what messages name: "config.json" */
	const char *dir;
	struct vm_config *cfg;
	struct run_blob extra;
	char *err;
	size_t errlen;
};

static int bad(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, c->errlen, "%s: ", c->file);
	if (n < 0 || (size_t)n >= c->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A string member, NULL when absent; -EINVAL (err set) when not one. */
static int get_str(struct ctx *c, const struct json_node *obj, const char *key,
		   const char *what, const char **out)
{
	const struct json_node *n = json_get(obj, key);

	*out = NULL;
	if (!n || n->type == JSON_NULL)
		return 0;
	if (n->type != JSON_STRING)
		return bad(c, "%s is %s: give a string", what,
			   json_type_name(n->type));
	*out = n->str;
	return 0;
}

static int get_u64(struct ctx *c, const struct json_node *obj, const char *key,
		   const char *what, uint64_t *out, bool *found)
{
	const struct json_node *n = json_get(obj, key);

	if (found)
		*found = false;
	if (!n || n->type == JSON_NULL)
		return 0;
	if (json_get_u64(n, out))
		return bad(c, "%s: give a whole number, 0 or more", what);
	if (found)
		*found = true;
	return 0;
}

static int check_type(struct ctx *c, const struct json_node *n,
		      enum json_type t, const char *what)
{
	if (!n || n->type == JSON_NULL || n->type == t)
		return 0;
	return bad(c, "%s is %s: give %s", what, json_type_name(n->type),
		   json_type_name(t));
}

static int version(struct ctx *c, const struct json_node *root)
{
	const char *v;
	int r = get_str(c, root, "ociVersion", "ociVersion", &v);

	if (r)
		return r;
	if (!v)
		return bad(c, "no ociVersion: the runtime spec requires one");
	/* 1.0.0 to 1.2.x, with pre-release suffixes ("1.0.2-dev"). */
	if (strncmp(v, "1.", 2) || v[2] < '0' || v[2] > '2' ||
	    (v[3] && v[3] != '.' && v[3] != '-'))
		return bad(c,
			   "ociVersion '%s' is not one kiln knows (1.0 to 1.2)",
			   v);
	return 0;
}

static int process(struct ctx *c, const struct json_node *p)
{
	struct vm_config *cfg = c->cfg;
	const struct json_node *args, *env, *user, *n, *e;
	const char *s;
	uint64_t v;
	bool term = false, found;
	size_t i;
	int r;

	if (!p)
		return bad(c, "no process: kiln needs the command to run");
	if ((r = check_type(c, p, JSON_OBJECT, "process")))
		return r;
	args = json_get(p, "args");
	if ((r = check_type(c, args, JSON_ARRAY, "process.args")))
		return r;
	if (!args || !args->len)
		return bad(c, "process.args is empty: give the command to run");
	if (args->len > BUNDLE_MAX_ARGS)
		return bad(c, "process.args has more than %d arguments",
			   BUNDLE_MAX_ARGS);
	cfg->run_argv_owned = calloc(args->len + 1, sizeof(char *));
	if (!cfg->run_argv_owned)
		return -ENOMEM;
	for (e = json_first(args), i = 0; e; e = json_next(e), i++) {
		if (e->type != JSON_STRING)
			return bad(c, "process.args[%zu] is %s: give a string",
				   i, json_type_name(e->type));
		cfg->run_argv_owned[i] = (char *)config_strdup(cfg, e->str);
		if (!cfg->run_argv_owned[i])
			return -ENOMEM;
	}
	cfg->run_argv = cfg->run_argv_owned;
	cfg->run_argc = i;

	env = json_get(p, "env");
	if ((r = check_type(c, env, JSON_ARRAY, "process.env")))
		return r;
	for (e = json_first(env), i = 0; e; e = json_next(e), i++) {
		if (e->type != JSON_STRING || !strchr(e->str, '='))
			return bad(c, "process.env[%zu]: give \"NAME=value\"",
				   i);
		if (cfg->nr_env == KILN_MAX_ENV)
			return bad(c, "process.env has more than %d entries",
				   KILN_MAX_ENV);
		cfg->env[cfg->nr_env] = config_strdup(cfg, e->str);
		if (!cfg->env[cfg->nr_env++])
			return -ENOMEM;
	}

	if ((r = get_str(c, p, "cwd", "process.cwd", &s)))
		return r;
	if (!s || s[0] != '/')
		return bad(c, "process.cwd '%s': give an absolute path",
			   s ? s : "");
	cfg->cwd = config_strdup(cfg, s);
	if (!cfg->cwd)
		return -ENOMEM;

	n = json_get(p, "terminal");
	if (n && n->type != JSON_NULL && json_get_bool(n, &term))
		return bad(c, "process.terminal: give true or false");
	cfg->tty = term;
	/* The caller's stdin is the container's: always forwarded. */
	cfg->interactive = 1;

	user = json_get(p, "user");
	if ((r = check_type(c, user, JSON_OBJECT, "process.user")))
		return r;
	if (user) {
		const struct json_node *g = json_get(user, "additionalGids");
		uint64_t gid = 0;

		if ((r = get_u64(c, user, "uid", "process.user.uid", &v,
				 &found)))
			return r;
		if (found && v > UINT32_MAX - 1)
			return bad(c,
				   "process.user.uid %" PRIu64
				   " is out of range",
				   v);
		cfg->uid = found ? (long)v : 0;
		if ((r = get_u64(c, user, "gid", "process.user.gid", &gid,
				 &found)))
			return r;
		if (found && gid > UINT32_MAX - 1)
			return bad(c,
				   "process.user.gid %" PRIu64
				   " is out of range",
				   gid);
		cfg->gid = found ? (long)gid : 0;
		if ((r = check_type(c, g, JSON_ARRAY,
				    "process.user.additionalGids")))
			return r;
		if (g && g->type == JSON_ARRAY && g->len > BUNDLE_MAX_GROUPS)
			return bad(c, "process.user.additionalGids: at most %d",
				   BUNDLE_MAX_GROUPS);
		for (e = json_first(g); e; e = json_next(e)) {
			if (json_get_u64(e, &v) || v > UINT32_MAX - 1)
				return bad(
					c,
					"process.user.additionalGids: give group ids");
			run_rec(&c->extra, "group", "%" PRIu64, v);
		}
		if ((r = get_u64(c, user, "umask", "process.user.umask", &v,
				 &found)))
			return r;
		if (found)
			run_rec(&c->extra, "umask", "%" PRIu64, v & 0777);
	}

	n = json_get(p, "rlimits");
	if ((r = check_type(c, n, JSON_ARRAY, "process.rlimits")))
		return r;
	if (n && n->len > BUNDLE_MAX_LIMITS)
		return bad(c, "process.rlimits: at most %d", BUNDLE_MAX_LIMITS);
	for (e = json_first(n), i = 0; e; e = json_next(e), i++) {
		static const char *const known[] = {
			"RLIMIT_AS",
			"RLIMIT_CORE",
			"RLIMIT_CPU",
			"RLIMIT_DATA",
			"RLIMIT_FSIZE",
			"RLIMIT_LOCKS",
			"RLIMIT_MEMLOCK",
			"RLIMIT_MSGQUEUE",
			"RLIMIT_NICE",
			"RLIMIT_NOFILE",
			"RLIMIT_NPROC",
			"RLIMIT_RSS",
			"RLIMIT_RTPRIO",
			"RLIMIT_RTTIME",
			"RLIMIT_SIGPENDING",
			"RLIMIT_STACK",
			NULL,
		};
		uint64_t soft, hard;
		bool fs, fh;
		int k;

		if ((r = get_str(c, e, "type", "process.rlimits[].type", &s)))
			return r;
		for (k = 0; s && known[k]; k++)
			if (!strcmp(s, known[k]))
				break;
		if (!s || !known[k])
			return bad(c, "process.rlimits[%zu]: unknown type '%s'",
				   i, s ? s : "");
		if ((r = get_u64(c, e, "soft", "process.rlimits[].soft", &soft,
				 &fs)) ||
		    (r = get_u64(c, e, "hard", "process.rlimits[].hard", &hard,
				 &fh)))
			return r;
		if (!fs || !fh || soft > hard)
			return bad(
				c,
				"process.rlimits[%zu] (%s): give soft and hard, soft at most hard",
				i, s);
		run_rec(&c->extra, "rlimit", "%s\x1f%" PRIu64 "\x1f%" PRIu64,
			s + 7, soft, hard);
	}
	n = json_get(p, "noNewPrivileges");
	if (n && n->type == JSON_BOOL && n->boolean)
		run_rec(&c->extra, "nonewprivs", "1");
	return 0;
}

static int root(struct ctx *c, const struct json_node *rt)
{
	struct vm_config *cfg = c->cfg;
	const struct json_node *ro;
	char *path, *real;
	const char *s;
	struct stat st;
	int r;

	if ((r = check_type(c, rt, JSON_OBJECT, "root")))
		return r;
	if ((r = get_str(c, rt, "path", "root.path", &s)))
		return r;
	if (!s || !*s)
		return bad(c,
			   "no root.path: give the container's root directory");
	if (s[0] == '/')
		path = strdup(s);
	else if (asprintf(&path, "%s/%s", c->dir, s) < 0)
		path = NULL;
	if (!path)
		return -ENOMEM;
	errno = 0;
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		bad(c, "root.path '%s': %s", path,
		    errno ? strerror(errno) : "not a directory");
		free(path);
		return -EINVAL;
	}
	real = realpath(path, NULL);
	free(path);
	if (!real)
		return -ENOMEM;
	cfg->rootfs = config_strdup(cfg, real);
	free(real);
	if (!cfg->rootfs)
		return -ENOMEM;
	cfg->rootfs_path_len = strlen(cfg->rootfs);
	ro = json_get(rt, "readonly");
	if (ro && ro->type == JSON_BOOL && ro->boolean) {
		/* Writes fail, as in a container, not into a throw-away layer. */
		cfg->rootfs_ro = 1;
		run_rec(&c->extra, "rootro", "1");
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned long set, clear;
} mount_flags[] = {
	{ "ro", MS_RDONLY, 0 },
	{ "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },
	{ "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },
	{ "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },
	{ "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 },
	{ "async", 0, MS_SYNCHRONOUS },
	{ "dirsync", MS_DIRSYNC, 0 },
	{ "noatime", MS_NOATIME, 0 },
	{ "atime", 0, MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME, 0 },
	{ "diratime", 0, MS_NODIRATIME },
	{ "relatime", MS_RELATIME, 0 },
	{ "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 },
	{ "nostrictatime", 0, MS_STRICTATIME },
	/* Propagation and binding: how the host made it, moot in a VM. */
	{ "bind", 0, 0 },
	{ "rbind", 0, 0 },
	{ "private", 0, 0 },
	{ "rprivate", 0, 0 },
	{ "shared", 0, 0 },
	{ "rshared", 0, 0 },
	{ "slave", 0, 0 },
	{ "rslave", 0, 0 },
	{ "unbindable", 0, 0 },
	{ "runbindable", 0, 0 },
	{ "tmpcopyup", 0, 0 },
	{ "copy-symlink", 0, 0 },
	{ "z", 0, 0 },
	{ "Z", 0, 0 },
	{ "idmap", 0, 0 },
	{ "ridmap", 0, 0 },
	{ "notmpcopyup", 0, 0 },
};

/*
 * A mount's options as mount(2) flags and the data string: the flags
 * known above, the rest (size=, mode=, newinstance...) as data.
 */
static int mount_options(struct ctx *c, const struct json_node *opts,
			 const char *dest, unsigned long *flags, char *data,
			 size_t datalen, bool *is_bind)
{
	const struct json_node *e;
	size_t dl = 0;

	*flags = 0;
	*is_bind = false;
	data[0] = 0;
	if (check_type(c, opts, JSON_ARRAY, "mounts[].options"))
		return -EINVAL;
	for (e = json_first(opts); e; e = json_next(e)) {
		size_t k, n;

		if (e->type != JSON_STRING)
			return bad(c, "mount %s: options must be strings",
				   dest);
		if (!strcmp(e->str, "bind") || !strcmp(e->str, "rbind"))
			*is_bind = true;
		for (k = 0; k < sizeof(mount_flags) / sizeof(mount_flags[0]);
		     k++)
			if (!strcmp(e->str, mount_flags[k].name))
				break;
		if (k < sizeof(mount_flags) / sizeof(mount_flags[0])) {
			*flags = (*flags | mount_flags[k].set) &
				 ~mount_flags[k].clear;
			continue;
		}
		if (strchr(e->str, ',') || strchr(e->str, 0x1f))
			return bad(c, "mount %s: bad option '%s'", dest,
				   e->str);
		n = strlen(e->str);
		if (dl + n + 2 > datalen)
			return bad(c, "mount %s: options too long", dest);
		if (dl)
			data[dl++] = ',';
		memcpy(data + dl, e->str, n + 1);
		dl += n;
	}
	return 0;
}

/* An absolute path without a ".." component (and short). */
static bool path_ok(const char *p)
{
	const char *q;

	if (!p || p[0] != '/' || strlen(p) >= 1024 || strchr(p, 0x1f))
		return false;
	for (q = p; (q = strstr(q, "..")); q += 2)
		if (q[-1] == '/' && (q[2] == '/' || !q[2]))
			return false;
	return true;
}

static int bind_mount(struct ctx *c, const char *src, const char *dest,
		      unsigned long flags)
{
	struct vm_config *cfg = c->cfg;
	bool ro = flags & MS_RDONLY;
	struct stat st;
	char *path;

	if (!src || !*src)
		return bad(c, "bind mount %s: no source", dest);
	if (src[0] == '/')
		path = strdup(src);
	else if (asprintf(&path, "%s/%s", c->dir, src) < 0)
		path = NULL;
	if (!path)
		return -ENOMEM;
	if (stat(path, &st)) {
		bad(c, "bind mount %s: source '%s': %s", dest, path,
		    strerror(errno));
		free(path);
		return -EINVAL;
	}
	if (!strcmp(dest, "/dev/shm")) {
		/* Shared memory cannot cross into a VM: the guest's own. */
		free(path);
		run_rec(&c->extra, "mount",
			"tmpfs\x1f/dev/shm\x1f%lu\x1fmode=1777",
			(unsigned long)(MS_NOSUID | MS_NODEV));
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		struct share_spec *sh;

		if (cfg->nr_shares == KILN_MAX_SHARES) {
			free(path);
			return bad(
				c,
				"more than %d directory bind mounts: a VM gets at most %d",
				KILN_MAX_SHARES, KILN_MAX_SHARES);
		}
		sh = &cfg->shares[cfg->nr_shares];
		sh->host = path;
		sh->guest = strdup(dest);
		sh->ro = ro;
		cfg->nr_shares++;
		return sh->guest ? 0 : -ENOMEM;
	}
	if (S_ISREG(st.st_mode)) {
		struct file_spec *f;
		size_t len;
		void *data;

		if (cfg->nr_files == KILN_MAX_FILES) {
			free(path);
			return bad(
				c,
				"more than %d file bind mounts: bind their directory instead",
				KILN_MAX_FILES);
		}
		data = bundle_read_file(path, KILN_MAX_FILE_SIZE, &len);
		if (!data) {
			bad(c, "bind mount %s: '%s': %s%s", dest, path,
			    strerror(errno),
			    errno == EFBIG ?
				    " (files are copied into the VM, at most 4 MiB: bind the directory instead)" :
				    "");
			free(path);
			return -EINVAL;
		}
		free(path);
		f = &cfg->files[cfg->nr_files];
		f->data = data;
		f->len = len;
		f->ro = ro;
		f->guest = strdup(dest);
		if (!f->guest) {
			free(data);
			f->data = NULL;
			return -ENOMEM;
		}
		run_rec(&c->extra, "file", "%u\x1f%s\x1f%s", cfg->nr_files,
			ro ? "ro" : "rw", dest);
		cfg->nr_files++;
		return 0;
	}
	bad(c,
	    "bind mount %s: '%s' is not a directory or a file (devices and sockets cannot be passed into a VM)",
	    dest, path);
	free(path);
	return -EINVAL;
}

static int mounts(struct ctx *c, const struct json_node *list)
{
	const struct json_node *m;
	size_t i = 0;
	int r;

	if ((r = check_type(c, list, JSON_ARRAY, "mounts")))
		return r;
	if (list && list->len > BUNDLE_MAX_MOUNTS)
		return bad(c, "mounts: at most %d in a VM", BUNDLE_MAX_MOUNTS);
	for (m = json_first(list); m; m = json_next(m), i++) {
		static const char *const guest_types[] = {
			"proc",	  "sysfs",   "tmpfs",  "devpts",
			"mqueue", "cgroup2", "cgroup", NULL,
		};
		const char *dest, *type, *src;
		unsigned long flags;
		char data[512];
		bool is_bind;
		int k;

		if ((r = check_type(c, m, JSON_OBJECT, "mounts[]")))
			return r;
		if ((r = get_str(c, m, "destination", "mounts[].destination",
				 &dest)) ||
		    (r = get_str(c, m, "type", "mounts[].type", &type)) ||
		    (r = get_str(c, m, "source", "mounts[].source", &src)))
			return r;
		if (!path_ok(dest))
			return bad(
				c,
				"mounts[%zu]: destination '%s': give an absolute path without '..'",
				i, dest ? dest : "");
		if ((r = mount_options(c, json_get(m, "options"), dest, &flags,
				       data, sizeof(data), &is_bind)))
			return r;
		if (is_bind || (type && !strcmp(type, "bind"))) {
			if (!strcmp(dest, "/"))
				return bad(
					c,
					"a bind mount on / : give the root as root.path");
			r = bind_mount(c, src, dest, flags);
			if (r)
				return r;
			continue;
		}
		if (!type)
			return bad(c, "mount %s: no type", dest);
		for (k = 0; guest_types[k]; k++)
			if (!strcmp(type, guest_types[k]))
				break;
		if (!guest_types[k])
			return bad(
				c,
				"mount %s: type '%s' cannot be made inside a VM (kiln takes bind, proc, sysfs, tmpfs, devpts, mqueue and cgroup mounts)",
				dest, type);
		/* The guest's /dev is its kernel's devtmpfs, whatever the
		 * bundle says: a tmpfs there would hide the devices. */
		if (!strcmp(dest, "/dev"))
			continue;
		if (!strcmp(type, "cgroup"))
			type = "cgroup2"; /* the guest kernel's hierarchy */
		run_rec(&c->extra, "mount", "%s\x1f%s\x1f%lu\x1f%s", type, dest,
			flags, data);
	}
	return 0;
}

/* "0-3,6" -> 5 */
static int count_cpus(const char *s, uint64_t *n)
{
	uint64_t total = 0;

	while (*s) {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s)
			return -EINVAL;
		s = end;
		if (*s == '-') {
			b = strtoul(s + 1, &end, 10);
			if (end == s + 1 || b < a)
				return -EINVAL;
			s = end;
		}
		total += b - a + 1;
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	*n = total;
	return total ? 0 : -EINVAL;
}

/*
 * linux.namespaces: the VM is the container's isolation, so a namespace
 * asked for is the VM's own; but a network namespace with a path is the
 * network the container's engine made for it (a veth, an address, ports
 * published to it), and the VM's NIC joins it (frontend/netns.c).
 */
static int namespaces(struct ctx *c, const struct json_node *ns)
{
	const struct json_node *e;
	const char *type, *path;
	int r;

	if ((r = check_type(c, ns, JSON_ARRAY, "linux.namespaces")))
		return r;
	for (e = json_first(ns); e; e = json_next(e)) {
		if ((r = check_type(c, e, JSON_OBJECT, "linux.namespaces[]")) ||
		    (r = get_str(c, e, "type", "linux.namespaces[].type",
				 &type)) ||
		    (r = get_str(c, e, "path", "linux.namespaces[].path",
				 &path)))
			return r;
		if (!type)
			return bad(c, "linux.namespaces[]: give its type");
		if (strcmp(type, "network") || !path || !*path)
			continue;
		if (path[0] != '/')
			return bad(
				c,
				"linux.namespaces network path '%s': give an absolute path",
				path);
		if (!(c->cfg->netns = config_strdup(c->cfg, path)))
			return -ENOMEM;
	}
	return 0;
}

static int linux_section(struct ctx *c, const struct json_node *lx)
{
	struct vm_config *cfg = c->cfg;
	const struct json_node *res, *mem, *cpu, *sys, *e;
	uint64_t v, quota = 0, period = 0;
	bool found, fq;
	const char *s;
	int r;

	if ((r = check_type(c, lx, JSON_OBJECT, "linux")))
		return r;
	res = json_get(lx, "resources");
	if ((r = check_type(c, res, JSON_OBJECT, "linux.resources")))
		return r;
	mem = json_get(res, "memory");
	if ((r = check_type(c, mem, JSON_OBJECT, "linux.resources.memory")))
		return r;
	if (mem) {
		int64_t lim;
		const struct json_node *l = json_get(mem, "limit");

		/* -1 (no limit) and 0 keep the default. */
		if (l && l->type != JSON_NULL && json_get_i64(l, &lim))
			return bad(c,
				   "linux.resources.memory.limit: give bytes");
		if (l && l->type != JSON_NULL && lim > 0) {
			v = ((uint64_t)lim + (1 << 20) - 1) &
			    ~((1ULL << 20) - 1);
			if (config_check_mem(v, c->err, c->errlen))
				return -EINVAL;
			cfg->mem_size = v;
		}
	}
	cpu = json_get(res, "cpu");
	if ((r = check_type(c, cpu, JSON_OBJECT, "linux.resources.cpu")))
		return r;
	if (cpu) {
		int64_t q;
		const struct json_node *qn = json_get(cpu, "quota");

		fq = false;
		if (qn && qn->type != JSON_NULL) {
			if (json_get_i64(qn, &q))
				return bad(
					c,
					"linux.resources.cpu.quota: give microseconds");
			if (q > 0) {
				quota = q;
				fq = true;
			}
		}
		if ((r = get_u64(c, cpu, "period", "linux.resources.cpu.period",
				 &period, &found)))
			return r;
		if (fq) {
			if (!period)
				period = 100000;
			v = (quota + period - 1) / period;
			if (config_check_cpus(v, c->err, c->errlen))
				return -EINVAL;
			cfg->cpus = v;
		} else {
			if ((r = get_str(c, cpu, "cpus",
					 "linux.resources.cpu.cpus", &s)))
				return r;
			if (s && *s) {
				if (count_cpus(s, &v))
					return bad(
						c,
						"linux.resources.cpu.cpus '%s': give a list such as 0-3,6",
						s);
				if (config_check_cpus(v, c->err, c->errlen))
					return -EINVAL;
				cfg->cpus = v;
			}
		}
	}
	sys = json_get(lx, "sysctl");
	if ((r = check_type(c, sys, JSON_OBJECT, "linux.sysctl")))
		return r;
	if (sys && sys->len > BUNDLE_MAX_SYSCTLS)
		return bad(c, "linux.sysctl: at most %d", BUNDLE_MAX_SYSCTLS);
	for (e = json_first(sys); e; e = json_next(e)) {
		if (e->type != JSON_STRING || strchr(e->key, '/') ||
		    strstr(e->key, "..") || strchr(e->str, 0x1f))
			return bad(
				c,
				"linux.sysctl '%s': give a name and a string",
				e->key);
		run_rec(&c->extra, "sysctl", "%s\x1f%s", e->key, e->str);
	}
	return namespaces(c, json_get(lx, "namespaces"));
}

static int annotations(struct ctx *c, const struct json_node *an)
{
	struct vm_config *cfg = c->cfg;
	const char *s;
	uint64_t v;
	int r;

	if ((r = check_type(c, an, JSON_OBJECT, "annotations")))
		return r;
	if ((r = get_str(c, an, "kiln.kernel", "annotations kiln.kernel", &s)))
		return r;
	if (s && !(cfg->kernel = config_strdup(cfg, s)))
		return -ENOMEM;
	if ((r = get_str(c, an, "kiln.append", "annotations kiln.append", &s)))
		return r;
	if (s && !(cfg->append = config_strdup(cfg, s)))
		return -ENOMEM;
	if ((r = get_str(c, an, "kiln.cpus", "annotations kiln.cpus", &s)))
		return r;
	if (s) {
		char *end;

		v = strtoull(s, &end, 10);
		if (end == s || *end)
			return bad(c,
				   "annotation kiln.cpus '%s': give a number",
				   s);
		if (config_check_cpus(v, c->err, c->errlen))
			return -EINVAL;
		cfg->cpus = v;
	}
	if ((r = get_str(c, an, "kiln.memory", "annotations kiln.memory", &s)))
		return r;
	if (s) {
		if (parse_size(s, &v))
			return bad(
				c,
				"annotation kiln.memory '%s': give a size such as 512M",
				s);
		if (config_check_mem(v, c->err, c->errlen))
			return -EINVAL;
		cfg->mem_size = v;
	}
	return 0;
}

int bundle_parse(const char *dir, const char *text, size_t len,
		 struct vm_config *cfg, char *err, size_t errlen)
{
	struct ctx c = { .file = "config.json",
			 .dir = dir,
			 .cfg = cfg,
			 .err = err,
			 .errlen = errlen };
	struct json_doc doc = { .max_nodes = BUNDLE_MAX_NODES };
	const struct json_node *rt;
	char jerr[200];
	const char *s;
	int r;

	if (json_parse(text, len, &doc, jerr, sizeof(jerr))) {
		json_free(&doc);
		return bad(&c, "%s", jerr);
	}
	rt = json_root(&doc);
	if (rt->type != JSON_OBJECT) {
		r = bad(&c, "the top level is %s: give an object",
			json_type_name(rt->type));
		goto out;
	}
	if ((r = version(&c, rt)) ||
	    (r = process(&c, json_get(rt, "process"))) ||
	    (r = root(&c, json_get(rt, "root"))) ||
	    (r = mounts(&c, json_get(rt, "mounts"))) ||
	    (r = linux_section(&c, json_get(rt, "linux"))) ||
	    (r = annotations(&c, json_get(rt, "annotations"))))
		goto out;
	if ((r = get_str(&c, rt, "hostname", "hostname", &s)))
		goto out;
	if (s && *s) {
		if (strlen(s) > 64 || strchr(s, 0x1f)) {
			r = bad(&c, "hostname '%s' is longer than 64 bytes", s);
			goto out;
		}
		run_rec(&c.extra, "hostname", "%s", s);
	}
	/* Host-side hooks have no VM to act on: ignored (README). */
	run_rec(&c.extra, "oci", "1");
	if (c.extra.failed) {
		r = -ENOMEM;
		goto out;
	}
	free(cfg->init_extra);
	cfg->init_extra = c.extra.buf;
	cfg->init_extra_len = c.extra.len;
	c.extra.buf = NULL;
out:
	free(c.extra.buf);
	json_free(&doc);
	return r;
}

int bundle_process(const char *text, size_t len, struct vm_config *cfg,
		   char *err, size_t errlen)
{
	struct ctx c = {
		.file = "--process", .cfg = cfg, .err = err, .errlen = errlen
	};
	struct json_doc doc = { .max_nodes = BUNDLE_MAX_NODES };
	char jerr[200];
	int r;

	if (json_parse(text, len, &doc, jerr, sizeof(jerr))) {
		json_free(&doc);
		return bad(&c, "%s", jerr);
	}
	r = process(&c, json_root(&doc));
	if (!r && c.extra.failed)
		r = -ENOMEM;
	if (!r) {
		free(cfg->init_extra);
		cfg->init_extra = c.extra.buf;
		cfg->init_extra_len = c.extra.len;
		c.extra.buf = NULL;
	}
	free(c.extra.buf);
	json_free(&doc);
	return r;
}

int bundle_load(const char *dir, struct vm_config *cfg, char *err,
		size_t errlen)
{
	char *path, *text;
	size_t len;
	int r;

	if (asprintf(&path, "%s/config.json", dir) < 0)
		return -ENOMEM;
	text = bundle_read_file(path, BUNDLE_MAX_SIZE, &len);
	if (!text) {
		r = -errno;
		set_err(err, errlen, "%s: %s%s", path, strerror(errno),
			errno == ENOENT ?
				": is --bundle the bundle's directory?" :
				"");
		free(path);
		return r;
	}
	free(path);
	r = bundle_parse(dir, text, len, cfg, err, errlen);
	free(text);
	return r;
}
