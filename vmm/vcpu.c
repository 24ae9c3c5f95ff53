// SPDX-License-Identifier: MIT
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "boottimer.h"
#include "log.h"
#include "seccomp.h"
#include "vcpu.h"
#include "vm.h"

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN:
		return "UNKNOWN";
	case KVM_EXIT_EXCEPTION:
		return "EXCEPTION";
	case KVM_EXIT_IO:
		return "IO";
	case KVM_EXIT_HLT:
		return "HLT";
	case KVM_EXIT_MMIO:
		return "MMIO";
	case KVM_EXIT_SHUTDOWN:
		return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY:
		return "FAIL_ENTRY";
	case KVM_EXIT_INTR:
		return "INTR";
	case KVM_EXIT_INTERNAL_ERROR:
		return "INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT:
		return "SYSTEM_EVENT";
	default:
		return "?";
	}
}

static enum vcpu_action handle_exit(struct vcpu *vcpu, struct kvm_run *run)
{
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_MMIO: {
		uint32_t len = run->mmio.len;

		if (len == 0 || len > sizeof(run->mmio.data)) {
			pr_guest("vCPU %u: MMIO exit with bad length %u",
				 vcpu->id, len);
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			return VCPU_FAIL;
		}
		if (bus_dispatch(&vm->mmio, run->mmio.phys_addr, run->mmio.data,
				 len, run->mmio.is_write))
			pr_debug("vCPU %u: unclaimed MMIO %s at 0x%llx len %u",
				 vcpu->id,
				 run->mmio.is_write ? "write" : "read",
				 (unsigned long long)run->mmio.phys_addr, len);
		return VCPU_CONTINUE;
	}
	case KVM_EXIT_INTR:
		return VCPU_CONTINUE;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: what x86 guests do to reset (reboot=t). */
		pr_info("vCPU %u: guest reset (shutdown exit)", vcpu->id);
		vm_request_stop(vm, VM_STOP_REBOOT, 0);
		return VCPU_STOP;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel irqchip: nothing can wake us. */
		vm_request_stop(vm, VM_STOP_HALT, 0);
		return VCPU_STOP;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_stop(vm, VM_STOP_POWEROFF, 0);
			return VCPU_STOP;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_stop(vm, VM_STOP_REBOOT, 0);
			return VCPU_STOP;
		case KVM_SYSTEM_EVENT_CRASH:
			pr_err("guest reported a crash");
			vm_request_stop(vm, VM_STOP_CRASH, 1);
			return VCPU_STOP;
		default:
			pr_err("vCPU %u: unknown system event %u at pc 0x%llx",
			       vcpu->id, run->system_event.type,
			       (unsigned long long)arch_vcpu_pc(vcpu));
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			return VCPU_FAIL;
		}
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vCPU %u: KVM could not enter the guest (hardware reason 0x%llx) at pc 0x%llx",
		       vcpu->id,
		       (unsigned long long)
			       run->fail_entry.hardware_entry_failure_reason,
		       (unsigned long long)arch_vcpu_pc(vcpu));
		vm_request_stop(vm, VM_STOP_ERROR, 1);
		return VCPU_FAIL;
	case KVM_EXIT_INTERNAL_ERROR:
		pr_err("vCPU %u: KVM internal error (suberror %u) at pc 0x%llx",
		       vcpu->id, run->internal.suberror,
		       (unsigned long long)arch_vcpu_pc(vcpu));
		vm_request_stop(vm, VM_STOP_ERROR, 1);
		return VCPU_FAIL;
	default: {
		int r = arch_handle_exit(vcpu, run);

		/* An arch that refused the exit may have said why already. */
		if (r == VCPU_FAIL &&
		    atomic_load(&vm->stop_reason) == VM_RUNNING) {
			pr_err("vCPU %u: unhandled exit %u (%s) at pc 0x%llx",
			       vcpu->id, run->exit_reason,
			       exit_name(run->exit_reason),
			       (unsigned long long)arch_vcpu_pc(vcpu));
			vm_request_stop(vm, VM_STOP_ERROR, 1);
		}
		return r;
	}
	}
}

enum vcpu_action vcpu_handle_exit(struct vcpu *vcpu, struct kvm_run *run)
{
	struct vcpu_metrics *m = &vcpu->vm->vcpu_metrics;
	enum vcpu_action a;

	if (run->exit_reason == KVM_EXIT_IO)
		metric_add(run->io.direction == KVM_EXIT_IO_OUT ?
				   &m->exit_io_out :
				   &m->exit_io_in,
			   1);
	else if (run->exit_reason == KVM_EXIT_MMIO)
		metric_add(run->mmio.is_write ? &m->exit_mmio_write :
						&m->exit_mmio_read,
			   1);
	a = handle_exit(vcpu, run);
	if (a == VCPU_FAIL)
		metric_add(&m->failures, 1);
	return a;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id)
{
	void *run;
	int fd, err;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = -1;
	fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot create vCPU %u: %s", id, strerror(errno));
		return err;
	}
	run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   0);
	if (run == MAP_FAILED) {
		err = -errno;
		pr_err("cannot map vCPU %u state: %s", id, strerror(errno));
		close(fd);
		return err;
	}
	vcpu->fd = fd;
	vcpu->run = run;
	return 0;
}

/* Paused: out of KVM_RUN until resumed or stopped. */
static void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->park_lock);
	vm->nr_parked++;
	pthread_cond_broadcast(&vm->park_cond);
	while (vm->pause_req && atomic_load(&vm->stop_reason) == VM_RUNNING)
		pthread_cond_wait(&vm->resume_cond, &vm->park_lock);
	vm->nr_parked--;
	pthread_mutex_unlock(&vm->park_lock);
	/* The kick that parked it; a stop kick after this sees stop_reason
	 * at the top of the loop. */
	vcpu->run->immediate_exit = 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t set;

	__atomic_store_n(&vcpu->tid, (int)syscall(SYS_gettid),
			 __ATOMIC_RELEASE);
	sigfillset(&set);
	sigdelset(&set, VCPU_KICK_SIGNAL);
	sigdelset(&set, SIGSEGV);
	sigdelset(&set, SIGBUS);
	sigdelset(&set, SIGFPE);
	sigdelset(&set, SIGILL);
	sigdelset(&set, SIGABRT);
	sigdelset(&set, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	/* The filter goes on before the guest runs a single instruction. */
	if (!vm->cfg->no_seccomp) {
		int r = seccomp_apply(SECCOMP_VCPU);

		if (r) {
			pr_err("vCPU %u: cannot install the seccomp filter: %s",
			       vcpu->id, strerror(-r));
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			return NULL;
		}
		seccomp_test_hook(SECCOMP_VCPU);
	}
	vm_setup_done(vm);
	if (vm->cfg->boot_timer)
		boot_timer_first_run();
	while (atomic_load(&vm->stop_reason) == VM_RUNNING) {
		if (__atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE)) {
			vcpu_park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_err("vCPU %u: KVM_RUN failed: %s (pc 0x%llx)",
			       vcpu->id, strerror(errno),
			       (unsigned long long)arch_vcpu_pc(vcpu));
			vm_request_stop(vm, VM_STOP_ERROR, 1);
			break;
		}
		if (vcpu_handle_exit(vcpu, vcpu->run) != VCPU_CONTINUE)
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	pthread_attr_t attr;
	int r;

	pthread_attr_init(&attr);
	/* vCPU threads need little stack; keep the resident set small. */
	pthread_attr_setstacksize(&attr, 256 << 10);
	r = pthread_create(&vcpu->thread, &attr, vcpu_thread, vcpu);
	pthread_attr_destroy(&attr);
	if (r) {
		pr_err("cannot start vCPU %u thread: %s", vcpu->id,
		       strerror(r));
		return -r;
	}
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	int tid;

	if (!vcpu->started)
		return;
	/*
	 * immediate_exit closes the race where the signal lands just before
	 * the thread re-enters KVM_RUN: KVM then returns -EINTR at once.
	 */
	vcpu->run->immediate_exit = 1;
	/*
	 * tgkill, which the filters allow for this process's threads only
	 * (pthread_kill() is tkill, to any thread, in some C libraries). A
	 * thread with no tid yet has not entered KVM_RUN: immediate_exit is
	 * enough.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	tid = __atomic_load_n(&vcpu->tid, __ATOMIC_ACQUIRE);
	if (tid)
		syscall(SYS_tgkill, getpid(), tid, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu->started)
		return;
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
	vcpu->tid = 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}
