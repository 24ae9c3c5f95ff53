#!/bin/sh
# /init of the nested sandbox's L1 guest: loads the modules in
# /modules/order (on x86, KVM for AMD SVM, as QEMU's software CPU emulates
# it), runs the job named on the command line
# (kiln.job=test|demo|bench) and powers off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
# root's home, as a login would give it: kiln keeps its kernel cache there.
export HOME=/root
# Move off the initramfs onto a tmpfs first: pivot_root (which passt's
# sandbox uses) does not work with rootfs as the root.
if [ ! -e /.on-tmpfs ]; then
	mkdir -p /newroot
	mount -t tmpfs -o mode=0755 root /newroot
	for d in /*; do
		case "$d" in /newroot | /proc | /sys | /dev | /tmp) ;; *) cp -a "$d" /newroot/ ;; esac
	done
	mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp
	touch /newroot/.on-tmpfs
	exec switch_root /newroot /init
fi
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts -o ptmxmode=0666 devpts /dev/pts
# podman's locks live in shared memory.
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 shm /dev/shm
mkdir -p /run /var/tmp
mount -t tmpfs tmp /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
for m in $(cat /modules/order 2>/dev/null); do
	insmod /modules/$m.ko || echo "KILN-L1 insmod $m failed"
done
if [ ! -c /dev/kvm ]; then
	echo "KILN-L1-ERROR no /dev/kvm in L1"
	poweroff -f
fi
ip link set lo up
job=$(sed -n 's/.*kiln\.job=\([a-z]*\).*/\1/p' /proc/cmdline)
export KILN=/bin/kiln KERNEL=/guest/vmlinuz VMLINUX=/guest/vmlinux \
	GUEST_INITRD=/guest/initrd.gz LOGDIR=/tmp/logs KILN_E2E_DUMP=1
[ -x /bin/kiln-hooks ] && export KILN_HOOKS=/bin/kiln-hooks
[ -x /rtt/start.t ] && export RTT_DIR=/rtt
if [ -f /guest/gkernel ]; then
	export GKERNEL=/guest/gkernel ROOTFS=/guest/rootfs.ext4
fi
only=$(sed -n 's/.*kiln\.only=\([a-z0-9*,-]*\).*/\1/p' /proc/cmdline)
[ -n "$only" ] && export KILN_E2E_ONLY=$only
# Cases an earlier, stalled L1 already finished.
export KILN_E2E_DONE=$(sed -n 's/.*kiln\.done=\([a-z0-9,-]*\).*/\1/p' /proc/cmdline)
t=$(sed -n 's/.*kiln\.timeout=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$t" ] && export KILN_E2E_TIMEOUT=$t
grep -q 'kiln\.verbose=1' /proc/cmdline && export KILN_E2E_VERBOSE=1
# make bench's run counts (KILN_BENCH_RUNS, KILN_BENCH_IO_RUNS on the host).
n=$(sed -n 's/.*kiln\.bench_runs=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$n" ] && export KILN_BENCH_RUNS=$n
n=$(sed -n 's/.*kiln\.bench_io=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$n" ] && export KILN_BENCH_IO_RUNS=$n
# The GIC version the guests must see (an L1 with a GICv2 only).
g=$(sed -n 's/.*kiln\.gic=\([23]\).*/\1/p' /proc/cmdline)
[ -n "$g" ] && export KILN_E2E_EXPECT_GIC=$g
# kiln.debug=1: full guest boot logs and a short hang timeout.
if grep -q 'kiln\.debug=1' /proc/cmdline; then
	export KILN_E2E_APPEND="" KILN_E2E_TIMEOUT=60
fi
case "$job" in
demo | cmd)
	# Someone is watching: L1's own kernel keeps quiet (its KVM's notes
	# on what the nested guest does, such as an unhandled MSR write).
	dmesg -n 1
	;;
*) echo "KILN-L1-READY uptime=$(cut -d' ' -f1 /proc/uptime)" ;;
esac
case "$job" in
test) /e2e/cases.sh ;;
bench) /e2e/bench.sh ;;
demo)
	setsid cttyhack /bin/kiln run --kernel "$KERNEL" --initrd "$GUEST_INITRD" \
		--append "quiet kt=shell"
	rc=$?
	# On a line of its own: kiln may have quit in the middle of one.
	printf '\nkiln exited with status %s\n' $rc
	;;
cmd)
	# The command line make sandbox was given, with a terminal when the
	# sandbox has one.
	[ -d /sandbox-files ] && cp -a /sandbox-files/. /
	cd /root
	# For run.sh's watchdog when nobody is at a terminal: L1 is up.
	grep -q 'kiln\.watch=1' /proc/cmdline && echo KILN-CMD-START
	setsid cttyhack sh -c "$(cat /e2e/cmd)"
	rc=$?
	printf '\nthe command exited with status %s\n' $rc
	;;
esac
[ "$job" = demo ] || [ "$job" = cmd ] || echo "KILN-L1-DONE"
poweroff -f
