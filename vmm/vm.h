/* SPDX-License-Identifier: MIT */
#ifndef KILN_VM_H
#define KILN_VM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch_vm.h"
#include "bus.h"
#include "config.h"

#define VM_MAX_MEM_REGIONS 4
#define VM_MAX_VIRTIO 32

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

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

struct uart8250;
struct vcpu;
struct iothread;
struct virtio_blk;
struct virtio_rng;
struct virtio_net;
struct virtio_console;
struct virtio_mmio;
struct virtio_9p;

struct vm {
	const struct kiln_config *cfg;
	int kvm_fd;
	int vm_fd;
	int run_size; /* mmap size of struct kvm_run */

	uint64_t ram_size;
	uint8_t *ram; /* one anonymous mapping backing every region */
	struct mem_region mem[VM_MAX_MEM_REGIONS];
	unsigned int nr_mem;

	struct bus pio;
	struct bus mmio;

	unsigned int nr_vcpus;
	struct vcpu *vcpus;

	char *cmdline;
	/* kiln's own initramfs, appended after the user's initrd (if any). */
	uint8_t *initrd_extra;
	size_t initrd_extra_len;

	int in_fd; /* console input, -1 for none */
	int out_fd; /* console output */
	struct uart8250 *console;

	struct iothread *io;
	struct virtio_blk *disks[KILN_MAX_DISKS];
	unsigned int nr_disks;
	struct virtio_rng *rng;
	struct virtio_net *nics[KILN_MAX_NICS];
	unsigned int nr_nics;
	struct virtio_console *vcon;
	struct virtio_9p *p9[KILN_MAX_SHARES + 1];
	unsigned int nr_p9;
	unsigned int nr_virtio; /* virtio-mmio slots used */
	struct virtio_mmio *virtio[VM_MAX_VIRTIO]; /* in slot order */
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

	struct arch_vm arch;
};

/*
 * The one way to reach guest memory: the host address of [gpa, gpa+len)
 * when all of it lies inside one RAM region, else NULL. Never trusts gpa or
 * len; a zero len is checked as one byte.
 */
void *gpa_to_hva(const struct vm *vm, uint64_t gpa, uint64_t len);

/*
 * Records why the VM stops (only the first call counts) and wakes the main
 * loop. Safe from any thread.
 */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status);

/* Creates a VM from cfg, runs it until it stops, tears it down.
 * Returns kiln's exit status. */
int vm_run(const struct kiln_config *cfg);

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
