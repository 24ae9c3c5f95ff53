// SPDX-License-Identifier: MIT
/*
 * The seccomp filters, run by the kernel: a child process installs a role's
 * filter, makes calls the role needs (they must work) and then one it must
 * not make (it must end with status 159 and a line naming the call).
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "seccomp.h"
#include "unit.h"

/*
 * valgrind runs its own system calls under the child's filter, and QEMU's
 * user-mode emulation (another arch's unit tests) does not install one.
 */
static int under_valgrind(void)
{
	return getenv("KILN_UNDER_VALGRIND") != NULL ||
	       getenv("KILN_UNDER_EMULATION") != NULL;
}

enum probe {
	PROBE_NONE, /* allowed calls only: must exit 0 */
	PROBE_SOCKET,
	PROBE_OPENAT,
	PROBE_MMAP_EXEC,
	PROBE_IOCTL_RUN,
	PROBE_TGKILL_OTHER,
	PROBE_KILL_SIGNAL0,
	PROBE_ACCEPT4,
	PROBE_OPENAT_CREATE,
};

static void do_probe(enum probe p)
{
	switch (p) {
	case PROBE_NONE:
		break;
	case PROBE_SOCKET:
		syscall(__NR_socket, AF_INET, SOCK_STREAM, 0);
		break;
	case PROBE_OPENAT:
		syscall(__NR_openat, AT_FDCWD, "/dev/null", O_RDONLY);
		break;
	case PROBE_MMAP_EXEC:
		syscall(__NR_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case PROBE_IOCTL_RUN:
		syscall(__NR_ioctl, -1, KVM_RUN, 0);
		break;
	case PROBE_TGKILL_OTHER:
		syscall(__NR_tgkill, 1, 1, 0);
		break;
	case PROBE_KILL_SIGNAL0:
		syscall(__NR_kill, getpid(), 0);
		break;
	case PROBE_ACCEPT4:
		syscall(__NR_accept4, -1, NULL, NULL, 0);
		break;
	case PROBE_OPENAT_CREATE:
		syscall(__NR_openat, AT_FDCWD, "/nonexistent/x",
			O_WRONLY | O_CREAT, 0600);
		break;
	}
}

/* Calls every role makes: they must not trap. */
static int common_calls_work(int fd)
{
	void *p;

	if (write(fd, "", 0) < 0 || getpid() <= 0)
		return -1;
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p, 8192))
		return -1;
	/* Restoring the terminal: allowed everywhere (EBADF here). */
	if (syscall(__NR_ioctl, -1, TCSETSF, 0) != -1)
		return -1;
	return 0;
}

/*
 * Runs the probe in a child under role's filter. Returns the exit status
 * (-1 on a signal) and puts the child's stderr in msg.
 */
static int run_child(enum seccomp_role role, enum probe p, char *msg,
		     size_t len)
{
	int pfd[2], st;
	ssize_t n;
	pid_t pid;

	msg[0] = 0;
	if (pipe(pfd))
		return -2;
	pid = fork();
	if (pid < 0)
		return -2;
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		seccomp_install_handler();
		if (seccomp_apply(role))
			_exit(3);
		if (common_calls_work(pfd[1]))
			_exit(4);
		if (role == SECCOMP_API) {
			char b;

			/* The API's connections (EBADF here). */
			if (syscall(__NR_accept4, -1, NULL, NULL, 0) != -1 ||
			    syscall(__NR_recvfrom, -1, &b, 1, 0, NULL, NULL) !=
				    -1 ||
			    syscall(__NR_sendto, -1, &b, 1, 0, NULL, 0) != -1 ||
			    syscall(__NR_shutdown, -1, 0) != -1)
				_exit(7);
			/* A running disk's new file: opened, not created. */
			if (close(openat(AT_FDCWD, "/dev/null", O_RDWR)))
				_exit(8);
		}
		if (role == SECCOMP_IO) {
			int fd = openat(AT_FDCWD, "/dev/null", O_RDONLY);

			if (fd < 0 || close(fd))
				_exit(5);
			/* virtio-blk on a host block device (EBADF here). */
			if (syscall(__NR_ioctl, -1, BLKDISCARD, 0) != -1 ||
			    syscall(__NR_ioctl, -1, BLKZEROOUT, 0) != -1)
				_exit(6);
			/* vsock: a UNIX socket, its connections (EBADF). */
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			if (fd < 0 || close(fd) ||
			    syscall(__NR_accept4, -1, NULL, NULL, 0) != -1 ||
			    syscall(__NR_connect, -1, NULL, 0) != -1 ||
			    syscall(__NR_shutdown, -1, 0) != -1)
				_exit(9);
		}
		do_probe(p);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], msg, len - 1);
	msg[n > 0 ? n : 0] = 0;
	close(pfd[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -2;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_allowed_calls_work(void)
{
	char msg[256];
	int role;

	if (under_valgrind())
		return;
	for (role = 0; role < SECCOMP_NR_ROLES; role++)
		CU_ASSERT_EQUAL(run_child(role, PROBE_NONE, msg, sizeof(msg)),
				0);
}

static void expect_trap(enum seccomp_role role, enum probe p, const char *line)
{
	char msg[256];

	CU_ASSERT_EQUAL(run_child(role, p, msg, sizeof(msg)),
			SECCOMP_EXIT_STATUS);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, line));
}

static void test_forbidden_calls_trap(void)
{
	char line[128];

	if (under_valgrind())
		return;
	expect_trap(
		SECCOMP_IO, PROBE_SOCKET,
		"the io thread made a system call outside its list: socket (");
	expect_trap(
		SECCOMP_VCPU, PROBE_SOCKET,
		"the vcpu thread made a system call outside its list: socket");
	expect_trap(
		SECCOMP_MAIN, PROBE_SOCKET,
		"the main thread made a system call outside its list: socket");
	/* The API's calls are the API thread's alone; no new sockets. */
	expect_trap(
		SECCOMP_API, PROBE_SOCKET,
		"the api thread made a system call outside its list: socket");
	expect_trap(SECCOMP_MAIN, PROBE_ACCEPT4, "accept4 (");
	expect_trap(SECCOMP_VCPU, PROBE_ACCEPT4, "accept4 (");
	/* The I/O thread accepts vsock's host connections; its sockets are
	 * UNIX ones only (PROBE_SOCKET above is an AF_INET one). */
	/* No executable mapping, in any role. */
	expect_trap(SECCOMP_IO, PROBE_MMAP_EXEC, "mmap (");
	/* ioctl: by request number. */
	expect_trap(SECCOMP_IO, PROBE_IOCTL_RUN, "ioctl (");
	expect_trap(SECCOMP_MAIN, PROBE_IOCTL_RUN, "ioctl (");
	/* Signals: to kiln's own threads only; kill() only SIGTERM. */
	expect_trap(SECCOMP_VCPU, PROBE_TGKILL_OTHER, "tgkill (");
#ifndef KILN_TEST_HOOKS
	expect_trap(SECCOMP_VCPU, PROBE_KILL_SIGNAL0, "kill (");
	expect_trap(SECCOMP_MAIN, PROBE_KILL_SIGNAL0, "kill (");
	/* Files: the I/O thread's (sanitizer builds widen this for reports). */
	expect_trap(SECCOMP_VCPU, PROBE_OPENAT, "openat (");
	expect_trap(SECCOMP_MAIN, PROBE_OPENAT, "openat (");
	expect_trap(SECCOMP_API, PROBE_OPENAT_CREATE, "openat (");
#endif
	snprintf(line, sizeof(line), "socket (%d)", __NR_socket);
	expect_trap(SECCOMP_IO, PROBE_SOCKET, line);
}

static void test_build(void)
{
	struct sock_filter small[8], prog[SECCOMP_MAX_INSNS];
	int role;

	for (role = 0; role < SECCOMP_NR_ROLES; role++) {
		int n = seccomp_build(role, prog, SECCOMP_MAX_INSNS);

		CU_ASSERT(n > 10 && n < SECCOMP_MAX_INSNS);
		/* Ends in the trap: anything not listed is refused. */
		CU_ASSERT_EQUAL(prog[n - 1].code, BPF_RET | BPF_K);
		CU_ASSERT_EQUAL(prog[n - 1].k, SECCOMP_RET_TRAP);
		/* Too small a buffer is an error, not a truncated filter. */
		CU_ASSERT_EQUAL(seccomp_build(role, small, 8), -ENOSPC);
	}
	CU_ASSERT_EQUAL(seccomp_build(SECCOMP_NR_ROLES, prog, 10), -EINVAL);
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(seccomp_syscall_name(__NR_read), "read");
	CU_ASSERT_STRING_EQUAL(seccomp_syscall_name(__NR_openat), "openat");
	CU_ASSERT_STRING_EQUAL(seccomp_syscall_name(__NR_socket), "socket");
	CU_ASSERT_PTR_NULL(seccomp_syscall_name(-1));
	CU_ASSERT_PTR_NULL(seccomp_syscall_name(100000));
	CU_ASSERT_STRING_EQUAL(seccomp_role_name(SECCOMP_IO), "io");
}

void suite_seccomp(void)
{
	static const CU_TestInfo tests[] = {
		{ "allowed calls work in every role", test_allowed_calls_work },
		{ "forbidden calls trap with a named line",
		  test_forbidden_calls_trap },
		{ "filters build, end in a trap, refuse a small buffer",
		  test_build },
		{ "system call names", test_names },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("seccomp", tests);
}
