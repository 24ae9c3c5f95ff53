// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "arch.h"
#include "boottimer.h"
#include "trim.h"
#include "iothread.h"
#include "kvm.h"
#include "log.h"
#include "run.h"
#include "seccomp.h"
#include "term.h"
#include "vcpu.h"
#include "virtio/9p.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "vm.h"

void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	int expected = VM_RUNNING;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->stop_reason, &expected, why))
		return;
	vm->stop_status = status;
	if (vm->stop_efd >= 0 && write(vm->stop_efd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow with one write per VM. */
	}
	/* Parked vCPUs leave; a pause waiting for them gives up. */
	pthread_mutex_lock(&vm->park_lock);
	pthread_cond_broadcast(&vm->park_cond);
	pthread_cond_broadcast(&vm->resume_cond);
	pthread_mutex_unlock(&vm->park_lock);
}

int vm_setup_memory_layout(struct vm *vm, uint64_t ram_size)
{
	uint64_t off = 0;
	int n, i;

	n = arch_memory_layout(ram_size, vm->mem.region, VM_MAX_MEM_REGIONS);
	if (n < 0)
		return n;
	vm->mem.nr = n;
	vm->ram_size = ram_size;
	for (i = 0; i < n; i++) {
		vm->mem.region[i].hva = vm->ram ? vm->ram + off : NULL;
		off += vm->mem.region[i].size;
	}
	return off == ram_size ? 0 : -EINVAL;
}

static int vm_map_memory(struct vm *vm)
{
	unsigned int i;
	int err;

	/*
	 * MAP_NORESERVE: guest RAM is touched lazily, so a 4 GiB guest that
	 * uses 100 MiB costs 100 MiB.
	 */
	vm->ram = mmap(NULL, vm->cfg->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		pr_err("cannot map %llu MiB of guest memory: %s; give a smaller --mem",
		       (unsigned long long)(vm->cfg->mem_size >> 20),
		       strerror(errno));
		return -ENOMEM;
	}
	madvise(vm->ram, vm->cfg->mem_size, MADV_DONTDUMP);
	err = vm_setup_memory_layout(vm, vm->cfg->mem_size);
	if (err) {
		pr_err("cannot lay out %llu bytes of guest memory",
		       (unsigned long long)vm->cfg->mem_size);
		return err;
	}
	for (i = 0; i < vm->mem.nr; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = vm->mem.region[i].gpa,
			.memory_size = vm->mem.region[i].size,
			.userspace_addr =
				(uint64_t)(uintptr_t)vm->mem.region[i].hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			err = -errno;
			pr_err("KVM_SET_USER_MEMORY_REGION slot %u failed: %s",
			       i, strerror(errno));
			return err;
		}
	}
	return 0;
}

static int open_input(const char *what, const char *path, char *err,
		      size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen,
				 "%s '%s' does not exist: check the path", what,
				 path);
		else if (errno == EACCES)
			snprintf(
				err, errlen,
				"%s '%s': permission denied: make it readable for this user",
				what, path);
		else
			snprintf(err, errlen, "cannot open %s '%s': %s", what,
				 path, strerror(errno));
	}
	return fd;
}

/* Where the kiln binary lives: its own kernel may be beside it. */
char *vm_exe_dir(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = 0;
	slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return strdup(buf);
}

/* Command mode: where the guest kernel's messages go. */
static int open_log(const struct vm_config *cfg, char *err, size_t errlen)
{
	int fd;

	if (cfg->console_log) {
		fd = open(cfg->console_log,
			  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			snprintf(err, errlen,
				 "--console-log '%s': %s: give a writable path",
				 cfg->console_log, strerror(errno));
		return fd;
	}
	fd = cfg->verbose ? fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3) :
			    open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		snprintf(err, errlen, "cannot open the console log: %s",
			 strerror(errno));
	return fd;
}

int pread_full(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = pread(fd, p, len, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* file shrank under us */
		p += r;
		len -= r;
		off += r;
	}
	return 0;
}

int vm_load_initrd(struct vm *vm, int fd, uint64_t lo, uint64_t top,
		   uint64_t *gpa_out, uint64_t *size_out)
{
	const char *name = vm->cfg->initrd ? vm->cfg->initrd : "(built in)";
	uint64_t size = 0, fsize = 0, gpa;
	struct stat st;
	uint8_t *dst;
	int r;

	if (fd >= 0) {
		if (fstat(fd, &st))
			return -errno;
		if (!S_ISREG(st.st_mode)) {
			pr_err("initrd '%s' is not a regular file", name);
			return -EINVAL;
		}
		fsize = st.st_size;
		if (!fsize) {
			pr_err("initrd '%s' is empty", name);
			return -EINVAL;
		}
		size = (fsize + 3) & ~3ULL;
	}
	size += vm->initrd_extra_len;
	gpa = size <= top ? (top - size) & ~0xfffULL : 0;
	if (gpa < lo || size > top) {
		pr_err("initrd '%s' (%llu MiB) does not fit beside the kernel: give more --mem",
		       name, (unsigned long long)(size >> 20));
		return -ENOMEM;
	}
	dst = gpa_to_hva(vm, gpa, size);
	if (!dst)
		return -EFAULT;
	if (fd >= 0) {
		r = pread_full(fd, dst, fsize, 0);
		if (r) {
			pr_err("cannot read initrd '%s': %s", name,
			       strerror(-r));
			return r;
		}
		memset(dst + fsize, 0, ((fsize + 3) & ~3ULL) - fsize);
	}
	if (vm->initrd_extra_len) {
		memcpy(dst + size - vm->initrd_extra_len, vm->initrd_extra,
		       vm->initrd_extra_len);
		/* In guest RAM now: kiln's copy need not stay resident. */
		free(vm->initrd_extra);
		vm->initrd_extra = NULL;
		vm->initrd_extra_len = 0;
	}
	*gpa_out = gpa;
	*size_out = size;
	return 0;
}

const char *vm_stop_text(enum vm_stop_reason r)
{
	switch (r) {
	case VM_STOP_REBOOT:
		return "guest rebooted";
	case VM_STOP_POWEROFF:
		return "guest powered off";
	case VM_STOP_HALT:
		return "guest halted";
	case VM_STOP_CRASH:
		return "guest crashed";
	case VM_STOP_SIGNAL:
		return "stopped by a signal";
	case VM_STOP_ESCAPE:
		return "quit from the console";
	case VM_STOP_ERROR:
		return "stopped on an error";
	case VM_STOP_TIMEOUT:
		return "timed out";
	default:
		return "running";
	}
}

const char *vm_state_name(enum vm_state st)
{
	switch (st) {
	case VM_STATE_NOT_STARTED:
		return "Not started";
	case VM_STATE_RUNNING:
		return "Running";
	case VM_STATE_PAUSED:
		return "Paused";
	case VM_STATE_STOPPED:
		return "Stopped";
	}
	return "?";
}

int vm_state_check(enum vm_state from, enum vm_state to, char *err,
		   size_t errlen)
{
	static const char *const verb[] = {
		[VM_STATE_NOT_STARTED] = "un-start",
		[VM_STATE_RUNNING] = "start or resume",
		[VM_STATE_PAUSED] = "pause",
		[VM_STATE_STOPPED] = "stop",
	};
	static const char *const adj[] = {
		[VM_STATE_NOT_STARTED] = "not started",
		[VM_STATE_RUNNING] = "running",
		[VM_STATE_PAUSED] = "paused",
		[VM_STATE_STOPPED] = "stopped",
	};
	bool ok;

	switch (to) {
	case VM_STATE_RUNNING:
		ok = from == VM_STATE_NOT_STARTED || from == VM_STATE_PAUSED;
		break;
	case VM_STATE_PAUSED:
		ok = from == VM_STATE_RUNNING;
		break;
	case VM_STATE_STOPPED:
		ok = from != VM_STATE_STOPPED;
		break;
	default:
		ok = false;
		break;
	}
	if (ok)
		return 0;
	if ((unsigned int)from > VM_STATE_STOPPED ||
	    (unsigned int)to > VM_STATE_STOPPED)
		set_err(err, errlen, "unknown VM state");
	else
		set_err(err, errlen,
			"cannot %s a VM that is %s (the move from '%s' to '%s' is not allowed)",
			verb[to], adj[from], vm_state_name(from),
			vm_state_name(to));
	return -EINVAL;
}

/* Opens every disk: bad paths and locked images fail before any VM. */
static int open_disks(struct vm *vm, char *err, size_t errlen)
{
	unsigned int i, pass;
	char name[DEVICE_NAME_MAX];

	/* The root device first: it is /dev/vda. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < vm->cfg->nr_disks; i++) {
			const struct disk_spec *d = &vm->cfg->disks[i];
			struct virtio_blk *b;

			if ((pass == 0) != (d->root != 0))
				continue;
			b = virtio_blk_open(vm, d->path, d->ro, d->id, err,
					    errlen);
			if (!b)
				return -EINVAL;
			if (d->rl.bw.size || d->rl.ops.size) {
				struct ratelimit rl;

				ratelimit_from_spec(&rl, &d->rl,
						    ratelimit_now());
				virtio_blk_set_limits(b, &rl);
			}
			/* Found by its id again (the API's PATCH). */
			if (d->id)
				device_id_name(name, "drive", d->id);
			if (vm_add_device(vm, "virtio-blk", d->id ? name : NULL,
					  &virtio_blk_device_ops, b,
					  &b->vdev)) {
				snprintf(err, errlen, "too many devices");
				return -ENOSPC;
			}
		}
	return 0;
}

/* Opens every NIC's backend (TAP, or passt started). */
static int open_nics(struct vm *vm, char *err, size_t errlen)
{
	char name[DEVICE_NAME_MAX];
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_nics; i++) {
		const struct net_spec *s = &vm->cfg->nics[i];
		struct virtio_net *n;
		uint8_t mac[6];

		if (s->has_mac)
			memcpy(mac, s->mac, 6);
		else
			net_default_mac(s, i, mac);
		n = s->user ?
			    virtio_net_new_user(vm, s->fwds, mac, err, errlen) :
			    virtio_net_new_tap(vm, s->ifname, mac, err, errlen);
		if (!n)
			return -EINVAL;
		if (s->rx_rl.bw.size || s->rx_rl.ops.size || s->tx_rl.bw.size ||
		    s->tx_rl.ops.size) {
			struct ratelimit rx, tx;

			ratelimit_from_spec(&rx, &s->rx_rl, ratelimit_now());
			ratelimit_from_spec(&tx, &s->tx_rl, ratelimit_now());
			n->rx_rl = rx;
			n->tx_rl = tx;
		}
		if (s->id[0])
			device_id_name(name, "iface", s->id);
		if (vm_add_device(vm, "virtio-net", s->id[0] ? name : NULL,
				  &virtio_net_device_ops, n, &n->vdev)) {
			snprintf(err, errlen, "too many devices");
			return -ENOSPC;
		}
	}
	return 0;
}

/* The model of the drive or NIC the configuration named id, or NULL with
 * err saying there is none. */
static void *find_by_id(struct vm *vm, const char *prefix, const char *id,
			char *err, size_t errlen)
{
	char name[DEVICE_NAME_MAX];
	struct device *d;

	device_id_name(name, prefix, id);
	d = device_find(&vm->devs, name);
	if (!d)
		set_err(err, errlen, "%s: no %s '%s' in this VM",
			*prefix == 'd' ? "drives" : "network-interfaces",
			*prefix == 'd' ? "drive" : "interface", id);
	return d ? d->dev : NULL;
}

int vm_drive_limits(struct vm *vm, const char *id, const struct rate_spec *s,
		    char *err, size_t errlen)
{
	struct virtio_blk *b = find_by_id(vm, "drive", id, err, errlen);
	struct ratelimit rl;

	if (!b)
		return -ENOENT;
	ratelimit_from_spec(&rl, s, ratelimit_now());
	virtio_blk_set_limits(b, &rl);
	return 0;
}

static struct virtio_balloon *find_balloon(struct vm *vm, char *err,
					   size_t errlen)
{
	struct device *d = device_find(&vm->devs, "balloon");

	if (!d)
		set_err(err, errlen,
			"balloon: this VM has none (PUT /balloon before the start)");
	return d ? d->dev : NULL;
}

int vm_balloon_target(struct vm *vm, uint64_t mib, char *err, size_t errlen)
{
	struct virtio_balloon *b = find_balloon(vm, err, errlen);

	return b ? virtio_balloon_set_target(b, mib, err, errlen) : -ENOENT;
}

int vm_balloon_interval(struct vm *vm, unsigned int secs, char *err,
			size_t errlen)
{
	struct virtio_balloon *b = find_balloon(vm, err, errlen);

	return b ? virtio_balloon_set_interval(b, secs, err, errlen) : -ENOENT;
}

int vm_balloon_stats(struct vm *vm, struct balloon_stats *out, char *err,
		     size_t errlen)
{
	struct virtio_balloon *b = find_balloon(vm, err, errlen);

	if (!b)
		return -ENOENT;
	if (!virtio_balloon_stats(b, out)) {
		set_err(err, errlen,
			"balloon: statistics are off (stats_polling_interval_s was 0 at the start)");
		return -EINVAL;
	}
	return 0;
}

int vm_net_limits(struct vm *vm, const char *id, const struct rate_spec *rx,
		  const struct rate_spec *tx, char *err, size_t errlen)
{
	struct virtio_net *n = find_by_id(vm, "iface", id, err, errlen);
	struct ratelimit r, t;

	if (!n)
		return -ENOENT;
	r = n->rx_rl;
	t = n->tx_rl;
	if (rx)
		ratelimit_from_spec(&r, rx, ratelimit_now());
	if (tx)
		ratelimit_from_spec(&t, tx, ratelimit_now());
	virtio_net_set_limits(n, &r, &t);
	return 0;
}

int vm_drive_replace(struct vm *vm, const char *id, const char *path, char *err,
		     size_t errlen)
{
	struct virtio_blk *b = find_by_id(vm, "drive", id, err, errlen);

	return b ? virtio_blk_replace(b, path, err, errlen) : -ENOENT;
}

int vm_irqfd(struct vm *vm, uint32_t gsi)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), r;
	struct kvm_irqfd f = { .gsi = gsi };

	if (fd < 0)
		return -errno;
	f.fd = fd;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0) {
		r = -errno;
		pr_err("KVM_IRQFD for IRQ %u failed: %s", gsi, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, uint64_t datamatch)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), r;
	struct kvm_ioeventfd io = { .datamatch = datamatch,
				    .addr = addr,
				    .len = len,
				    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH };

	if (fd < 0)
		return -errno;
	io.fd = fd;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		r = -errno;
		pr_err("KVM_IOEVENTFD at 0x%llx failed: %s",
		       (unsigned long long)addr, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

int vm_add_device(struct vm *vm, const char *kind, const char *name,
		  const struct device_ops *ops, void *dev,
		  struct virtio_dev *vdev)
{
	if (device_add(&vm->devs, kind, name, ops, dev, vdev))
		return 0;
	pr_err("too many devices: at most %d", DEVICE_MAX);
	if (ops && ops->destroy)
		ops->destroy(dev);
	return -ENOSPC;
}

static void mmio_free(void *transport)
{
	virtio_mmio_detach(transport);
	free(transport);
}

/*
 * Every virtio device gets its window and interrupt line, in list order,
 * and the kernel command line names it where no table does.
 */
static int place_devices(struct vm *vm)
{
	unsigned int i;
	char *s;
	int r;

	r = device_list_place(&vm->devs, arch_virtio_slot);
	if (r) {
		pr_err("too many virtio devices for this platform");
		return r;
	}
	for (i = 0; i < vm->devs.nr; i++) {
		struct device *d = &vm->devs.dev[i];
		struct virtio_mmio *t;

		if (!d->virtio || d->transport)
			continue;
		/* The transport: virtio-mmio, the core's to make and free. */
		t = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
		virtio_mmio_init(t, vm, d->virtio);
		d->transport = t;
		d->transport_free = mmio_free;
		r = virtio_mmio_attach(t, d->base, d->irq);
		if (r) {
			pr_err("%s: cannot attach at 0x%llx: %s", d->name,
			       (unsigned long long)d->base, strerror(-r));
			return r;
		}
		if (!strcmp(d->kind, "virtio-net")) {
			r = virtio_net_start(d->dev);
			if (r)
				return r;
		}
		if (arch_describes_virtio(vm))
			continue; /* the DSDT or the device tree declares it */
		/* Found by a kernel with CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES. */
		if (asprintf(&s, "%s virtio_mmio.device=4K@0x%llx:%u",
			     vm->cmdline, (unsigned long long)d->base,
			     d->irq) < 0)
			return -ENOMEM;
		free(vm->cmdline);
		vm->cmdline = s;
	}
	return 0;
}

static int create_devices(struct vm *vm)
{
	struct virtio_rng *rng;

	if (vm->run_mode && run_prepare(vm))
		goto oom;
	if (vm->cfg->console == CONSOLE_VIRTIO && !vm->vcon) {
		vm->vcon = virtio_console_new(vm, vm->out_fd);
		if (!vm->vcon)
			goto oom;
		if (vm_add_device(vm, "virtio-console", NULL,
				  &virtio_console_device_ops, vm->vcon,
				  &vm->vcon->vdev)) {
			vm->vcon = NULL;
			return -ENOSPC;
		}
	}
	rng = virtio_rng_new(vm);
	if (!rng)
		goto oom;
	if (vm_add_device(vm, "virtio-rng", NULL, &virtio_rng_device_ops, rng,
			  &rng->vdev))
		return -ENOSPC;
	if (vm->cfg->vsock_uds) {
		char err[256];
		struct virtio_vsock *vs =
			virtio_vsock_new(vm, vm->cfg->vsock_cid,
					 vm->cfg->vsock_uds, err, sizeof(err));

		if (!vs) {
			pr_err("%s", err);
			return -EINVAL;
		}
		if (vm_add_device(vm, "virtio-vsock", "vsock",
				  &virtio_vsock_device_ops, vs, &vs->vdev))
			return -ENOSPC;
	}
	if (vm->cfg->balloon.on) {
		char err[256];
		struct virtio_balloon *b = virtio_balloon_new(
			vm, &vm->cfg->balloon, err, sizeof(err));

		if (!b) {
			pr_err("%s", err);
			return -EINVAL;
		}
		if (vm_add_device(vm, "virtio-balloon", "balloon",
				  &virtio_balloon_device_ops, b, &b->vdev))
			return -ENOSPC;
	}
	if (place_devices(vm))
		return -EINVAL;
	if (vm->vcon && !vm->run_mode) {
		/* The last console= names /dev/console. */
		char *s;

		if (asprintf(&s, "%s console=hvc0", vm->cmdline) < 0)
			return -ENOMEM;
		free(vm->cmdline);
		vm->cmdline = s;
	}
	return 0;
oom:
	pr_err("out of memory");
	return -ENOMEM;
}

static void kick_handler(int sig)
{
	(void)sig;
}

struct vm *vm_create(const struct vm_config *cfg, char *err, size_t errlen)
{
	int kfd = -1, ifd = -1;
	char *kpath = NULL, *edir;
	struct sigaction sa;
	struct vm *vm;
	unsigned int i;

	err[0] = 0;
	log_clear_error();
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_efd = vm->log_fd = -1;
	vm->in_fd = STDIN_FILENO;
	vm->out_fd = STDOUT_FILENO;
	vm->run_mode = cfg->run_argv != NULL;
	vm->run_status = -1;
	vm->state = VM_STATE_NOT_STARTED;
	pthread_mutex_init(&vm->park_lock, NULL);
	pthread_cond_init(&vm->park_cond, NULL);
	pthread_cond_init(&vm->resume_cond, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");

	/* Where device work runs: models are given it when made. */
	vm->io = iothread_new();
	if (!vm->io) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	/* User input first: nothing is created for a bad command line. */
	edir = vm_exe_dir();
	kpath = kernel_find(cfg->kernel, edir, err, errlen);
	free(edir);
	if (!kpath)
		goto fail;
	kfd = open_input("kernel", kpath, err, errlen);
	if (kfd < 0)
		goto fail;
	if (arch_probe_kernel(kfd, kpath, err, errlen))
		goto fail;
	if (cfg->initrd) {
		ifd = open_input("initrd", cfg->initrd, err, errlen);
		if (ifd < 0)
			goto fail;
	}
	if (vm->run_mode) {
		vm->log_fd = open_log(cfg, err, errlen);
		if (vm->log_fd < 0)
			goto fail;
		/* The serial console carries kernel messages only. */
		vm->out_fd = vm->log_fd;
		vm->in_fd = STDIN_FILENO;
		if (run_open(vm, err, errlen))
			goto fail;
	}
	if (open_disks(vm, err, errlen))
		goto fail;
	if (open_nics(vm, err, errlen))
		goto fail;
	vm->kvm_fd = kvm_open_checked(cfg->cpus, err, errlen);
	if (vm->kvm_fd < 0)
		goto fail;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		set_err(err, errlen, "KVM_CREATE_VM failed: %s",
			strerror(errno));
		goto fail;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		set_err(err, errlen, "KVM_GET_VCPU_MMAP_SIZE failed");
		goto fail;
	}
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0) {
		set_err(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (vm_map_memory(vm))
		goto fail;
	if (arch_vm_init(vm))
		goto fail;
	/* --boot-timer: the same device on every arch, where the arch puts it. */
	if (cfg->boot_timer && bus_register(&vm->mmio, arch_boot_timer_addr(),
					    8, boot_timer_access, NULL)) {
		set_err(err, errlen, "cannot place the boot timer");
		goto fail;
	}

	vm->nr_vcpus = cfg->cpus;
	vm->vcpus = calloc(cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < cfg->cpus; i++)
		vm->vcpus[i].fd = -1;
	for (i = 0; i < cfg->cpus; i++) {
		if (vcpu_create(vm, &vm->vcpus[i], i))
			goto fail;
		if (arch_vcpu_init(vm, &vm->vcpus[i]))
			goto fail;
	}
	if (arch_vcpus_created(vm))
		goto fail;

	vm->acpi = !cfg->no_acpi;
	vm->cmdline = config_kernel_cmdline(cfg, arch_default_cmdline());
	if (vm->cmdline && !vm->acpi && !cfg->cmdline) {
		char *s;

		/* Without tables a kernel built with ACPI must not look. */
		if (asprintf(&s, "%s acpi=off", vm->cmdline) < 0)
			s = NULL;
		free(vm->cmdline);
		vm->cmdline = s;
	}
	for (i = 0; vm->cmdline && i < cfg->nr_disks; i++) {
		const struct disk_spec *d = &cfg->disks[i];
		char *s;

		/* As Firecracker does for the drive marked is_root_device. */
		if (!d->root)
			continue;
		if (asprintf(&s, "%s root=%s%s %s", vm->cmdline,
			     d->partuuid ? "PARTUUID=" : "/dev/vda",
			     d->partuuid ? d->partuuid : "",
			     d->ro ? "ro" : "rw") < 0)
			s = NULL;
		free(vm->cmdline);
		vm->cmdline = s;
	}
	if (!vm->cmdline) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	if (create_devices(vm))
		goto fail;
	if (arch_load_kernel(vm, kfd, ifd))
		goto fail;
	if (arch_setup_boot(vm))
		goto fail;
	close(kfd);
	if (ifd >= 0)
		close(ifd);
	free(kpath);

	/* The kick interrupts KVM_RUN: a handler, never the default. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	return vm;

fail:
	/* What the step that failed logged, when it did not say in err. */
	if (!err[0])
		set_err(err, errlen, "%s",
			log_last_error()[0] ? log_last_error() :
					      "cannot create the VM");
	if (kfd >= 0)
		close(kfd);
	if (ifd >= 0)
		close(ifd);
	free(kpath);
	vm_destroy(vm);
	return NULL;
}

int vm_start(struct vm *vm, char *err, size_t errlen)
{
	unsigned int i;
	int r;

	r = vm_state_check(vm->state, VM_STATE_RUNNING, err, errlen);
	if (r)
		return r;
	if (vm->state == VM_STATE_PAUSED)
		return vm_resume(vm, err, errlen);
	if (!vm->cfg->no_seccomp)
		seccomp_install_handler();
	vm->io->seccomp = !vm->cfg->no_seccomp;
	vm->state = VM_STATE_RUNNING;
	atomic_store(&vm->setting_up, (int)vm->nr_vcpus + 1);
	r = iothread_start(vm->io);
	if (r) {
		set_err(err, errlen, "cannot start the I/O thread: %s",
			strerror(-r));
		vm_request_stop(vm, VM_STOP_ERROR, 1);
		return r;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		r = vcpu_start(&vm->vcpus[i]);
		if (r) {
			set_err(err, errlen, "cannot start vCPU %u: %s", i,
				strerror(-r));
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			return r;
		}
	}
	return 0;
}

void vm_setup_done(struct vm *vm)
{
	if (atomic_fetch_sub(&vm->setting_up, 1) == 1)
		pr_debug("start-up pages given back: %zu KiB",
			 trim_startup() / 1024);
}

static unsigned int vcpus_started(const struct vm *vm)
{
	unsigned int i, n = 0;

	for (i = 0; i < vm->nr_vcpus; i++)
		n += vm->vcpus[i].started;
	return n;
}

int vm_pause(struct vm *vm, char *err, size_t errlen)
{
	unsigned int i, want = vcpus_started(vm);
	int r;

	if (atomic_load(&vm->stop_reason) != VM_RUNNING)
		vm->state = VM_STATE_STOPPED;
	r = vm_state_check(vm->state, VM_STATE_PAUSED, err, errlen);
	if (r)
		return r;
	pthread_mutex_lock(&vm->park_lock);
	__atomic_store_n(&vm->pause_req, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->park_lock);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->park_lock);
	while (vm->nr_parked < want &&
	       atomic_load(&vm->stop_reason) == VM_RUNNING)
		pthread_cond_wait(&vm->park_cond, &vm->park_lock);
	pthread_mutex_unlock(&vm->park_lock);
	/* The vCPUs are out: no new kick comes; then the device work. */
	iothread_pause(vm->io);
	device_list_pause(&vm->devs);
	if (atomic_load(&vm->stop_reason) != VM_RUNNING) {
		set_err(err, errlen, "the VM stopped while pausing (%s)",
			vm_stop_text(vm->stop_reason));
		vm->state = VM_STATE_STOPPED;
		return -ESRCH;
	}
	vm->state = VM_STATE_PAUSED;
	return 0;
}

int vm_resume(struct vm *vm, char *err, size_t errlen)
{
	int r = vm_state_check(vm->state, VM_STATE_RUNNING, err, errlen);

	if (r)
		return r;
	if (vm->state == VM_STATE_NOT_STARTED)
		return vm_start(vm, err, errlen);
	device_list_resume(&vm->devs);
	iothread_resume(vm->io);
	pthread_mutex_lock(&vm->park_lock);
	__atomic_store_n(&vm->pause_req, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->resume_cond);
	pthread_mutex_unlock(&vm->park_lock);
	vm->state = VM_STATE_RUNNING;
	return 0;
}

void vm_stop(struct vm *vm)
{
	unsigned int i;

	if (vm->state == VM_STATE_STOPPED && !vm->io)
		return;
	vm_request_stop(vm, VM_STOP_ERROR, 1); /* no-op when one is there */
	if (vm->state == VM_STATE_PAUSED)
		iothread_resume(vm->io);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	iothread_free(vm->io);
	vm->io = NULL;
	/* Output the guest queued before it stopped still goes out. */
	if (vm->vcon)
		virtio_console_flush(vm->vcon);
	vm->state = VM_STATE_STOPPED;
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	/* The threads go first: they may be using any device. */
	vm_stop(vm);
	device_list_destroy(&vm->devs);
	vm->vcon = NULL;
	free(vm->initrd_extra);
	if (vm->log_fd >= 0)
		close(vm->log_fd);

	if (vm->vcpus) {
		for (i = 0; i < vm->nr_vcpus; i++)
			vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
	}
	arch_vm_destroy(vm);
	bus_destroy(&vm->mmio);
	bus_destroy(&vm->pio);
	if (vm->ram)
		munmap(vm->ram, vm->cfg->mem_size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	pthread_cond_destroy(&vm->resume_cond);
	pthread_cond_destroy(&vm->park_cond);
	pthread_mutex_destroy(&vm->park_lock);
	free(vm->cmdline);
	free(vm);
}
