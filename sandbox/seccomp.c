// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "seccomp.h"
#include "term.h"

#if defined(__x86_64__)
#define KILN_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define KILN_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "no seccomp architecture for this target"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define KILN_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KILN_SANITIZER 1
#endif
#endif

/*
 * What every thread may do: memory management for malloc (never an
 * executable mapping: see the argument checks below), locks, time, signal
 * return, its own end, and the one-line log on stderr.
 */
static const int common_calls[] = {
	__NR_read,
	__NR_write,
	__NR_writev,
	__NR_close,
	__NR_futex,
	__NR_munmap,
	__NR_madvise,
	__NR_brk,
	__NR_mremap,
	__NR_clock_gettime,
	__NR_clock_nanosleep,
	__NR_nanosleep,
	__NR_rt_sigreturn,
	__NR_rt_sigprocmask,
	__NR_restart_syscall,
	__NR_sched_yield,
	__NR_getpid,
	__NR_gettid,
	__NR_exit,
	__NR_exit_group,
	__NR_ppoll,
#ifdef __NR_poll
	__NR_poll,
#endif
};

/*
 * The main thread after start-up: the event loop (signals, console input,
 * the stop request), then tearing the VM down (passt is stopped with
 * SIGTERM and reaped, the vsock socket removed) and restoring the
 * terminal.
 */
static const int main_calls[] = {
	__NR_epoll_create1,
	__NR_epoll_ctl,
	__NR_epoll_pwait,
#ifdef __NR_epoll_wait
	__NR_epoll_wait,
#endif
	__NR_fcntl,
	__NR_rt_sigaction,
	__NR_wait4,
	__NR_unlinkat,
#ifdef __NR_unlink
	__NR_unlink,
#endif
	-1,
};

/*
 * The main thread serving the API socket besides: its connections, the
 * socket's removal at exit, and a running disk's new file (PATCH
 * /drives: opened, never created or truncated, see below; its size).
 * No socket of its own.
 */
static const int api_calls[] = {
	__NR_accept4,
	__NR_recvfrom,
	__NR_sendto,
	__NR_shutdown,
	__NR_unlinkat,
	__NR_fstat,
	__NR_newfstatat,
	__NR_statx,
	__NR_timerfd_settime, /* PATCH /drives rate_limiter */
#ifdef __NR_unlink
	__NR_unlink,
#endif
	-1,
};

/*
 * A vCPU thread: KVM_RUN and the exits it handles, i.e. device register
 * accesses (serial output to the terminal, a virtio reset that drops 9P
 * fids, a NIC started or stopped, interrupt lines).
 */
static const int vcpu_calls[] = {
	__NR_epoll_ctl, /* a NIC's backend watched from DRIVER_OK, not on reset */
	-1,
};

/*
 * The I/O thread: virtqueue work. Disk images (vectored positional I/O,
 * flush, discard), the network backend (a tap or passt's socket), entropy,
 * console output, and the 9P server's file operations, every one relative
 * to a share's directory fd (openat2 with RESOLVE_BENEATH).
 */
static const int io_calls[] = {
	__NR_epoll_ctl, /* a backend paused while the guest has no buffers */
	__NR_epoll_pwait,
#ifdef __NR_epoll_wait
	__NR_epoll_wait,
#endif
	__NR_readv,
	__NR_pread64,
	__NR_pwrite64,
	__NR_preadv,
	__NR_pwritev,
	__NR_fdatasync,
	__NR_fsync,
	__NR_fallocate,
	__NR_sendto,
	__NR_recvfrom,
	__NR_getrandom,
	__NR_dup3,
#ifdef __NR_dup2
	__NR_dup2,
#endif
	__NR_openat,
	__NR_openat2,
	__NR_fstat,
	__NR_newfstatat,
	__NR_statx,
	__NR_fstatfs,
	__NR_getdents64,
	__NR_lseek,
	__NR_fcntl,
	__NR_mkdirat,
	__NR_mknodat,
	__NR_unlinkat,
	__NR_renameat2,
#ifdef __NR_renameat
	__NR_renameat,
#endif
	__NR_linkat,
	__NR_symlinkat,
	__NR_readlinkat,
	__NR_fchmod,
	__NR_fchmodat,
	__NR_fchown,
	__NR_fchownat,
	__NR_utimensat,
	__NR_ftruncate,
	__NR_timerfd_settime, /* a disk's rate limiter */
	/* vsock: host programs' connections and the guest's to them
	 * (socket: AF_UNIX only, see below). */
	__NR_accept4,
	__NR_connect,
	__NR_sendmsg,
	__NR_shutdown,
	-1,
};

/*
 * Sanitizer builds are test builds: their runtime reads /proc for reports
 * and LeakSanitizer stops the world at exit with a ptrace()ing clone.
 */
#ifdef KILN_SANITIZER
static const int sanitizer_calls[] = {
	__NR_openat,
	__NR_readlinkat,
	__NR_getdents64,
	__NR_clone,
	__NR_ptrace,
	__NR_wait4,
	__NR_prctl,
	__NR_sigaltstack,
	__NR_rt_sigaction,
	__NR_sched_getaffinity,
	__NR_getppid,
	__NR_kill,
	__NR_newfstatat,
	__NR_fstat,
	__NR_lseek,
	__NR_pipe2,
	__NR_prlimit64,
	__NR_getrlimit,
	__NR_getuid,
	__NR_geteuid,
	__NR_uname,
	__NR_getcwd,
	__NR_sched_yield,
#ifdef __NR_open
	__NR_open,
#endif
#ifdef __NR_getdents
	__NR_getdents, /* the sanitizers' thread lister on x86_64 */
#endif
#ifdef __NR_lstat
	__NR_lstat,
#endif
#ifdef __NR_access
	__NR_access,
#endif
#ifdef __NR_dup2
	__NR_dup2,
#endif
#ifdef __NR_readlink
	__NR_readlink,
#endif
#ifdef __NR_stat
	__NR_stat,
#endif
	-1,
};
#endif

/* ioctl requests, by role; the terminal's restore is allowed everywhere. */
static const unsigned long main_ioctls[] = {
	TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, KVM_IRQ_LINE, 0,
};
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN,
	KVM_IRQ_LINE,
	KVM_GET_REGS,
#ifdef __x86_64__
	KVM_GET_SREGS,
#endif
#ifdef __aarch64__
	KVM_GET_ONE_REG,
	KVM_SET_ONE_REG,
	KVM_ARM_VCPU_INIT,
	KVM_SET_VCPU_EVENTS, /* an external abort for an undescribed access */
#endif
	TUNSETOFFLOAD,
	TCSETSF,
	0,
};
/* BLKDISCARD, BLKZEROOUT: virtio-blk's discard and write-zeroes on a host
 * block device. */
static const unsigned long api_ioctls[] = {
	TCGETS,	    TCSETS,	  TCSETSW,	TCSETSF,
	TIOCGWINSZ, KVM_IRQ_LINE, BLKGETSIZE64, 0,
};
static const unsigned long io_ioctls[] = {
	KVM_IRQ_LINE, BLKDISCARD, BLKZEROOUT, TUNSETOFFLOAD, TCSETSF, 0,
};

static const char *const role_names[SECCOMP_NR_ROLES] = {
	[SECCOMP_MAIN] = "main",
	[SECCOMP_VCPU] = "vcpu",
	[SECCOMP_IO] = "io",
	[SECCOMP_API] = "api",
};

const char *seccomp_role_name(enum seccomp_role role)
{
	return role < SECCOMP_NR_ROLES ? role_names[role] : "?";
}

struct bpf {
	struct sock_filter *p;
	size_t n, max;
};

static void emit(struct bpf *b, uint16_t code, uint8_t jt, uint8_t jf,
		 uint32_t k)
{
	if (b->n < b->max)
		b->p[b->n] = (struct sock_filter){ code, jt, jf, k };
	b->n++;
}

#define ARG_LO(i) offsetof(struct seccomp_data, args[i])
#define RET(v) emit(b, BPF_RET | BPF_K, 0, 0, (v))
#define LOAD(off) emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, (off))
/* if A == k: the next instruction, else skip it */
#define IF_EQ(k) emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (k))

static void allow_list(struct bpf *b, const int *nr, size_t count)
{
	size_t i;

	for (i = 0; i < count && nr[i] >= 0; i++) {
		IF_EQ(nr[i]);
		RET(SECCOMP_RET_ALLOW);
	}
}

/* A block for one system call: "if nr matches, run these; they return". */
static size_t block_begin(struct bpf *b, int nr)
{
	emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, nr);
	return b->n;
}

static void block_end(struct bpf *b, size_t start)
{
	size_t len = b->n - start;

	if (start - 1 < b->max && len < 256)
		b->p[start - 1].jf = len;
	else
		b->n = b->max + 1; /* a block too long to skip: fail */
}

static void allow_ioctls(struct bpf *b, const unsigned long *req)
{
	size_t start = block_begin(b, __NR_ioctl);

	/* The request is an unsigned int to the kernel: the low word. */
	LOAD(ARG_LO(1));
	for (; *req; req++) {
		IF_EQ((uint32_t)*req);
		RET(SECCOMP_RET_ALLOW);
	}
	RET(SECCOMP_RET_TRAP);
	block_end(b, start);
}

/* mmap and mprotect: anything but an executable mapping. */
static void allow_no_exec(struct bpf *b, int nr)
{
	size_t start = block_begin(b, nr);

	LOAD(ARG_LO(2));
	emit(b, BPF_JMP | BPF_JSET | BPF_K, 0, 1, PROT_EXEC);
	RET(SECCOMP_RET_TRAP);
	RET(SECCOMP_RET_ALLOW);
	block_end(b, start);
}

/* open or openat (flags in argument i): never creating or truncating. */
static void allow_open_existing(struct bpf *b, int nr, unsigned int i)
{
	size_t start = block_begin(b, nr);

	LOAD(ARG_LO(i));
	emit(b, BPF_JMP | BPF_JSET | BPF_K, 0, 1, O_CREAT | O_TRUNC);
	RET(SECCOMP_RET_TRAP);
	RET(SECCOMP_RET_ALLOW);
	block_end(b, start);
}

/* A syscall whose argument i must equal v (a signal to kiln itself). */
static void allow_arg_eq(struct bpf *b, int nr, unsigned int i, uint32_t v)
{
	size_t start = block_begin(b, nr);

	LOAD(ARG_LO(i));
	IF_EQ(v);
	RET(SECCOMP_RET_ALLOW);
	RET(SECCOMP_RET_TRAP);
	block_end(b, start);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int seccomp_build(enum seccomp_role role, struct sock_filter *prog, size_t max)
{
	struct bpf bb = { prog, 0, max }, *b = &bb;

	if (role >= SECCOMP_NR_ROLES)
		return -EINVAL;
	/* Another architecture's calling convention: never. */
	LOAD(offsetof(struct seccomp_data, arch));
	emit(b, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, KILN_AUDIT_ARCH);
	RET(SECCOMP_RET_KILL_PROCESS);
	LOAD(offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* x32 system calls share the arch value: refuse them. */
	emit(b, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000);
	RET(SECCOMP_RET_TRAP);
#endif
	allow_list(b, common_calls, COUNT(common_calls));
	allow_no_exec(b, __NR_mmap);
	allow_no_exec(b, __NR_mprotect);
	/*
	 * A block either returns or is skipped with A still holding the
	 * number. tgkill (vCPU kicks, re-raised signals): threads of this
	 * process only.
	 */
	allow_arg_eq(b, __NR_tgkill, 0, (uint32_t)getpid());
#ifdef KILN_SANITIZER
	allow_list(b, sanitizer_calls, COUNT(sanitizer_calls));
#endif
	switch (role) {
	case SECCOMP_API:
		allow_list(b, api_calls, COUNT(api_calls));
		allow_open_existing(b, __NR_openat, 2);
#ifdef __NR_open
		allow_open_existing(b, __NR_open, 1);
#endif
		/* And everything the main thread does. */
		allow_list(b, main_calls, COUNT(main_calls));
		allow_arg_eq(b, __NR_kill, 1, SIGTERM);
		allow_ioctls(b, api_ioctls);
		break;
	case SECCOMP_MAIN:
		allow_list(b, main_calls, COUNT(main_calls));
		/* Stopping passt, the user-mode network helper. */
		allow_arg_eq(b, __NR_kill, 1, SIGTERM);
		allow_ioctls(b, main_ioctls);
		break;
	case SECCOMP_VCPU:
		allow_list(b, vcpu_calls, COUNT(vcpu_calls));
		allow_ioctls(b, vcpu_ioctls);
		break;
	case SECCOMP_IO:
		allow_list(b, io_calls, COUNT(io_calls));
		allow_arg_eq(b, __NR_socket, 0, AF_UNIX);
		allow_ioctls(b, io_ioctls);
		break;
	default:
		break;
	}
	RET(SECCOMP_RET_TRAP);
	return b->n <= max ? (int)b->n : -ENOSPC;
}

static __thread int thread_role = -1;

/* Async-signal-safe: builds the line by hand, one write(2). */
static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char line[160], num[24];
	const char *name = seccomp_syscall_name(si->si_syscall);
	size_t n = 0, k;
	long nr = si->si_syscall;
	const char *parts[6];
	unsigned int i;

	(void)sig;
	(void)uc;
	k = sizeof(num) - 1;
	num[k] = 0;
	if (nr < 0)
		nr = -nr;
	do {
		num[--k] = '0' + nr % 10;
		nr /= 10;
	} while (nr && k);
	parts[0] = "kiln: seccomp: the ";
	parts[1] = thread_role >= 0 ? role_names[thread_role] : "unfiltered";
	parts[2] = " thread made a system call outside its list: ";
	parts[3] = name ? name : "unknown";
	parts[4] = " (";
	parts[5] = num + k;
	for (i = 0; i < 6; i++)
		for (k = 0; parts[i][k] && n < sizeof(line) - 3; k++)
			line[n++] = parts[i][k];
	line[n++] = ')';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere else to say it. */
	}
	term_restore();
	syscall(__NR_exit_group, SECCOMP_EXIT_STATUS);
}

void seccomp_install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

int seccomp_apply(enum seccomp_role role)
{
	struct sock_filter insns[SECCOMP_MAX_INSNS];
	struct sock_fprog prog = { .filter = insns };
	sigset_t set;
	int n;

	n = seccomp_build(role, insns, SECCOMP_MAX_INSNS);
	if (n < 0)
		return n;
	prog.len = n;
	/* A blocked SIGSYS would kill without the line saying why. */
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	thread_role = role;
	return 0;
}

#include "syscall-names.h"

const char *seccomp_syscall_name(long nr)
{
	if (nr < 0 || (size_t)nr >= COUNT(syscall_names))
		return NULL;
	return syscall_names[nr];
}

void seccomp_test_hook(enum seccomp_role role)
{
#ifdef KILN_TEST_HOOKS
	const char *want = getenv("KILN_TEST_SECCOMP");

	/* socket(2) is in no role's list. */
	if (want && !strcmp(want, seccomp_role_name(role)))
		syscall(__NR_socket, AF_INET, SOCK_STREAM, 0);
#else
	(void)role;
#endif
}
