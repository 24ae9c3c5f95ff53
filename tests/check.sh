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

tests/deps.sh build test || exit 1
if ! [ -c /dev/kvm ]; then tests/deps.sh sandbox || exit 1; fi

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
trap 'rm -f "$out"' EXIT

step build make -j2 kiln tools build/$(uname -m)/unit-tests
step format-check make -s format-check

echo "== unit tests"
make -s unit 2>&1 | tee "$out"
count "$out" "${PIPESTATUS[0]}"

echo "== unit tests (ASan + UBSan)"
make -s -j2 SAN=1 unit 2>&1 | tee "$out"
count "$out" "${PIPESTATUS[0]}"

echo "== unit tests under valgrind (memcheck, leaks)"
make -s valgrind 2>&1 | tee "$out"
count "$out" "${PIPESTATUS[0]}"

echo "== fuzzing (${FUZZ_SECONDS:-15} s a target)"
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

echo "== end-to-end tests"
KILN=$PWD/kiln KILN_HOOKS=$([ $san_ok = 1 ] && echo "$hooks") tests/e2e/run.sh 2>&1 | tee "$out"
count "$out" "${PIPESTATUS[0]}"

echo "== end-to-end tests, kiln built with ASan + UBSan"
if [ $san_ok = 1 ]; then
	KILN=$hooks KILN_HOOKS=$hooks KILN_E2E_LOGS=$PWD/tests/e2e/logs/san \
		tests/e2e/run.sh 2>&1 | tee "$out"
	count "$out" "${PIPESTATUS[0]}"
else
	echo "FAIL building the sanitizer kiln"
	fail=$((fail + 1))
fi

if [ "$(uname -m)" = x86_64 ] && [ "${KILN_CHECK_AARCH64:-1}" = 1 ]; then
	echo "== aarch64: cross build, unit tests under emulation"
	step "aarch64 packages" tests/deps.sh aarch64 sandbox-aarch64
	step "aarch64 build" make -s -j2 ARCH=aarch64 kiln tools
	make -s -j2 ARCH=aarch64 unit 2>&1 | tee "$out"
	count "$out" "${PIPESTATUS[0]}"
	echo "== aarch64: end-to-end tests in the nested Arm sandbox"
	KILN_E2E_ARCH=aarch64 KILN=$PWD/build/aarch64/kiln \
		KILN_E2E_LOGS=$PWD/tests/e2e/logs/aarch64 tests/e2e/run.sh 2>&1 | tee "$out"
	count "$out" "${PIPESTATUS[0]}"
	echo "== aarch64: kiln's GICv2 fallback, in an Arm sandbox without GICv3"
	KILN_E2E_ARCH=aarch64 KILN_E2E_GIC=2 KILN=$PWD/build/aarch64/kiln \
		KILN_E2E_ONLY=smp-2,poweroff-reboot,virtio-blk-persist,run-status \
		KILN_E2E_LOGS=$PWD/tests/e2e/logs/aarch64-gicv2 tests/e2e/run.sh 2>&1 | tee "$out"
	count "$out" "${PIPESTATUS[0]}"
fi

echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
