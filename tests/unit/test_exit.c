// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "unit.h"
#include "vcpu.h"
#include "vm.h"

#define RUN_SIZE 8192

struct fixture {
	struct vm vm;
	struct vcpu vcpu;
	struct kvm_run *run;
	uint8_t log[64];
	int writes, reads;
	uint64_t last_off;
};

static void dev(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		bool is_write)
{
	struct fixture *f = opaque;

	f->last_off = off;
	if (is_write) {
		if (f->writes < 64)
			f->log[f->writes] = data[0];
		f->writes++;
	} else {
		memset(data, 0x30 + f->reads, len);
		f->reads++;
	}
}

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->run = calloc(1, RUN_SIZE);
	f->vm.run_size = RUN_SIZE;
	f->vm.stop_efd = eventfd(0, EFD_NONBLOCK);
	bus_init(&f->vm.pio, "pio");
	bus_init(&f->vm.mmio, "mmio");
	bus_register(&f->vm.pio, 0x3f8, 8, dev, f);
	bus_register(&f->vm.mmio, 0xd0000000, 0x200, dev, f);
	f->vcpu.vm = &f->vm;
	f->vcpu.fd = -1;
	return f;
}

static void teardown(struct fixture *f)
{
	bus_destroy(&f->vm.pio);
	bus_destroy(&f->vm.mmio);
	close(f->vm.stop_efd);
	free(f->run);
	free(f);
}

static bool stop_signalled(struct fixture *f)
{
	uint64_t v = 0;

	return read(f->vm.stop_efd, &v, sizeof(v)) == sizeof(v) && v == 1;
}

/* A port I/O exit with its data at offset 4096 of the run page. */
static void io_exit(struct kvm_run *r, uint8_t dir, uint16_t port, uint8_t size,
		    uint32_t count)
{
	r->exit_reason = KVM_EXIT_IO;
	r->io.direction = dir;
	r->io.port = port;
	r->io.size = size;
	r->io.count = count;
	r->io.data_offset = 4096;
}

#ifdef __x86_64__
static void test_pio_out_string(void)
{
	struct fixture *f = setup();
	struct kvm_run *r = f->run;

	io_exit(r, KVM_EXIT_IO_OUT, 0x3f8, 1, 3);
	memcpy((uint8_t *)r + 4096, "abc", 3);
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_CONTINUE);
	CU_ASSERT_EQUAL(f->writes, 3);
	CU_ASSERT_EQUAL(memcmp(f->log, "abc", 3), 0);
	CU_ASSERT_EQUAL(f->vm.stop_reason, VM_RUNNING);
	teardown(f);
}

static void test_pio_in(void)
{
	struct fixture *f = setup();
	struct kvm_run *r = f->run;
	uint8_t *d = (uint8_t *)r + 4096;

	io_exit(r, KVM_EXIT_IO_IN, 0x3fd, 1, 1);
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_CONTINUE);
	CU_ASSERT_EQUAL(d[0], 0x30);
	CU_ASSERT_EQUAL(f->last_off, 5);
	/* Nothing at port 0x1234: reads float high, the VM goes on. */
	r->io.port = 0x1234;
	r->io.size = 2;
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_CONTINUE);
	CU_ASSERT_EQUAL(d[0], 0xff);
	CU_ASSERT_EQUAL(d[1], 0xff);
	CU_ASSERT_EQUAL(f->vm.stop_reason, VM_RUNNING);
	teardown(f);
}

static void test_pio_malformed(void)
{
	struct fixture *f = setup();
	struct kvm_run *r = f->run;

	io_exit(r, KVM_EXIT_IO_OUT, 0x3f8, 1, 100);
	r->io.data_offset = RUN_SIZE - 10; /* would run off the page */
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_FAIL);
	CU_ASSERT_EQUAL(f->writes, 0);
	CU_ASSERT_EQUAL(f->vm.stop_reason, VM_STOP_ERROR);
	CU_ASSERT_TRUE(stop_signalled(f));
	teardown(f);

	f = setup();
	r = f->run;
	r->exit_reason = KVM_EXIT_IO;
	r->io.size = 3;
	r->io.count = 1;
	r->io.data_offset = 4096;
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_FAIL);
	teardown(f);
}
#else
/* No port I/O on this arch: such an exit stops the VM, logged. */
static void test_pio_refused(void)
{
	struct fixture *f = setup();
	struct kvm_run *r = f->run;

	io_exit(r, KVM_EXIT_IO_OUT, 0x3f8, 1, 1);
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_FAIL);
	CU_ASSERT_EQUAL(f->writes, 0);
	CU_ASSERT_EQUAL(f->vm.stop_reason, VM_STOP_ERROR);
	CU_ASSERT_TRUE(stop_signalled(f));
	teardown(f);
}

/* An access without a syndrome: refused; with no abort to inject (this
 * fixture has no vCPU), the VM stops rather than guessing. */
static void test_nisv_refused(void)
{
	struct fixture *f = setup();
	struct kvm_run *r = f->run;

	r->exit_reason = KVM_EXIT_ARM_NISV;
	r->arm_nisv.fault_ipa = 0x0a000000;
	f->vm.arch.ext_dabt = false;
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_FAIL);
	CU_ASSERT_EQUAL(f->writes, 0);
	CU_ASSERT_EQUAL(f->vm.stop_reason, VM_STOP_ERROR);
	CU_ASSERT_TRUE(stop_signalled(f));
	teardown(f);
}
#endif

static void test_mmio(void)
{
	struct fixture *f = setup();
	struct kvm_run *r = f->run;

	r->exit_reason = KVM_EXIT_MMIO;
	r->mmio.phys_addr = 0xd0000070;
	r->mmio.len = 4;
	r->mmio.is_write = 1;
	r->mmio.data[0] = 0x0f;
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_CONTINUE);
	CU_ASSERT_EQUAL(f->writes, 1);
	CU_ASSERT_EQUAL(f->last_off, 0x70);
	CU_ASSERT_EQUAL(f->log[0], 0x0f);
	r->mmio.is_write = 0;
	r->mmio.phys_addr = 0xe0000000;
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_CONTINUE);
	CU_ASSERT_EQUAL(r->mmio.data[3], 0xff);
	r->mmio.len = 9;
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, r), VCPU_FAIL);
	CU_ASSERT_EQUAL(f->vm.stop_reason, VM_STOP_ERROR);
	teardown(f);
}

static void test_lifecycle_exits(void)
{
	static const struct {
		uint32_t reason, event;
		enum vcpu_action action;
		enum vm_stop_reason stop;
		int status;
	} cases[] = {
		{ KVM_EXIT_SHUTDOWN, 0, VCPU_STOP, VM_STOP_REBOOT, 0 },
		{ KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_SHUTDOWN, VCPU_STOP,
		  VM_STOP_POWEROFF, 0 },
		{ KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_RESET, VCPU_STOP,
		  VM_STOP_REBOOT, 0 },
		{ KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_CRASH, VCPU_STOP,
		  VM_STOP_CRASH, 1 },
		{ KVM_EXIT_SYSTEM_EVENT, 77, VCPU_FAIL, VM_STOP_ERROR, 1 },
		{ KVM_EXIT_HLT, 0, VCPU_STOP, VM_STOP_HALT, 0 },
		{ KVM_EXIT_FAIL_ENTRY, 0, VCPU_FAIL, VM_STOP_ERROR, 1 },
		{ KVM_EXIT_INTERNAL_ERROR, 0, VCPU_FAIL, VM_STOP_ERROR, 1 },
		{ KVM_EXIT_DEBUG, 0, VCPU_FAIL, VM_STOP_ERROR, 1 },
		{ 12345, 0, VCPU_FAIL, VM_STOP_ERROR, 1 },
		{ KVM_EXIT_INTR, 0, VCPU_CONTINUE, VM_RUNNING, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture *f = setup();

		f->run->exit_reason = cases[i].reason;
		f->run->system_event.type = cases[i].event;
		CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, f->run),
				cases[i].action);
		CU_ASSERT_EQUAL(f->vm.stop_reason, cases[i].stop);
		CU_ASSERT_EQUAL(f->vm.stop_status, cases[i].status);
		CU_ASSERT_EQUAL(stop_signalled(f), cases[i].stop != VM_RUNNING);
		teardown(f);
	}
}

static void test_first_stop_wins(void)
{
	struct fixture *f = setup();

	f->run->exit_reason = KVM_EXIT_SHUTDOWN;
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, f->run), VCPU_STOP);
	f->run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	CU_ASSERT_EQUAL(vcpu_handle_exit(&f->vcpu, f->run), VCPU_FAIL);
	CU_ASSERT_EQUAL(f->vm.stop_reason, VM_STOP_REBOOT);
	CU_ASSERT_EQUAL(f->vm.stop_status, 0);
	teardown(f);
}

void suite_exit(void)
{
	static const CU_TestInfo tests[] = {
#ifdef __x86_64__
		{ "port output string", test_pio_out_string },
		{ "port input", test_pio_in },
		{ "malformed port exit", test_pio_malformed },
#else
		{ "port I/O refused", test_pio_refused },
		{ "access without syndrome refused", test_nisv_refused },
#endif
		{ "MMIO", test_mmio },
		{ "lifecycle exits", test_lifecycle_exits },
		{ "first stop reason wins", test_first_stop_wins },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("exit dispatcher", tests);
}
