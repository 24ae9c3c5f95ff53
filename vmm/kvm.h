/* SPDX-License-Identifier: MIT */
#ifndef KILN_KVM_H
#define KILN_KVM_H

#include <stddef.h>

/*
 * Opens /dev/kvm (or $KILN_KVM_DEVICE) and checks the API version and every
 * capability kiln relies on. Returns the fd, or -errno with err holding one
 * line that says what to do.
 */
int kvm_open_checked(unsigned int cpus, char *err, size_t errlen);

#endif
