#!/usr/bin/env bash
# Runs kiln's end-to-end cases against real guests: directly where /dev/kvm
# works, else inside the nested sandbox (an emulated L1 Linux with KVM).
#
#   tests/e2e/run.sh            the e2e cases; one line per case, then
#                               "N passed, N failed"
#   tests/e2e/run.sh --demo     boot a microVM to a busybox shell
#   tests/e2e/run.sh --bench    kiln vs QEMU, time to the guest's init
#   tests/e2e/run.sh --cmd 'kiln run -- uname -a'
#                               any command line, kiln's included, in the
#                               sandbox (kiln on its PATH with its own
#                               guest kernel); exits with the command's
#                               status.
#                               KILN_SANDBOX_FILES="PATH..." copies host
#                               files into the sandbox at the same paths.
#
# KILN_E2E_ARCH=aarch64 tests an aarch64 kiln (KILN, a static cross
# build) in the nested Arm sandbox: QEMU's emulated Arm CPU with EL2 and
# Debian's arm64 kernel as L1, KVM built in.
# KILN_E2E_MODE=direct|sandbox forces the mode. Logs of failed cases (and
# the L1 console) are kept in tests/e2e/logs/ (KILN_E2E_LOGS).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

JOB=test
case "${1:-}" in
--demo) JOB=demo ;;
--bench) JOB=bench ;;
--cmd)
	JOB=cmd
	SANDBOX_CMD=${2:-}
	[ -n "$SANDBOX_CMD" ] || die "--cmd needs a command line, e.g. 'kiln run -- uname -a'"
	# Said before anything is fetched or built.
	for f in ${KILN_SANDBOX_FILES:-}; do
		[ -e "$f" ] || die "KILN_SANDBOX_FILES: '$f' does not exist"
	done
	;;
"") ;;
*) die "unknown option $1" ;;
esac

KILN=${KILN:-$ROOT/kiln}
[ -x "$KILN" ] || die "no kiln binary at $KILN: run make first"
LOGS=${KILN_E2E_LOGS:-$ROOT/tests/e2e/logs}
mkdir -p "$LOGS"
# A test run's logs replace the last one's; the other jobs keep them.
[ "$JOB" != test ] || rm -f "$LOGS"/*.out "$LOGS"/*.err "$LOGS"/l1-console.log

MODE=${KILN_E2E_MODE:-}
if [ -z "$MODE" ]; then
	if [ "$E2E_ARCH" = "$(uname -m)" ] && kvm_usable; then MODE=direct; else MODE=sandbox; fi
fi

need_pkgs /bin/busybox:busybox-static cpio:cpio xz:xz-utils
if [ "$MODE" = sandbox ]; then
	case $E2E_ARCH in
	x86_64) need_pkgs qemu-system-x86_64:qemu-system-x86 ;;
	aarch64) need_pkgs qemu-system-aarch64:qemu-system-arm ;;
	esac
fi
fetch_debian_kernel
fetch_busybox

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kiln-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
GUEST_INITRD=$WORK/guest-initrd.gz
make_guest_initrd "$GUEST_INITRD"

# kiln's own guest kernel (virtio over MMIO), built once and cached, and an
# ext4 root filesystem image for it. KILN_E2E_GUEST_KERNEL=0 skips both.
GKERNEL= ROOTFS=
if [ "${KILN_E2E_GUEST_KERNEL:-1}" != 0 ] && [ "$JOB" != demo ]; then
	GK_DIR=$(ARCH=$E2E_ARCH "$ROOT/guest-kernel-config/build.sh") ||
		die "cannot build the guest kernel (guest-kernel-config/build.sh)"
	case $E2E_ARCH in
	x86_64) GKERNEL=$GK_DIR/bzImage ;;
	aarch64) GKERNEL=$GK_DIR/Image ;;
	esac
	# Also where kiln looks for its own kernel (guest-kernel/ beside the
	# binary, as make guest-kernel puts it): ./kiln run finds it after.
	mkdir -p "$ROOT/build/$E2E_ARCH/guest-kernel"
	cp "$GK_DIR"/* "$ROOT/build/$E2E_ARCH/guest-kernel/"
	ROOTFS=$WORK/rootfs.ext4
	make_rootfs_image "$ROOTFS"
fi

# summarize FILE: turns KILN-TEST lines into the report; sets FAILED.
summarize() {
	local pass=0 fail=0 name verdict rest
	while read -r _ name verdict rest; do
		if [ "$verdict" = PASS ]; then
			pass=$((pass + 1))
			printf 'PASS %-22s %s\n' "$name" "$rest"
		else
			fail=$((fail + 1))
			printf 'FAIL %-22s %s\n' "$name" "$rest"
		fi
	done < <(tr -d '\r' <"$1" | grep -a '^KILN-TEST ')
	# (No such line is the usual case: grep's status must not end the run.)
	{ tr -d '\r' <"$1" | grep -a '^KILN-FROZE-AFTER ' || true; } | while read -r _ name rest; do
		printf 'RERUN %-21s %s (then L1 stalled; the result above is its rerun)\n' "$name" "$rest"
	done
	if [ $((pass + fail)) -eq 0 ]; then
		echo "FAIL e2e: no case ran (see $LOGS)"
		fail=1
	fi
	echo "e2e: $pass passed, $fail failed"
	FAILED=$fail
}

if [ "$MODE" = direct ]; then
	log "running directly on this host's /dev/kvm"
	RTT_DIR=
	[ "$JOB" != test ] || RTT_DIR=$(build_runtime_tools) || RTT_DIR=
	export KILN KERNEL=$DEB_VMLINUZ VMLINUX=$DEB_VMLINUX GUEST_INITRD \
		GKERNEL ROOTFS KILN_HOOKS=${KILN_HOOKS:-} RTT_DIR
	case $JOB in
	demo)
		exec "$KILN" run --kernel "$KERNEL" --initrd "$GUEST_INITRD" \
			--append "quiet kt=shell" ;;
	bench)
		PATH=$ROOT/build/$(uname -m):$PATH exec "$E2E_DIR/bench.sh" ;;
	cmd)
		PATH=$(dirname "$KILN"):$PATH exec sh -c "$SANDBOX_CMD" ;;
	esac
	LOGDIR=$LOGS/direct "$E2E_DIR/cases.sh" | tee "$WORK/results"
	summarize "$WORK/results"
	[ "$FAILED" -eq 0 ]
	exit
fi

# --- the nested sandbox ---
L1=$WORK/l1
make_busybox_root "$L1"
CROSS_ARCH=
[ "$E2E_ARCH" = "$(uname -m)" ] || CROSS_ARCH=$E2E_ARCH
if [ -n "$CROSS_ARCH" ]; then
	# Another arch's kiln is a static build: nothing to copy beside it.
	file -L "$KILN" 2>/dev/null | grep -q 'statically linked' ||
		die "$KILN: an $E2E_ARCH kiln must be linked static (make ARCH=$E2E_ARCH)"
	cp "$KILN" "$L1/bin/kiln"
else
	copy_with_libs "$KILN" "$L1"
	[ "$(basename "$KILN")" = kiln ] || mv "$L1/bin/$(basename "$KILN")" "$L1/bin/kiln"
fi
# A test build (sanitizers and test hooks) for the cases that need hooks.
if [ -n "${KILN_HOOKS:-}" ] && [ -z "$CROSS_ARCH" ]; then
	mkdir -p "$L1/hooks"
	copy_with_libs "$KILN_HOOKS" "$L1/hooks"
	mv "$L1/hooks/bin/$(basename "$KILN_HOOKS")" "$L1/bin/kiln-hooks"
	cp -an "$L1/hooks/." "$L1/"
	rm -rf "$L1/hooks"
fi
mkdir -p "$L1/modules" "$L1/guest" "$L1/e2e"
MODDIR=$DEB_KDIR/lib/modules/$DEB_KVER/kernel
# L1's modules, loaded in this order: KVM for AMD SVM (what QEMU's x86 CPU
# emulates), tun, loop (host block devices for the disk cases), and
# vhost_vsock (QEMU's vsock in the benchmark), and tc's ingress qdisc,
# matchall filter and mirred action (a container's network joined by its
# VM's TAP), and veth (such a network, made by hand);
# Debian's arm64 kernel has KVM built in. One the kernel has built in
# has no file.
case $E2E_ARCH in
x86_64) mods="virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd drivers/net/tun drivers/block/loop drivers/vhost/vhost_iotlb drivers/vhost/vhost net/vmw_vsock/vsock net/vmw_vsock/vmw_vsock_virtio_transport_common drivers/vhost/vhost_vsock net/sched/sch_ingress net/sched/cls_matchall net/sched/act_mirred drivers/net/veth" ;;
aarch64) mods="drivers/net/tun drivers/block/loop net/sched/sch_ingress net/sched/cls_matchall net/sched/act_mirred drivers/net/veth" ;;
esac
for m in $mods; do
	[ -f "$MODDIR/$m.ko" ] || continue
	cp "$MODDIR/$m.ko" "$L1/modules/"
	echo "$(basename "$m")" >>"$L1/modules/order"
done
# Test tools, passt for user-mode networking, and an unprivileged user.
for t in tcpxfer timeto ptyrun hostile blkzero locktest fcreq vsockxfer ocishim; do
	cp "$ROOT/build/$E2E_ARCH/$t" "$L1/bin/" 2>/dev/null || true
done
if command -v passt >/dev/null && [ -z "$CROSS_ARCH" ]; then
	copy_with_libs "$(command -v passt)" "$L1"
fi
# curl, for the API cases to speak as a Firecracker user does (the Arm
# sandbox uses kiln's test client instead).
if command -v curl >/dev/null && [ -z "$CROSS_ARCH" ]; then
	copy_with_libs "$(command -v curl)" "$L1"
fi
# podman and conmon, for the OCI runtime cases with the real client: large
# (~40 MB), so only for the plain kiln's pass on the host's arch.
if [ -z "$CROSS_ARCH" ] && [ "$KILN" != "${KILN_HOOKS:-}" ] &&
	{ [ "$JOB" = test ] || [ "$JOB" = bench ]; } &&
	command -v podman >/dev/null && command -v conmon >/dev/null; then
	copy_with_libs "$(command -v podman)" "$L1"
	copy_with_libs "$(command -v conmon)" "$L1"
	# slirp4netns: a container network with a published port, which the
	# VM joins.
	! command -v slirp4netns >/dev/null ||
		copy_with_libs "$(command -v slirp4netns)" "$L1"
	# crun: the plain container beside kiln's (the benchmark's, and the
	# runtime-tools validation tests' reference).
	! command -v crun >/dev/null || copy_with_libs "$(command -v crun)" "$L1"
	# The runtime-tools validation tests (test job only).
	if [ "$JOB" = test ] && RTT=$(build_runtime_tools); then
		mkdir -p "$L1/rtt"
		cp "$RTT"/*.t "$RTT/runtimetest" "$RTT/rootfs-amd64.tar.gz" "$L1/rtt/"
	fi
	mkdir -p "$L1/etc/containers"
	cp /etc/containers/policy.json "$L1/etc/containers/" 2>/dev/null || true
	mkdir -p "$L1/usr/share/containers"
	cp /usr/share/containers/seccomp.json "$L1/usr/share/containers/" 2>/dev/null || true
	# L1's root is a tmpfs without overlay: plain directories, no
	# systemd, events to a file.
	printf '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n' \
		>"$L1/etc/containers/storage.conf"
	printf '[engine]\nruntime = "kiln"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime_supports_json = ["kiln"]\n[engine.runtimes]\nkiln = ["/bin/kiln"]\ncrun = ["/bin/crun"]\n[containers]\nlog_driver = "k8s-file"\n' \
		>"$L1/etc/containers/containers.conf"
	printf 'unqualified-search-registries = []\n' >"$L1/etc/containers/registries.conf"
	# containerd, its runc shim and ctr: the other client (test job only).
	if [ "$JOB" = test ] && command -v containerd >/dev/null && command -v ctr >/dev/null &&
		command -v containerd-shim-runc-v2 >/dev/null; then
		for b in containerd containerd-shim-runc-v2 ctr; do
			copy_with_libs "$(command -v $b)" "$L1"
		done
	fi
fi
echo "root:x:0:0:root:/root:/bin/sh" >"$L1/etc/passwd"
echo "kt:x:1000:1000:kiln test user:/tmp:/bin/sh" >>"$L1/etc/passwd"
echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" >>"$L1/etc/passwd"
printf 'root:x:0:\nkt:x:1000:\nnogroup:x:65534:\n' >"$L1/etc/group"
cp "$DEB_VMLINUZ" "$L1/guest/vmlinuz"
[ -z "$DEB_VMLINUX" ] || cp "$DEB_VMLINUX" "$L1/guest/vmlinux"
cp "$GUEST_INITRD" "$L1/guest/initrd.gz"
if [ -n "$GKERNEL" ]; then
	cp "$GKERNEL" "$L1/guest/gkernel"
	cp "$ROOTFS" "$L1/guest/rootfs.ext4"
	# Where kiln looks for its own kernel: guest-kernel/ beside itself.
	mkdir -p "$L1/bin/guest-kernel"
	ln "$L1/guest/gkernel" "$L1/bin/guest-kernel/$(basename "$GKERNEL")"
fi
if [ "$JOB" = cmd ]; then
	printf '%s\n' "$SANDBOX_CMD" >"$L1/e2e/cmd"
	# Staged: L1's init puts them in place once its /tmp is mounted.
	for f in ${KILN_SANDBOX_FILES:-}; do
		f=$(realpath "$f")
		mkdir -p "$L1/sandbox-files$(dirname "$f")"
		cp -a "$f" "$L1/sandbox-files$f"
	done
fi
cp "$E2E_DIR/cases.sh" "$E2E_DIR/cases-run.sh" "$E2E_DIR/cases-harden.sh" "$E2E_DIR/cases-api.sh" \
	"$E2E_DIR/cases-boot.sh" "$E2E_DIR/cases-devices.sh" "$E2E_DIR/cases-oci.sh" \
	"$E2E_DIR/bench.sh" "$L1/e2e/"
cp "$E2E_DIR/l1-init.sh" "$L1/init"
if [ "$JOB" = bench ]; then
	. "$E2E_DIR/bench-lib.sh"
	bench_add_qemu "$L1"
fi
# Uncompressed: decompressing under emulation costs more than copying.
make_cpio "$L1" "$WORK/l1.cpio"

case $E2E_ARCH in
x86_64)
	QEMU=(qemu-system-x86_64 -accel tcg -cpu max -m "${KILN_L1_MEM:-6G}")
	# Someone watches the demo and make sandbox: qboot (Debian's QEMU
	# ships it) instead of SeaBIOS prints nothing on the serial console
	# (SeaBIOS resets their terminal) and boots L1 a second sooner. The
	# test and bench jobs keep the firmware their figures were taken with.
	case $JOB in demo | cmd) QEMU+=(-bios qboot.rom) ;; esac
	L1_CONSOLE=ttyS0 ;;
aarch64)
	# EL2 for KVM (VHE), GICv3; the cheap pointer-authentication
	# algorithm: Debian's kernel uses it everywhere.
	# KILN_E2E_GIC=2: an L1 with a GICv2 only, for kiln's fallback.
	QEMU=(qemu-system-aarch64 -M "virt,virtualization=on,gic-version=${KILN_E2E_GIC:-3}"
		-cpu max,pauth-impdef=on -accel tcg -m "${KILN_L1_MEM:-4G}")
	L1_CONSOLE=ttyAMA0 ;;
esac
QEMU+=(-smp "${KILN_L1_CPUS:-2}" -nographic -no-reboot -nic none
	-kernel "$DEB_VMLINUZ" -initrd "$WORK/l1.cpio")
APPEND="console=$L1_CONSOLE quiet panic=-1 kiln.job=$JOB ${KILN_E2E_ONLY:+kiln.only=$KILN_E2E_ONLY} ${KILN_E2E_DEBUG:+kiln.debug=1} ${KILN_E2E_VERBOSE:+kiln.verbose=1} ${KILN_E2E_TIMEOUT:+kiln.timeout=$KILN_E2E_TIMEOUT} ${KILN_BENCH_RUNS:+kiln.bench_runs=$KILN_BENCH_RUNS} ${KILN_BENCH_IO_RUNS:+kiln.bench_io=$KILN_BENCH_IO_RUNS}"
# The GIC L1 has, which kiln's guests must then see.
[ "$E2E_ARCH" = aarch64 ] && APPEND="$APPEND kiln.gic=${KILN_E2E_GIC:-3}"

# run_l1 CONSOLE STALL [KERNEL-ARGS]: boots L1 once, its console to
# CONSOLE. With STALL > 0, an L1 that prints no KILN- line for that long
# (a case takes far less; a hung guest is killed after 150 s), or that
# reports a CPU soft-locked up for a minute, is stopped: the emulated L1
# now and then stalls as a whole (TCG emulating nested SVM), and then
# nothing inside it can time out. L1 is stopped in any case after
# L1_LIMIT seconds (KILN_L1_TIMEOUT, 2400 by default). Sets QRC, and
# STALLED when it stopped L1.
# cmd_status CONSOLE: the command's exit status the console reports.
cmd_status() {
	tr -d '\r' <"$1" | sed -En 's/^(kiln|the command) exited with status ([0-9]+)$/\2/p' | tail -n1
}
L1_LIMIT=${KILN_L1_TIMEOUT:-2400}
run_l1() {
	local console=$1 stall=$2 extra=${3:-} last=-1 size idle=0 start=$SECONDS qpid check why
	STALLED=0
	TIMED_OUT=0
	"${QEMU[@]}" -append "$APPEND $extra" </dev/null >"$console" 2>&1 &
	qpid=$!
	# Someone may be reading: the console as it comes.
	[ -z "${L1_ECHO:-}" ] || tail -n +1 -f --pid=$qpid "$console" &
	while kill -0 $qpid 2>/dev/null; do
		sleep 5
		# Progress is a line of ours: kernel warnings (soft lockups of a
		# stuck L1) do not count.
		size=$(tr -d '\r' <"$console" | grep -ac '^KILN-' || true)
		if [ "$size" != "$last" ]; then
			last=$size
			idle=0
		else
			idle=$((idle + 5))
		fi
		# Once the cmd job's command runs, it may be silent as it likes.
		check=$stall
		[ "$JOB" = cmd ] && [ "$size" -gt 0 ] && check=0
		why=
		if [ "$check" -gt 0 ] && [ $idle -ge "$check" ]; then
			why="L1 made no progress for $idle s"
		elif [ $((SECONDS - start)) -ge "$L1_LIMIT" ]; then
			why="L1 ran for its $L1_LIMIT s"
			TIMED_OUT=1
		elif [ "$stall" -gt 0 ] && [ $idle -ge 60 ] && tr -d '\r' <"$console" |
			grep -aqE 'soft lockup - CPU#[0-9]+ stuck for ([6-9][0-9]|[1-9][0-9]{2,})s'; then
			# A freeze shows sooner as L1's soft-lockup watchdog: a CPU
			# stuck for a minute does not come back in time to matter.
			why="L1 soft-locked up (a CPU stuck for a minute or more)"
		fi
		# The command's status is in: L1 is about to power off.
		if [ -z "$why" ] && [ "$JOB" = cmd ] && [ -n "$(cmd_status "$console")" ]; then
			sleep 5
			kill -KILL $qpid 2>/dev/null || true
			break
		fi
		if [ -n "$why" ]; then
			log "$why: stopping it"
			STALLED=1
			kill -KILL $qpid 2>/dev/null || true
			break
		fi
	done
	set +e
	wait $qpid
	QRC=$?
	[ -z "${L1_ECHO:-}" ] || wait
	set -e
}

log "booting the nested sandbox (L1 under QEMU TCG) for the $JOB job"
if [ "$JOB" = cmd ] && ! [ -t 0 ]; then
	# Nobody at a terminal (CI, a script): L1 runs under the watchdog
	# below, its console echoed. One that stalls before the command
	# starts (KILN-CMD-START) or soft-locks up is booted again (three
	# times in all, KILN_L1_ATTEMPTS); the command itself has
	# KILN_SANDBOX_TIMEOUT seconds (1800 by default), then fails.
	L1_ECHO=1
	L1_LIMIT=${KILN_SANDBOX_TIMEOUT:-1800}
	APPEND="$APPEND kiln.watch=1"
	for attempt in $(seq 1 "${KILN_L1_ATTEMPTS:-3}"); do
		run_l1 "$WORK/console" 300
		rc=$(cmd_status "$WORK/console")
		[ -n "$rc" ] && exit "$rc"
		[ "$STALLED" = 1 ] || die "the sandbox stopped before the command ended (QEMU status $QRC)"
		[ "$TIMED_OUT" = 0 ] || die "the command did not end in $L1_LIMIT s (KILN_SANDBOX_TIMEOUT)"
		log "L1 stalled (attempt $attempt): booting it again"
	done
	die "L1 stalled $attempt times: the sandbox did not run the command"
fi
if [ "$JOB" = demo ] || [ "$JOB" = cmd ]; then
	# The sandbox's own escape key is Ctrl-] (Ctrl-] x stops it), so that
	# Ctrl-A, kiln's, reaches kiln. Its console is kept to find kiln's
	# exit status, which becomes this script's.
	log "Ctrl-A x quits kiln; Ctrl-] x stops the whole sandbox"
	set +e
	"${QEMU[@]}" -echr 29 -append "$APPEND" | tee "$WORK/console"
	set -e
	rc=$(cmd_status "$WORK/console")
	[ -n "$rc" ] || die "the sandbox stopped before the command ended"
	exit "$rc"
fi

CONSOLE=$LOGS/l1-console.log
: >"$CONSOLE"
if [ "$JOB" = bench ]; then
	# The bench says KILN-BENCH-STEP as it goes: a frozen L1 ends the run
	# after 10 minutes without one, not at the overall limit.
	run_l1 "$CONSOLE" 600
else
	# A stalled L1 is booted again (four times at most, KILN_L1_ATTEMPTS
	# in all) for the cases it had not finished. A case that failed is
	# not run again, but for the last one before an L1 stalled: an L1
	# about to freeze (soft lockups of TCG's nested SVM) can break the
	# guest it runs, so that case runs again in the fresh L1, its first
	# result kept as KILN-FROZE-AFTER (a failure again is a failure).
	attempt=1
	while :; do
		done_list=$(tr -d '\r' <"$CONSOLE" | sed -n 's/^KILN-TEST \([^ ]*\) .*/\1/p' | paste -sd, -)
		att=$LOGS/l1-console.$attempt.log
		run_l1 "$att" "${KILN_L1_STALL:-240}" "${done_list:+kiln.done=$done_list}"
		last=$(tr -d '\r' <"$att" | grep -a '^KILN-TEST ' | tail -n1)
		case $STALLED:$last in
		"1:KILN-TEST "*" FAIL "*)
			name=$(echo "$last" | cut -d' ' -f2)
			log "$name failed just before L1 stalled: running it again in a fresh L1"
			sed -i "s/^KILN-TEST $name FAIL /KILN-FROZE-AFTER $name FAIL /" "$att"
			;;
		esac
		cat "$att" >>"$CONSOLE"
		rm -f "$att"
		tr -d '\r' <"$CONSOLE" | grep -aq '^KILN-L1-DONE' && break
		[ $attempt -ge "${KILN_L1_ATTEMPTS:-5}" ] && break
		log "L1 stopped before the end (QEMU status $QRC): running the remaining cases in a fresh L1"
		echo "KILN-L1-RESTART after a stall" >>"$CONSOLE"
		attempt=$((attempt + 1))
	done
fi
tr -d '\r' <"$CONSOLE" | grep -a '^KILN-LOG ' | while read -r _ name file rest; do
	printf '%s\n' "$rest" >>"$LOGS/${file%:}"
done || true
if [ "$JOB" = bench ]; then
	tr -d '\r' <"$CONSOLE" | grep -a '^KILN-BENCH ' | sed 's/^KILN-BENCH //'
	# The same figures as JSON, one file per run, to compare commits.
	json=$(tr -d '\r' <"$CONSOLE" | sed -n 's/^KILN-BENCH-JSON //p' | tail -n1)
	if [ -n "$json" ]; then
		commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
		stamp=$(date -u +%Y%m%dT%H%M%SZ)
		mkdir -p "$ROOT/build/bench"
		printf '{"commit":"%s","date":"%s","mode":"sandbox","bench":%s}\n' \
			"$commit" "$stamp" "$json" >"$ROOT/build/bench/$stamp-$commit.json"
		log "figures also in build/bench/$stamp-$commit.json"
	fi
	grep -aq '^KILN-L1-DONE' <(tr -d '\r' <"$CONSOLE") || die "sandbox did not finish (status $QRC): see $CONSOLE"
	exit 0
fi
if ! tr -d '\r' <"$CONSOLE" | grep -aq '^KILN-L1-DONE'; then
	echo "KILN-TEST sandbox FAIL L1 did not finish (QEMU status $QRC); console in $CONSOLE" >>"$CONSOLE"
fi
summarize "$CONSOLE"
[ "$FAILED" -eq 0 ]
