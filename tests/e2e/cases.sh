#!/bin/sh
# kiln's end-to-end cases. Runs wherever /dev/kvm works: inside the nested
# sandbox (busybox sh in L1) or directly on a host with KVM.
#
# Environment: KILN, KERNEL (bzImage), VMLINUX (ELF), GUEST_INITRD, LOGDIR.
# KILN_E2E_DUMP=1 prints a failed case's logs as "KILN-LOG" lines (the
# sandbox's console is the only way out of L1). KILN_E2E_ONLY=NAME runs one.
#
# Prints "KILN-TEST <name> PASS|FAIL <detail>" per case.

set -u
: "${KILN:?}" "${KERNEL:?}" "${VMLINUX:?}" "${GUEST_INITRD:?}" "${LOGDIR:?}"
mkdir -p "$LOGDIR"
APPEND_BASE="${KILN_E2E_APPEND:-quiet}"
T=${KILN_E2E_TIMEOUT:-300} # a hanging guest is killed after this many seconds

now_cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }

dump() {
	[ "${KILN_E2E_DUMP:-0}" = 1 ] || return 0
	for f in "$LOGDIR/$1".*; do
		[ -f "$f" ] || continue
		tr -d '\r' <"$f" | sed "s|^|KILN-LOG $1 $(basename "$f"): |"
	done
}

result() { # NAME OK DETAIL
	el=$(( $(now_cs) - START ))
	if [ "$2" = 0 ]; then
		echo "KILN-TEST $1 PASS $3 ($((el / 100)).$((el % 100 / 10)) s)"
	else
		echo "KILN-TEST $1 FAIL $3 ($((el / 100)).$((el % 100 / 10)) s)"
		dump "$1"
	fi
}

want() { # NAME: should this case run?
	[ -z "${KILN_E2E_ONLY:-}" ] || [ "$KILN_E2E_ONLY" = "$1" ]
}

# kiln_run NAME ARGS...: runs kiln with no input, console to NAME.out,
# messages to NAME.err; sets RC.
kiln_run() {
	n=$1
	shift
	START=$(now_cs)
	timeout -s KILL $T "$KILN" run "$@" </dev/null >"$LOGDIR/$n.out" 2>"$LOGDIR/$n.err"
	RC=$?
}

out() { tr -d '\r' <"$LOGDIR/$1.out"; }

# --- (1) the stock kernel reaches /init, reboot -f ends kiln with 0 ---
if want boot-bzimage; then
	kiln_run boot-bzimage --kernel "$KERNEL" --initrd "$GUEST_INITRD" \
		--append "$APPEND_BASE kt=boot"
	if [ $RC -ne 0 ]; then
		result boot-bzimage 1 "exit status $RC, want 0"
	elif ! out boot-bzimage | grep -q '^KILN-GUEST-INIT'; then
		result boot-bzimage 1 "guest never reached /init"
	elif ! out boot-bzimage | grep -q '^KILN-GUEST-DONE'; then
		result boot-bzimage 1 "guest did not finish its case"
	else
		result boot-bzimage 0 "$(out boot-bzimage | grep -m1 '^KILN-GUEST-INIT')"
	fi
fi

# --- (2) --cpus 2: both CPUs online in the guest ---
if want smp-2; then
	kiln_run smp-2 --kernel "$KERNEL" --initrd "$GUEST_INITRD" --cpus 2 \
		--append "$APPEND_BASE kt=cpus"
	line=$(out smp-2 | grep -m1 '^KILN-GUEST-CPUS')
	if [ $RC -ne 0 ]; then
		result smp-2 1 "exit status $RC, want 0"
	elif [ "$line" != "KILN-GUEST-CPUS 2 online=0-1" ]; then
		result smp-2 1 "guest saw '$line', want 2 CPUs online"
	else
		result smp-2 0 "$line"
	fi
fi

# --- (3) an ELF vmlinux boots (PVH entry note) ---
if want boot-vmlinux; then
	kiln_run boot-vmlinux --kernel "$VMLINUX" --initrd "$GUEST_INITRD" \
		--append "$APPEND_BASE kt=boot"
	if [ $RC -ne 0 ]; then
		result boot-vmlinux 1 "exit status $RC, want 0"
	elif ! out boot-vmlinux | grep -q '^KILN-GUEST-DONE'; then
		result boot-vmlinux 1 "guest never ran its /init to the end"
	else
		result boot-vmlinux 0 "$(out boot-vmlinux | grep -m1 '^KILN-GUEST-INIT')"
	fi
fi

# --- (4) --mem 3500M: RAM split around the MMIO hole, MemTotal matches ---
if want mem-3500m; then
	kiln_run mem-3500m --kernel "$KERNEL" --initrd "$GUEST_INITRD" \
		--mem 3500M --append "$APPEND_BASE kt=mem"
	kb=$(out mem-3500m | sed -n 's/^KILN-GUEST-MEMTOTAL \([0-9]*\).*/\1/p')
	# 3500M = 3 GiB below the hole + 428 MiB from 4 GiB up.
	high=$(out mem-3500m | grep -c 'mem 0x0000000100000000-0x000000011abfffff\] usable')
	low=$(out mem-3500m | grep -c 'mem 0x0000000000100000-0x00000000bfffffff\] usable')
	if [ $RC -ne 0 ]; then
		result mem-3500m 1 "exit status $RC, want 0"
	elif [ -z "$kb" ]; then
		result mem-3500m 1 "guest printed no MemTotal"
	elif [ "$high" -ne 1 ] || [ "$low" -ne 1 ]; then
		result mem-3500m 1 "e820 map not as expected (low=$low high=$high)"
	elif [ "$kb" -gt $((3500 * 1024)) ] || [ "$kb" -lt $((3500 * 1024 * 9 / 10)) ]; then
		result mem-3500m 1 "MemTotal ${kb} kB is not within 90-100% of 3500 MiB"
	else
		result mem-3500m 0 "MemTotal ${kb} kB, e820 split at the hole"
	fi
fi

# --- (5) SIGTERM while the guest runs: clean stop, status 128+15 ---
if want sigterm; then
	START=$(now_cs)
	"$KILN" run --kernel "$KERNEL" --initrd "$GUEST_INITRD" \
		--append "$APPEND_BASE kt=sleep" </dev/null \
		>"$LOGDIR/sigterm.out" 2>"$LOGDIR/sigterm.err" &
	pid=$!
	i=0
	while [ $i -lt $((T * 2)) ] && kill -0 $pid 2>/dev/null &&
		! grep -q KILN-GUEST-SLEEPING "$LOGDIR/sigterm.out"; do
		sleep 0.5
		i=$((i + 1))
	done
	if ! grep -q KILN-GUEST-SLEEPING "$LOGDIR/sigterm.out"; then
		kill -KILL $pid 2>/dev/null
		wait $pid
		result sigterm 1 "guest never got to its sleep loop"
	else
		kill -TERM $pid
		i=0
		while [ $i -lt 60 ] && kill -0 $pid 2>/dev/null; do
			sleep 0.5
			i=$((i + 1))
		done
		if kill -0 $pid 2>/dev/null; then
			kill -KILL $pid
			wait $pid
			result sigterm 1 "kiln still running 30 s after SIGTERM"
		else
			wait $pid
			RC=$?
			if [ $RC -ne 143 ]; then
				result sigterm 1 "exit status $RC, want 143"
			elif ! grep -q 'signal 15' "$LOGDIR/sigterm.err"; then
				result sigterm 1 "no message about the signal"
			else
				result sigterm 0 "stopped with status 143"
			fi
		fi
	fi
fi

# --- (6) bad input: one clear line, non-zero status, no VM created ---
# KILN_KVM_DEVICE points at nothing: a case that reached KVM set-up would
# say so instead of naming the bad input.
bad_input() { # NAME PATTERN ARGS...
	n=$1
	pat=$2
	shift 2
	want "$n" || return 0
	START=$(now_cs)
	KILN_KVM_DEVICE=/nonexistent/kvm "$KILN" run "$@" </dev/null \
		>"$LOGDIR/$n.out" 2>"$LOGDIR/$n.err"
	RC=$?
	lines=$(wc -l <"$LOGDIR/$n.err")
	if [ $RC -eq 0 ]; then
		result "$n" 1 "exit status 0, want non-zero"
	elif [ "$lines" -ne 1 ]; then
		result "$n" 1 "$lines lines of error, want 1"
	elif ! grep -q -- "$pat" "$LOGDIR/$n.err"; then
		result "$n" 1 "error does not say '$pat': $(cat "$LOGDIR/$n.err")"
	else
		result "$n" 0 "$(cat "$LOGDIR/$n.err")"
	fi
}
bad_input bad-missing-kernel "does not exist" --kernel /nonexistent/bzImage
bad_input bad-not-a-kernel "not a Linux kernel" --kernel "$GUEST_INITRD"
bad_input bad-mem-zero "--mem '0'" --kernel "$KERNEL" --mem 0
bad_input bad-cpus-zero "--cpus '0'" --kernel "$KERNEL" --cpus 0
bad_input bad-missing-initrd "initrd '/nonexistent/initrd' does not exist" \
	--kernel "$KERNEL" --initrd /nonexistent/initrd
bad_input no-kvm-device "/nonexistent/kvm does not exist: load the kvm" \
	--kernel "$KERNEL"

if want not-kvm-device; then
	START=$(now_cs)
	KILN_KVM_DEVICE=/dev/null "$KILN" run --kernel "$KERNEL" </dev/null \
		>"$LOGDIR/not-kvm-device.out" 2>"$LOGDIR/not-kvm-device.err"
	RC=$?
	if [ $RC -ne 0 ] && grep -q "not a usable KVM device" "$LOGDIR/not-kvm-device.err"; then
		result not-kvm-device 0 "$(cat "$LOGDIR/not-kvm-device.err")"
	else
		result not-kvm-device 1 "status $RC: $(cat "$LOGDIR/not-kvm-device.err")"
	fi
fi
