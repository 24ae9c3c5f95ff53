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
T=${KILN_E2E_TIMEOUT:-150} # a hanging guest is killed after this many seconds

now_cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }

dump() {
	[ "${KILN_E2E_DUMP:-0}" = 1 ] || return 0
	for f in "$LOGDIR/$1".*; do
		[ -f "$f" ] || continue
		# Printable, and not too much: a case may write megabytes.
		tail -c 16384 "$f" | tr -d '\r' | tr -c ' -~\t\n' '?' |
			sed "s|^|KILN-LOG $1 $(basename "$f"): |"
		echo
	done
}

result() { # NAME OK DETAIL
	el=$(( $(now_cs) - START ))
	# One line, whatever the detail quotes: the report keeps only the
	# KILN-TEST line, so a log's newline would cut the rest off.
	rdetail=$(printf '%s' "$3" | tr '\n\r' '  ')
	if [ "$2" = 0 ]; then
		echo "KILN-TEST $1 PASS $rdetail ($((el / 100)).$((el % 100 / 10)) s)"
	else
		echo "KILN-TEST $1 FAIL $rdetail ($((el / 100)).$((el % 100 / 10)) s)"
		dump "$1"
	fi
}

matches() { # NAME GLOBS: does NAME match one of the comma-separated globs?
	for g in $(echo "$2" | tr , ' '); do
		# shellcheck disable=SC2254
		case "$1" in $g) return 0 ;; esac
	done
	return 1
}

# The cases that apply to this arch (the others are x86 platform cases:
# the ELF/PVH entry, the e820 hole, ACPI, the stock kernel's modules, and
# those needing the sanitizer build's hooks or the x86 hostile program).
if [ -z "${KILN_E2E_CASES:-}" ] && [ "$(uname -m)" = aarch64 ]; then
	KILN_E2E_CASES="boot-bzimage,smp-2,sigterm,poweroff-reboot,demo-shell,guest-clock,virtio-*,net-tap,net-two-nics,run-*,seccomp-threads,jail,jail-cgroup,jail-vsock,hostile,api-*,bad-*,no-kvm-device,not-kvm-device,boot-image-gz,metrics-run,vsock-*,balloon-*,oci-*"
fi

# NAME: should this case run? KILN_E2E_CASES: the cases of this arch,
# KILN_E2E_ONLY: the ones asked for (both globs, comma-separated).
want() {
	case ",${KILN_E2E_DONE:-}," in *",$1,"*) return 1 ;; esac
	[ -z "${KILN_E2E_CASES:-}" ] || matches "$1" "$KILN_E2E_CASES" || return 1
	[ -z "${KILN_E2E_ONLY:-}" ] || matches "$1" "$KILN_E2E_ONLY"
}

# kiln_run NAME ARGS...: runs kiln with no input, console to NAME.out,
# messages to NAME.err; sets RC. A guest that hangs (killed after T
# seconds) is run once more: the emulated L1 of the sandbox very rarely
# stalls a nested guest, and that is not what the cases test. The first
# attempt's output is kept as NAME.hung.out.
kiln_run() {
	n=$1
	shift
	START=$(now_cs)
	timeout -s KILL $T "$KILN" run "$@" </dev/null >"$LOGDIR/$n.out" 2>"$LOGDIR/$n.err"
	RC=$?
	if [ $RC -eq 137 ]; then
		echo "KILN-RETRY $n: the guest hung for $T s; running it once more"
		mv "$LOGDIR/$n.out" "$LOGDIR/$n.hung.out"
		timeout -s KILL $T "$KILN" run "$@" </dev/null >"$LOGDIR/$n.out" 2>"$LOGDIR/$n.err"
		RC=$?
	fi
}

out() { tr -d '\r' <"$LOGDIR/$1.out"; }

# wait_out NAME PATTERN PID: waits until NAME.out has PATTERN or PID ends.
wait_out() {
	j=0
	while [ $j -lt $((T * 5)) ] && kill -0 "$3" 2>/dev/null &&
		! tr -d '\r' <"$LOGDIR/$1.out" | grep -q "$2"; do
		sleep 0.2
		j=$((j + 1))
	done
	tr -d '\r' <"$LOGDIR/$1.out" | grep -q "$2"
}

# finish PID: waits for kiln to end by itself (or kills it); sets RC.
finish() {
	j=0
	while [ $j -lt $((T * 5)) ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.2
		j=$((j + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1"
	RC=$?
}

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
	gic=$(out smp-2 | sed -n 's/^KILN-GUEST-GIC //p')
	case ${KILN_E2E_EXPECT_GIC:-} in
	2) want_gic=arm,cortex-a15-gic ;;
	3) want_gic=arm,gic-v3 ;;
	*) want_gic=$gic ;;
	esac
	if [ $RC -ne 0 ]; then
		result smp-2 1 "exit status $RC, want 0"
	elif [ "$line" != "KILN-GUEST-CPUS 2 online=0-1" ]; then
		result smp-2 1 "guest saw '$line', want 2 CPUs online"
	elif [ "$gic" != "$want_gic" ]; then
		result smp-2 1 "the guest's GIC is '$gic', want '$want_gic'"
	else
		result smp-2 0 "$line${gic:+, $gic}"
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

# --- a kernel built without CONFIG_RELOCATABLE (kiln's own, as tinyconfig
# makes it) runs where it was linked: decompressed on the host, and with
# --kernel-cache=off through its own decompressor ---
if [ -n "${GKERNEL:-}" ] && want boot-nonreloc; then
	# The setup header's relocatable_kernel byte (0x234) must say no, or
	# this case tests nothing.
	reloc=$(od -An -tu1 -j 564 -N 1 "$GKERNEL" | tr -d ' ')
	bad=
	for how in on off; do
		kiln_run boot-nonreloc-$how -v -v --kernel-cache=$how --kernel "$GKERNEL" \
			--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=boot"
		at=$(grep -o 'not relocatable) at 0x[0-9a-f]*' "$LOGDIR/boot-nonreloc-$how.err" | sed 's/.* at //')
		path=bzImage
		grep -q 'decompressed on the host' "$LOGDIR/boot-nonreloc-$how.err" && path=host
		if [ $RC -ne 0 ] || ! out boot-nonreloc-$how | grep -q '^KILN-GUEST-DONE'; then
			bad="$bad; --kernel-cache=$how: status $RC, the guest did not run its /init to the end"
		elif [ "$at" != 0x1000000 ]; then
			bad="$bad; --kernel-cache=$how: loaded at '$at', want 0x1000000 (where it was linked)"
		elif [ "$how:$path" != on:host ] && [ "$how:$path" != off:bzImage ]; then
			bad="$bad; --kernel-cache=$how: booted through the $path path"
		fi
	done
	if [ "$reloc" != 0 ]; then
		result boot-nonreloc 1 "kiln's guest kernel is relocatable (header byte $reloc): build it without CONFIG_RELOCATABLE"
	elif [ -n "$bad" ]; then
		result boot-nonreloc 1 "${bad#; }"
	else
		result boot-nonreloc 0 "non-relocatable bzImage at 0x1000000 where it was linked, decompressed on the host and by itself; ran /init"
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

# --- the guest powers off, then reboots: each ends kiln with 0 (ACPI's
# sleep register or the keyboard controller on x86, PSCI on aarch64) ---
if want poweroff-reboot; then
	kiln_run poweroff-reboot -v --kernel "${GKERNEL:-$KERNEL}" \
		--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=poweroff"
	off_rc=$RC
	off_err=$(grep -c 'guest powered off' "$LOGDIR/poweroff-reboot.err")
	off_ret=$(out poweroff-reboot | grep -c 'POWEROFF-RETURNED')
	kiln_run poweroff-reboot -v --kernel "${GKERNEL:-$KERNEL}" \
		--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=boot"
	if [ $off_rc -ne 0 ] || [ "$off_err" -ne 1 ] || [ "$off_ret" -ne 0 ]; then
		result poweroff-reboot 1 "poweroff -f: status $off_rc, want 0 and 'guest powered off'"
	elif [ $RC -ne 0 ]; then
		result poweroff-reboot 1 "reboot -f: exit status $RC, want 0"
	elif ! out poweroff-reboot | grep -q '^KILN-GUEST-DONE' ||
		! grep -q 'guest rebooted' "$LOGDIR/poweroff-reboot.err"; then
		result poweroff-reboot 1 "reboot -f: kiln did not see a reboot: $(tail -c 200 "$LOGDIR/poweroff-reboot.err")"
	else
		result poweroff-reboot 0 "poweroff -f and reboot -f each end kiln with 0"
	fi
fi

# --- make demo's guest: keys typed on the serial console reach its shell,
# and its poweroff ends kiln with 0 ---
if want demo-shell; then
	START=$(now_cs)
	rm -f "$LOGDIR/demo-shell.in"
	mkfifo "$LOGDIR/demo-shell.in"
	"$KILN" run -v --kernel "$KERNEL" --initrd "$GUEST_INITRD" \
		--append "$APPEND_BASE kt=shell" <"$LOGDIR/demo-shell.in" \
		>"$LOGDIR/demo-shell.out" 2>"$LOGDIR/demo-shell.err" &
	pid=$!
	exec 3>"$LOGDIR/demo-shell.in"
	# Typed again until the shell answers: keys typed before the shell
	# reads its terminal may be taken by the boot.
	if wait_out demo-shell 'kiln demo guest' $pid; then
		i=0
		while [ $i -lt 30 ] && kill -0 $pid 2>/dev/null &&
			! out demo-shell | grep -q '^HELLO-42'; do
			echo 'echo HELLO-$((6*7))' >&3
			sleep 2
			i=$((i + 1))
		done
		echo poweroff >&3
	fi
	finish $pid
	exec 3>&-
	rm -f "$LOGDIR/demo-shell.in"
	if ! out demo-shell | grep -q '^HELLO-42'; then
		result demo-shell 1 "status $RC, the shell did not answer on the serial console"
	elif [ $RC -ne 0 ] || ! grep -q 'guest powered off' "$LOGDIR/demo-shell.err"; then
		result demo-shell 1 "poweroff in the demo guest: status $RC, $(tail -c 200 "$LOGDIR/demo-shell.err")"
	else
		result demo-shell 0 "typed keys reached the shell; its poweroff ended kiln with 0"
	fi
fi

# --- the guest's clock starts at the host's time (the RTC: CMOS on x86,
# the PL031 on aarch64) ---
if want guest-clock; then
	kiln_run guest-clock --kernel "${GKERNEL:-$KERNEL}" \
		--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=boot"
	gt=$(out guest-clock | sed -n 's/^KILN-GUEST-TIME \([0-9]*\)$/\1/p')
	ht=$(date +%s)
	if [ $RC -ne 0 ] || [ -z "$gt" ]; then
		result guest-clock 1 "status $RC, the guest printed no time"
	elif [ $((ht - gt)) -gt 300 ] || [ $((gt - ht)) -gt 300 ]; then
		result guest-clock 1 "guest time $gt, host time $ht: more than 5 minutes apart"
	else
		result guest-clock 0 "guest time $gt, host $ht ($(date -u -d @"$gt" 2>/dev/null || echo "$gt"))"
	fi
fi

# --- virtio, with kiln's own guest kernel (GKERNEL) ---
if [ -n "${GKERNEL:-}" ]; then
	W=$LOGDIR/images
	mkdir -p "$W"
	GBASE="$APPEND_BASE"
	sum_of() { head -c 67108864 "$1" | sha256sum | cut -d' ' -f1; }
	# stretch_sum FILE OFFSET_MIB LEN_MIB, zero_sum LEN_MIB: sha256s.
	stretch_sum() { dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null | sha256sum | cut -d' ' -f1; }
	zero_sum() { head -c $(($1 << 20)) /dev/zero | sha256sum | cut -d' ' -f1; }

	if want virtio-rootfs; then
		kiln_run virtio-rootfs --kernel "$GKERNEL" --disk "$ROOTFS,ro" \
			--append "$GBASE root=/dev/vda ro init=/init kt=boot"
		if [ $RC -eq 0 ] && out virtio-rootfs | grep -q '^KILN-GUEST-DONE'; then
			result virtio-rootfs 0 "ext4 root on /dev/vda: $(out virtio-rootfs | grep -m1 '^KILN-GUEST-INIT')"
		else
			result virtio-rootfs 1 "status $RC, guest did not run /init from the disk"
		fi
	fi

	if want virtio-blk-persist; then
		rm -f "$W/data.img"
		truncate -s 128M "$W/data.img"
		kiln_run virtio-blk-persist --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
			--mem 512M --disk "$ROOTFS,ro" --disk "$W/data.img" \
			--append "$GBASE kt=blk-write"
		want_sum=$(out virtio-blk-persist | sed -n 's/^KILN-GUEST-SYNCED //p')
		host_sum=$(sum_of "$W/data.img")
		rc1=$RC
		kiln_run virtio-blk-persist-2 --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
			--disk "$ROOTFS,ro" --disk "$W/data.img" --append "$GBASE kt=blk-read"
		read_sum=$(out virtio-blk-persist-2 | sed -n 's/^KILN-GUEST-READ //p')
		cat "$LOGDIR/virtio-blk-persist-2.out" >>"$LOGDIR/virtio-blk-persist.out"
		if [ $rc1 -ne 0 ] || [ $RC -ne 0 ]; then
			result virtio-blk-persist 1 "status $rc1/$RC, want 0/0"
		elif [ -z "$want_sum" ] || [ "$want_sum" != "$host_sum" ]; then
			result virtio-blk-persist 1 "guest wrote $want_sum, host file has $host_sum"
		elif [ "$read_sum" != "$want_sum" ]; then
			result virtio-blk-persist 1 "after reboot the guest read $read_sum"
		else
			result virtio-blk-persist 0 "64 MiB synced and read back after reboot (sha256 ${want_sum%${want_sum#????????}}...)"
		fi
	fi

	if want virtio-blk-kill9; then
		rm -f "$W/data.img"
		truncate -s 128M "$W/data.img"
		START=$(now_cs)
		"$KILN" run --kernel "$GKERNEL" --initrd "$GUEST_INITRD" --mem 512M \
			--disk "$ROOTFS,ro" --disk "$W/data.img" \
			--append "$GBASE kt=blk-write-hang" </dev/null \
			>"$LOGDIR/virtio-blk-kill9.out" 2>"$LOGDIR/virtio-blk-kill9.err" &
		pid=$!
		i=0
		# The whole line: the serial console gives it a byte at a time,
		# and the kill must not cut the guest's report short.
		while [ $i -lt $((T * 2)) ] && kill -0 $pid 2>/dev/null &&
			! grep -q 'KILN-GUEST-SYNCED [0-9a-f]\{64\}' "$LOGDIR/virtio-blk-kill9.out"; do
			sleep 0.5
			i=$((i + 1))
		done
		kill -KILL $pid 2>/dev/null
		wait $pid 2>/dev/null
		want_sum=$(out virtio-blk-kill9 | sed -n 's/^KILN-GUEST-SYNCED //p')
		host_sum=$(sum_of "$W/data.img")
		if [ -z "$want_sum" ]; then
			result virtio-blk-kill9 1 "guest never reported its sync"
		elif [ "$want_sum" != "$host_sum" ]; then
			result virtio-blk-kill9 1 "after kill -9 the file has $host_sum, guest synced $want_sum"
		else
			result virtio-blk-kill9 0 "synced data on the image after kill -9"
		fi
	fi

	if want virtio-blk-ro; then
		rm -f "$W/ro.img"
		head -c 1048576 /dev/urandom >"$W/ro.img"
		before=$(sha256sum "$W/ro.img" | cut -d' ' -f1)
		kiln_run virtio-blk-ro --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
			--disk "$ROOTFS,ro" --disk "$W/ro.img,ro" --append "$GBASE kt=blk-ro"
		after=$(sha256sum "$W/ro.img" | cut -d' ' -f1)
		if [ $RC -ne 0 ]; then
			result virtio-blk-ro 1 "status $RC"
		elif ! out virtio-blk-ro | grep -q '^KILN-GUEST-RO 1'; then
			result virtio-blk-ro 1 "guest does not see the disk as read-only"
		elif ! out virtio-blk-ro | grep -q '^KILN-GUEST-RO-WRITE refused'; then
			result virtio-blk-ro 1 "a write to the ro disk was accepted"
		elif [ "$before" != "$after" ]; then
			result virtio-blk-ro 1 "the host file changed"
		else
			result virtio-blk-ro 0 "write refused, host file unchanged"
		fi
	fi

	if want virtio-blk-ids; then
		truncate -s 64M "$W/b.img"
		kiln_run virtio-blk-ids --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
			--disk "$ROOTFS,ro,id=root-disk" --disk "$W/b.img,id=scratch" \
			--append "$GBASE kt=blk-ids"
		a=$(out virtio-blk-ids | grep '^KILN-GUEST-DISK vda' | cut -d' ' -f3)
		b=$(out virtio-blk-ids | grep '^KILN-GUEST-DISK vdb' | cut -d' ' -f3-)
		if [ $RC -eq 0 ] && [ "$a" = root-disk ] && [ "$b" = "scratch 131072" ]; then
			result virtio-blk-ids 0 "vda=$a vdb=$b"
		else
			result virtio-blk-ids 1 "status $RC, vda='$a' vdb='$b'"
		fi
	fi

	if want virtio-blk-discard; then
		rm -f "$W/d.img"
		truncate -s 128M "$W/d.img"
		kiln_run virtio-blk-discard --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
			--mem 512M --disk "$ROOTFS,ro" --disk "$W/d.img" \
			--append "$GBASE kt=blk-write"
		full=$(stat -c %b "$W/d.img")
		rc1=$RC
		kiln_run virtio-blk-discard-2 --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
			--disk "$ROOTFS,ro" --disk "$W/d.img" --append "$GBASE kt=blk-discard"
		cat "$LOGDIR/virtio-blk-discard-2.out" >>"$LOGDIR/virtio-blk-discard.out"
		empty=$(stat -c %b "$W/d.img")
		if [ $rc1 -ne 0 ] || [ $RC -ne 0 ]; then
			result virtio-blk-discard 1 "status $rc1/$RC"
		elif ! out virtio-blk-discard | grep -q KILN-GUEST-DISCARDED; then
			result virtio-blk-discard 1 "blkdiscard failed in the guest"
		elif ! out virtio-blk-discard | grep -q KILN-GUEST-ZEROED ||
			! out virtio-blk-discard | grep -q 'KILN-GUEST-ZERO-READ ok'; then
			result virtio-blk-discard 1 "write-zeroes failed in the guest: $(out virtio-blk-discard | grep 'ZERO')"
		elif [ "$(stretch_sum "$W/d.img" 48 16)" != "$(zero_sum 16)" ]; then
			result virtio-blk-discard 1 "the zeroed stretch is not zero in the host file"
		elif [ "$empty" -ge "$full" ] || [ "$full" -lt 100000 ]; then
			result virtio-blk-discard 1 "allocated blocks $full -> $empty"
		else
			result virtio-blk-discard 0 "discard: allocated 512-byte blocks $full -> $empty; write-zeroes read back as zeroes in the guest and the host file"
		fi
	fi

	# A host block device (a loop device here) as the disk: writes
	# flushed, discard and write-zeroes (ioctls on the device), a
	# read-only one; data checked on the host, under the real filters.
	if want virtio-blk-bdev && [ "$(id -u)" = 0 ]; then
		START=$(now_cs)
		rm -f "$W/bdev.img" "$W/bdev-ro.img"
		# Written out, so a discard shows as blocks given back.
		head -c 67108864 /dev/zero >"$W/bdev.img"
		head -c 1048576 /dev/urandom >"$W/bdev-ro.img"
		ro_before=$(sha256sum "$W/bdev-ro.img" | cut -d' ' -f1)
		lo=$(losetup -f) && losetup "$lo" "$W/bdev.img" &&
			lro=$(losetup -f) && losetup "$lro" "$W/bdev-ro.img"
		if [ -z "${lro:-}" ] || ! [ -b "$lro" ]; then
			[ -n "${lo:-}" ] && losetup -d "$lo" 2>/dev/null
			result virtio-blk-bdev 1 "cannot set up loop devices (losetup -f)"
		else
			full=$(stat -c %b "$W/bdev.img")
			kiln_run virtio-blk-bdev --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
				--mem 512M --disk "$ROOTFS,ro" --disk "$lo" --disk "$lro,ro" \
				--append "$GBASE kt=blk-bdev"
			s0=$(stretch_sum "$lo" 0 16)
			s1=$(stretch_sum "$lo" 16 16)
			s2=$(stretch_sum "$lo" 32 16)
			z=$(zero_sum 16)
			losetup -d "$lo"
			losetup -d "$lro"
			empty=$(stat -c %b "$W/bdev.img")
			ro_after=$(sha256sum "$W/bdev-ro.img" | cut -d' ' -f1)
			g0=$(out virtio-blk-bdev | sed -n 's/^KILN-GUEST-SUM0 //p')
			r0=$(out virtio-blk-bdev | sed -n 's/^KILN-GUEST-READ0 //p')
			if [ $RC -ne 0 ]; then
				result virtio-blk-bdev 1 "status $RC: $(tail -c 300 "$LOGDIR/virtio-blk-bdev.err")"
			elif out virtio-blk-bdev | grep -q WRITE-FAILED; then
				result virtio-blk-bdev 1 "a write failed in the guest"
			elif [ -z "$g0" ] || [ "$g0" != "$s0" ] || [ "$r0" != "$g0" ]; then
				result virtio-blk-bdev 1 "flushed data: guest wrote $g0, read back $r0, host device has $s0"
			elif ! out virtio-blk-bdev | grep -q KILN-GUEST-DISCARDED; then
				result virtio-blk-bdev 1 "blkdiscard failed in the guest"
			elif [ "$s1" != "$z" ] || [ "$empty" -gt $((full - 32768)) ]; then
				result virtio-blk-bdev 1 "discard: the stretch is not zero on the host, or blocks $full -> $empty (want 16 MiB fewer)"
			elif ! out virtio-blk-bdev | grep -q KILN-GUEST-ZEROED ||
				! out virtio-blk-bdev | grep -q 'KILN-GUEST-ZERO-READ ok' ||
				[ "$s2" != "$z" ]; then
				result virtio-blk-bdev 1 "write-zeroes: $(out virtio-blk-bdev | grep ZERO | tr '\n' ' '), host stretch $s2"
			elif ! out virtio-blk-bdev | grep -q '^KILN-GUEST-RO 1' ||
				! out virtio-blk-bdev | grep -q '^KILN-GUEST-RO-WRITE refused' ||
				[ "$ro_before" != "$ro_after" ]; then
				result virtio-blk-bdev 1 "the read-only device was written, or not seen as read-only"
			else
				result virtio-blk-bdev 0 "loop devices: flushed data on the device, discard ($full -> $empty blocks) and write-zeroes read as zeroes on the host, ro refused"
			fi
		fi
		rm -f "$W/bdev.img" "$W/bdev-ro.img"
	fi

	if want virtio-rng; then
		kiln_run virtio-rng --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
			--append "$GBASE kt=rng"
		line=$(out virtio-rng | grep -m1 '^KILN-GUEST-RNG')
		case "$line" in
		"KILN-GUEST-RNG virtio_rng."*" 64") result virtio-rng 0 "$line" ;;
		*) result virtio-rng 1 "status $RC, '$line'" ;;
		esac
	fi

	if want virtio-console; then
		START=$(now_cs)
		printf 'echo HELLO-$((6*7))\nreboot -f\n' |
			timeout -s KILL $T "$KILN" run ${KILN_E2E_VERBOSE:+-v -v} --kernel "$GKERNEL" \
				--initrd "$GUEST_INITRD" --console virtio \
				--append "$GBASE kt=hvc" \
				>"$LOGDIR/virtio-console.out" 2>"$LOGDIR/virtio-console.err"
		RC=$?
		if [ $RC -ne 0 ]; then
			result virtio-console 1 "status $RC"
		elif ! out virtio-console | grep -q '^KILN-GUEST-CONSOLE.*hvc0'; then
			result virtio-console 1 "/dev/console is not hvc0"
		elif ! out virtio-console | grep -q '^HELLO-42'; then
			result virtio-console 1 "the shell on hvc0 did not run our command"
		else
			result virtio-console 0 "shell on hvc0 ran a command from stdin"
		fi
	fi
fi

# --- virtio-net (kiln's guest kernel, TAP devices and passt in L1) ---

if [ -n "${GKERNEL:-}" ] && [ -c /dev/net/tun ] && command -v tcpxfer >/dev/null; then
	W=$LOGDIR/images
	mkdir -p "$W"
	if want net-tap; then
		START=$(now_cs)
		ip link del ktap0 2>/dev/null
		tunctl -t ktap0 >/dev/null
		ip addr add 192.0.2.1/24 dev ktap0
		ip link set ktap0 up
		head -c 52428800 /dev/urandom >"$W/to-guest"
		to_sum=$(sha256sum "$W/to-guest" | cut -d' ' -f1)
		tcpxfer recv 5002 "$W/from-guest" >"$LOGDIR/net-tap.recv" 2>&1 &
		rpid=$!
		# -v: a guest that resets mid-transfer says so in net-tap.err.
		"$KILN" run -v --kernel "$GKERNEL" --initrd "$GUEST_INITRD" --mem 512M \
			--net tap=ktap0 --append "$APPEND_BASE kt=net-tap" </dev/null \
			>"$LOGDIR/net-tap.out" 2>"$LOGDIR/net-tap.err" &
		kpid=$!
		host_ping=fail
		if wait_out net-tap '^KILN-GUEST-MAC' $kpid &&
			ping -c 3 -W 10 192.0.2.2 >/dev/null 2>&1; then
			host_ping=ok
		fi
		wait_out net-tap '^KILN-GUEST-tcpxfer listening' $kpid &&
			tcpxfer send 192.0.2.2 5001 "$W/to-guest" >"$LOGDIR/net-tap.send" 2>&1
		finish $kpid
		kill $rpid 2>/dev/null
		wait $rpid 2>/dev/null
		from_sum=$(sha256sum "$W/from-guest" 2>/dev/null | cut -d' ' -f1)
		g_tx=$(out net-tap | sed -n 's/^KILN-GUEST-TX-SUM //p')
		g_rx=$(out net-tap | sed -n 's/^KILN-GUEST-RX-SUM //p')
		g_ping=$(out net-tap | sed -n 's/^KILN-GUEST-PING //p')
		up=$(sed -n 's/.*mbps=//p' "$LOGDIR/net-tap.recv")
		down=$(sed -n 's/.*mbps=//p' "$LOGDIR/net-tap.send")
		rm -f "$W/to-guest" "$W/from-guest"
		ip link del ktap0 2>/dev/null
		if [ $RC -ne 0 ]; then
			result net-tap 1 "status $RC"
		elif [ "$g_ping" != ok ] || [ $host_ping != ok ]; then
			result net-tap 1 "ping guest->host $g_ping, host->guest $host_ping"
		elif [ -z "$g_tx" ] || [ "$g_tx" != "$from_sum" ]; then
			result net-tap 1 "guest->host 50 MiB arrived as $from_sum, sent $g_tx"
		elif [ "$g_rx" != "$to_sum" ]; then
			result net-tap 1 "host->guest 50 MiB arrived as $g_rx, sent $to_sum"
		else
			result net-tap 0 "ping both ways; 50 MiB each way intact (guest->host $up Mb/s, host->guest $down Mb/s)"
		fi
	fi

	if want net-two-nics; then
		START=$(now_cs)
		for t in ktap1:192.0.2.1 ktap2:198.51.100.1; do
			ip link del ${t%%:*} 2>/dev/null
			tunctl -t ${t%%:*} >/dev/null
			ip addr add ${t#*:}/24 dev ${t%%:*}
			ip link set ${t%%:*} up
		done
		kiln_run net-two-nics --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
			--net tap=ktap1 --net tap=ktap2 --append "$APPEND_BASE kt=net-two"
		ip link del ktap1 2>/dev/null
		ip link del ktap2 2>/dev/null
		m0=$(out net-two-nics | sed -n 's/^KILN-GUEST-MAC eth0 //p')
		m1=$(out net-two-nics | sed -n 's/^KILN-GUEST-MAC eth1 //p')
		oks=$(out net-two-nics | grep -c '^KILN-GUEST-PING .* ok')
		if [ $RC -ne 0 ]; then
			result net-two-nics 1 "status $RC"
		elif [ -z "$m0" ] || [ "$m0" = "$m1" ]; then
			result net-two-nics 1 "MACs '$m0' and '$m1' are not distinct"
		elif [ "$oks" -ne 2 ]; then
			result net-two-nics 1 "$oks of 2 NICs passed traffic"
		else
			result net-two-nics 0 "eth0 $m0, eth1 $m1, both ping their host end"
		fi
	fi

	if want net-user && command -v passt >/dev/null; then
		START=$(now_cs)
		echo "kiln-host-to-guest-fwd" >"$W/fwd-msg"
		chmod 644 "$W/fwd-msg"
		chmod 0666 /dev/kvm
		# passt wants a default route: one into a TAP nobody reads.
		if ! ip route | grep -q '^default'; then
			tunctl -t kup0 >/dev/null
			ip addr add 192.0.2.100/24 dev kup0
			ip link set kup0 up
			ip route add default via 192.0.2.1 dev kup0
		fi
		tcpxfer recv 5003 "$W/from-user" >"$LOGDIR/net-user.recv" 2>&1 &
		rpid=$!
		# Unprivileged: uid 1000, no capabilities.
		su -s /bin/sh kt -c "exec '$KILN' run --kernel '$GKERNEL' \
			--initrd '$GUEST_INITRD' --net user,fwd=tcp:18080:8080 \
			--append '$APPEND_BASE kt=net-user'" </dev/null \
			>"$LOGDIR/net-user.out" 2>"$LOGDIR/net-user.err" &
		kpid=$!
		# passt accepts on the host side at once and connects to the
		# guest after: a connection it could not complete is dropped
		# without telling the sender, so send again (at most 4 times)
		# until the guest has the message.
		if wait_out net-user '^KILN-GUEST-tcpxfer listening' $kpid; then
			n=0
			while [ $n -lt 4 ] && kill -0 $kpid 2>/dev/null &&
				! out net-user | grep -q '^KILN-GUEST-FWD'; do
				tcpxfer send 127.0.0.1 18080 "$W/fwd-msg" >>"$LOGDIR/net-user.send" 2>&1
				j=0
				while [ $j -lt 75 ] && kill -0 $kpid 2>/dev/null &&
					! out net-user | grep -q '^KILN-GUEST-FWD'; do
					sleep 0.2
					j=$((j + 1))
				done
				n=$((n + 1))
			done
		fi
		finish $kpid
		kill $rpid 2>/dev/null
		wait $rpid 2>/dev/null
		dhcp=$(out net-user | sed -n 's/^KILN-GUEST-DHCP //p')
		got=$(cat "$W/from-user" 2>/dev/null)
		fwd=$(out net-user | sed -n 's/^KILN-GUEST-FWD //p')
		if [ $RC -ne 0 ]; then
			result net-user 1 "status $RC"
		elif ! echo "$dhcp" | grep -q 'inet [0-9]'; then
			result net-user 1 "no address by DHCP: '$dhcp'"
		elif [ "$got" != kiln-user-net-to-host ]; then
			result net-user 1 "the guest did not reach L1's loopback server"
		elif [ "$fwd" != kiln-host-to-guest-fwd ]; then
			result net-user 1 "the forwarded port did not reach the guest"
		else
			result net-user 0 "as uid 1000: DHCP ($dhcp), guest->loopback server, host port 18080->guest 8080"
		fi
	fi
fi

# --- ACPI: poweroff, devices through the DSDT, CPUs through the MADT ---
MARKER_IMG=$LOGDIR/marker.img
dd if=/dev/zero of="$MARKER_IMG" bs=1024 count=1024 2>/dev/null
printf 'KILN-DISK-MARKER' | dd of="$MARKER_IMG" conv=notrunc 2>/dev/null
if [ -n "${GKERNEL:-}" ] && want acpi-poweroff; then
	kiln_run acpi-poweroff -v --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
		--append "$APPEND_BASE kt=poweroff"
	if [ $RC -ne 0 ]; then
		result acpi-poweroff 1 "exit status $RC, want 0"
	elif ! out acpi-poweroff | grep -q '^KILN-GUEST-POWERING-OFF' ||
		out acpi-poweroff | grep -q 'POWEROFF-RETURNED'; then
		result acpi-poweroff 1 "the guest did not power off"
	elif ! grep -q 'guest powered off' "$LOGDIR/acpi-poweroff.err"; then
		result acpi-poweroff 1 "kiln did not see a power-off: $(tail -c 200 "$LOGDIR/acpi-poweroff.err")"
	else
		result acpi-poweroff 0 "poweroff -f through the ACPI sleep register -> 0"
	fi
fi
if [ -n "${GKERNEL:-}" ] && want acpi-devices; then
	kiln_run acpi-devices --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
		--disk "$MARKER_IMG,ro" --append "$APPEND_BASE kt=devices"
	if [ $RC -ne 0 ] || ! out acpi-devices | grep -q '^KILN-GUEST-FIRMWARE acpi'; then
		result acpi-devices 1 "status $RC, the kernel did not use ACPI"
	elif ! out acpi-devices | grep -q '^KILN-GUEST-VDA KILN-DISK-MARKER'; then
		result acpi-devices 1 "no disk: $(out acpi-devices | grep KILN-GUEST-VDA)"
	elif ! out acpi-devices | grep -q '^KILN-GUEST-CMDLINE-DEVICES 0'; then
		result acpi-devices 1 "virtio devices were still put on the command line"
	else
		result acpi-devices 0 "virtio-blk found through the DSDT, none on the command line"
	fi
fi
if [ -n "${GKERNEL:-}" ] && want no-acpi; then
	kiln_run no-acpi --no-acpi --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
		--cpus 2 --disk "$MARKER_IMG,ro" --append "$APPEND_BASE kt=devices"
	if [ $RC -ne 0 ] || ! out no-acpi | grep -q '^KILN-GUEST-FIRMWARE mptable'; then
		result no-acpi 1 "status $RC, $(out no-acpi | grep KILN-GUEST-FIRMWARE)"
	elif ! out no-acpi | grep -q '^KILN-GUEST-VDA KILN-DISK-MARKER'; then
		result no-acpi 1 "no disk: $(out no-acpi | grep KILN-GUEST-VDA)"
	else
		result no-acpi 0 "MP table and command-line devices"
	fi
fi
if want acpi-cpus-4; then
	kiln_run acpi-cpus-4 --kernel "$KERNEL" --initrd "$GUEST_INITRD" --cpus 4 \
		--append "$APPEND_BASE kt=cpus"
	line=$(out acpi-cpus-4 | grep -m1 '^KILN-GUEST-CPUS')
	if [ $RC -ne 0 ] || [ "$line" != "KILN-GUEST-CPUS 4 online=0-3" ]; then
		result acpi-cpus-4 1 "status $RC, guest saw '$line'"
	elif ! out acpi-cpus-4 | grep -q '^KILN-GUEST-FIRMWARE acpi'; then
		result acpi-cpus-4 1 "the CPUs did not come from the MADT"
	else
		result acpi-cpus-4 0 "$line, from the MADT"
	fi
fi
if want acpi-debian && [ -c /dev/net/tun ]; then
	# Debian's stock kernel, its virtio modules loaded by the initrd.
	ip link del ktapd 2>/dev/null
	tunctl -t ktapd >/dev/null
	# A subnet of its own: other cases' TAPs may hold 192.0.2.0/24.
	ip addr add 203.0.113.1/24 dev ktapd
	ip link set ktapd up
	kiln_run acpi-debian --kernel "$KERNEL" --initrd "$GUEST_INITRD" \
		--disk "$MARKER_IMG,ro" --net tap=ktapd --append "$APPEND_BASE kt=deb-virtio"
	ip link del ktapd 2>/dev/null
	if [ $RC -ne 0 ] || ! out acpi-debian | grep -q '^KILN-GUEST-FIRMWARE acpi'; then
		result acpi-debian 1 "status $RC, $(out acpi-debian | grep -a KILN-GUEST-FIRMWARE)"
	elif ! out acpi-debian | grep -q '^KILN-GUEST-VDA KILN-DISK-MARKER'; then
		result acpi-debian 1 "no /dev/vda: $(out acpi-debian | grep 'KILN-GUEST-VDA\|INSMOD')"
	elif ! out acpi-debian | grep -q '^KILN-GUEST-PING ok'; then
		result acpi-debian 1 "eth0 passed no traffic"
	else
		result acpi-debian 0 "Debian's kernel and modules: /dev/vda read, eth0 pings the TAP"
	fi
fi

# --- the kernel cache and KASLR (cases-boot.sh) ---
. "$(dirname "$0")/cases-boot.sh"

# --- kiln run -- CMD (kiln's guest kernel) ---
if [ -n "${GKERNEL:-}" ]; then
	. "$(dirname "$0")/cases-run.sh"
	. "$(dirname "$0")/cases-harden.sh"
	. "$(dirname "$0")/cases-api.sh"
	. "$(dirname "$0")/cases-devices.sh"
	. "$(dirname "$0")/cases-oci.sh"
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
bad_input bad-missing-disk "disk '/nonexistent/disk.img' does not exist" \
	--kernel "$KERNEL" --disk /nonexistent/disk.img
bad_input bad-disk-option "unknown option 'rw'" \
	--kernel "$KERNEL" --disk "$KERNEL,rw"
bad_input bad-net-option "give tap=IFNAME or user" --kernel "$KERNEL" --net eth0
bad_input bad-missing-initrd "initrd '/nonexistent/initrd' does not exist" \
	--kernel "$KERNEL" --initrd /nonexistent/initrd
case $(uname -m) in
aarch64) kvm_hint="boot the host's kernel at EL2 with KVM" ;;
*) kvm_hint="load the kvm" ;;
esac
bad_input no-kvm-device "/nonexistent/kvm does not exist: $kvm_hint" \
	--kernel "$KERNEL"
bad_input bad-jail-dir "--jail '/nonexistent/jail': not a directory" \
	--kernel "$KERNEL" --jail /nonexistent/jail
bad_input bad-jail-uid "go with --jail DIR" --kernel "$KERNEL" --uid 1000
bad_input bad-jail-passt "use --net tap=IFNAME" \
	--kernel "$KERNEL" --jail /tmp --net user
bad_input bad-jail-rootfs "needs --rootfs" --kernel "$KERNEL" --jail /tmp -- true
bad_input bad-cgroup "give cpu=PCT or mem=SIZE" \
	--kernel "$KERNEL" --jail /tmp --cgroup kiln,swap=1G
bad_input bad-seccomp "give on or off" --kernel "$KERNEL" --seccomp=maybe

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
