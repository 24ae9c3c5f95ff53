// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "arch.h"
#include "kvm.h"

#ifdef __aarch64__
#define KVM_MISSING_HINT \
	"boot the host's kernel at EL2 with KVM (CONFIG_KVM), or enable nested virtualization for this machine"
#else
#define KVM_MISSING_HINT \
	"load the kvm_intel or kvm_amd module, or enable virtualization (VT-x/AMD-V, or nested virtualization) for this machine"
#endif

static const struct kvm_cap_need generic_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ 0, NULL },
};

static int check_caps(int fd, const struct kvm_cap_need *caps, char *err,
		      size_t errlen)
{
	for (; caps->name; caps++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, caps->cap) <= 0) {
			snprintf(
				err, errlen,
				"KVM lacks %s, which kiln needs: use a newer host kernel (Linux 5.4 or later)",
				caps->name);
			return -ENOTSUP;
		}
	}
	return 0;
}

int kvm_open_checked(unsigned int cpus, char *err, size_t errlen)
{
	const char *path = getenv("KILN_KVM_DEVICE");
	int fd, r, max;

	if (!path || !*path)
		path = "/dev/kvm";
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (errno == ENOENT)
			snprintf(
				err, errlen,
				"%s does not exist: " KVM_MISSING_HINT
				"; or try kiln under emulation from its source tree: make sandbox CMD='kiln run ...'",
				path);
		else if (errno == EACCES || errno == EPERM)
			snprintf(
				err, errlen,
				"%s: permission denied: add yourself to the kvm group (usermod -aG kvm $USER) and log in again",
				path);
		else
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(errno));
		return r;
	}
	r = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		snprintf(
			err, errlen,
			"%s speaks KVM API version %d, kiln needs %d: this is not a usable KVM device",
			path, r, KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	r = check_caps(fd, generic_caps, err, errlen);
	if (!r)
		r = check_caps(fd, arch_required_caps, err, errlen);
	if (r) {
		close(fd);
		return r;
	}
	max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4;
	if (cpus > (unsigned int)max) {
		snprintf(err, errlen,
			 "--cpus %u: this host's KVM allows at most %d vCPUs",
			 cpus, max);
		close(fd);
		return -EINVAL;
	}
	return fd;
}
