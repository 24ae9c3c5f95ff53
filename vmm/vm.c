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
#include "iothread.h"
#include "kvm.h"
#include "log.h"
#include "run.h"
#include "seccomp.h"
#include "term.h"
#include "uart8250.h"
#include "vcpu.h"
#include "virtio/9p.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "vm.h"

void *gpa_to_hva(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	if (!len)
		len = 1;
	for (i = 0; i < vm->nr_mem; i++) {
		const struct mem_region *r = &vm->mem[i];
		uint64_t off;

		if (gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		/* Written so that no sum can wrap around. */
		if (off >= r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}

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
}

int vm_setup_memory_layout(struct vm *vm, uint64_t ram_size)
{
	uint64_t off = 0;
	int n, i;

	n = arch_memory_layout(ram_size, vm->mem, VM_MAX_MEM_REGIONS);
	if (n < 0)
		return n;
	vm->nr_mem = n;
	vm->ram_size = ram_size;
	for (i = 0; i < n; i++) {
		vm->mem[i].hva = vm->ram ? vm->ram + off : NULL;
		off += vm->mem[i].size;
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
	for (i = 0; i < vm->nr_mem; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = vm->mem[i].gpa,
			.memory_size = vm->mem[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)vm->mem[i].hva,
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

static void kick_handler(int sig)
{
	(void)sig;
}

static const char *stop_text(enum vm_stop_reason r)
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

/* Console input state, owned by the main loop. */
struct input {
	size_t (*receive)(void *dev, const uint8_t *buf, size_t n);
	void (*eof)(void *dev); /* called once every byte went in */
	void *dev;
	int fd;
	bool tty;
	bool ended; /* end of input seen, eof() not yet called */
	bool file; /* a regular file: always readable, not polled */
	bool blocked; /* waiting for the UART to drain */
	struct term_escape esc;
	uint8_t buf[256];
	size_t len, off;
};

static void input_feed(struct input *in, int epfd)
{
	size_t n = in->receive(in->dev, in->buf + in->off, in->len - in->off);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = in->fd };

	in->off += n;
	if (in->off == in->len) {
		in->off = in->len = 0;
		if (in->ended && in->eof) {
			in->ended = false;
			in->eof(in->dev);
		}
		if (in->blocked) {
			in->blocked = false;
			if (in->fd >= 0)
				epoll_ctl(epfd, EPOLL_CTL_ADD, in->fd, &ev);
		}
	} else if (!in->blocked) {
		/*
		 * Back-pressure: stop reading until the guest drains. The fd
		 * leaves the epoll set, as a hang-up would still be reported.
		 */
		in->blocked = true;
		if (in->fd >= 0)
			epoll_ctl(epfd, EPOLL_CTL_DEL, in->fd, NULL);
	}
}

static void input_read(struct vm *vm, struct input *in, int epfd)
{
	uint8_t raw[sizeof(in->buf)];
	bool quit = false;
	ssize_t r;

	r = read(in->fd, raw, sizeof(raw));
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		/* End of input: the guest keeps running without it. */
		if (!in->file)
			epoll_ctl(epfd, EPOLL_CTL_DEL, in->fd, NULL);
		in->fd = -1;
		in->ended = true;
		in->len = in->off = 0;
		input_feed(in, epfd);
		return;
	}
	if (in->tty) {
		in->len = term_filter_escape(&in->esc, raw, r, in->buf, &quit);
		if (quit) {
			vm_request_stop(vm, VM_STOP_ESCAPE, 0);
			return;
		}
	} else {
		memcpy(in->buf, raw, r);
		in->len = r;
	}
	in->off = 0;
	input_feed(in, epfd);
}

static size_t uart_receive(void *dev, const uint8_t *buf, size_t n)
{
	return uart8250_receive(dev, buf, n);
}

static size_t vcon_receive(void *dev, const uint8_t *buf, size_t n)
{
	return virtio_console_receive(dev, buf, n);
}

static size_t stdin_port_receive(void *dev, const uint8_t *buf, size_t n)
{
	return virtio_console_port_receive(dev, RUN_PORT_STDIN, buf, n);
}

static void stdin_port_eof(void *dev)
{
	virtio_console_host_close(dev, RUN_PORT_STDIN);
}

/* -t: the terminal's size, to the guest init over the status port. */
static void send_winsize(struct vm *vm)
{
	struct winsize ws;
	char line[48];
	int n;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws))
		return;
	n = snprintf(line, sizeof(line), "winsize %u %u\n", ws.ws_row,
		     ws.ws_col);
	virtio_console_port_receive(vm->vcon, RUN_PORT_STATUS,
				    (const uint8_t *)line, n);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The main thread's loop: signals, console input, the stop request. */
static void vm_event_loop(struct vm *vm, int sfd, bool tty)
{
	struct input in = { .fd = vm->in_fd, .tty = tty };
	int64_t deadline =
		vm->cfg->timeout ?
			now_ms() + (int64_t)(vm->cfg->timeout * 1000) :
			0;
	struct epoll_event ev;
	int epfd, space_fd;

	if (vm->run_mode) {
		in.receive = stdin_port_receive;
		in.eof = stdin_port_eof;
		in.dev = vm->vcon;
		space_fd = vm->vcon->space_fd;
		if (!vm->vcon->port[RUN_PORT_STDIN].host_open)
			in.fd = -1;
	} else if (vm->vcon) {
		in.receive = vcon_receive;
		in.dev = vm->vcon;
		space_fd = vm->vcon->space_fd;
	} else {
		in.receive = uart_receive;
		in.dev = vm->console;
		space_fd = uart8250_space_fd(vm->console);
	}

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		pr_err("epoll_create1: %s", strerror(errno));
		vm_request_stop(vm, VM_STOP_ERROR, 1);
		return;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = sfd };
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = vm->stop_efd };
	epoll_ctl(epfd, EPOLL_CTL_ADD, vm->stop_efd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = space_fd };
	epoll_ctl(epfd, EPOLL_CTL_ADD, space_fd, &ev);
	if (in.fd >= 0) {
		ev = (struct epoll_event){ .events = EPOLLIN,
					   .data.fd = in.fd };
		/* Regular files cannot be polled: they are always readable. */
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, in.fd, &ev) < 0) {
			if (errno == EPERM && in.eof)
				in.file = true;
			else
				in.fd = -1;
		}
	}

	while (atomic_load(&vm->stop_reason) == VM_RUNNING) {
		struct epoll_event evs[4];
		int i, n, wait = -1;

		if (in.file && in.fd >= 0 && !in.blocked)
			input_read(vm, &in, epfd);
		if (in.file && in.fd >= 0 && !in.blocked)
			wait = 0;
		if (deadline) {
			int64_t left = deadline - now_ms();

			if (left <= 0) {
				pr_warn("the command ran past --timeout %gs: stopping the guest",
					vm->cfg->timeout);
				vm_request_stop(vm, VM_STOP_TIMEOUT, 124);
				break;
			}
			if (wait < 0 || left < wait)
				wait = left > 1000000 ? 1000000 : left;
		}
		n = epoll_wait(epfd, evs, 4, wait);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err("epoll_wait: %s", strerror(errno));
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			break;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			uint64_t v;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGWINCH) {
					if (vm->run_mode && vm->cfg->tty)
						send_winsize(vm);
				} else {
					pr_info("received signal %u, stopping the guest",
						si.ssi_signo);
					vm_request_stop(vm, VM_STOP_SIGNAL,
							128 + si.ssi_signo);
				}
			} else if (fd == space_fd) {
				if (read(space_fd, &v, sizeof(v)) < 0) {
					/* Nothing pending: spurious wake-up. */
				}
				/* Input read before end of file still goes in. */
				if (in.len)
					input_feed(&in, epfd);
			} else if (fd == vm->stop_efd) {
				if (read(vm->stop_efd, &v, sizeof(v)) < 0) {
					/* Only the stop reason matters. */
				}
			} else if (fd == in.fd) {
				input_read(vm, &in, epfd);
			}
		}
	}
	close(epfd);
}

static void vm_destroy(struct vm *vm)
{
	unsigned int i;

	/* The I/O thread goes first: it may be using any device. */
	iothread_free(vm->io);
	vm->io = NULL;
	for (i = 0; i < vm->nr_disks; i++) {
		virtio_mmio_detach(&vm->disks[i]->t);
		virtio_blk_free(vm->disks[i]);
	}
	for (i = 0; i < vm->nr_nics; i++) {
		virtio_mmio_detach(&vm->nics[i]->t);
		virtio_net_free(vm->nics[i]);
	}
	if (vm->rng) {
		virtio_mmio_detach(&vm->rng->t);
		virtio_rng_free(vm->rng);
	}
	if (vm->vcon) {
		virtio_mmio_detach(&vm->vcon->t);
		virtio_console_free(vm->vcon);
	}
	for (i = 0; i < vm->nr_p9; i++) {
		virtio_mmio_detach(&vm->p9[i]->t);
		virtio_9p_free(vm->p9[i]);
	}
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
	free(vm->cmdline);
	free(vm);
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

/* Opens every disk: bad paths and locked images fail before any VM. */
static int open_disks(struct vm *vm, char *err, size_t errlen)
{
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_disks; i++) {
		const struct disk_spec *d = &vm->cfg->disks[i];

		if (vm->nr_disks == KILN_MAX_DISKS) {
			snprintf(err, errlen, "too many disks: at most %d",
				 KILN_MAX_DISKS);
			return -EINVAL;
		}
		vm->disks[vm->nr_disks] =
			virtio_blk_open(vm, d->path, d->ro, d->id, err, errlen);
		if (!vm->disks[vm->nr_disks])
			return -EINVAL;
		vm->nr_disks++;
	}
	return 0;
}

/* Opens every NIC's backend (TAP, or passt started). */
static int open_nics(struct vm *vm, char *err, size_t errlen)
{
	unsigned int i;

	for (i = 0; i < vm->cfg->nr_nics; i++) {
		const struct net_spec *s = &vm->cfg->nics[i];
		uint8_t mac[6];

		if (s->has_mac)
			memcpy(mac, s->mac, 6);
		else
			net_default_mac(s, i, mac);
		vm->nics[i] = s->user ? virtio_net_new_user(vm, s->fwds, mac,
							    err, errlen) :
					virtio_net_new_tap(vm, s->ifname, mac,
							   err, errlen);
		if (!vm->nics[i])
			return -EINVAL;
		vm->nr_nics++;
	}
	return 0;
}

/* Gives a transport its slot and adds it to the kernel command line. */
static int attach_virtio(struct vm *vm, struct virtio_mmio *t, char **cmdline)
{
	uint64_t base;
	uint32_t irq;
	char *s;
	int r;

	r = vm->nr_virtio < VM_MAX_VIRTIO ?
		    arch_virtio_slot(vm->nr_virtio, &base, &irq) :
		    -ENOSPC;
	if (r) {
		pr_err("too many virtio devices for this platform");
		return r;
	}
	r = virtio_mmio_attach(t, base, irq);
	if (r) {
		pr_err("%s: cannot attach at 0x%llx: %s", t->ops->name,
		       (unsigned long long)base, strerror(-r));
		return r;
	}
	vm->virtio[vm->nr_virtio++] = t;
	if (arch_describes_virtio(vm))
		return 0; /* the DSDT or the device tree declares it */
	/* Found by a kernel with CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES. */
	if (asprintf(&s, "%s virtio_mmio.device=4K@0x%llx:%u", *cmdline,
		     (unsigned long long)base, irq) < 0)
		return -ENOMEM;
	free(*cmdline);
	*cmdline = s;
	return 0;
}

static int create_devices(struct vm *vm)
{
	unsigned int i;
	int r = 0;

	vm->io = iothread_new();
	vm->rng = virtio_rng_new(vm);
	if (vm->run_mode && run_prepare(vm)) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	if (vm->cfg->console == CONSOLE_VIRTIO && !vm->vcon)
		vm->vcon = virtio_console_new(vm, vm->out_fd);
	if (!vm->io || !vm->rng ||
	    (vm->cfg->console == CONSOLE_VIRTIO && !vm->vcon)) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	for (i = 0; !r && i < vm->nr_disks; i++)
		r = attach_virtio(vm, &vm->disks[i]->t, &vm->cmdline);
	for (i = 0; !r && i < vm->nr_nics; i++) {
		r = attach_virtio(vm, &vm->nics[i]->t, &vm->cmdline);
		if (!r)
			r = virtio_net_start(vm->nics[i]);
	}
	if (!r && vm->vcon)
		r = attach_virtio(vm, &vm->vcon->t, &vm->cmdline);
	for (i = 0; !r && i < vm->nr_p9; i++)
		r = attach_virtio(vm, &vm->p9[i]->t, &vm->cmdline);
	if (!r)
		r = attach_virtio(vm, &vm->rng->t, &vm->cmdline);
	if (!r && vm->vcon && !vm->run_mode) {
		/* The last console= names /dev/console. */
		char *s;

		if (asprintf(&s, "%s console=hvc0", vm->cmdline) < 0)
			return -ENOMEM;
		free(vm->cmdline);
		vm->cmdline = s;
	}
	return r;
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
static int open_log(const struct kiln_config *cfg, char *err, size_t errlen)
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

int vm_run(const struct kiln_config *cfg)
{
	int kfd = -1, ifd = -1, sfd = -1, status = 1, r;
	char *kpath = NULL, *edir;
	struct sigaction sa;
	sigset_t sigs, oldsigs;
	struct vm *vm;
	unsigned int i;
	char err[512];
	bool tty;

	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		pr_err("out of memory");
		return 1;
	}
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_efd = vm->log_fd = -1;
	vm->in_fd = STDIN_FILENO;
	vm->out_fd = STDOUT_FILENO;
	vm->run_mode = cfg->run_argv != NULL;
	vm->run_status = -1;
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");

	/* User input first: nothing is created for a bad command line. */
	edir = vm_exe_dir();
	kpath = kernel_find(cfg->kernel, edir, err, sizeof(err));
	free(edir);
	if (!kpath)
		goto fail_msg;
	kfd = open_input("kernel", kpath, err, sizeof(err));
	if (kfd < 0)
		goto fail_msg;
	if (arch_probe_kernel(kfd, kpath, err, sizeof(err)))
		goto fail_msg;
	if (cfg->initrd) {
		ifd = open_input("initrd", cfg->initrd, err, sizeof(err));
		if (ifd < 0)
			goto fail_msg;
	}
	if (vm->run_mode) {
		vm->log_fd = open_log(cfg, err, sizeof(err));
		if (vm->log_fd < 0)
			goto fail_msg;
		/* The serial console carries kernel messages only. */
		vm->out_fd = vm->log_fd;
		vm->in_fd = STDIN_FILENO;
		if (run_open(vm, err, sizeof(err)))
			goto fail_msg;
	}
	if (open_disks(vm, err, sizeof(err)))
		goto fail_msg;
	if (open_nics(vm, err, sizeof(err)))
		goto fail_msg;
	vm->kvm_fd = kvm_open_checked(cfg->cpus, err, sizeof(err));
	if (vm->kvm_fd < 0)
		goto fail_msg;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		snprintf(err, sizeof(err), "KVM_CREATE_VM failed: %s",
			 strerror(errno));
		goto fail_msg;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, sizeof(err), "KVM_GET_VCPU_MMAP_SIZE failed");
		goto fail_msg;
	}
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0) {
		snprintf(err, sizeof(err), "eventfd: %s", strerror(errno));
		goto fail_msg;
	}
	if (vm_map_memory(vm))
		goto fail;
	if (arch_vm_init(vm))
		goto fail;
	/* --boot-timer: the same device on every arch, where the arch puts it. */
	if (cfg->boot_timer && bus_register(&vm->mmio, arch_boot_timer_addr(),
					    8, boot_timer_access, NULL)) {
		snprintf(err, sizeof(err), "cannot place the boot timer");
		goto fail_msg;
	}

	vm->nr_vcpus = cfg->cpus;
	vm->vcpus = calloc(cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail_msg;
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
	if (!vm->cmdline) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail_msg;
	}
	if (create_devices(vm))
		goto fail;
	if (arch_load_kernel(vm, kfd, ifd))
		goto fail;
	if (arch_setup_boot(vm))
		goto fail;
	close(kfd);
	kfd = -1;
	if (ifd >= 0)
		close(ifd);
	ifd = -1;

	/* Lifecycle signals go to a signalfd; the kick signal interrupts. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	if (vm->run_mode && cfg->tty)
		sigaddset(&sigs, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &sigs, &oldsigs);
	/*
	 * Blocked, they reach the signalfd; a handler rather than the default
	 * action, because PID 1 of a namespace (kiln in --jail) is sent only
	 * signals it handles.
	 */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		snprintf(err, sizeof(err), "signalfd: %s", strerror(errno));
		pthread_sigmask(SIG_SETMASK, &oldsigs, NULL);
		goto fail_msg;
	}

	/* Command mode takes the terminal raw only for -t. */
	tty = (!vm->run_mode || cfg->tty) && term_raw_enter(vm->in_fd);
	if (!cfg->no_seccomp)
		seccomp_install_handler();
	vm->io->seccomp = !cfg->no_seccomp;
	r = iothread_start(vm->io);
	if (r) {
		pr_err("cannot start the I/O thread: %s", strerror(-r));
		vm_request_stop(vm, VM_STOP_ERROR, 1);
	}
	for (i = 0; i < vm->nr_vcpus && !vm->stop_reason; i++) {
		r = vcpu_start(&vm->vcpus[i]);
		if (r) {
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			break;
		}
	}
	/* Last: threads inherit the filters of the thread creating them. */
	if (!cfg->no_seccomp && !vm->stop_reason) {
		r = seccomp_apply(SECCOMP_MAIN);
		if (r) {
			pr_err("cannot install the seccomp filter: %s",
			       strerror(-r));
			vm_request_stop(vm, VM_STOP_ERROR, 1);
		} else {
			seccomp_test_hook(SECCOMP_MAIN);
		}
	}
	if (atomic_load(&vm->stop_reason) == VM_RUNNING)
		vm_event_loop(vm, sfd, tty);

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	iothread_free(vm->io);
	vm->io = NULL;
	/* Output the guest queued before it stopped still goes out. */
	if (vm->vcon)
		virtio_console_flush(vm->vcon);
	term_restore();
	close(sfd);
	pthread_sigmask(SIG_SETMASK, &oldsigs, NULL);

	status = vm->stop_status;
	if (vm->run_mode) {
		int rs = atomic_load(&vm->run_status);

		status = run_exit_status(vm->stop_reason, rs, status);
		if (vm->stop_reason == VM_STOP_SIGNAL)
			pr_warn("stopped the guest on signal %d (%s)",
				status - 128, strsignal(status - 128));
		else if (status == 255 && rs != 255)
			pr_err("the guest ended (%s) without the command's exit status%s",
			       stop_text(vm->stop_reason),
			       cfg->console_log ? "; see the console log" :
						  "; run with -v to see why");
	} else if (vm->stop_reason == VM_STOP_SIGNAL)
		pr_warn("stopped the guest on signal %d (%s)", status - 128,
			strsignal(status - 128));
	else
		pr_info("%s", stop_text(vm->stop_reason));
	vm_destroy(vm);
	free(kpath);
	return status;

fail_msg:
	pr_err("%s", err);
fail:
	if (kfd >= 0)
		close(kfd);
	if (ifd >= 0)
		close(ifd);
	vm_destroy(vm);
	free(kpath);
	return 1;
}
