// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "config_json.h"
#include "log.h"

/* o must be an object whose keys are all in known (NULL-terminated). */
static int check_object(const char *sec, const struct json_node *o,
			const char *const *known, char *err, size_t errlen)
{
	const struct json_node *m;
	char list[256];
	size_t i, n = 0;

	if (!o || o->type != JSON_OBJECT) {
		set_err(err, errlen, "%s: expected an object, got %s", sec,
			o ? json_type_name(o->type) : "nothing");
		return -EINVAL;
	}
	for (m = json_first(o); m; m = json_next(m)) {
		for (i = 0; known[i]; i++)
			if (!strcmp(m->key, known[i]))
				break;
		if (known[i])
			continue;
		list[0] = 0;
		for (i = 0; known[i]; i++)
			n += snprintf(list + n,
				      n < sizeof(list) ? sizeof(list) - n : 0,
				      "%s%s", i ? ", " : "", known[i]);
		set_err(err, errlen, "%s: unknown key '%s' (known: %s)", sec,
			m->key, list);
		return -EINVAL;
	}
	return 0;
}

/* A member that is absent or null counts as not given. */
static const struct json_node *member(const struct json_node *o,
				      const char *key)
{
	const struct json_node *n = json_get(o, key);

	return n && n->type != JSON_NULL ? n : NULL;
}

static int wrong_type(const char *sec, const char *key,
		      const struct json_node *n, const char *want, char *err,
		      size_t errlen)
{
	set_err(err, errlen, "%s: %s: expected %s, got %s", sec, key, want,
		json_type_name(n->type));
	return -EINVAL;
}

static int missing(const char *sec, const char *key, char *err, size_t errlen)
{
	set_err(err, errlen, "%s: %s is missing: give it", sec, key);
	return -EINVAL;
}

static int get_str(const char *sec, const struct json_node *o, const char *key,
		   bool need, const char **out, char *err, size_t errlen)
{
	const struct json_node *n = member(o, key);

	*out = NULL;
	if (!n)
		return need ? missing(sec, key, err, errlen) : 0;
	if (n->type != JSON_STRING)
		return wrong_type(sec, key, n, "a string", err, errlen);
	*out = n->str;
	return 0;
}

static int get_bool(const char *sec, const struct json_node *o, const char *key,
		    bool need, bool *out, char *err, size_t errlen)
{
	const struct json_node *n = member(o, key);

	if (!n)
		return need ? missing(sec, key, err, errlen) : 0;
	if (json_get_bool(n, out))
		return wrong_type(sec, key, n, "true or false", err, errlen);
	return 0;
}

/* 1: given, 0: not given, <0: error. */
static int get_u64(const char *sec, const struct json_node *o, const char *key,
		   bool need, uint64_t *out, char *err, size_t errlen)
{
	const struct json_node *n = member(o, key);
	int r;

	if (!n)
		return need ? missing(sec, key, err, errlen) : 0;
	r = json_get_u64(n, out);
	if (r == -ERANGE || (!r && *out > UINT32_MAX)) {
		set_err(err, errlen, "%s: %s: %s is too large", sec, key,
			n->str);
		return -EINVAL;
	}
	if (r)
		return wrong_type(sec, key, n, "a whole number", err, errlen);
	return 1;
}

/* A string field that must be one of names (any case); NULL: absent. */
static int get_enum(const char *sec, const struct json_node *o, const char *key,
		    const char *const *names, char *err, size_t errlen)
{
	const char *v;
	size_t i;
	int r = get_str(sec, o, key, false, &v, err, errlen);

	if (r || !v)
		return r;
	for (i = 0; names[i]; i++)
		if (!strcasecmp(v, names[i]))
			return 0;
	set_err(err, errlen, "%s: %s '%s' is not supported: give %s", sec, key,
		v, names[0]);
	return -EINVAL;
}

/* Rate limiters come later; until then one is refused, never ignored. */
static int no_rate_limiter(const char *sec, const struct json_node *o,
			   const char *key, char *err, size_t errlen)
{
	if (!member(o, key))
		return 0;
	set_err(err, errlen,
		"%s: %s: rate limiters are not supported yet: leave it out",
		sec, key);
	return -EINVAL;
}

/* One bucket of a rate_limiter: size, one_time_burst, refill_time (ms). */
static int get_bucket(const char *sec, const struct json_node *o,
		      const char *key, struct bucket_spec *b, char *err,
		      size_t errlen)
{
	static const char *const keys[] = { "size", "one_time_burst",
					    "refill_time", NULL };
	const struct json_node *n = member(o, key);
	char where[96];

	memset(b, 0, sizeof(*b));
	if (!n)
		return 0;
	snprintf(where, sizeof(where), "%s: %s", sec, key);
	if (check_object(where, n, keys, err, errlen) ||
	    get_u64(where, n, "size", true, &b->size, err, errlen) < 0 ||
	    get_u64(where, n, "one_time_burst", false, &b->one_time_burst, err,
		    errlen) < 0 ||
	    get_u64(where, n, "refill_time", true, &b->refill_ms, err, errlen) <
		    0)
		return -EINVAL;
	if (!b->size || !b->refill_ms) {
		set_err(err, errlen,
			"%s: size and refill_time must be above 0 (leave the bucket out for no limit)",
			where);
		return -EINVAL;
	}
	return 0;
}

/*
 * Firecracker's rate_limiter: {"bandwidth": BUCKET, "ops": BUCKET}, each
 * optional; absent or null: none. *given says whether it was there.
 */
static int get_rate_limiter(const char *sec, const struct json_node *o,
			    const char *key, struct rate_spec *rs, bool *given,
			    char *err, size_t errlen)
{
	static const char *const keys[] = { "bandwidth", "ops", NULL };
	const struct json_node *n = member(o, key);
	char where[64];

	memset(rs, 0, sizeof(*rs));
	if (given)
		*given = n != NULL;
	if (!n)
		return 0;
	snprintf(where, sizeof(where), "%s: %s", sec, key);
	if (check_object(where, n, keys, err, errlen) ||
	    get_bucket(where, n, "bandwidth", &rs->bw, err, errlen) ||
	    get_bucket(where, n, "ops", &rs->ops, err, errlen))
		return -EINVAL;
	return 0;
}

static bool good_id(const char *id, size_t max)
{
	size_t n = strlen(id), i;

	if (!n || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '_' &&
		    id[i] != '-')
			return false;
	return true;
}

int cfgjson_boot_source(struct vm_config *cfg, const struct json_node *o,
			char *err, size_t errlen)
{
	/* kernel_cache is kiln's: false boots the kernel as given. */
	static const char *const keys[] = { "kernel_image_path", "boot_args",
					    "initrd_path", "kernel_cache",
					    NULL };
	static const char sec[] = "boot-source";
	const char *kernel, *args, *initrd;
	bool cache = true;

	if (check_object(sec, o, keys, err, errlen) ||
	    get_str(sec, o, "kernel_image_path", true, &kernel, err, errlen) ||
	    get_str(sec, o, "boot_args", false, &args, err, errlen) ||
	    get_str(sec, o, "initrd_path", false, &initrd, err, errlen) ||
	    get_bool(sec, o, "kernel_cache", false, &cache, err, errlen))
		return -EINVAL;
	if (!*kernel) {
		set_err(err, errlen, "%s: kernel_image_path is empty", sec);
		return -EINVAL;
	}
	kernel = config_strdup(cfg, kernel);
	args = config_strdup(cfg, args);
	initrd = config_strdup(cfg, initrd);
	if (!kernel || (!args && member(o, "boot_args")) ||
	    (!initrd && member(o, "initrd_path")))
		return -ENOMEM;
	cfg->kernel = kernel;
	/* Firecracker's boot_args replace the default command line. */
	cfg->cmdline = args;
	cfg->initrd = initrd;
	cfg->no_kernel_cache = !cache;
	return 0;
}

int cfgjson_machine(struct vm_config *cfg, const struct json_node *o,
		    bool partial, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"vcpu_count",	"mem_size_mib", "smt", "track_dirty_pages",
		"cpu_template", "huge_pages",	NULL,
	};
	static const char *const templ[] = { "None", NULL };
	static const char *const huge[] = { "None", NULL };
	static const char sec[] = "machine-config";
	uint64_t cpus = cfg->cpus, mib = cfg->mem_size >> 20;
	bool smt = false, dirty = cfg->track_dirty_pages;
	int r;

	if (check_object(sec, o, keys, err, errlen))
		return -EINVAL;
	r = get_u64(sec, o, "vcpu_count", !partial, &cpus, err, errlen);
	if (r < 0)
		return r;
	if (r && config_check_cpus(cpus, err, errlen))
		return -EINVAL;
	r = get_u64(sec, o, "mem_size_mib", !partial, &mib, err, errlen);
	if (r < 0)
		return r;
	if (r && config_check_mem(mib << 20, err, errlen))
		return -EINVAL;
	if (get_bool(sec, o, "smt", false, &smt, err, errlen) ||
	    get_bool(sec, o, "track_dirty_pages", false, &dirty, err, errlen) ||
	    get_enum(sec, o, "cpu_template", templ, err, errlen) ||
	    get_enum(sec, o, "huge_pages", huge, err, errlen))
		return -EINVAL;
	if (smt) {
		set_err(err, errlen,
			"%s: smt: kiln gives each vCPU its own core: set it false",
			sec);
		return -EINVAL;
	}
	cfg->cpus = cpus;
	cfg->mem_size = mib << 20;
	cfg->track_dirty_pages = dirty;
	return 0;
}

int cfgjson_drive(struct vm_config *cfg, const struct json_node *o,
		  const char *id, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"drive_id", "path_on_host", "is_root_device", "is_read_only",
		"partuuid", "cache_type",   "io_engine",      "rate_limiter",
		"socket",   NULL,
	};
	static const char *const caches[] = { "Unsafe", "Writeback", NULL };
	static const char *const engines[] = { "Sync", "Async", NULL };
	static const char sec[] = "drives";
	const char *did, *path, *partuuid;
	bool root = false, ro = false;
	struct disk_spec d, *slot = NULL;
	struct rate_spec rl;
	unsigned int i;

	if (check_object(sec, o, keys, err, errlen) ||
	    get_str(sec, o, "drive_id", true, &did, err, errlen) ||
	    get_str(sec, o, "path_on_host", true, &path, err, errlen) ||
	    get_bool(sec, o, "is_root_device", true, &root, err, errlen) ||
	    get_bool(sec, o, "is_read_only", false, &ro, err, errlen) ||
	    get_str(sec, o, "partuuid", false, &partuuid, err, errlen) ||
	    get_enum(sec, o, "cache_type", caches, err, errlen) ||
	    get_enum(sec, o, "io_engine", engines, err, errlen) ||
	    get_rate_limiter(sec, o, "rate_limiter", &rl, NULL, err, errlen))
		return -EINVAL;
	if (member(o, "socket")) {
		set_err(err, errlen,
			"%s: socket: vhost-user drives are not supported: give path_on_host",
			sec);
		return -EINVAL;
	}
	if (id && strcmp(id, did)) {
		set_err(err, errlen,
			"%s: drive_id '%s' does not match the path's '%s'", sec,
			did, id);
		return -EINVAL;
	}
	/* It is the virtio-blk serial too: 20 bytes. */
	if (!good_id(did, 20)) {
		set_err(err, errlen,
			"%s: drive_id '%s': give 1 to 20 letters, digits, '_' or '-'",
			sec, did);
		return -EINVAL;
	}
	if (!*path) {
		set_err(err, errlen, "%s: path_on_host is empty", sec);
		return -EINVAL;
	}
	if (partuuid && !root) {
		set_err(err, errlen,
			"%s: partuuid goes with is_root_device true", sec);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_disks; i++)
		if (cfg->disks[i].id && !strcmp(cfg->disks[i].id, did))
			slot = &cfg->disks[i];
	if (!slot && cfg->nr_disks == KILN_MAX_DISKS) {
		set_err(err, errlen, "%s: too many drives: at most %d", sec,
			KILN_MAX_DISKS);
		return -ENOSPC;
	}
	/* One root device: a new one takes the mark from the old. */
	d = (struct disk_spec){ .path = strdup(path),
				.id = strdup(did),
				.ro = ro,
				.root = root,
				.partuuid = partuuid ? strdup(partuuid) : NULL,
				.rl = rl };
	if (!d.path || !d.id || (partuuid && !d.partuuid)) {
		free(d.path);
		free(d.id);
		free(d.partuuid);
		return -ENOMEM;
	}
	if (root)
		for (i = 0; i < cfg->nr_disks; i++)
			cfg->disks[i].root = 0;
	if (slot) {
		free(slot->path);
		free(slot->id);
		free(slot->partuuid);
	} else {
		slot = &cfg->disks[cfg->nr_disks++];
	}
	*slot = d;
	return 0;
}

int cfgjson_drive_patch(const struct json_node *o, const char *id,
			const char **did, const char **path,
			struct rate_spec *rl, bool *rl_given, char *err,
			size_t errlen)
{
	static const char *const keys[] = { "drive_id", "path_on_host",
					    "rate_limiter", NULL };
	static const char sec[] = "drives";

	if (check_object(sec, o, keys, err, errlen) ||
	    get_str(sec, o, "drive_id", true, did, err, errlen) ||
	    get_str(sec, o, "path_on_host", false, path, err, errlen) ||
	    get_rate_limiter(sec, o, "rate_limiter", rl, rl_given, err, errlen))
		return -EINVAL;
	if (strcmp(id, *did)) {
		set_err(err, errlen,
			"%s: drive_id '%s' does not match the path's '%s'", sec,
			*did, id);
		return -EINVAL;
	}
	if (*path && !**path) {
		set_err(err, errlen, "%s: path_on_host is empty", sec);
		return -EINVAL;
	}
	return 0;
}

int cfgjson_net_patch(const struct json_node *o, const char *id,
		      struct rate_spec *rx, bool *rx_given,
		      struct rate_spec *tx, bool *tx_given, char *err,
		      size_t errlen)
{
	static const char *const keys[] = { "iface_id", "rx_rate_limiter",
					    "tx_rate_limiter", NULL };
	static const char sec[] = "network-interfaces";
	const char *iid;

	if (check_object(sec, o, keys, err, errlen) ||
	    get_str(sec, o, "iface_id", true, &iid, err, errlen) ||
	    get_rate_limiter(sec, o, "rx_rate_limiter", rx, rx_given, err,
			     errlen) ||
	    get_rate_limiter(sec, o, "tx_rate_limiter", tx, tx_given, err,
			     errlen))
		return -EINVAL;
	if (strcmp(id, iid)) {
		set_err(err, errlen,
			"%s: iface_id '%s' does not match the path's '%s'", sec,
			iid, id);
		return -EINVAL;
	}
	return 0;
}

int cfgjson_net(struct vm_config *cfg, const struct json_node *o,
		const char *id, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"iface_id",	   "host_dev_name",
		"guest_mac",	   "rx_rate_limiter",
		"tx_rate_limiter", "user_net",
		"port_forwards",   NULL,
	};
	static const char sec[] = "network-interfaces";
	const char *iid, *dev, *mac;
	const struct json_node *fwd, *f;
	struct rate_spec rx, tx;
	char spec[512], e[256];
	bool user = false;
	struct net_spec n, *slot = NULL;
	unsigned int i;
	size_t len;

	if (check_object(sec, o, keys, err, errlen) ||
	    get_str(sec, o, "iface_id", true, &iid, err, errlen) ||
	    get_bool(sec, o, "user_net", false, &user, err, errlen) ||
	    get_str(sec, o, "host_dev_name", !user, &dev, err, errlen) ||
	    get_str(sec, o, "guest_mac", false, &mac, err, errlen) ||
	    get_rate_limiter(sec, o, "rx_rate_limiter", &rx, NULL, err,
			     errlen) ||
	    get_rate_limiter(sec, o, "tx_rate_limiter", &tx, NULL, err, errlen))
		return -EINVAL;
	if (id && strcmp(id, iid)) {
		set_err(err, errlen,
			"%s: iface_id '%s' does not match the path's '%s'", sec,
			iid, id);
		return -EINVAL;
	}
	if (!good_id(iid, sizeof(n.id) - 1)) {
		set_err(err, errlen,
			"%s: iface_id '%s': give 1 to 63 letters, digits, '_' or '-'",
			sec, iid);
		return -EINVAL;
	}
	if (user && dev) {
		set_err(err, errlen,
			"%s: user_net and host_dev_name: give one of them",
			sec);
		return -EINVAL;
	}
	fwd = member(o, "port_forwards");
	if (fwd && (!user || fwd->type != JSON_ARRAY)) {
		set_err(err, errlen,
			"%s: port_forwards: give an array of \"tcp:HOSTPORT:GUESTPORT\" with user_net true",
			sec);
		return -EINVAL;
	}
	/* The command line's own parser: the same checks, the same words. */
	len = snprintf(spec, sizeof(spec), "%s%s%s%s",
		       user ? "user" : "tap=", user ? "" : dev,
		       mac ? ",mac=" : "", mac ? mac : "");
	for (f = json_first(fwd); f && len < sizeof(spec); f = json_next(f)) {
		if (f->type != JSON_STRING || strchr(f->str, ',')) {
			set_err(err, errlen,
				"%s: port_forwards: give strings like \"tcp:8080:80\"",
				sec);
			return -EINVAL;
		}
		len += snprintf(spec + len, sizeof(spec) - len, ",fwd=%s",
				f->str);
	}
	if (len >= sizeof(spec)) {
		set_err(err, errlen, "%s: too long", sec);
		return -EINVAL;
	}
	if (parse_net(spec, &n, e, sizeof(e))) {
		set_err(err, errlen, "%s: %s", sec, e);
		return -EINVAL;
	}
	snprintf(n.id, sizeof(n.id), "%s", iid);
	n.rx_rl = rx;
	n.tx_rl = tx;
	for (i = 0; i < cfg->nr_nics; i++)
		if (!strcmp(cfg->nics[i].id, iid))
			slot = &cfg->nics[i];
	if (!slot && cfg->nr_nics == KILN_MAX_NICS) {
		set_err(err, errlen, "%s: too many interfaces: at most %d", sec,
			KILN_MAX_NICS);
		return -ENOSPC;
	}
	if (!slot)
		slot = &cfg->nics[cfg->nr_nics++];
	*slot = n;
	return 0;
}

/* An array of strings: the count, or -EINVAL with err. */
static int str_array(const char *sec, const struct json_node *o,
		     const char *key, size_t max, char *err, size_t errlen)
{
	const struct json_node *n = member(o, key), *e;
	size_t count = 0;

	if (!n)
		return 0;
	if (n->type != JSON_ARRAY)
		return wrong_type(sec, key, n, "an array of strings", err,
				  errlen);
	for (e = json_first(n); e; e = json_next(e), count++)
		if (e->type != JSON_STRING)
			return wrong_type(sec, key, e, "a string", err, errlen);
	if (count > max) {
		set_err(err, errlen, "%s: %s: at most %zu", sec, key, max);
		return -EINVAL;
	}
	return count;
}

static void free_shares(struct share_spec *sh, int n)
{
	while (n-- > 0) {
		free(sh[n].host);
		free(sh[n].guest);
	}
}

int cfgjson_run(struct vm_config *cfg, const struct json_node *o, char *err,
		size_t errlen)
{
	static const char *const keys[] = {
		"command",     "rootfs",    "rootfs_read_only",
		"shares",      "env",	    "cwd",
		"user",	       "timeout_s", "interactive",
		"console_log", NULL,
	};
	static const char sec[] = "run";
	const char *rootfs, *cwd, *user, *log;
	const struct json_node *e;
	struct share_spec shares[KILN_MAX_SHARES];
	bool rootfs_ro = false, inter = false;
	uint64_t timeout = 0;
	long uid = -1, gid = -1;
	int argc, nshares, nenv, i;
	char **argv;

	if (check_object(sec, o, keys, err, errlen))
		return -EINVAL;
	argc = str_array(sec, o, "command", 4096, err, errlen);
	if (argc < 0)
		return argc;
	if (!argc) {
		set_err(err, errlen,
			"%s: command is missing: give it, e.g. [\"uname\", \"-a\"]",
			sec);
		return -EINVAL;
	}
	nshares = str_array(sec, o, "shares", KILN_MAX_SHARES, err, errlen);
	nenv = str_array(sec, o, "env", KILN_MAX_ENV, err, errlen);
	if (nshares < 0 || nenv < 0 ||
	    get_str(sec, o, "rootfs", false, &rootfs, err, errlen) ||
	    get_bool(sec, o, "rootfs_read_only", false, &rootfs_ro, err,
		     errlen) ||
	    get_str(sec, o, "cwd", false, &cwd, err, errlen) ||
	    get_str(sec, o, "user", false, &user, err, errlen) ||
	    get_u64(sec, o, "timeout_s", false, &timeout, err, errlen) < 0 ||
	    get_bool(sec, o, "interactive", false, &inter, err, errlen) ||
	    get_str(sec, o, "console_log", false, &log, err, errlen))
		return -EINVAL;
	if (cwd && *cwd != '/') {
		set_err(err, errlen, "%s: cwd '%s': give an absolute path", sec,
			cwd);
		return -EINVAL;
	}
	if (user && parse_user(user, &uid, &gid)) {
		set_err(err, errlen, "%s: user '%s': give UID or UID:GID", sec,
			user);
		return -EINVAL;
	}
	for (e = json_first(member(o, "env")); e; e = json_next(e))
		if (!strchr(e->str, '=') || *e->str == '=') {
			set_err(err, errlen,
				"%s: env '%s': write it as NAME=VALUE", sec,
				e->str);
			return -EINVAL;
		}
	/* The command line's syntax and checks for a share. */
	i = 0;
	for (e = json_first(member(o, "shares")); e; e = json_next(e), i++) {
		char m[256];

		if (parse_share(e->str, &shares[i], m, sizeof(m))) {
			set_err(err, errlen, "%s: shares: %s", sec, m);
			free_shares(shares, i);
			return -EINVAL;
		}
	}
	argv = calloc(argc + 1, sizeof(*argv));
	for (i = 0, e = json_first(member(o, "command")); argv && e;
	     e = json_next(e))
		if (!(argv[i++] = (char *)config_strdup(cfg, e->str))) {
			free(argv);
			argv = NULL;
		}
	if (!argv) {
		free_shares(shares, nshares);
		return -ENOMEM;
	}
	/* All checked: now it changes. */
	free_shares(cfg->shares, cfg->nr_shares);
	memcpy(cfg->shares, shares, nshares * sizeof(shares[0]));
	cfg->nr_shares = nshares;
	free(cfg->run_argv_owned);
	cfg->run_argv = cfg->run_argv_owned = argv;
	cfg->run_argc = argc;
	cfg->nr_env = 0;
	for (e = json_first(member(o, "env")); e; e = json_next(e))
		cfg->env[cfg->nr_env++] = config_strdup(cfg, e->str);
	cfg->rootfs = config_strdup(cfg, rootfs);
	cfg->rootfs_ro = rootfs_ro;
	cfg->rootfs_path_len = rootfs ? strlen(rootfs) : 0;
	cfg->cwd = config_strdup(cfg, cwd);
	cfg->uid = uid;
	cfg->gid = gid;
	cfg->timeout = timeout;
	cfg->interactive = inter;
	cfg->console_log = config_strdup(cfg, log);
	return 0;
}

int cfgjson_log_level(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "Off", LOG_QUIET },	 { "Error", LOG_ERR },
		{ "Warning", LOG_WARN }, { "Warn", LOG_WARN },
		{ "Info", LOG_INFO },	 { "Debug", LOG_DEBUG },
		{ "Trace", LOG_DEBUG },
	};
	size_t i;

	for (i = 0; name && i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcasecmp(name, levels[i].name))
			return levels[i].level + 2;
	return 0;
}

int cfgjson_logger(struct vm_config *cfg, const struct json_node *o, char *err,
		   size_t errlen)
{
	static const char *const keys[] = { "log_path",	  "level",
					    "show_level", "show_log_origin",
					    "module",	  NULL };
	static const char sec[] = "logger";
	const char *path, *level, *module;
	bool show = false;
	int lv = 0;

	if (check_object(sec, o, keys, err, errlen) ||
	    get_str(sec, o, "log_path", false, &path, err, errlen) ||
	    get_str(sec, o, "level", false, &level, err, errlen) ||
	    get_bool(sec, o, "show_level", false, &show, err, errlen) ||
	    get_bool(sec, o, "show_log_origin", false, &show, err, errlen) ||
	    get_str(sec, o, "module", false, &module, err, errlen))
		return -EINVAL;
	if (level) {
		lv = cfgjson_log_level(level);
		if (!lv) {
			set_err(err, errlen,
				"%s: level '%s': give Off, Error, Warning, Info, Debug or Trace",
				sec, level);
			return -EINVAL;
		}
	}
	if (path) {
		path = config_strdup(cfg, path);
		if (!path)
			return -ENOMEM;
		cfg->log_path = path;
	}
	if (lv)
		cfg->log_level = lv;
	return 0;
}

int cfgjson_metrics(struct vm_config *cfg, const struct json_node *o, char *err,
		    size_t errlen)
{
	static const char *const keys[] = { "metrics_path", NULL };
	static const char sec[] = "metrics";
	const char *path;

	if (check_object(sec, o, keys, err, errlen) ||
	    get_str(sec, o, "metrics_path", true, &path, err, errlen))
		return -EINVAL;
	if (!*path) {
		set_err(err, errlen, "%s: metrics_path is empty", sec);
		return -EINVAL;
	}
	path = config_strdup(cfg, path);
	if (!path)
		return -ENOMEM;
	cfg->metrics_path = path;
	return 0;
}

int cfgjson_vsock(struct vm_config *cfg, const struct json_node *o, char *err,
		  size_t errlen)
{
	static const char *const keys[] = { "guest_cid", "uds_path", "vsock_id",
					    NULL };
	static const char sec[] = "vsock";
	const char *path, *id;
	uint64_t cid;

	if (check_object(sec, o, keys, err, errlen) ||
	    get_u64(sec, o, "guest_cid", true, &cid, err, errlen) < 0 ||
	    get_str(sec, o, "uds_path", true, &path, err, errlen) ||
	    get_str(sec, o, "vsock_id", false, &id, err, errlen))
		return -EINVAL;
	if (config_check_vsock(cid, path, err, errlen))
		return -EINVAL;
	path = config_strdup(cfg, path);
	if (!path)
		return -ENOMEM;
	/* A second PUT replaces the first, as with Firecracker. */
	cfg->vsock_uds = path;
	cfg->vsock_cid = cid;
	return 0;
}

int cfgjson_balloon(struct vm_config *cfg, const struct json_node *o, char *err,
		    size_t errlen)
{
	static const char *const keys[] = { "amount_mib", "deflate_on_oom",
					    "stats_polling_interval_s",
					    "free_page_reporting", NULL };
	static const char sec[] = "balloon";
	struct balloon_spec b = { .on = 1 };
	bool oom = false, rep = false;
	uint64_t secs = 0;

	if (check_object(sec, o, keys, err, errlen) ||
	    get_u64(sec, o, "amount_mib", true, &b.amount_mib, err, errlen) <
		    0 ||
	    get_bool(sec, o, "deflate_on_oom", false, &oom, err, errlen) ||
	    get_u64(sec, o, "stats_polling_interval_s", false, &secs, err,
		    errlen) < 0 ||
	    get_bool(sec, o, "free_page_reporting", false, &rep, err, errlen))
		return -EINVAL;
	if (config_check_balloon(b.amount_mib, cfg->mem_size, err, errlen))
		return -EINVAL;
	b.deflate_on_oom = oom;
	b.reporting = rep;
	b.stats_interval_s = (unsigned int)secs;
	cfg->balloon = b;
	return 0;
}

int cfgjson_balloon_patch(const struct json_node *o, uint64_t *mib, char *err,
			  size_t errlen)
{
	static const char *const keys[] = { "amount_mib", NULL };

	if (check_object("balloon", o, keys, err, errlen) ||
	    get_u64("balloon", o, "amount_mib", true, mib, err, errlen) < 0)
		return -EINVAL;
	return 0;
}

int cfgjson_balloon_stats_patch(const struct json_node *o, uint64_t *secs,
				char *err, size_t errlen)
{
	static const char *const keys[] = { "stats_polling_interval_s", NULL };
	static const char sec[] = "balloon/statistics";

	if (check_object(sec, o, keys, err, errlen) ||
	    get_u64(sec, o, "stats_polling_interval_s", true, secs, err,
		    errlen) < 0)
		return -EINVAL;
	return 0;
}

void cfgjson_balloon_out(struct json_out *o, const struct balloon_spec *b)
{
	json_out_begin_object(o);
	json_out_key(o, "amount_mib");
	json_out_u64(o, b->amount_mib);
	json_out_key(o, "deflate_on_oom");
	json_out_bool(o, b->deflate_on_oom);
	json_out_key(o, "stats_polling_interval_s");
	json_out_u64(o, b->stats_interval_s);
	json_out_key(o, "free_page_reporting");
	json_out_bool(o, b->reporting);
	json_out_end_object(o);
}

int cfgjson_entropy(struct vm_config *cfg, const struct json_node *o, char *err,
		    size_t errlen)
{
	static const char *const keys[] = { "rate_limiter", NULL };

	(void)cfg;
	if (check_object("entropy", o, keys, err, errlen) ||
	    no_rate_limiter("entropy", o, "rate_limiter", err, errlen))
		return -EINVAL;
	return 0;
}

int cfgjson_file(struct vm_config *cfg, const char *text, size_t len, char *err,
		 size_t errlen)
{
	static const char *const keys[] = {
		"boot-source",
		"drives",
		"machine-config",
		"network-interfaces",
		"logger",
		"metrics",
		"entropy",
		"vsock",
		"balloon",
		"run",
		NULL,
	};
	const struct json_node *root, *n, *e;
	struct json_doc doc = { 0 };
	char perr[160];
	int r;

	r = json_parse(text, len, &doc, perr, sizeof(perr));
	if (r) {
		set_err(err, errlen, "not valid JSON: %s", perr);
		json_free(&doc);
		return r == -ENOMEM ? r : -EINVAL;
	}
	root = json_root(&doc);
	r = check_object("the configuration", root, keys, err, errlen);
	if (!r) {
		n = member(root, "boot-source");
		r = n ? cfgjson_boot_source(cfg, n, err, errlen) :
			missing("the configuration", "boot-source", err,
				errlen);
	}
	if (!r && (n = member(root, "machine-config")))
		r = cfgjson_machine(cfg, n, true, err, errlen);
	if (!r && (n = member(root, "drives"))) {
		if (n->type != JSON_ARRAY)
			r = wrong_type("the configuration", "drives", n,
				       "an array", err, errlen);
		for (e = json_first(n); !r && e; e = json_next(e)) {
			const struct json_node *id = json_get(e, "drive_id");
			unsigned int i;

			/* In a file, a second drive with one id is a mistake. */
			for (i = 0;
			     id && id->type == JSON_STRING && i < cfg->nr_disks;
			     i++)
				if (cfg->disks[i].id &&
				    !strcmp(cfg->disks[i].id, id->str)) {
					set_err(err, errlen,
						"drives: two drives are called '%s'",
						id->str);
					r = -EINVAL;
				}
			if (!r)
				r = cfgjson_drive(cfg, e, NULL, err, errlen);
		}
	}
	if (!r && (n = member(root, "network-interfaces"))) {
		if (n->type != JSON_ARRAY)
			r = wrong_type("the configuration",
				       "network-interfaces", n, "an array", err,
				       errlen);
		for (e = json_first(n); !r && e; e = json_next(e))
			r = cfgjson_net(cfg, e, NULL, err, errlen);
	}
	if (!r && (n = member(root, "logger")))
		r = cfgjson_logger(cfg, n, err, errlen);
	if (!r && (n = member(root, "metrics")))
		r = cfgjson_metrics(cfg, n, err, errlen);
	if (!r && (n = member(root, "vsock")))
		r = cfgjson_vsock(cfg, n, err, errlen);
	if (!r && (n = member(root, "balloon")))
		r = cfgjson_balloon(cfg, n, err, errlen);
	if (!r && (n = member(root, "entropy")))
		r = cfgjson_entropy(cfg, n, err, errlen);
	if (!r && (n = member(root, "run")))
		r = cfgjson_run(cfg, n, err, errlen);
	if (!r)
		r = config_validate(cfg, err, errlen);
	json_free(&doc);
	return r;
}

static void out_bucket(struct json_out *o, const char *key,
		       const struct bucket_spec *b)
{
	if (!b->size)
		return;
	json_out_key(o, key);
	json_out_begin_object(o);
	json_out_key(o, "size");
	json_out_u64(o, b->size);
	json_out_key(o, "one_time_burst");
	json_out_u64(o, b->one_time_burst);
	json_out_key(o, "refill_time");
	json_out_u64(o, b->refill_ms);
	json_out_end_object(o);
}

static void out_rate_limiter_key(struct json_out *o, const char *key,
				 const struct rate_spec *rl)
{
	json_out_key(o, key);
	json_out_begin_object(o);
	out_bucket(o, "bandwidth", &rl->bw);
	out_bucket(o, "ops", &rl->ops);
	json_out_end_object(o);
}

static void out_mac(struct json_out *o, const uint8_t *m)
{
	char s[18];

	snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	json_out_str(o, s);
}

static void out_str_or_null(struct json_out *o, const char *key, const char *s)
{
	json_out_key(o, key);
	if (s)
		json_out_str(o, s);
	else
		json_out_null(o);
}

void cfgjson_machine_out(struct json_out *o, const struct vm_config *cfg)
{
	json_out_begin_object(o);
	json_out_key(o, "vcpu_count");
	json_out_u64(o, cfg->cpus);
	json_out_key(o, "mem_size_mib");
	json_out_u64(o, cfg->mem_size >> 20);
	json_out_key(o, "smt");
	json_out_bool(o, false);
	json_out_key(o, "track_dirty_pages");
	json_out_bool(o, cfg->track_dirty_pages);
	json_out_key(o, "huge_pages");
	json_out_str(o, "None");
	json_out_end_object(o);
}

char *cfgjson_dump(const struct vm_config *cfg, bool pretty)
{
	static const char *const lnames[] = { "Off", "Error", "Warning", "Info",
					      "Debug" };
	struct json_out o;
	unsigned int i;
	char *fwd, *save = NULL, *tok, copy[256];

	json_out_init(&o, pretty);
	json_out_begin_object(&o);
	json_out_key(&o, "boot-source");
	json_out_begin_object(&o);
	out_str_or_null(&o, "kernel_image_path", cfg->kernel);
	out_str_or_null(&o, "initrd_path", cfg->initrd);
	out_str_or_null(&o, "boot_args", cfg->cmdline);
	json_out_key(&o, "kernel_cache");
	json_out_bool(&o, !cfg->no_kernel_cache);
	json_out_end_object(&o);

	json_out_key(&o, "drives");
	json_out_begin_array(&o);
	for (i = 0; i < cfg->nr_disks; i++) {
		const struct disk_spec *d = &cfg->disks[i];

		json_out_begin_object(&o);
		out_str_or_null(&o, "drive_id", d->id);
		out_str_or_null(&o, "path_on_host", d->path);
		json_out_key(&o, "is_root_device");
		json_out_bool(&o, d->root);
		json_out_key(&o, "is_read_only");
		json_out_bool(&o, d->ro);
		out_str_or_null(&o, "partuuid", d->partuuid);
		if (d->rl.bw.size || d->rl.ops.size)
			out_rate_limiter_key(&o, "rate_limiter", &d->rl);
		json_out_end_object(&o);
	}
	json_out_end_array(&o);

	json_out_key(&o, "machine-config");
	cfgjson_machine_out(&o, cfg);

	json_out_key(&o, "network-interfaces");
	json_out_begin_array(&o);
	for (i = 0; i < cfg->nr_nics; i++) {
		const struct net_spec *n = &cfg->nics[i];

		json_out_begin_object(&o);
		json_out_key(&o, "iface_id");
		json_out_str(&o, n->id);
		if (n->user) {
			json_out_key(&o, "user_net");
			json_out_bool(&o, true);
		} else {
			json_out_key(&o, "host_dev_name");
			json_out_str(&o, n->ifname);
		}
		json_out_key(&o, "guest_mac");
		if (n->has_mac)
			out_mac(&o, n->mac);
		else
			json_out_null(&o);
		if (n->user && n->fwds[0]) {
			json_out_key(&o, "port_forwards");
			json_out_begin_array(&o);
			snprintf(copy, sizeof(copy), "%s", n->fwds);
			for (fwd = copy; (tok = strtok_r(fwd, " ", &save));
			     fwd = NULL) {
				char t[80];

				snprintf(t, sizeof(t), "tcp:%s", tok);
				json_out_str(&o, t);
			}
			json_out_end_array(&o);
		}
		if (n->rx_rl.bw.size || n->rx_rl.ops.size)
			out_rate_limiter_key(&o, "rx_rate_limiter", &n->rx_rl);
		if (n->tx_rl.bw.size || n->tx_rl.ops.size)
			out_rate_limiter_key(&o, "tx_rate_limiter", &n->tx_rl);
		json_out_end_object(&o);
	}
	json_out_end_array(&o);

	if (cfg->run_argv) {
		int a;

		json_out_key(&o, "run");
		json_out_begin_object(&o);
		json_out_key(&o, "command");
		json_out_begin_array(&o);
		for (a = 0; a < cfg->run_argc; a++)
			json_out_str(&o, cfg->run_argv[a]);
		json_out_end_array(&o);
		if (cfg->rootfs) {
			json_out_key(&o, "rootfs");
			json_out_strn(&o, cfg->rootfs, cfg->rootfs_path_len);
			json_out_key(&o, "rootfs_read_only");
			json_out_bool(&o, cfg->rootfs_ro);
		}
		json_out_key(&o, "shares");
		json_out_begin_array(&o);
		for (i = 0; i < cfg->nr_shares; i++) {
			char sh[600];

			snprintf(sh, sizeof(sh), "%s:%s%s", cfg->shares[i].host,
				 cfg->shares[i].guest,
				 cfg->shares[i].ro ? ",ro" : "");
			json_out_str(&o, sh);
		}
		json_out_end_array(&o);
		json_out_key(&o, "env");
		json_out_begin_array(&o);
		for (i = 0; i < cfg->nr_env; i++)
			json_out_str(&o, cfg->env[i]);
		json_out_end_array(&o);
		if (cfg->cwd) {
			json_out_key(&o, "cwd");
			json_out_str(&o, cfg->cwd);
		}
		if (cfg->timeout > 0) {
			json_out_key(&o, "timeout_s");
			json_out_u64(&o, (uint64_t)cfg->timeout);
		}
		json_out_end_object(&o);
	}
	if (cfg->log_path || cfg->log_level) {
		json_out_key(&o, "logger");
		json_out_begin_object(&o);
		out_str_or_null(&o, "log_path", cfg->log_path);
		json_out_key(&o, "level");
		json_out_str(&o, cfg->log_level >= 1 && cfg->log_level <= 5 ?
					 lnames[cfg->log_level - 1] :
					 "Warning");
		json_out_end_object(&o);
	}
	if (cfg->balloon.on) {
		json_out_key(&o, "balloon");
		cfgjson_balloon_out(&o, &cfg->balloon);
	}
	if (cfg->vsock_uds) {
		json_out_key(&o, "vsock");
		json_out_begin_object(&o);
		json_out_key(&o, "guest_cid");
		json_out_u64(&o, cfg->vsock_cid);
		json_out_key(&o, "uds_path");
		json_out_str(&o, cfg->vsock_uds);
		json_out_end_object(&o);
	}
	if (cfg->metrics_path) {
		json_out_key(&o, "metrics");
		json_out_begin_object(&o);
		json_out_key(&o, "metrics_path");
		json_out_str(&o, cfg->metrics_path);
		json_out_end_object(&o);
	}
	json_out_end_object(&o);
	return json_out_finish(&o, NULL);
}
