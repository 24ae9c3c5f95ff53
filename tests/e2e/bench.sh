#!/bin/sh
# kiln against QEMU's microvm, side by side, alternated A B A B, in one
# place (L1 of the nested sandbox, or a host with KVM). Prints
# "KILN-BENCH" table lines. Same kernel, initrd, memory and vCPUs.
set -u
: "${KILN:?}" "${KERNEL:?}" "${GUEST_INITRD:?}"
N=${KILN_BENCH_RUNS:-5}
RATE_N=${KILN_BENCH_RATE_N:-4}
IO_N=${KILN_BENCH_IO_RUNS:-5} # disk and network runs per side
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# part NAME: is this part asked for? KILN_E2E_ONLY=boot,mem,true,blk,net,vsock,oci
# (make bench KILN_E2E_ONLY=...) runs only those; the rest print "-".
part() {
	[ -z "${KILN_E2E_ONLY:-}" ] && return 0
	case ",$KILN_E2E_ONLY," in *",$1,"*) return 0 ;; esac
	return 1
}
MEM=256
QEMU=${QEMU:-qemu-system-x86_64}
W=${TMPDIR:-/tmp}/kiln-bench

# Both exec, so "(run_X ...) &" leaves $! naming the monitor itself.
run_kiln() { # APPEND
	exec "$KILN" run --boot-timer --kernel "$KERNEL" --initrd "$GUEST_INITRD" \
		--mem ${MEM}M --append "$1 kiln.boottimer"
}

# The kernel cache cold (emptied before each boot), and off (the bzImage
# decompresses itself, as it does under QEMU).
run_kiln_cold() { # APPEND
	rm -rf "$W/kc-cold"
	KILN_CACHE=$W/kc-cold exec "$KILN" run --kernel "$KERNEL" \
		--initrd "$GUEST_INITRD" --mem ${MEM}M --append "$1"
}

run_kiln_nocache() { # APPEND
	exec "$KILN" run --kernel-cache=off --kernel "$KERNEL" \
		--initrd "$GUEST_INITRD" --mem ${MEM}M --append "$1"
}

# The same guest through Firecracker's API: the socket open all along.
run_kiln_api() { # APPEND
	cat >"$W/api.json" <<EOT
{ "boot-source": { "kernel_image_path": "$KERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "console=ttyS0 reboot=k panic=-1 pci=off $1" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": $MEM } }
EOT
	rm -f "$W/api.sock"
	exec "$KILN" --api-sock "$W/api.sock" --config-file "$W/api.json"
}

# The disk benchmark: kiln's guest kernel, one raw disk as /dev/vda.
run_kiln_blk() {
	exec "$KILN" run --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
		--mem ${MEM}M --disk "$W/bench.img" --append "quiet kt=blkbench"
}

run_qemu_blk() {
	exec "$QEMU" -accel kvm -M microvm,acpi=off -cpu host -m $MEM -smp 1 \
		-nographic -no-reboot -nodefaults -serial stdio \
		-global virtio-mmio.force-legacy=false \
		-drive id=d0,file="$W/bench.img",format=raw,if=none \
		-device virtio-blk-device,drive=d0 \
		-kernel "$GKERNEL" -initrd "$GUEST_INITRD" \
		-append "console=ttyS0 reboot=t panic=-1 quiet kt=blkbench" </dev/null
}

# The network benchmark: one NIC on the TAP ktapb, 50 MiB each way.
run_kiln_net() {
	exec "$KILN" run --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
		--mem ${MEM}M --net tap=ktapb --append "quiet kt=netbench"
}

run_qemu_net() {
	exec "$QEMU" -accel kvm -M microvm,acpi=off -cpu host -m $MEM -smp 1 \
		-nographic -no-reboot -nodefaults -serial stdio \
		-global virtio-mmio.force-legacy=false \
		-netdev tap,id=n0,ifname=ktapb,script=no,downscript=no \
		-device virtio-net-device,netdev=n0 \
		-kernel "$GKERNEL" -initrd "$GUEST_INITRD" \
		-append "console=ttyS0 reboot=t panic=-1 quiet kt=netbench" </dev/null
}

# net_once kiln|qemu: one VM, 50 MiB guest->host then host->guest;
# appends "up=Mb/s down=Mb/s" (measured on the host side) to net-M.t.
net_once() {
	head -c 52428800 /dev/zero >"$W/net-to-guest"
	tcpxfer recv 5002 "$W/net-from-guest" >"$W/net-recv.log" 2>&1 &
	rp=$!
	("run_${1}_net") >"$W/net-$1.log" 2>&1 </dev/null &
	vp=$!
	j=0
	while [ $j -lt 600 ] && kill -0 $vp 2>/dev/null &&
		! tr -d '\r' <"$W/net-$1.log" | grep -q 'KILN-GUEST-tcpxfer listening'; do
		sleep 0.2
		j=$((j + 1))
	done
	tcpxfer send 192.0.2.2 5001 "$W/net-to-guest" >"$W/net-send.log" 2>&1
	wait $rp
	j=0
	while [ $j -lt 300 ] && kill -0 $vp 2>/dev/null; do
		sleep 0.2
		j=$((j + 1))
	done
	kill -KILL $vp 2>/dev/null
	wait $vp 2>/dev/null
	echo "up=$(sed -n 's/.*mbps=//p' "$W/net-recv.log") down=$(sed -n 's/.*mbps=//p' "$W/net-send.log")" >>"$W/net-$1.t"
	rm -f "$W/net-to-guest" "$W/net-from-guest"
}

# vsock: one stream guest->host, then one host->guest (64 MiB each),
# kiln's UNIX-socket host side against QEMU's vhost-vsock-device (L1's
# vhost_vsock: its host end is an AF_VSOCK socket to CID 3).
run_kiln_vsock() {
	exec "$KILN" run --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
		--mem ${MEM}M --vsock "$W/bv.sock,cid=3" --append "quiet kt=vsockbench"
}

run_qemu_vsock() {
	exec "$QEMU" -accel kvm -M microvm,acpi=off -cpu host -m $MEM -smp 1 \
		-nographic -no-reboot -nodefaults -serial stdio \
		-global virtio-mmio.force-legacy=false \
		-device vhost-vsock-device,guest-cid=3 \
		-kernel "$GKERNEL" -initrd "$GUEST_INITRD" \
		-append "console=ttyS0 reboot=t panic=-1 quiet kt=vsockbench" </dev/null
}

# vsock_once kiln|qemu: appends "up=Mb/s down=Mb/s" (host side) to vs-M.t.
vsock_once() {
	rm -f "$W"/bv.sock*
	if [ "$1" = kiln ]; then
		set -- kiln "listen-uds $W/bv.sock_5000" "connect-uds $W/bv.sock 6000"
	else
		set -- qemu "listen-vsock 5000" "connect-vsock 3 6000"
	fi
	# shellcheck disable=SC2086
	vsockxfer $2 1 0:67108864 >"$W/vs-up.log" 2>&1 &
	lp=$!
	("run_${1}_vsock") >"$W/vs-$1.log" 2>&1 </dev/null &
	vp=$!
	j=0
	while [ $j -lt 600 ] && kill -0 $vp 2>/dev/null &&
		! tr -d '\r' <"$W/vs-$1.log" | grep -q 'vsockxfer listening'; do
		sleep 0.2
		j=$((j + 1))
	done
	# shellcheck disable=SC2086
	vsockxfer $3 1 67108864:0 >"$W/vs-down.log" 2>&1
	wait $lp
	j=0
	while [ $j -lt 300 ] && kill -0 $vp 2>/dev/null; do
		sleep 0.2
		j=$((j + 1))
	done
	kill -KILL $vp 2>/dev/null
	wait $vp 2>/dev/null
	echo "up=$(sed -n 's/.* ok mbps=//p' "$W/vs-up.log") down=$(sed -n 's/.* ok mbps=//p' "$W/vs-down.log")" >>"$W/vs-$1.t"
}

# Every device kiln has, for the resident-memory row: a disk, a NIC on a
# TAP, vsock, a balloon with statistics, entropy, the serial console.
run_kiln_all() { # APPEND
	exec "$KILN" run --kernel "$GKERNEL" --initrd "$GUEST_INITRD" \
		--mem ${MEM}M --disk "$W/bench.img" --net tap=ktapm \
		--vsock "$W/ball.sock" --balloon 0,stats=1,reporting --append "$1"
}

run_qemu() { # APPEND
	exec "$QEMU" -accel kvm -M microvm,acpi=off -cpu host -m $MEM -smp 1 \
		-nographic -no-reboot -nodefaults -serial stdio \
		-kernel "$KERNEL" -initrd "$GUEST_INITRD" \
		-append "console=ttyS0 reboot=t panic=-1 pci=off $1" </dev/null
}

# `kiln run -- true` and QEMU running the same kernel, init and root (the
# host's / over 9p, read-only) with the same named console ports.
run_kiln_true() {
	exec "$KILN" run --kernel "$GKERNEL" --mem ${MEM}M -- true
}

run_qemu_true() {
	exec "$QEMU" -accel kvm -M microvm,acpi=off -cpu host -m $MEM -smp 1 \
		-nographic -no-reboot -nodefaults -serial null \
		-global virtio-mmio.force-legacy=false \
		-device virtio-serial-device,max_ports=5 \
		-chardev null,id=cin -device virtserialport,chardev=cin,name=kiln.stdin \
		-chardev file,id=cout,path="$W/q-out${QTAG:-}" -device virtserialport,chardev=cout,name=kiln.stdout \
		-chardev file,id=cerr,path="$W/q-err${QTAG:-}" -device virtserialport,chardev=cerr,name=kiln.stderr \
		-chardev file,id=cst,path="$W/q-status${QTAG:-}" -device virtserialport,chardev=cst,name=kiln.status \
		-fsdev local,id=r,path=/,security_model=none,readonly=on \
		-device virtio-9p-device,fsdev=r,mount_tag=kiln.root \
		-kernel "$GKERNEL" -initrd "$QINIT" \
		-append "console=ttyS0 reboot=t panic=-1 pci=off quiet rdinit=/kiln/init" </dev/null
}

[ "${KILN_BENCH_SOURCE:-}" = 1 ] && return 0
SELF=$(readlink -f "$0")
mkdir -p "$W"
rm -f "$W"/*.t

# kiln's kernel cache warmed once: the plain kiln rows are warm boots.
part boot && (run_kiln 'quiet kt=boot') >/dev/null 2>&1 </dev/null
i=1
part boot || i=$((N + 1))
while [ $i -le "$N" ]; do
	echo "KILN-BENCH-STEP boot $i"
	for m in kiln qemu kiln_cold kiln_nocache; do
		timeto KILN-GUEST-INIT --log "$W/$m-$i.log" -- \
			sh -c "KILN_BENCH_SOURCE=1 . '$SELF'; run_$m 'quiet kt=boot'" \
			2>>"$W/$m.t" </dev/null
	done
	i=$((i + 1))
done

# stats FILE FIELD: median min max of a timeto field over the runs.
stats() {
	sed -n "s/.*$2=\([-0-9.]*\).*/\1/p" "$1" | sort -n | awk '
		{ v[NR] = $1 }
		END { if (NR == 0) { print "- - -"; exit }
		      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}

# The VMM's share of a boot: wall time to the guest's init minus the
# guest's own uptime at init (what the guest kernel spent), per run.
for m in kiln qemu kiln_cold kiln_nocache; do
	i=1
	while [ $i -le "$N" ]; do
		wall=$(sed -n "${i}s/.*marker_ms=\([0-9.]*\).*/\1/p" "$W/$m.t")
		up=$(tr -d '\r' <"$W/$m-$i.log" | sed -n 's/^KILN-GUEST-INIT uptime=\([0-9.]*\).*/\1/p' | head -n1)
		[ -n "$wall" ] && [ -n "$up" ] &&
			awk -v w="$wall" -v u="$up" 'BEGIN { printf "share_ms=%.1f\n", w - u * 1000 }'
		i=$((i + 1))
	done >"$W/$m-share.t"
done

# The boot timer's line in each kiln boot log, in ms.
for f in "$W"/kiln-[0-9]*.log; do
	tr -d '\r' <"$f" | sed -n 's/.*boot-timer: guest 123 at \([0-9]*\) us (kiln CPU \([0-9]*\) us); first KVM_RUN at \([0-9]*\) us (CPU \([0-9]*\) us).*/\1 \2 \3 \4/p' |
		awk '{ printf "bt_ms=%.1f btcpu_ms=%.1f run_ms=%.1f runcpu_ms=%.1f\n", $1 / 1000, $2 / 1000, $3 / 1000, $4 / 1000 }'
done >"$W/kiln-bt.t"

# overhead M: resident KiB of process $pid outside mappings of >= M MiB
# (guest RAM), from /proc/PID/smaps.
overhead() {
	awk -v big=$(($1 * 1024)) '
		/^Size:/ { sz = $2; next }
		/^Rss:/ { if (sz < big) sum += $2 }
		END { print sum + 0 }' "/proc/$pid/smaps"
}

mem_of() { # kiln|qemu: start the guest, wait for init, measure, stop
	("run_$1" "quiet kt=sleep") >"$W/$1-mem.log" 2>&1 </dev/null &
	pid=$!
	j=0
	while [ $j -lt 600 ] && ! grep -q KILN-GUEST-SLEEPING "$W/$1-mem.log"; do
		sleep 0.2
		j=$((j + 1))
	done
	# The API serves one request before the reading.
	[ "$1" != kiln_api ] || fcreq "$W/api.sock" GET / >/dev/null 2>&1
	sleep 1
	overhead $MEM
	# Where it goes: the five biggest mappings, for the note below.
	awk -v big=$(($MEM * 1024)) '
		/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "") ? "[anon]" : $6 }
		/^Size:/ { sz = $2 }
		/^Rss:/ { if (sz < big && $2 > 0) rss[name] += $2 }
		END { for (n in rss) print rss[n], n }' "/proc/$pid/smaps" |
		sort -rn | head -5 | awk '{ printf "%s %s KiB; ", $2, $1 }' >"$W/$1-mem-top"
	kill -TERM $pid 2>/dev/null
	wait $pid 2>/dev/null
}


if part mem && [ -n "${GKERNEL:-}" ] && [ -c /dev/net/tun ]; then
	ip link del ktapm 2>/dev/null
	tunctl -t ktapm >/dev/null
	dd if=/dev/zero of="$W/bench.img" bs=1M count=16 2>/dev/null
	rm -f "$W/ball.sock"
	kallm=$(mem_of kiln_all)
	cp "$W/kiln_all-mem-top" "$W/kiln-all-top"
	ip link del ktapm 2>/dev/null
fi
km=$(mem_of kiln)
cp "$W/kiln-mem-top" "$W/kiln-mem-top.run"
kam=$(mem_of kiln_api)
cp "$W/kiln-mem-top.run" "$W/kiln-mem-top"
qm=$(mem_of qemu)
ks=$(stat -c %s "$(readlink -f "$KILN")")
qs=$(stat -c %s "$(command -v "$QEMU")")
# Shared-library counts come from the host when L1 has no ldd.
if [ -f /e2e/bench-facts ]; then
	. /e2e/bench-facts
else
	kl=$(ldd "$KILN" 2>/dev/null | grep -c '=>')
	ql=$(ldd "$(command -v "$QEMU")" 2>/dev/null | grep -c '=>')
fi

set -- $(stats "$W/kiln.t" marker_ms)
k_init=$1 k_min=$2 k_max=$3
set -- $(stats "$W/qemu.t" marker_ms)
q_init=$1 q_min=$2 q_max=$3
set -- $(stats "$W/kiln.t" total_ms)
k_tot=$1 kt_min=$2 kt_max=$3
set -- $(stats "$W/qemu.t" total_ms)
q_tot=$1 qt_min=$2 qt_max=$3
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# row NAME UNIT K-MED K-MIN K-MAX Q-MED Q-MIN Q-MAX [NOTE]: one table line,
# and one JSON object for the results file ("-" where there is no figure).
: >"$W/json"
row() {
	r=$(ratio "$3" "$6")
	if [ "$6" = - ]; then
		printf 'KILN-BENCH %-34s %9s %-4s [%s-%s]  %-28s %s\n' "$1" "$3" "$2" "$4" "$5" "${9:-n/a}" "-"
	else
		printf 'KILN-BENCH %-34s %9s %-4s [%s-%s]  %9s %-4s [%s-%s]  %s\n' "$1" "$3" "$2" "$4" "$5" "$6" "$2" "$7" "$8" "$r"
	fi
	num() { case $1 in -|'') echo null ;; *) echo "$1" ;; esac; }
	printf '{"metric":"%s","unit":"%s","kiln":{"median":%s,"min":%s,"max":%s},"qemu":{"median":%s,"min":%s,"max":%s},"ratio":%s,"note":"%s"}\n' \
		"$1" "$2" "$(num "$3")" "$(num "$4")" "$(num "$5")" "$(num "$6")" "$(num "$7")" "$(num "$8")" "$(num "$r")" "${9:-}" >>"$W/json"
}

echo "KILN-BENCH metric                            kiln (median [min-max])       qemu microvm (median [min-max])  kiln/qemu"
set -- $(stats "$W/kiln-bt.t" bt_ms)
bt="$1 $2 $3"
row "start to guest init, boot timer" ms $bt - - - "not the same hook: see the serial row"
row "start to guest init, serial ($N runs)" ms "$k_init" "$k_min" "$k_max" "$q_init" "$q_min" "$q_max" "kiln: kernel cache warm"
set -- $(stats "$W/kiln_cold.t" marker_ms)
row "start to guest init, cold kernel cache" ms "$1" "$2" "$3" "$q_init" "$q_min" "$q_max"
set -- $(stats "$W/kiln_nocache.t" marker_ms)
row "start to guest init, --kernel-cache=off" ms "$1" "$2" "$3" "$q_init" "$q_min" "$q_max"
set -- $(stats "$W/qemu-share.t" share_ms)
qs1=$1 qs2=$2 qs3=$3
set -- $(stats "$W/kiln-share.t" share_ms)
row "VMM's share of boot (wall - guest uptime)" ms "$1" "$2" "$3" "$qs1" "$qs2" "$qs3" "kiln: warm cache"
set -- $(stats "$W/kiln_nocache-share.t" share_ms)
row "VMM's share, --kernel-cache=off" ms "$1" "$2" "$3" "$qs1" "$qs2" "$qs3"
row "start to exit, guest runs true" ms "$k_tot" "$kt_min" "$kt_max" "$q_tot" "$qt_min" "$qt_max"
set -- $(stats "$W/kiln-bt.t" runcpu_ms)
row "CPU before the first KVM_RUN" ms "$1" "$2" "$3" - - - "no such hook in QEMU"
set -- $(stats "$W/kiln-bt.t" run_ms)
row "wall time to the first KVM_RUN" ms "$1" "$2" "$3" - - - "no such hook in QEMU"
row "resident beyond guest RAM" KiB "$km" "$km" "$km" "$qm" "$qm" "$qm"
echo "KILN-BENCH note: kiln's resident set by mapping: $(cat "$W/kiln-mem-top")"
row "resident beyond guest RAM, API socket" KiB "$kam" "$kam" "$kam" "$qm" "$qm" "$qm" "kiln --api-sock --config-file, one connection served"
if [ -n "${kallm:-}" ]; then
	row "resident beyond guest RAM, every device" KiB "$kallm" "$kallm" "$kallm" "$qm" "$qm" "$qm" "disk, TAP NIC, vsock, balloon (stats, reporting), rng"
	echo "KILN-BENCH note: with every device: $(cat "$W/kiln-all-top")"
fi
row "binary size" B "$ks" "$ks" "$ks" "$qs" "$qs" "$qs"
row "shared libraries" libs "$kl" "$kl" "$kl" "$ql" "$ql" "$ql"
# `kiln run -- true` against QEMU running the same init to the same end.
QINIT=${QINIT:-/e2e/qinit.cpio}
if part true && [ -n "${GKERNEL:-}" ] && [ -f "$QINIT" ]; then
	rm -f "$W"/true-*.t
	i=1
	while [ $i -le "$N" ]; do
		echo "KILN-BENCH-STEP run-true $i"
		for m in kiln qemu; do
			rm -f "$W/q-status"
			timeto KILN-NO-MARKER --log "$W/true-$m-$i.log" -- \
				sh -c "KILN_BENCH_SOURCE=1 QINIT='$QINIT' . '$SELF'; run_${m}_true" \
				2>>"$W/true-$m.t" </dev/null
			if [ $m = qemu ] && ! grep -q 'exit 0' "$W/q-status" 2>/dev/null; then
				echo "KILN-BENCH note: QEMU's guest did not report 'exit 0' (run $i)"
			fi
		done
		i=$((i + 1))
	done
	set -- $(stats "$W/true-kiln.t" total_ms)
	k_true=$1 ktr_min=$2 ktr_max=$3
	set -- $(stats "$W/true-qemu.t" total_ms)
	row "kiln run -- true, wall ($N runs)" ms "$k_true" "$ktr_min" "$ktr_max" "$1" "$2" "$3"
	# Start-up rate: VMs that reached init and exited, per second, one
	# after another and all at once.
	for m in kiln qemu; do
		t0=$(now_ms)
		i=1
		while [ $i -le "$RATE_N" ]; do
			(KILN_BENCH_SOURCE=1 QINIT=$QINIT QTAG=-s$i . "$SELF"; run_${m}_true) >/dev/null 2>&1 </dev/null
			i=$((i + 1))
		done
		t1=$(now_ms)
		i=1
		pids=
		while [ $i -le "$RATE_N" ]; do
			(KILN_BENCH_SOURCE=1 QINIT=$QINIT QTAG=-p$i . "$SELF"; run_${m}_true) >/dev/null 2>&1 </dev/null &
			pids="$pids $!"
			i=$((i + 1))
		done
		wait $pids
		t2=$(now_ms)
		eval "${m}_seq=\$(awk -v n=$RATE_N -v t=\$((t1 - t0)) 'BEGIN { printf \"%.2f\", n * 1000 / t }')"
		eval "${m}_par=\$(awk -v n=$RATE_N -v t=\$((t2 - t1)) 'BEGIN { printf \"%.2f\", n * 1000 / t }')"
	done
	row "start-up rate, $RATE_N one by one" VM/s "$kiln_seq" "$kiln_seq" "$kiln_seq" "$qemu_seq" "$qemu_seq" "$qemu_seq"
	row "start-up rate, $RATE_N at once" VM/s "$kiln_par" "$kiln_par" "$kiln_par" "$qemu_par" "$qemu_par" "$qemu_par"
fi
# Disk throughput, alternated, when kiln's guest kernel is there.
if part blk && [ -n "${GKERNEL:-}" ]; then
	rm -f "$W"/blk-*.t
	i=1
	while [ $i -le $IO_N ]; do
		echo "KILN-BENCH-STEP blk $i"
		for m in kiln qemu; do
			# Allocated up front: a sparse image would time the host
			# file system's allocation (L1's tmpfs) more than the device.
			rm -f "$W/bench.img"
			dd if=/dev/zero of="$W/bench.img" bs=1M count=128 2>/dev/null
			(run_${m}_blk) 2>&1 | tr -d '\r' |
				grep '^KILN-GUEST-randio' >>"$W/blk-$m.t"
		done
		i=$((i + 1))
	done
	for what in "write seq_mbps" "write rand_iops" "read seq_mbps" "read rand_iops"; do
		set -- $what
		set -- $1 $2 $(grep "randio $1 " "$W/blk-kiln.t" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p" | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] " " v[1] " " v[NR] : "- - -") }')
		kv="$3 $4 $5"
		set -- $1 $2 $(grep "randio $1 " "$W/blk-qemu.t" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p" | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] " " v[1] " " v[NR] : "- - -") }')
		unit=MB/s
		[ "$2" = rand_iops ] && unit=IOPS
		row "virtio-blk $1 ${2%%_*} ($IO_N runs)" $unit $kv $3 $4 $5
	done
fi
# TCP over virtio-net on a TAP, alternated, when there is a TAP to use.
if part net && [ -n "${GKERNEL:-}" ] && [ -c /dev/net/tun ] && command -v tcpxfer >/dev/null; then
	ip link del ktapb 2>/dev/null
	tunctl -t ktapb >/dev/null
	ip addr add 192.0.2.1/24 dev ktapb
	ip link set ktapb up
	export TCPXFER_PREFIX=
	rm -f "$W"/net-*.t
	i=1
	while [ $i -le $IO_N ]; do
		echo "KILN-BENCH-STEP net $i"
		net_once kiln
		net_once qemu
		i=$((i + 1))
	done
	ip link del ktapb 2>/dev/null
	for what in up down; do
		med3() { sed -n "s/.*$what=\([0-9.]*\).*/\1/p" "$1" | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] " " v[1] " " v[NR] : "- - -") }'; }
		label="guest->host"
		[ $what = down ] && label="host->guest"
		row "virtio-net TCP $label ($IO_N runs)" Mb/s $(med3 "$W/net-kiln.t") $(med3 "$W/net-qemu.t")
	done
fi
# vsock, alternated, when L1 has vhost_vsock for QEMU's side.
if part vsock && [ -n "${GKERNEL:-}" ] && command -v vsockxfer >/dev/null; then
	[ -c /dev/vhost-vsock ] || echo "KILN-BENCH note: no /dev/vhost-vsock in L1: QEMU's vsock rows will be empty"
	export TCPXFER_PREFIX=
	rm -f "$W"/vs-*.t
	i=1
	while [ $i -le $IO_N ]; do
		echo "KILN-BENCH-STEP vsock $i"
		vsock_once kiln
		vsock_once qemu
		i=$((i + 1))
	done
	for what in up down; do
		med3() { sed -n "s/.*$what=\([0-9.]*\).*/\1/p" "$1" | sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] " " v[1] " " v[NR] : "- - -") }'; }
		label="guest->host"
		[ $what = down ] && label="host->guest"
		row "vsock stream $label ($IO_N runs)" Mb/s $(med3 "$W/vs-kiln.t") $(med3 "$W/vs-qemu.t") "QEMU: vhost-vsock-device (in-kernel data path)"
	done
fi
# Containers: podman with kiln as its runtime against podman with crun (a
# plain container, no VM), the same busybox image, alternated.
if part oci && command -v podman >/dev/null && command -v crun >/dev/null; then
	mkdir -p "$W/bb/bin" /var/tmp
	cp /bin/busybox "$W/bb/bin/"
	for a in sh true sleep cat; do ln -sf busybox "$W/bb/bin/$a"; done
	tar -C "$W/bb" -cf "$W/bb.tar" . &&
		podman import --change 'CMD ["/bin/sh"]' "$W/bb.tar" localhost/bb >/dev/null 2>&1
	: >"$W/oci-kiln.t"
	: >"$W/oci-crun.t"
	i=0
	while [ $i -lt "$N" ]; do
		for rt in kiln crun; do
			r=$KILN
			[ $rt = crun ] && r=$(command -v crun)
			t0=$(now_ms)
			podman --runtime "$r" run --rm --network none localhost/bb true >/dev/null 2>&1 &&
				echo $(($(now_ms) - t0)) >>"$W/oci-$rt.t"
		done
		i=$((i + 1))
	done
	med_of() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] " " v[1] " " v[NR] : "- - -") }'; }
	row "podman run --rm true ($N runs)" ms $(med_of "$W/oci-kiln.t") $(med_of "$W/oci-crun.t") "second column: crun, a plain container"
	# Idle containers of 128 MiB: kiln's own resident memory beyond guest
	# RAM each, and L1's memory each takes (MemAvailable before and
	# after), up to KILN_BENCH_OCI_MAX of them or 512 MiB left.
	avail() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }
	max=${KILN_BENCH_OCI_MAX:-8}
	a0=$(avail)
	n=0
	: >"$W/oci-rss.t"
	while [ $n -lt "$max" ] && [ "$(avail)" -gt 524288 ]; do
		podman --runtime "$KILN" run -d --name "idle$n" --memory 128m --network none \
			localhost/bb sleep 1000000 >/dev/null 2>&1 || break
		pid=$(podman inspect "idle$n" --format '{{.State.Pid}}' 2>/dev/null)
		# Booted: its process runs in the guest.
		j=0
		while [ $j -lt 300 ] && ! podman exec "idle$n" true >/dev/null 2>&1; do
			sleep 0.5
			j=$((j + 1))
		done
		[ -n "$pid" ] && [ -r "/proc/$pid/smaps" ] && overhead 128 >>"$W/oci-rss.t"
		n=$((n + 1))
	done
	sleep 2
	a1=$(avail)
	per=$(((a0 - a1) / (n > 0 ? n : 1)))
	fit=$((n + a1 / (per > 0 ? per : 1)))
	row "kiln resident per container, beyond RAM" KiB $(med_of "$W/oci-rss.t") - - - "podman run -d --memory 128m, $n idle"
	row "L1 memory per idle 128 MiB container" KiB "$per" "$per" "$per" - - - "MemAvailable drop over $n containers"
	row "idle 128 MiB containers L1 holds" n "$fit" "$fit" "$fit" - - - "$n started, the rest of MemAvailable at that rate"
	i=0
	while [ $i -lt $n ]; do
		podman --runtime "$KILN" rm -f "idle$i" >/dev/null 2>&1
		i=$((i + 1))
	done
fi
where="$(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, guest ${MEM} MiB 1 vCPU"
echo "KILN-BENCH where: $where, kernel $(basename "$KERNEL")"
echo "KILN-BENCH-JSON {\"where\":\"$where\",\"runs\":$N,\"metrics\":[$(paste -sd, "$W/json")]}"
