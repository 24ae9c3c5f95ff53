/* SPDX-License-Identifier: MIT */
#ifndef KILN_VCPU_H
#define KILN_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <linux/kvm.h>

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int tid; /* the thread's, once it runs (0 before): what a kick signals */
	bool started;
};

enum vcpu_action {
	VCPU_CONTINUE = 0, /* enter the guest again */
	VCPU_STOP, /* the VM is stopping: leave the run loop */
	VCPU_FAIL, /* unhandled or failed exit, already logged */
};

/*
 * The exit dispatcher: decides what one KVM_RUN exit means. Generic exits
 * are handled here, the rest go to arch_handle_exit(). Records a stop
 * reason on the VM for STOP and FAIL. Touches nothing but run, the buses
 * and the VM's stop state, so tests can feed it hand-made kvm_run values.
 */
enum vcpu_action vcpu_handle_exit(struct vcpu *vcpu, struct kvm_run *run);

/* Creates the KVM vCPU and maps its kvm_run. */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id);
/* Starts the vCPU thread. Signals are blocked in it but for the kick. */
int vcpu_start(struct vcpu *vcpu);
/* Makes a running vCPU leave KVM_RUN; it then sees the stop or pause
 * request. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);

/* The signal used to kick vCPUs out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

#endif
