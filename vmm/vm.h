/* SPDX-License-Identifier: MIT */
#ifndef KILN_VM_H
#define KILN_VM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch_vm.h"
#include "bus.h"
#include "config.h"
#include "device.h"
#include "memory.h"
#include "metrics.h"

#define VM_MAX_MEM_REGIONS GUEST_MEM_MAX_REGIONS
#define VM_MAX_VIRTIO 32

/* Why the VM stopped; the first reason recorded wins. */
enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_REBOOT, /* guest reset: i8042, triple fault, PSCI reset */
	VM_STOP_POWEROFF, /* guest powered off */
	VM_STOP_HALT, /* every CPU halted for good */
	VM_STOP_CRASH, /* guest reported a crash */
	VM_STOP_SIGNAL, /* SIGTERM / SIGINT / SIGHUP to kiln */
	VM_STOP_ESCAPE, /* the user typed the console escape */
	VM_STOP_ERROR, /* kiln could not go on (logged) */
	VM_STOP_TIMEOUT, /* --timeout expired */
};

/* Where a VM is in its life; see vm_state_check for the moves allowed. */
enum vm_state {
	VM_STATE_NOT_STARTED = 0, /* created, vCPUs not running */
	VM_STATE_RUNNING,
	VM_STATE_PAUSED, /* vCPUs parked, device work held */
	VM_STATE_STOPPED, /* a stop reason is recorded; only destroy is left */
};

struct uart8250;
struct vcpu;
struct iothread;
struct virtio_console;
struct vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int run_size; /* mmap size of struct kvm_run */

	uint64_t ram_size;
	uint8_t *ram; /* one anonymous mapping backing every region */
	struct guest_mem mem; /* its regions, inside ram */

	struct bus pio;
	struct bus mmio;

	unsigned int nr_vcpus;
	struct vcpu *vcpus;
	struct vcpu_metrics vcpu_metrics;

	char *cmdline;
	/* kiln's own initramfs, appended after the user's initrd (if any). */
	uint8_t *initrd_extra;
	size_t initrd_extra_len;

	int in_fd; /* console input, -1 for none */
	int out_fd; /* console output */
	struct uart8250 *console;

	struct iothread *io;
	struct device_list devs; /* every device, in creation order */
	struct virtio_console *vcon; /* the console's virtio device, if any */
	bool acpi; /* ACPI tables describe the machine and its devices */

	/* `kiln run -- CMD` */
	bool run_mode;
	bool run_host_root; /* the root is the host's / */
	char run_root[64]; /* the init's root= */
	_Atomic int run_status; /* reported by the guest, -1 before */
	int log_fd; /* the guest kernel's messages, -1: stdout */

	int stop_efd; /* written once a stop reason is recorded */
	_Atomic int stop_reason;
	int stop_status;

	/* The lifecycle, driven by one thread (the main one). */
	enum vm_state state;
	pthread_mutex_t park_lock;
	pthread_cond_t park_cond; /* a vCPU parked, or the VM stopped */
	pthread_cond_t resume_cond; /* pause_req went off, or stop */
	bool pause_req;
	unsigned int nr_parked;
	/* Threads still setting up (each vCPU, and the main thread until
	 * its filter is on): the last to finish gives start-up's pages back
	 * (vmm/trim.h). */
	_Atomic int setting_up;

	struct arch_vm arch;
};

/* guest_mem_hva() on the VM's memory (vmm/memory.h). */
static inline void *gpa_to_hva(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	return guest_mem_hva(&vm->mem, gpa, len);
}

/*
 * Records why the VM stops (only the first call counts) and wakes the main
 * loop. Safe from any thread.
 */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status);

/*
 * One thread of the VM is done setting up (a vCPU about to run the guest,
 * the main thread with its seccomp filter on); the last one gives back
 * the pages only start-up used. Safe from any thread.
 */
void vm_setup_done(struct vm *vm);

/* "Not started", "Running", "Paused", "Stopped" (as Firecracker's API
 * says them). */
const char *vm_state_name(enum vm_state s);

/*
 * Whether a VM in state from may move to state to: 0, or -EINVAL with err
 * naming both ("cannot pause a VM that is not started"). Allowed: not
 * started -> running, running <-> paused, any but stopped -> stopped.
 */
int vm_state_check(enum vm_state from, enum vm_state to, char *err,
		   size_t errlen);

/*
 * Builds a VM from cfg, which must outlive it: files opened and checked,
 * guest memory, the interrupt controller, every device, the kernel and
 * initrd in guest RAM, the vCPUs created but not running. Returns the VM
 * (not started), or NULL with err saying why (nothing left behind).
 */
struct vm *vm_create(const struct vm_config *cfg, char *err, size_t errlen);

/*
 * Runs a VM that is not started: the I/O thread, then the vCPU threads,
 * each under its seccomp filter unless cfg->no_seccomp. The caller's
 * thread is left as it was. Returns 0, or -errno with err set.
 */
int vm_start(struct vm *vm, char *err, size_t errlen);

/*
 * Pause: every vCPU out of KVM_RUN and parked, the I/O thread parked (a
 * queue kick waits in its eventfd), each device's pause op: no guest
 * memory is written and no interrupt raised until vm_resume. Both return
 * 0 or -errno with err set (a refused transition says both states).
 */
int vm_pause(struct vm *vm, char *err, size_t errlen);
int vm_resume(struct vm *vm, char *err, size_t errlen);

/*
 * Stops a started VM for good, after vm_request_stop or of its own: the
 * vCPU and I/O threads leave and are joined, the console's last output
 * goes out. The state becomes stopped.
 */
void vm_stop(struct vm *vm);

/* Releases everything vm_create made (stopping the VM first). */
void vm_destroy(struct vm *vm);

/*
 * Registers a device model in the VM's list (see vmm/device.h); vdev is
 * its virtio device, or NULL. kind is a static string. Returns 0, or
 * -ENOSPC after destroying dev (ops->destroy): the caller has nothing
 * left to clean up. From vm_create's steps only.
 */
struct virtio_dev;
int vm_add_device(struct vm *vm, const char *kind, const char *name,
		  const struct device_ops *ops, void *dev,
		  struct virtio_dev *vdev);

/*
 * Sets the rate limiter of the running disk whose drive id is id. 0, or
 * -ENOENT with err saying so.
 */
int vm_drive_limits(struct vm *vm, const char *id, const struct rate_spec *s,
		    char *err, size_t errlen);
/*
 * Puts path behind the running VM's drive id (virtio_blk_replace): the
 * guest sees the new capacity. path must outlive the VM. 0 or -errno with
 * err saying why.
 */
int vm_drive_replace(struct vm *vm, const char *id, const char *path, char *err,
		     size_t errlen);
/* The running VM's balloon: a new target, a new statistics interval, a
 * statistics snapshot. 0, or -ENOENT (no balloon) / -EINVAL with err. */
struct balloon_stats;
int vm_balloon_target(struct vm *vm, uint64_t mib, char *err, size_t errlen);
int vm_balloon_interval(struct vm *vm, unsigned int secs, char *err,
			size_t errlen);
int vm_balloon_stats(struct vm *vm, struct balloon_stats *out, char *err,
		     size_t errlen);
/*
 * Sets the rate limiters of the running NIC whose iface_id is id (NULL
 * leaves that direction as it is). 0, or -ENOENT with err saying so.
 */
int vm_net_limits(struct vm *vm, const char *id, const struct rate_spec *rx,
		  const struct rate_spec *tx, char *err, size_t errlen);

/*
 * The core's KVM wiring for transports: an eventfd that raises interrupt
 * line gsi when written (KVM_IRQFD), or one that a guest's write of
 * datamatch (len bytes) at addr signals (KVM_IOEVENTFD). Returns the fd
 * or -errno (logged).
 */
int vm_irqfd(struct vm *vm, uint32_t gsi);
int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len,
		 uint64_t datamatch);

/* Why it stopped, in words ("guest rebooted"). */
const char *vm_stop_text(enum vm_stop_reason r);

/*
 * The command line's composition of the above: creates a VM from cfg,
 * runs it with the terminal as its console until it stops, tears it down.
 * Returns kiln's exit status.
 */
int vm_run(const struct vm_config *cfg);

/* The directory of the running kiln binary (malloc'ed), or NULL. */
char *vm_exe_dir(void);

/* Reads len bytes at off, retrying short reads: 0 or -errno (-EIO when
 * the file ends early). */
int pread_full(int fd, void *buf, size_t len, off_t off);

/*
 * Places the initrd in guest RAM, page-aligned, as high as it fits below
 * top and not below lo: the user's file (fd, or none when -1), then kiln's
 * own archive (vm->initrd_extra) 4-byte aligned after it, the kernel
 * unpacking concatenated archives. Sets *gpa and *size; logs and returns
 * -errno when it does not fit or cannot be read.
 */
int vm_load_initrd(struct vm *vm, int fd, uint64_t lo, uint64_t top,
		   uint64_t *gpa, uint64_t *size);

/* Builds the memory layout without KVM (also used by unit tests). */
int vm_setup_memory_layout(struct vm *vm, uint64_t ram_size);

#endif
