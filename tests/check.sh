#!/usr/bin/env bash
# Every test kiln has, in order: build (warnings are errors), formatting,
# unit tests, unit tests under ASan+UBSan, libFuzzer targets for a bounded
# time, end-to-end tests with real guests (directly on /dev/kvm, else inside
# the nested sandbox), and the end-to-end tests again with kiln built with
# ASan+UBSan. On an x86_64 host, then the aarch64 build: cross-compiled,
# its unit tests under QEMU's user-mode emulation, its end-to-end tests in
# the nested Arm sandbox (KILN_CHECK_AARCH64=0 leaves it out).
# Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

T0=$SECONDS
# stage NAME: a heading with the time since the start, for the record.
stage() { printf '== %s (at %d:%02d)\n' "$1" $(((SECONDS - T0) / 60)) $(((SECONDS - T0) % 60)); }

ARM=0
[ "$(uname -m)" = x86_64 ] && [ "${KILN_CHECK_AARCH64:-1}" = 1 ] && ARM=1
tests/deps.sh build test || exit 1
if ! [ -c /dev/kvm ]; then tests/deps.sh sandbox || exit 1; fi
# The aarch64 packages too (when they install, not a failure here: that
# step counts below), and what the guest kernels are built with.
[ $ARM = 0 ] || tests/deps.sh aarch64 sandbox-aarch64 || true
guest-kernel-config/build.sh --deps || exit 1

# kiln's guest kernels are most of a fresh machine's time: they build in
# the background from now on, at the lowest priority, on the core that the
# single-threaded steps leave idle; the end-to-end steps wait for them
# (build.sh takes a lock per kernel) and find them cached. A failure here
# shows again, in the foreground, when the end-to-end step builds it.
mkdir -p tests/e2e/logs
setsid nice -n 19 bash -c '
	ARCH=$(uname -m) guest-kernel-config/build.sh
	[ "$1" = 0 ] || ARCH=aarch64 guest-kernel-config/build.sh' _ $ARM \
	>tests/e2e/logs/guest-kernels.log 2>&1 </dev/null &
KBUILD=$!

pass=0
fail=0
step() { # NAME CMD...: a step that counts as one test
	local name=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "PASS $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name"
	fi
}
# count OUTPUT STATUS: adds the "N passed, N failed" of a runner's last
# summary; a runner that failed without counting a failure counts as one.
count() {
	local line p f
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n1)
	p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	[ -n "$line" ] || { p=0; f=1; }
	[ "$2" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	pass=$((pass + p))
	fail=$((fail + f))
}

out=$(mktemp)
trap 'kill -- -$KBUILD 2>/dev/null; rm -f "$out"' EXIT

step build make -j2 kiln tools build/$(uname -m)/unit-tests
step format-check make -s format-check

stage "unit tests"
make -s unit 2>&1 | tee "$out"
count "$out" "${PIPESTATUS[0]}"

stage "unit tests (ASan + UBSan)"
make -s -j2 SAN=1 unit 2>&1 | tee "$out"
count "$out" "${PIPESTATUS[0]}"

stage "unit tests under valgrind (memcheck, leaks)"
make -s valgrind 2>&1 | tee "$out"
count "$out" "${PIPESTATUS[0]}"

stage "fuzzing (${FUZZ_SECONDS:-15} s a target)"
make -s -j2 fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-15} 2>&1 | tee "$out"
count "$out" "${PIPESTATUS[0]}"

# The sanitizer build is also the test build with hooks: both passes use
# it for the cases that need one.
# make's target is the relative path its rule names (an absolute one has
# no rule in a fresh clone).
hooks_rel=build/san-$(uname -m)/kiln
hooks=$PWD/$hooks_rel
san_ok=1
make -s -j2 SAN=1 "$hooks_rel" || san_ok=0

stage "end-to-end tests"
KILN=$PWD/kiln KILN_HOOKS=$([ $san_ok = 1 ] && echo "$hooks") tests/e2e/run.sh 2>&1 | tee "$out"
count "$out" "${PIPESTATUS[0]}"

# After the e2e run, ./kiln finds its own kernel (the run put it beside
# the binary): what stops it here is KVM, not a missing kernel.
own_kernel_found() {
	KILN_KVM_DEVICE=/nonexistent/kvm ./kiln run -- true 2>&1 | tee "$out"
	grep -q '/nonexistent/kvm does not exist' "$out"
}
step "kiln run finds kiln's own kernel after make check" own_kernel_found
# make sandbox: a kiln command line in the sandbox, its status passed on.
sandbox_cmd() {
	KILN=$PWD/kiln KILN_SANDBOX_TIMEOUT=600 tests/e2e/run.sh --cmd 'kiln run -- sh -c "uname -r; exit 7"' \
		</dev/null >"$out" 2>&1
	local rc=$?
	tail -n 3 "$out"
	[ $rc = 7 ] && grep -q -- '-kiln' "$out"
}
step "make sandbox: a command line and its status" sandbox_cmd

stage "end-to-end tests, kiln built with ASan + UBSan"
if [ $san_ok = 1 ]; then
	KILN=$hooks KILN_HOOKS=$hooks KILN_E2E_LOGS=$PWD/tests/e2e/logs/san \
		tests/e2e/run.sh 2>&1 | tee "$out"
	count "$out" "${PIPESTATUS[0]}"
else
	echo "FAIL building the sanitizer kiln"
	fail=$((fail + 1))
fi

if [ $ARM = 1 ]; then
	stage "aarch64: cross build, unit tests under emulation"
	step "aarch64 packages" tests/deps.sh aarch64 sandbox-aarch64
	step "aarch64 build" make -s -j2 ARCH=aarch64 kiln tools
	make -s -j2 ARCH=aarch64 unit 2>&1 | tee "$out"
	count "$out" "${PIPESTATUS[0]}"
	stage "aarch64: end-to-end tests in the nested Arm sandbox"
	KILN_E2E_ARCH=aarch64 KILN=$PWD/build/aarch64/kiln \
		KILN_E2E_LOGS=$PWD/tests/e2e/logs/aarch64 tests/e2e/run.sh 2>&1 | tee "$out"
	count "$out" "${PIPESTATUS[0]}"
	stage "aarch64: kiln's GICv2 fallback, in an Arm sandbox without GICv3"
	KILN_E2E_ARCH=aarch64 KILN_E2E_GIC=2 KILN=$PWD/build/aarch64/kiln \
		KILN_E2E_ONLY=smp-2,poweroff-reboot,virtio-blk-persist,run-status \
		KILN_E2E_LOGS=$PWD/tests/e2e/logs/aarch64-gicv2 tests/e2e/run.sh 2>&1 | tee "$out"
	count "$out" "${PIPESTATUS[0]}"
fi

stage "done"
echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
