// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "arch.h"
#include "config_json.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "virtio/balloon.h"

#define API_MAX_CONNS 32
/* A client that does not read its answers is dropped past this. */
#define API_MAX_OUT (1 << 20)

struct api_conn {
	struct api *a;
	int fd;
	struct http_parser p;
	char *out;
	size_t out_len, out_off;
	bool closing; /* close once out is written */
	struct api_conn *next;
};

struct api {
	struct session *s;
	struct vm_config *cfg;
	char id[65];
	int listen_fd;
	char *path; /* the socket's, to remove at exit */
	struct api_conn *conns;
	unsigned int nr_conns;
	bool no_start;
	bool applied_logger;
};

struct api *api_new(struct session *s, struct vm_config *cfg, const char *id)
{
	struct api *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->s = s;
	a->cfg = cfg;
	a->listen_fd = -1;
	snprintf(a->id, sizeof(a->id), "%s", id ? id : "anonymous-instance");
	if (s)
		s->api = a;
	return a;
}

void api_forbid_start(struct api *a)
{
	a->no_start = true;
}

/* ---- Requests ---- */

static int fault(char **resp, int status, const char *msg)
{
	struct json_out o;

	json_out_init(&o, false);
	json_out_begin_object(&o);
	json_out_key(&o, "fault_message");
	json_out_str(&o, msg);
	json_out_end_object(&o);
	*resp = json_out_finish(&o, NULL);
	return status;
}

static enum vm_state state_of(const struct api *a)
{
	struct vm *vm = a->s ? a->s->vm : NULL;

	if (!vm)
		return VM_STATE_NOT_STARTED;
	if (atomic_load(&vm->stop_reason) != VM_RUNNING)
		return VM_STATE_STOPPED;
	return vm->state;
}

static int get_instance(struct api *a, char **resp)
{
	struct json_out o;

	json_out_init(&o, false);
	json_out_begin_object(&o);
	json_out_key(&o, "id");
	json_out_str(&o, a->id);
	json_out_key(&o, "state");
	json_out_str(&o, vm_state_name(state_of(a)));
	json_out_key(&o, "vmm_version");
	json_out_str(&o, KILN_VERSION);
	json_out_key(&o, "app_name");
	json_out_str(&o, "kiln");
	json_out_end_object(&o);
	*resp = json_out_finish(&o, NULL);
	return *resp ? 200 : 500;
}

static int get_machine(struct api *a, char **resp)
{
	struct json_out o;

	json_out_init(&o, false);
	cfgjson_machine_out(&o, a->cfg);
	*resp = json_out_finish(&o, NULL);
	return *resp ? 200 : 500;
}

/* PUT /logger: the file is opened now, as Firecracker does. */
static int apply_logger(struct api *a, char *err, size_t errlen)
{
	int fd;

	/* The fuzzer's: no file opened or created on its say-so. */
	if (a->no_start)
		return 0;
	if (a->cfg->log_level)
		log_set_level(a->cfg->log_level - 2);
	if (!a->cfg->log_path)
		return 0;
	fd = open(a->cfg->log_path,
		  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd < 0) {
		set_err(err, errlen, "logger: log_path '%s': %s",
			a->cfg->log_path, strerror(errno));
		return -errno;
	}
	log_set_fd(fd);
	a->applied_logger = true;
	return 0;
}

/* PUT /metrics (and the config file's): the file is opened now. */
static int apply_metrics(struct api *a, char *err, size_t errlen)
{
	/* The fuzzer's, and an API without a session: nothing opened. */
	if (a->no_start || !a->s || !a->cfg->metrics_path)
		return 0;
	return metrics_open(&a->s->metrics, a->cfg->metrics_path, err, errlen);
}

int api_start_vm(struct api *a, char *err, size_t errlen)
{
	struct session *s = a->s;
	struct vm *vm;
	int r;

	if (a->no_start) {
		set_err(err, errlen, "InstanceStart: not in this build");
		return -EPERM;
	}
	if (!s || s->vm) {
		set_err(err, errlen,
			"InstanceStart: the VM is started already (state %s)",
			vm_state_name(state_of(a)));
		return -EINVAL;
	}
	if (!a->cfg->kernel) {
		set_err(err, errlen,
			"InstanceStart: no boot source: PUT /boot-source first");
		return -EINVAL;
	}
	r = config_validate(a->cfg, err, errlen);
	if (r)
		return r;
	vm = vm_create(a->cfg, err, errlen);
	if (!vm)
		return -EINVAL;
	r = session_attach(s, vm);
	if (r) {
		set_err(err, errlen, "cannot watch the console: %s",
			strerror(-r));
		vm_destroy(vm);
		s->vm = NULL;
		return r;
	}
	r = vm_start(vm, err, errlen);
	if (r)
		return r;
	/* Last: threads inherit the filters of the thread creating them. */
	session_seccomp(s, a->listen_fd >= 0);
	return 0;
}

static int do_action(struct api *a, const struct json_node *root, char *err,
		     size_t errlen)
{
	const struct json_node *t = json_get(root, "action_type"), *m;
	int r;

	for (m = json_first(root); m; m = json_next(m))
		if (strcmp(m->key, "action_type")) {
			set_err(err, errlen,
				"actions: unknown key '%s' (known: action_type)",
				m->key);
			return -EINVAL;
		}
	if (!t || t->type != JSON_STRING) {
		set_err(err, errlen,
			"actions: action_type: give InstanceStart, SendCtrlAltDel or FlushMetrics");
		return -EINVAL;
	}
	if (!strcmp(t->str, "InstanceStart"))
		return api_start_vm(a, err, errlen);
	if (!strcmp(t->str, "SendCtrlAltDel")) {
		if (state_of(a) != VM_STATE_RUNNING) {
			set_err(err, errlen,
				"SendCtrlAltDel: the VM is not running (state %s)",
				vm_state_name(state_of(a)));
			return -EINVAL;
		}
		r = arch_send_ctrl_alt_del(a->s->vm);
		if (r)
			set_err(err, errlen,
				"SendCtrlAltDel: this machine has no keyboard controller");
		return r;
	}
	if (!strcmp(t->str, "FlushMetrics")) {
		int fr;

		if (!a->s || a->s->metrics.fd < 0) {
			set_err(err, errlen,
				"FlushMetrics: no metrics are configured: PUT /metrics first");
			return -EINVAL;
		}
		fr = metrics_flush(a->s);
		if (fr)
			set_err(err, errlen, "FlushMetrics: %s", strerror(-fr));
		return fr;
	}
	set_err(err, errlen,
		"actions: action_type '%s': give InstanceStart, SendCtrlAltDel or FlushMetrics",
		t->str);
	return -EINVAL;
}

static int patch_vm(struct api *a, const struct json_node *root, char *err,
		    size_t errlen)
{
	const struct json_node *st = json_get(root, "state"), *m;

	for (m = json_first(root); m; m = json_next(m))
		if (strcmp(m->key, "state")) {
			set_err(err, errlen,
				"vm: unknown key '%s' (known: state)", m->key);
			return -EINVAL;
		}
	if (!st || st->type != JSON_STRING ||
	    (strcmp(st->str, "Paused") && strcmp(st->str, "Resumed"))) {
		set_err(err, errlen, "vm: state: give Paused or Resumed");
		return -EINVAL;
	}
	if (!a->s || !a->s->vm) {
		set_err(err, errlen, "cannot %s a VM that is not started",
			strcmp(st->str, "Paused") ? "resume" : "pause");
		return -EINVAL;
	}
	if (!strcmp(st->str, "Paused"))
		return session_pause(a->s, err, errlen);
	return session_resume(a->s, err, errlen);
}

/*
 * PATCH /drives/ID: another path_on_host. Before the start it is the
 * configuration's; after, the running disk's (the guest is told its
 * capacity changed).
 */
static int get_balloon(struct api *a, char **resp)
{
	struct json_out o;

	if (!a->cfg->balloon.on)
		return fault(resp, 400,
			     "balloon: none is configured: PUT /balloon first");
	json_out_init(&o, false);
	cfgjson_balloon_out(&o, &a->cfg->balloon);
	*resp = json_out_finish(&o, NULL);
	return *resp ? 200 : 500;
}

/* Firecracker's names for the statistics tags, 0-9. */
static const char *const stat_names[BALLOON_NR_STATS] = {
	"swap_in",	    "swap_out",	   "major_faults",
	"minor_faults",	    "free_memory", "total_memory",
	"available_memory", "disk_caches", "hugetlb_allocations",
	"hugetlb_failures",
};

static int get_balloon_stats(struct api *a, char **resp)
{
	struct balloon_stats st;
	struct json_out o;
	char err[200];
	unsigned int i;

	if (!a->s || !a->s->vm)
		return fault(resp, 400,
			     "balloon/statistics: the VM has not started");
	if (vm_balloon_stats(a->s->vm, &st, err, sizeof(err)))
		return fault(resp, 400, err);
	json_out_init(&o, false);
	json_out_begin_object(&o);
	json_out_key(&o, "target_pages");
	json_out_u64(&o, st.target_pages);
	json_out_key(&o, "actual_pages");
	json_out_u64(&o, st.actual_pages);
	json_out_key(&o, "target_mib");
	json_out_u64(&o, st.target_pages / 256);
	json_out_key(&o, "actual_mib");
	json_out_u64(&o, st.actual_pages / 256);
	for (i = 0; i < BALLOON_NR_STATS; i++) {
		if (!st.valid[i])
			continue;
		json_out_key(&o, stat_names[i]);
		json_out_u64(&o, st.v[i]);
	}
	json_out_end_object(&o);
	*resp = json_out_finish(&o, NULL);
	return *resp ? 200 : 500;
}

static int balloon_configured(struct api *a, char *err, size_t errlen)
{
	if (a->cfg->balloon.on)
		return 0;
	set_err(err, errlen, "balloon: none is configured: PUT /balloon first");
	return -EINVAL;
}

/* PATCH /balloon: a new target, told to a running guest at once. */
static int patch_balloon(struct api *a, const struct json_node *root, char *err,
			 size_t errlen)
{
	uint64_t mib;
	int r = cfgjson_balloon_patch(root, &mib, err, errlen);

	if (r || (r = balloon_configured(a, err, errlen)))
		return r;
	r = a->s && a->s->vm ?
		    vm_balloon_target(a->s->vm, mib, err, errlen) :
		    config_check_balloon(mib, a->cfg->mem_size, err, errlen);
	if (!r)
		a->cfg->balloon.amount_mib = mib;
	return r;
}

static int patch_balloon_stats(struct api *a, const struct json_node *root,
			       char *err, size_t errlen)
{
	uint64_t secs;
	int r = cfgjson_balloon_stats_patch(root, &secs, err, errlen);

	if (r || (r = balloon_configured(a, err, errlen)))
		return r;
	if (a->s && a->s->vm) {
		r = vm_balloon_interval(a->s->vm, (unsigned int)secs, err,
					errlen);
		if (r)
			return r;
	}
	a->cfg->balloon.stats_interval_s = (unsigned int)secs;
	return 0;
}

/* PATCH /network-interfaces/{id}: new rate limiters, also while running. */
static int patch_net(struct api *a, const struct json_node *root,
		     const char *id, char *err, size_t errlen)
{
	struct net_spec *n = NULL;
	struct rate_spec rx, tx;
	bool rx_given, tx_given;
	unsigned int i;
	int r;

	r = cfgjson_net_patch(root, id, &rx, &rx_given, &tx, &tx_given, err,
			      errlen);
	if (r)
		return r;
	for (i = 0; i < a->cfg->nr_nics; i++)
		if (!strcmp(a->cfg->nics[i].id, id))
			n = &a->cfg->nics[i];
	if (!n) {
		set_err(err, errlen,
			"network-interfaces: no interface '%s': PUT it first",
			id);
		return -EINVAL;
	}
	if (a->s && a->s->vm) {
		r = vm_net_limits(a->s->vm, id, rx_given ? &rx : NULL,
				  tx_given ? &tx : NULL, err, errlen);
		if (r)
			return r;
	}
	if (rx_given)
		n->rx_rl = rx;
	if (tx_given)
		n->tx_rl = tx;
	return 0;
}

static int patch_drive(struct api *a, const struct json_node *root,
		       const char *id, char *err, size_t errlen)
{
	struct disk_spec *d = NULL;
	const char *did, *path;
	struct rate_spec rl;
	bool rl_given;
	char *copy;
	unsigned int i;
	int r;

	r = cfgjson_drive_patch(root, id, &did, &path, &rl, &rl_given, err,
				errlen);
	if (r)
		return r;
	for (i = 0; i < a->cfg->nr_disks; i++)
		if (a->cfg->disks[i].id && !strcmp(a->cfg->disks[i].id, id))
			d = &a->cfg->disks[i];
	if (!d) {
		set_err(err, errlen, "drives: no drive '%s': PUT it first", id);
		return -EINVAL;
	}
	/* New limits, full buckets, at once (a held-back queue goes on). */
	if (rl_given) {
		r = a->s && a->s->vm ?
			    vm_drive_limits(a->s->vm, id, &rl, err, errlen) :
			    0;
		if (r)
			return r;
		d->rl = rl;
	}
	if (!path)
		return 0;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	r = a->s && a->s->vm ?
		    vm_drive_replace(a->s->vm, id, copy, err, errlen) :
		    0;
	if (r) {
		free(copy);
		return r;
	}
	free(d->path);
	d->path = copy;
	return 0;
}

/* "/drives/ID" -> "ID" when prefix matches and ID is one segment. */
static const char *sub_id(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) || !path[n] || strchr(path + n, '/'))
		return NULL;
	return path + n;
}

enum route {
	R_NONE,
	R_ROOT,
	R_MACHINE,
	R_BOOT,
	R_DRIVE,
	R_NET,
	R_ACTIONS,
	R_VM,
	R_VM_CONFIG,
	R_LOGGER,
	R_METRICS,
	R_ENTROPY,
	R_VSOCK,
	R_BALLOON,
	R_BALLOON_STATS,
	R_VERSION,
	R_RUN,
};

static enum route route_of(const char *path, const char **id)
{
	static const struct {
		const char *path;
		enum route r;
	} fixed[] = {
		{ "/", R_ROOT },
		{ "/machine-config", R_MACHINE },
		{ "/boot-source", R_BOOT },
		{ "/actions", R_ACTIONS },
		{ "/vm", R_VM },
		{ "/vm/config", R_VM_CONFIG },
		{ "/logger", R_LOGGER },
		{ "/metrics", R_METRICS },
		{ "/entropy", R_ENTROPY },
		{ "/vsock", R_VSOCK },
		{ "/balloon", R_BALLOON },
		{ "/balloon/statistics", R_BALLOON_STATS },
		{ "/version", R_VERSION },
		{ "/run", R_RUN },
	};
	size_t i;

	*id = NULL;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strcmp(path, fixed[i].path))
			return fixed[i].r;
	if ((*id = sub_id(path, "/drives/")))
		return R_DRIVE;
	if ((*id = sub_id(path, "/network-interfaces/")))
		return R_NET;
	return R_NONE;
}

static int handle(struct api *a, const char *method, const char *path,
		  const char *body, size_t len, char **resp);

int api_handle(struct api *a, const char *method, const char *path,
	       const char *body, size_t len, char **resp)
{
	int status = handle(a, method, path, body, len, resp);

	if (a->s) {
		metric_add(&a->s->metrics.api_requests, 1);
		if (status >= 400)
			metric_add(&a->s->metrics.api_errors, 1);
	}
	return status;
}

static int handle(struct api *a, const char *method, const char *path,
		  const char *body, size_t len, char **resp)
{
	bool get = !strcmp(method, "GET"), put = !strcmp(method, "PUT"),
	     patch = !strcmp(method, "PATCH");
	bool started = a->s && a->s->vm;
	struct json_doc doc = { 0 };
	const struct json_node *root = NULL;
	char err[512], perr[160];
	const char *id;
	enum route rt = route_of(path, &id);
	int r = 0;

	*resp = NULL;
	err[0] = 0;
	if (rt == R_NONE)
		goto bad_route;
	if (get) {
		switch (rt) {
		case R_ROOT:
			return get_instance(a, resp);
		case R_MACHINE:
			return get_machine(a, resp);
		case R_VM_CONFIG:
			*resp = cfgjson_dump(a->cfg, false);
			return *resp ? 200 : 500;
		case R_BALLOON:
			return get_balloon(a, resp);
		case R_BALLOON_STATS:
			return get_balloon_stats(a, resp);
		case R_VERSION: {
			struct json_out o;

			json_out_init(&o, false);
			json_out_begin_object(&o);
			json_out_key(&o, "firecracker_version");
			json_out_str(&o, KILN_VERSION);
			json_out_end_object(&o);
			*resp = json_out_finish(&o, NULL);
			return *resp ? 200 : 500;
		}
		default:
			goto bad_route;
		}
	}
	if (!put && !patch)
		goto bad_route;
	/* Every PUT and PATCH carries one JSON object. */
	r = json_parse(body, len, &doc, perr, sizeof(perr));
	if (r) {
		json_free(&doc);
		snprintf(err, sizeof(err), "the body is not valid JSON: %s",
			 len ? perr : "it is empty");
		return fault(resp, 400, err);
	}
	root = json_root(&doc);
	if (root->type != JSON_OBJECT) {
		snprintf(err, sizeof(err), "the body is %s: give an object",
			 json_type_name(root->type));
		json_free(&doc);
		return fault(resp, 400, err);
	}
	/* Pre-boot only, as with Firecracker. */
	if (started &&
	    (rt == R_BOOT || rt == R_MACHINE || (rt == R_DRIVE && !patch) ||
	     (rt == R_NET && !patch) || rt == R_LOGGER || rt == R_METRICS ||
	     rt == R_ENTROPY || rt == R_VSOCK || (rt == R_BALLOON && put) ||
	     rt == R_RUN)) {
		snprintf(err, sizeof(err),
			 "%s %s: not allowed after the VM started (state %s)",
			 method, path, vm_state_name(state_of(a)));
		r = -EINVAL;
		goto out;
	}
	switch (rt) {
	case R_MACHINE:
		r = cfgjson_machine(a->cfg, root, patch, err, sizeof(err));
		break;
	case R_BOOT:
		r = put ? cfgjson_boot_source(a->cfg, root, err, sizeof(err)) :
			  1;
		break;
	case R_DRIVE:
		r = put ? cfgjson_drive(a->cfg, root, id, err, sizeof(err)) :
			  patch_drive(a, root, id, err, sizeof(err));
		break;
	case R_NET:
		r = put ? cfgjson_net(a->cfg, root, id, err, sizeof(err)) :
			  patch_net(a, root, id, err, sizeof(err));
		break;
	case R_ACTIONS:
		r = put ? do_action(a, root, err, sizeof(err)) : 1;
		break;
	case R_VM:
		r = patch ? patch_vm(a, root, err, sizeof(err)) : 1;
		break;
	case R_LOGGER:
		r = put ? cfgjson_logger(a->cfg, root, err, sizeof(err)) : 1;
		if (!r)
			r = apply_logger(a, err, sizeof(err));
		break;
	case R_METRICS:
		r = put ? cfgjson_metrics(a->cfg, root, err, sizeof(err)) : 1;
		if (!r)
			r = apply_metrics(a, err, sizeof(err));
		break;
	case R_ENTROPY:
		r = put ? cfgjson_entropy(a->cfg, root, err, sizeof(err)) : 1;
		break;
	case R_VSOCK:
		r = put ? cfgjson_vsock(a->cfg, root, err, sizeof(err)) : 1;
		break;
	case R_BALLOON:
		r = put ? cfgjson_balloon(a->cfg, root, err, sizeof(err)) :
			  patch_balloon(a, root, err, sizeof(err));
		break;
	case R_BALLOON_STATS:
		r = patch ? patch_balloon_stats(a, root, err, sizeof(err)) : 1;
		break;
	case R_RUN:
		r = put ? cfgjson_run(a->cfg, root, err, sizeof(err)) : 1;
		break;
	default:
		r = 1;
		break;
	}
out:
	json_free(&doc);
	if (r == 1)
		goto bad_route;
	if (r) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s",
				 r == -ENOMEM ? "out of memory" : strerror(-r));
		pr_info("API: %s %s: %s", method, path, err);
		return fault(resp, 400, err);
	}
	return 204;
bad_route:
	snprintf(err, sizeof(err),
		 "invalid request method and/or path: %.16s %.200s", method,
		 path);
	return fault(resp, 400, err);
}

/* ---- Connections ---- */

static void conn_close(struct api_conn *c)
{
	struct api *a = c->a;
	struct api_conn **pp;

	for (pp = &a->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	a->nr_conns--;
	if (a->s)
		evloop_del(&a->s->loop, c->fd);
	close(c->fd);
	http_parser_free(&c->p);
	free(c->out);
	free(c);
}

/* Writes what is pending; false when the connection went away. */
static bool conn_flush(struct api_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			evloop_mod(&c->a->s->loop, c->fd, EPOLLIN | EPOLLOUT);
			return true;
		}
		if (n <= 0) {
			conn_close(c);
			return false;
		}
		c->out_off += n;
	}
	c->out_off = c->out_len = 0;
	if (c->closing) {
		conn_close(c);
		return false;
	}
	evloop_mod(&c->a->s->loop, c->fd, EPOLLIN);
	return true;
}

static bool conn_queue(struct api_conn *c, const char *data, size_t n)
{
	char *o;

	if (c->out_len - c->out_off + n > API_MAX_OUT) {
		conn_close(c);
		return false;
	}
	o = realloc(c->out, c->out_len + n);
	if (!o) {
		conn_close(c);
		return false;
	}
	memcpy(o + c->out_len, data, n);
	c->out = o;
	c->out_len += n;
	return true;
}

static bool conn_respond(struct api_conn *c, int status, const char *body,
			 bool keep)
{
	size_t blen = body ? strlen(body) : 0;
	size_t size = blen + 256;
	char *buf = malloc(size);
	int n;
	bool ok;

	if (!buf) {
		conn_close(c);
		return false;
	}
	n = http_format_response(buf, size, status,
				 blen ? "application/json" : NULL, body, blen,
				 keep);
	ok = n > 0 && conn_queue(c, buf, n);
	free(buf);
	if (!keep)
		c->closing = true;
	return ok;
}

static void on_conn(void *opaque, int fd, uint32_t events)
{
	struct api_conn *c = opaque;
	char buf[4096];
	size_t off = 0, used;
	ssize_t n;

	if ((events & EPOLLOUT) && !conn_flush(c))
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	for (;;) {
		int r = http_feed(&c->p, buf + off, n - off, &used);

		off += used;
		if (r == HTTP_NEED_MORE)
			break;
		if (r == HTTP_EXPECT_CONTINUE) {
			if (!conn_queue(c, HTTP_CONTINUE_RESPONSE,
					strlen(HTTP_CONTINUE_RESPONSE)))
				return;
			continue;
		}
		if (r == HTTP_REQUEST_READY) {
			const struct http_request *q = &c->p.req;
			char *resp = NULL;
			int st = api_handle(c->a, q->method_name, q->path,
					    q->body, q->body_len, &resp);
			bool keep = q->keep_alive, ok;

			ok = conn_respond(c, st, resp, keep);
			free(resp);
			if (!ok)
				return;
			http_next(&c->p);
			if (!keep)
				break;
			continue;
		}
		/* A malformed request: say which status, then close. */
		{
			char *resp = NULL;
			char msg[96];

			snprintf(msg, sizeof(msg), "bad HTTP request: %s",
				 http_reason(-r));
			fault(&resp, -r, msg);
			if (!conn_respond(c, -r, resp, false)) {
				free(resp);
				return;
			}
			free(resp);
		}
		break;
	}
	conn_flush(c);
}

static void on_accept(void *opaque, int fd, uint32_t events)
{
	struct api *a = opaque;
	struct api_conn *c;
	int cfd;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (a->nr_conns == API_MAX_CONNS) {
		pr_warn("API: %u connections open already: refusing one more",
			a->nr_conns);
		close(cfd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || http_parser_init(&c->p, HTTP_API_MAX_BODY)) {
		free(c);
		close(cfd);
		return;
	}
	c->a = a;
	c->fd = cfd;
	if (evloop_add(&a->s->loop, cfd, EPOLLIN, on_conn, c)) {
		http_parser_free(&c->p);
		free(c);
		close(cfd);
		return;
	}
	c->next = a->conns;
	a->conns = c;
	a->nr_conns++;
}

int api_listen(struct api *a, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		set_err(err, errlen,
			"--api-sock '%s': the path is too long for a socket (at most %zu bytes)",
			path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err(err, errlen, "--api-sock: socket: %s", strerror(errno));
		return -errno;
	}
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			set_err(err, errlen,
				"--api-sock '%s': exists and is not a socket: give another path",
				path);
			close(fd);
			return -EEXIST;
		}
		/* Someone answers there: not ours to take. */
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    errno == EAGAIN) {
			set_err(err, errlen,
				"--api-sock '%s': another process serves this socket: stop it or give another path",
				path);
			close(fd);
			return -EADDRINUSE;
		}
		close(fd);
		unlink(path); /* stale: nobody listens */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
		if (fd < 0)
			return -errno;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || listen(fd, 16)) {
		r = -errno;
		set_err(err, errlen, "--api-sock '%s': %s", path,
			strerror(errno));
		close(fd);
		return r;
	}
	a->path = strdup(path);
	r = evloop_add(&a->s->loop, fd, EPOLLIN, on_accept, a);
	if (r || !a->path) {
		set_err(err, errlen, "--api-sock: cannot serve it");
		close(fd);
		unlink(path);
		free(a->path);
		a->path = NULL;
		return r ? r : -ENOMEM;
	}
	a->listen_fd = fd;
	return 0;
}

void api_close(struct api *a)
{
	if (!a)
		return;
	while (a->conns)
		conn_close(a->conns);
	if (a->listen_fd >= 0) {
		if (a->s)
			evloop_del(&a->s->loop, a->listen_fd);
		close(a->listen_fd);
	}
	/* (stat is outside the filter: unlink is all it allows.) */
	if (a->path)
		unlink(a->path);
	free(a->path);
	a->path = NULL;
	a->listen_fd = -1;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	api_close(a);
	if (a->s)
		a->s->api = NULL;
	free(a);
}

/* ---- Firecracker's command line ---- */

enum fc_opt {
	FC_API_SOCK,
	FC_CONFIG_FILE,
	FC_NO_API,
	FC_ID,
	FC_BOOT_TIMER,
	FC_LOG_PATH,
	FC_LEVEL,
	FC_NO_SECCOMP,
	FC_SHOW_LEVEL,
	FC_SHOW_ORIGIN,
	FC_MODULE,
	FC_PAYLOAD,
	FC_IGNORED, /* the jailer's timing flags */
	FC_REFUSED, /* known, and not something kiln does */
	FC_VERSION,
	FC_HELP,
};

static const struct {
	const char *name;
	enum fc_opt id;
	bool arg;
} fc_opts[] = {
	{ "--api-sock", FC_API_SOCK, true },
	{ "--config-file", FC_CONFIG_FILE, true },
	{ "--no-api", FC_NO_API, false },
	{ "--id", FC_ID, true },
	{ "--boot-timer", FC_BOOT_TIMER, false },
	{ "--log-path", FC_LOG_PATH, true },
	{ "--level", FC_LEVEL, true },
	{ "--no-seccomp", FC_NO_SECCOMP, false },
	{ "--show-level", FC_SHOW_LEVEL, false },
	{ "--show-log-origin", FC_SHOW_ORIGIN, false },
	{ "--module", FC_MODULE, true },
	{ "--http-api-max-payload-size", FC_PAYLOAD, true },
	{ "--start-time-us", FC_IGNORED, true },
	{ "--start-time-cpu-us", FC_IGNORED, true },
	{ "--parent-cpu-time-us", FC_IGNORED, true },
	{ "--seccomp-filter", FC_REFUSED, true },
	{ "--metadata", FC_REFUSED, true },
	{ "--mmds-size-limit", FC_REFUSED, true },
	{ "--describe-snapshot", FC_REFUSED, true },
	{ "--version", FC_VERSION, false },
	{ "--help", FC_HELP, false },
};

#define NR_FC_OPTS (sizeof(fc_opts) / sizeof(fc_opts[0]))

bool api_is_fc_flag(const char *arg)
{
	size_t i;

	/* --version and --help are kiln's own too. */
	for (i = 0; i < NR_FC_OPTS; i++)
		if (!strcmp(arg, fc_opts[i].name) &&
		    fc_opts[i].id != FC_VERSION && fc_opts[i].id != FC_HELP)
			return true;
	return false;
}

static const char fc_usage[] =
	"usage: kiln --api-sock PATH [--config-file FILE] [options]\n"
	"       kiln --no-api --config-file FILE [options]\n"
	"\n"
	"Firecracker's command line: a tool that starts firecracker can start\n"
	"kiln. The API (HTTP over the UNIX socket) and the config file take\n"
	"Firecracker's requests and keys; see README.md.\n"
	"\n"
	"  --api-sock PATH     serve the API there (/run/firecracker.socket)\n"
	"  --config-file FILE  boot at once from this configuration\n"
	"  --no-api            no API socket (needs --config-file)\n"
	"  --id ID             the instance id GET / reports\n"
	"  --boot-timer        report the guest's boot time (see kiln run)\n"
	"  --log-path PATH     kiln's messages go there\n"
	"  --level LEVEL       Off, Error, Warning, Info, Debug or Trace\n"
	"  --no-seccomp        no system call filters\n";

/* The whole file, at most 1 MiB, NUL-terminated. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	size_t cap = 1 << 20, n = 0;
	char *buf;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		set_err(err, errlen, "--config-file '%s': %s", path,
			errno == ENOENT ? "does not exist: check the path" :
					  strerror(errno));
		return NULL;
	}
	buf = malloc(cap + 1);
	while (buf && (r = read(fd, buf + n, cap + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || n + r > cap) {
			set_err(err, errlen, "--config-file '%s': %s", path,
				r < 0 ? strerror(errno) :
					"larger than 1 MiB: is it the right file?");
			free(buf);
			buf = NULL;
			break;
		}
		n += r;
	}
	close(fd);
	if (buf) {
		buf[n] = 0;
		*len = n;
	} else if (!err[0]) {
		set_err(err, errlen, "out of memory");
	}
	return buf;
}

int api_main(int argc, char **argv)
{
	const char *sock = NULL, *file = NULL, *id = NULL, *log_path = NULL;
	bool no_api = false, boot_timer = false, no_seccomp = false;
	struct vm_config *cfg = calloc(1, sizeof(*cfg));
	int level = 0, i, status = 1;
	struct session s;
	struct api *a = NULL;
	char err[512] = "";
	size_t j, len;
	char *text;

	if (!cfg) {
		pr_err("out of memory");
		return 1;
	}
	config_init(cfg);
	for (i = 1; i < argc; i++) {
		const char *val = NULL;

		for (j = 0; j < NR_FC_OPTS; j++)
			if (!strcmp(argv[i], fc_opts[j].name))
				break;
		if (j == NR_FC_OPTS) {
			set_err(err, sizeof(err),
				"unknown option '%s': see 'kiln --api-sock PATH --help'",
				argv[i]);
			goto fail;
		}
		if (fc_opts[j].arg) {
			if (i + 1 == argc) {
				set_err(err, sizeof(err), "%s needs a value",
					argv[i]);
				goto fail;
			}
			val = argv[++i];
		}
		switch (fc_opts[j].id) {
		case FC_API_SOCK:
			sock = val;
			break;
		case FC_CONFIG_FILE:
			file = val;
			break;
		case FC_NO_API:
			no_api = true;
			break;
		case FC_ID:
			id = val;
			if (!*id || strlen(id) > 64) {
				set_err(err, sizeof(err),
					"--id '%s': give 1 to 64 characters",
					val);
				goto fail;
			}
			break;
		case FC_BOOT_TIMER:
			boot_timer = true;
			break;
		case FC_LOG_PATH:
			log_path = val;
			break;
		case FC_LEVEL:
			level = cfgjson_log_level(val);
			if (!level) {
				set_err(err, sizeof(err),
					"--level '%s': give Off, Error, Warning, Info, Debug or Trace",
					val);
				goto fail;
			}
			break;
		case FC_NO_SECCOMP:
			no_seccomp = true;
			break;
		case FC_SHOW_LEVEL:
		case FC_SHOW_ORIGIN:
		case FC_MODULE:
		case FC_PAYLOAD:
		case FC_IGNORED:
			/* Accepted: kiln's messages and limits are its own. */
			break;
		case FC_REFUSED:
			set_err(err, sizeof(err),
				"%s: not supported by kiln (its seccomp filters are built in; no MMDS or snapshots yet)",
				argv[i - 1]);
			goto fail;
		case FC_VERSION:
			printf("kiln %s (Firecracker's API)\n", KILN_VERSION);
			free(cfg);
			return 0;
		case FC_HELP:
			fputs(fc_usage, stdout);
			free(cfg);
			return 0;
		}
	}
	if (no_api && !file) {
		set_err(err, sizeof(err),
			"--no-api needs --config-file: with neither, nothing could start the VM");
		goto fail;
	}
	if (no_api && sock) {
		set_err(err, sizeof(err),
			"--no-api and --api-sock: give one of them");
		goto fail;
	}
	if (level)
		log_set_level(level - 2);
	if (log_path) {
		int fd = open(log_path,
			      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				      O_NONBLOCK,
			      0600);

		if (fd < 0) {
			set_err(err, sizeof(err), "--log-path '%s': %s",
				log_path, strerror(errno));
			goto fail;
		}
		log_set_fd(fd);
	}
	if (file) {
		text = read_file(file, &len, err, sizeof(err));
		if (!text)
			goto fail;
		if (cfgjson_file(cfg, text, len, err, sizeof(err))) {
			free(text);
			pr_err("--config-file '%s': %s", file, err);
			config_free(cfg);
			free(cfg);
			return 1;
		}
		free(text);
	}
	cfg->boot_timer |= boot_timer;
	cfg->no_seccomp |= no_seccomp;
	if (session_init(&s, false)) {
		set_err(err, sizeof(err), "cannot set up signal handling");
		goto fail;
	}
	a = api_new(&s, cfg, id);
	if (!a) {
		set_err(err, sizeof(err), "out of memory");
		goto fail_session;
	}
	if (cfg->log_path || cfg->log_level) {
		if (apply_logger(a, err, sizeof(err)))
			goto fail_session;
	}
	if (apply_metrics(a, err, sizeof(err)))
		goto fail_session;
	if (!no_api && api_listen(a, sock ? sock : "/run/firecracker.socket",
				  err, sizeof(err)))
		goto fail_session;
	if (file && api_start_vm(a, err, sizeof(err)))
		goto fail_session;
	session_loop(&s);
	api_close(a);
	status = session_finish(&s);
	api_free(a);
	config_free(cfg);
	free(cfg);
	return status;

fail_session:
	pr_err("%s", err);
	api_close(a);
	session_finish(&s);
	api_free(a);
	config_free(cfg);
	free(cfg);
	return 1;
fail:
	pr_err("%s", err);
	config_free(cfg);
	free(cfg);
	return 2;
}
