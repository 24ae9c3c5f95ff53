# kiln: a KVM virtual machine monitor.
#
#   make                 build ./kiln for the host's arch
#   make check           unit tests, then end-to-end tests (real guests)
#   make unit            unit tests only (no /dev/kvm needed)
#   make e2e             end-to-end tests (directly, or in the nested sandbox)
#   make demo            boot a microVM to a busybox shell
#   make sandbox CMD='kiln run -- uname -a'
#                        any command line, in the nested sandbox
#   make SAN=1 ...       ASan + UBSan build (in build/san-$(ARCH))
#   make format-check    check .clang-format

HOST_ARCH := $(shell uname -m)
ARCH ?= $(HOST_ARCH)
ifneq ($(filter $(ARCH),x86_64 aarch64),$(ARCH))
$(error ARCH=$(ARCH): kiln supports x86_64 and aarch64)
endif

# kiln is linked static (but for the sanitizer build): only the pages of
# the C library it touches are resident, no dynamic loader runs before
# main(), and one file goes into a jail or a sandbox as it is. STATIC=
# links it against shared libraries.
STATIC ?= $(if $(SAN),,1)
# ... and against musl (Debian's musl-dev) where it is installed: its
# static C library adds ~60 KB of code where glibc's adds ~640 KB, so
# kiln's resident set and its start-up are smaller. The unit tests and the
# sanitizer build use the C library the compiler comes with. LIBC=glibc
# builds kiln against that one too.
MUSL_SPECS := /usr/lib/$(ARCH)-linux-musl/musl-gcc.specs
MUSL_CC = $(if $(wildcard $(MUSL_SPECS)),$(CC) -specs $(MUSL_SPECS))
LIBC ?= $(if $(and $(STATIC),$(MUSL_CC)),musl,glibc)
# Another arch than the host's is cross-compiled with Debian's toolchain
# (gcc-$(ARCH)-linux-gnu); its unit tests are static too, to run under
# QEMU's user-mode emulation without that arch's libraries.
ifneq ($(ARCH),$(HOST_ARCH))
CROSS ?= $(ARCH)-linux-gnu-
CC := $(CROSS)gcc
# Without Debian's cross toolchain, say what to install (make sandbox
# installs it itself).
ifeq ($(shell command -v $(CC) 2>/dev/null),)
ifeq ($(filter sandbox clean format format-check,$(MAKECMDGOALS)),)
$(error ARCH=$(ARCH) needs the cross toolchain ($(CC) and $(ARCH) libraries): run 'tests/deps.sh $(ARCH)' as root)
endif
endif
UNIT_LDFLAGS := -static
UNIT_RUNNER ?= qemu-$(ARCH)-static
endif

BUILD := build/$(if $(SAN),san-,)$(ARCH)
# Generated headers, shared by every build of one arch.
GEN := build/$(ARCH)/gen

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	-fno-strict-aliasing -D_GNU_SOURCE -MMD -MP \
	-Ivmm -Ifrontend -Isandbox -Idevices -Idevices/virtio -Iarch/$(ARCH) -I$(GEN)
LDLIBS_aarch64 := -lfdt
# The formats compressed kernels come in (vmm/unpack.c): Debian's
# decoders rather than ones of kiln's own.
UNPACK_LIBS := -llzma -lzstd -lz -llz4
LDLIBS += $(LDLIBS_$(ARCH)) $(UNPACK_LIBS) -lpthread
ifdef SAN
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# Sanitizer builds are the test builds: they carry the test hooks.
CFLAGS += -DKILN_TEST_HOOKS
LDFLAGS += -fsanitize=address,undefined
endif

CORE_SRCS := $(wildcard vmm/*.c sandbox/*.c devices/*.c devices/virtio/*.c) \
	$(filter-out frontend/main.c,$(wildcard frontend/*.c)) \
	$(wildcard arch/$(ARCH)/*.c)
# The guest init, built static and linked into kiln (vmm/init-blob.S).
INIT := build/$(ARCH)/guest-init/init
INIT_BLOB := $(BUILD)/vmm/init-blob.o
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o) $(INIT_BLOB)

# kiln's own objects: the unit tests' with glibc, their own with musl.
# The guest init is small and static with musl whichever kiln embeds it.
INIT_CC ?= $(or $(MUSL_CC),$(CC))
ifeq ($(LIBC),musl)
KILN_CC := $(MUSL_CC)
KOBJ := $(BUILD)/musl
# musl's headers do not include the kernel's: its UAPI directories (and
# libfdt's archive, which needs only string functions) come from the
# compiler's own search paths.
MUSL_INC := $(GEN)/musl-include
KILN_CFLAGS := -isystem $(MUSL_INC)
MUSL_HDRS := $(if $(filter -lfdt,$(LDLIBS_$(ARCH))),libfdt.h fdt.h libfdt_env.h) \
	lzma.h lzma/version.h zstd.h zlib.h zconf.h lz4.h
# The libraries' static archives: they need only what musl has.
KILN_LDLIBS := $(foreach l,$(LDLIBS),$(if $(filter -lpthread,$(l)),$(l),$(shell $(CC) -print-file-name=lib$(l:-l%=%).a)))
else
KILN_CC := $(CC)
KOBJ := $(BUILD)
KILN_LDLIBS := $(LDLIBS)
endif
KILN_OBJS := $(CORE_SRCS:%.c=$(KOBJ)/%.o) $(KOBJ)/frontend/main.o $(KOBJ)/vmm/init-blob.o
# What only start-up runs (options, bundles, kernel loading and unpacking,
# the guest's tables, the sandbox's set-up) is linked first, with the
# libraries only it calls; what runs while the guest does comes after.
# Code a running VM uses is then packed together: the pages start-up
# used are given back once the vCPUs run (vmm/trim.c), and the kernel's
# fault-around brings in fewer of their neighbours again.
STARTUP_SRCS := $(filter frontend/cli.c frontend/config_json.c frontend/oci.c \
	frontend/bundle.c frontend/netns.c vmm/config.c vmm/kcache.c vmm/unpack.c \
	vmm/run.c vmm/cpio.c vmm/aml.c vmm/snapfile.c sandbox/jail.c sandbox/seccomp.c \
	arch/x86_64/acpi.c arch/x86_64/boot.c arch/x86_64/cpuid.c \
	arch/x86_64/mptable.c arch/x86_64/vmlinux.c arch/aarch64/fdt.c \
	arch/aarch64/image.c,$(CORE_SRCS))
KILN_STARTUP_OBJS := $(KOBJ)/frontend/main.o $(STARTUP_SRCS:%.c=$(KOBJ)/%.o) \
	$(KOBJ)/vmm/init-blob.o
KILN_RUNTIME_OBJS := $(filter-out $(KILN_STARTUP_OBJS),$(KILN_OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c tests/unit/$(ARCH)/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)

KILN := $(BUILD)/kiln
UNIT := $(BUILD)/unit-tests

.PHONY: all clean check unit valgrind e2e demo sandbox format format-check bench tools guest-kernel fuzz fuzz-build

all: kiln

# ./kiln: the host's own build.
kiln: $(KILN)
	@if [ -z "$(SAN)" ] && [ "$(ARCH)" = "$(HOST_ARCH)" ]; then ln -sf $(KILN) kiln; fi

$(KILN): $(KILN_OBJS) $(KOBJ)/vmm/runtime-start.o
	$(KILN_CC) $(LDFLAGS) $(if $(STATIC),-static) -o $@ $(KILN_STARTUP_OBJS) \
		$(filter-out -lpthread,$(KILN_LDLIBS)) $(KOBJ)/vmm/runtime-start.o \
		$(KILN_RUNTIME_OBJS) $(filter -lpthread,$(KILN_LDLIBS))

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

ifeq ($(LIBC),musl)
$(KOBJ)/%.o: %.c | $(MUSL_INC)
	@mkdir -p $(dir $@)
	$(KILN_CC) $(KILN_CFLAGS) $(CFLAGS) -c -o $@ $<

$(KOBJ)/sandbox/seccomp.o: $(GEN)/syscall-names.h

$(KOBJ)/vmm/runtime-start.o: vmm/runtime-start.S
	@mkdir -p $(dir $@)
	$(KILN_CC) -c -o $@ $<

$(KOBJ)/vmm/init-blob.o: vmm/init-blob.S $(INIT)
	@mkdir -p $(dir $@)
	$(KILN_CC) -c -DINIT_PATH='"$(INIT)"' -o $@ $<

# Links to the kernel's UAPI header directories the compiler uses (and
# to libfdt's headers where kiln needs them).
$(MUSL_INC): Makefile
	@mkdir -p $@.tmp
	for h in linux/kvm.h asm/kvm.h asm-generic/int-ll64.h video/edid.h $(MUSL_HDRS); do \
		f=$$(echo "#include <$$h>" | $(CC) -E -H -x c - 2>&1 >/dev/null | grep -m1 "^\. .*/$$h$$" | sed 's/^\. //'); \
		[ -n "$$f" ] || { echo "no <$$h> for $(ARCH): run tests/deps.sh build" >&2; exit 1; }; \
		case $$h in \
		*/*) ln -sfn "$${f%/$$h}/$${h%%/*}" $@.tmp/$${h%%/*} ;; \
		*) ln -sfn "$$f" $@.tmp/$$h ;; \
		esac; \
	done
	rm -rf $@ && mv $@.tmp $@
endif

# System call names for the seccomp log line, from the C library's headers.
$(GEN)/syscall-names.h:
	@mkdir -p $(dir $@)
	echo '#include <sys/syscall.h>' | $(CC) -E -dM - | \
		sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$$/\t[\2] = "\1",/p' | \
		sort -t[ -k2 -n | { echo 'static const char *const syscall_names[] = {'; cat; echo '};'; } >$@.tmp
	mv $@.tmp $@
$(BUILD)/sandbox/seccomp.o: $(GEN)/syscall-names.h

$(INIT): guest-init/init.c
	@mkdir -p $(dir $@)
	$(INIT_CC) -Os -static -s -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<

$(BUILD)/vmm/runtime-start.o: vmm/runtime-start.S
	@mkdir -p $(dir $@)
	$(CC) -c -o $@ $<

$(BUILD)/vmm/init-blob.o: vmm/init-blob.S $(INIT)
	@mkdir -p $(dir $@)
	$(CC) -c -DINIT_PATH='"$(INIT)"' -o $@ $<

$(UNIT): $(CORE_OBJS) $(UNIT_OBJS)
	$(CC) $(LDFLAGS) $(UNIT_LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

unit: $(UNIT)
	$(if $(UNIT_RUNNER),KILN_UNDER_EMULATION=1 $(UNIT_RUNNER)) $(UNIT)

# The unit tests under valgrind's memcheck: any error or leak fails. (The
# seccomp cases skip themselves: valgrind's own calls would meet the filter.)
valgrind: $(UNIT)
	@KILN_UNDER_VALGRIND=1 valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
		$(UNIT) >$(BUILD)/valgrind.log 2>&1; r=$$?; \
		grep -v '^--[0-9]*-- ' $(BUILD)/valgrind.log; exit $$r

# The sanitizer build carries the test hooks some cases need. Another
# arch's suite runs in its nested sandbox (tests/e2e/run.sh).
e2e: $(KILN)
ifeq ($(ARCH),$(HOST_ARCH))
	$(MAKE) SAN=1 build/san-$(ARCH)/kiln
	KILN=$(abspath $(KILN)) KILN_HOOKS=$(abspath build/san-$(ARCH)/kiln) tests/e2e/run.sh
else
	$(MAKE) ARCH=$(ARCH) tools
	KILN_E2E_ARCH=$(ARCH) KILN=$(abspath $(KILN)) tests/e2e/run.sh
endif

check:
	tests/check.sh

demo:
	tests/deps.sh build test
	$(MAKE) kiln
	KILN=$(abspath $(KILN)) tests/e2e/run.sh --demo

# Any command line in the nested sandbox (or directly where /dev/kvm
# works), kiln on its PATH with its own guest kernel:
#   make sandbox CMD='kiln run -- uname -a'
# Exits with the command's status. SANDBOX_FILES="PATH..." copies host
# files in, at the same paths.
sandbox: export KILN_SANDBOX_CMD = $(or $(CMD),kiln run -- uname -a)
sandbox: export KILN_SANDBOX_FILES = $(SANDBOX_FILES)
sandbox:
	tests/deps.sh build test $(if $(filter $(ARCH),$(HOST_ARCH)),sandbox,aarch64 sandbox-aarch64)
	$(MAKE) ARCH=$(ARCH) kiln tools
	KILN_E2E_ARCH=$(ARCH) KILN=$(abspath $(KILN)) tests/e2e/run.sh --cmd "$$KILN_SANDBOX_CMD"

# kiln against QEMU's microvm in one table (and build/bench/*.json).
bench:
	tests/deps.sh build test sandbox
	$(MAKE) kiln tools
	KILN=$(abspath $(KILN)) tests/e2e/run.sh --bench

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build kiln

-include $(CORE_OBJS:.o=.d) $(KILN_OBJS:.o=.d) $(UNIT_OBJS:.o=.d)

# Test tools (tests/tools/), static: they run in L1 and in test guests.
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/%,$(wildcard tests/tools/*.c))
$(TOOL_BINS): $(BUILD)/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -static -o $@ $<
tools: $(TOOL_BINS)

# kiln's guest kernel, cached in $(KILN_CACHE) (see guest-kernel-config/).
# Copied next to kiln, where `kiln run` finds it without --kernel.
guest-kernel:
	@dir=$$(ARCH=$(ARCH) guest-kernel-config/build.sh) && mkdir -p build/$(ARCH)/guest-kernel && \
		cp "$$dir"/* build/$(ARCH)/guest-kernel/ && echo "build/$(ARCH)/guest-kernel/"

# libFuzzer targets for everything a guest can feed us (tests/fuzz/).
FUZZ_BUILD := build/fuzz-$(ARCH)
FUZZ_CC := clang
FUZZ_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-D_GNU_SOURCE -Ivmm -Ifrontend -Isandbox -Idevices -Idevices/virtio -Iarch/$(ARCH) -I$(GEN) \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJS := $(CORE_SRCS:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/vmm/init-blob.o
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_BUILD)/sandbox/seccomp.o: $(GEN)/syscall-names.h
$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/vmm/init-blob.o: vmm/init-blob.S $(INIT)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -c -DINIT_PATH='"$(INIT)"' -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(UNPACK_LIBS) -lpthread

fuzz-build: $(FUZZ_TARGETS)

# Each target for FUZZ_SECONDS from its seed corpus; a crash fails.
fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)
