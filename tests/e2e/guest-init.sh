#!/bin/sh
# /init of the e2e test guest (busybox). The case to run comes from the
# kernel command line as kt=NAME, which the kernel hands us as $kt.
export PATH=/bin:/sbin TCPXFER_PREFIX=KILN-GUEST-
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "KILN-GUEST-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
# kiln --boot-timer: the byte 123 to its boot-timer register.
case " $(cat /proc/cmdline) " in
*" kiln.boottimer "*)
	case $(uname -m) in
	aarch64) devmem 0x09010000 8 123 ;;
	*) devmem 0xcffff000 8 123 ;;
	esac
	;;
esac
# zero_check DEV OFFSET_MIB LEN_MIB: does that stretch read as zeroes?
zero_check() {
	z=$(head -c $(($3 << 20)) /dev/zero | sha256sum | cut -d' ' -f1)
	got=$(dd if="$1" bs=1M skip="$2" count="$3" 2>/dev/null | sha256sum | cut -d' ' -f1)
	if [ "$got" = "$z" ]; then
		echo "KILN-GUEST-ZERO-READ ok"
	else
		echo "KILN-GUEST-ZERO-READ bad"
	fi
}
firmware() {
	if [ -e /sys/firmware/acpi/tables/APIC ]; then
		echo "KILN-GUEST-FIRMWARE acpi"
	else
		echo "KILN-GUEST-FIRMWARE mptable"
	fi
}
case "$kt" in
boot)
	echo "KILN-GUEST-KERNEL $(uname -r)"
	# The clock the kernel set from kiln's RTC (CMOS or PL031).
	echo "KILN-GUEST-TIME $(date +%s)"
	;;
cpus)
	echo "KILN-GUEST-CPUS $(grep -c '^processor' /proc/cpuinfo) online=$(cat /sys/devices/system/cpu/online)"
	# aarch64: which GIC the device tree gave (v3, or v2 as a fallback).
	for c in arm,gic-v3 arm,cortex-a15-gic; do
		grep -qs "$c" /sys/firmware/devicetree/base/intc*/compatible &&
			echo "KILN-GUEST-GIC $c"
	done
	firmware
	;;
devices)
	# Which firmware tables the kernel used, and the virtio disk.
	firmware
	echo "KILN-GUEST-CMDLINE-DEVICES $(grep -o 'virtio_mmio.device' /proc/cmdline | wc -l)"
	if [ -b /dev/vda ]; then
		echo "KILN-GUEST-VDA $(head -c 16 /dev/vda | od -An -c | tr -d ' \n')"
	else
		echo "KILN-GUEST-VDA missing"
	fi
	;;
kaslr)
	# Where the kernel's text is (KASLR moves it), as root may see it.
	echo 0 >/proc/sys/kernel/kptr_restrict
	echo "KILN-GUEST-TEXT $(grep -m1 ' _text$' /proc/kallsyms | cut -d' ' -f1)"
	;;
poweroff)
	echo "KILN-GUEST-POWERING-OFF"
	poweroff -f
	echo "KILN-GUEST-POWEROFF-RETURNED"
	while :; do sleep 1; done
	;;
deb-virtio)
	# Debian's own virtio modules, found through ACPI (no command line).
	firmware
	for m in virtio_ring virtio virtio_mmio virtio_blk failover net_failover virtio_net; do
		insmod /lib/deb-modules/$m.ko || echo "KILN-GUEST-INSMOD-FAILED $m"
	done
	i=0
	while [ $i -lt 300 ] && { [ ! -b /dev/vda ] || [ ! -e /sys/class/net/eth0 ]; }; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "KILN-GUEST-VDA $(head -c 16 /dev/vda 2>/dev/null | od -An -c | tr -d ' \n')"
	echo "KILN-GUEST-DEVS $(ls /sys/bus/platform/devices | grep -c LNRO0005) virtio devices"
	ip link set lo up
	ip addr add 203.0.113.2/24 dev eth0 && ip link set eth0 up
	ping=fail
	for i in 1 2 3 4 5; do
		if ping -c 1 -W 5 203.0.113.1 >/dev/null 2>&1; then
			ping=ok
			break
		fi
	done
	echo "KILN-GUEST-PING $ping ($(ls /sys/class/net | tr '\n' ' '))"
	;;
mem)
	echo "KILN-GUEST-MEMTOTAL $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
	dmesg | grep -i 'e820: \[mem' | sed 's/^/KILN-GUEST-E820 /'
	;;
sleep)
	echo "KILN-GUEST-SLEEPING"
	while :; do sleep 1; done
	;;
blk-write | blk-write-hang)
	# 64 MiB of random data onto /dev/vdb, flushed, its checksum printed.
	dd if=/dev/urandom of=/tmp/f bs=1M count=64 2>/dev/null
	sum=$(sha256sum /tmp/f | cut -d' ' -f1)
	dd if=/tmp/f of=/dev/vdb bs=1M conv=fsync 2>/dev/null &&
		echo "KILN-GUEST-SYNCED $sum"
	if [ "$kt" = blk-write-hang ]; then
		while :; do sleep 1; done
	fi
	;;
blk-read)
	echo "KILN-GUEST-READ $(head -c 67108864 /dev/vdb | sha256sum | cut -d' ' -f1)"
	;;
blk-ro)
	echo "KILN-GUEST-RO $(cat /sys/block/vdb/ro)"
	if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null; then
		echo "KILN-GUEST-RO-WRITE accepted"
	else
		echo "KILN-GUEST-RO-WRITE refused"
	fi
	;;
blk-ids)
	for d in vda vdb; do
		echo "KILN-GUEST-DISK $d $(cat /sys/block/$d/serial) $(cat /sys/block/$d/size)"
	done
	;;
blk-discard)
	# Of the 64 MiB blk-write wrote: the first 48 discarded, the last 16
	# written with zeroes (WRITE_ZEROES) and read back.
	blkdiscard -o 0 -l 50331648 /dev/vdb && echo "KILN-GUEST-DISCARDED"
	blkzero /dev/vdb 48 16 >/dev/null && echo "KILN-GUEST-ZEROED"
	zero_check /dev/vdb 48 16
	;;
blk-bdev)
	# /dev/vdb is a host block device: three 16 MiB stretches of random
	# data, each flushed; then the second discarded and the third
	# written with zeroes. /dev/vdc is a read-only one.
	for i in 0 1 2; do
		dd if=/dev/urandom of=/tmp/p bs=1M count=16 2>/dev/null
		echo "KILN-GUEST-SUM$i $(sha256sum /tmp/p | cut -d' ' -f1)"
		dd if=/tmp/p of=/dev/vdb bs=1M seek=$((i * 16)) conv=fsync,notrunc 2>/dev/null ||
			echo "KILN-GUEST-WRITE-FAILED $i"
		rm -f /tmp/p
	done
	echo "KILN-GUEST-READ0 $(dd if=/dev/vdb bs=1M count=16 2>/dev/null | sha256sum | cut -d' ' -f1)"
	blkdiscard -o 16777216 -l 16777216 /dev/vdb && echo "KILN-GUEST-DISCARDED"
	blkzero /dev/vdb 32 16 >/dev/null && echo "KILN-GUEST-ZEROED"
	zero_check /dev/vdb 32 16
	echo "KILN-GUEST-RO $(cat /sys/block/vdc/ro)"
	if dd if=/dev/zero of=/dev/vdc bs=4096 count=1 conv=fsync 2>/dev/null; then
		echo "KILN-GUEST-RO-WRITE accepted"
	else
		echo "KILN-GUEST-RO-WRITE refused"
	fi
	;;
blkbench)
	randio /dev/vda write 64 2000 | sed 's/^/KILN-GUEST-/'
	randio /dev/vda read 64 2000 | sed 's/^/KILN-GUEST-/'
	;;
net-tap)
	# eth0 on 192.0.2.0/24 (the host end is .1): ping, then 50 MiB each way.
	ip link set lo up
	ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up
	echo "KILN-GUEST-MAC eth0 $(cat /sys/class/net/eth0/address)"
	if ping -c 3 -W 10 192.0.2.1 >/dev/null 2>&1; then
		echo "KILN-GUEST-PING ok"
	else
		echo "KILN-GUEST-PING fail"
	fi
	dd if=/dev/urandom of=/tmp/out bs=1M count=50 2>/dev/null
	echo "KILN-GUEST-TX-SUM $(sha256sum /tmp/out | cut -d' ' -f1)"
	tcpxfer send 192.0.2.1 5002 /tmp/out
	rm -f /tmp/out
	tcpxfer recv 5001 /tmp/in
	echo "KILN-GUEST-RX-SUM $(sha256sum /tmp/in | cut -d' ' -f1)"
	;;
vsock)
	# cases-devices.sh: to host listeners first, then the host's to ours.
	vsockxfer connect-vsock 2 5000 16 4194304
	vsockxfer refused-vsock 2 5999
	vsockxfer listen-vsock 6000 16 4194304
	;;
balloon)
	# cases-devices.sh's balloon-inflate: memory used and freed, then
	# the host inflates the balloon by 128 MiB and deflates it again.
	free_kb() { awk '/^MemFree:/ { print $2 }' /proc/meminfo; }
	# Every free page touched (8 MiB files until 24 MiB are left, in a
	# tmpfs of its own: the root's stops at half of RAM), then freed:
	# whatever the balloon takes was resident.
	mkdir -p /fill
	mount -t tmpfs -o size=1g fill /fill
	fill() {
		i=0
		while [ "$(free_kb)" -gt 24000 ] && [ $i -lt 64 ]; do
			dd if=/dev/zero of=/fill/$i bs=1M count=8 2>/dev/null || break
			i=$((i + 1))
		done
		echo "KILN-GUEST-FILL $((i * 8)) MiB"
	}
	fill
	rm -f /fill/*
	base=$(free_kb)
	echo "KILN-GUEST-FILLED free=${base}kB"
	i=0
	while [ $i -lt 1200 ] && [ "$(free_kb)" -gt $((base - 100000)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "KILN-GUEST-INFLATED free=$(free_kb)kB"
	i=0
	while [ $i -lt 1200 ] && [ "$(free_kb)" -lt $((base - 30000)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "KILN-GUEST-DEFLATED free=$(free_kb)kB"
	fill
	echo "KILN-GUEST-REFILLED"
	sleep 10
	;;
balloon-report)
	# balloon-reporting: memory used (in a tmpfs of its own: the root's
	# stops at half of RAM), then freed with no target set.
	mkdir -p /fill
	mount -t tmpfs -o size=1g fill /fill
	dd if=/dev/zero of=/fill/x bs=1M count=160 2>/dev/null
	echo "KILN-GUEST-FILLED $(($(stat -c %s /fill/x) >> 20)) MiB"
	sleep 5
	rm /fill/x
	echo "KILN-GUEST-FREED"
	sleep 30
	;;
vsockbench)
	vsockxfer connect-vsock 2 5000 1 67108864:0
	vsockxfer listen-vsock 6000 1 0:67108864
	;;
net-limit)
	# cases-api.sh's api-net-rate-limit: 4 MiB each way under the NIC's
	# limiters, then again once the host lifted them.
	ip link set lo up
	ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up
	dd if=/dev/zero of=/tmp/out bs=1M count=4 2>/dev/null
	tcpxfer send 192.0.2.1 5004 /tmp/out
	tcpxfer recv 5001 /tmp/in
	tcpxfer send 192.0.2.1 5005 /tmp/out
	tcpxfer recv 5003 /tmp/in
	;;
netbench)
	ip link set lo up
	ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up
	dd if=/dev/zero of=/tmp/out bs=1M count=50 2>/dev/null
	tcpxfer send 192.0.2.1 5002 /tmp/out
	rm -f /tmp/out
	tcpxfer recv 5001 /tmp/in
	;;
net-two)
	ip link set lo up
	ip addr add 192.0.2.2/24 dev eth0 && ip link set eth0 up
	ip addr add 198.51.100.2/24 dev eth1 && ip link set eth1 up
	for i in eth0 eth1; do
		echo "KILN-GUEST-MAC $i $(cat /sys/class/net/$i/address)"
	done
	for a in 192.0.2.1 198.51.100.1; do
		if ping -c 2 -W 10 $a >/dev/null 2>&1; then
			echo "KILN-GUEST-PING $a ok"
		else
			echo "KILN-GUEST-PING $a fail"
		fi
	done
	;;
net-user)
	ip link set lo up
	ip link set eth0 up
	udhcpc -i eth0 -n -q -t 10 -s /bin/udhcpc.script >/dev/null 2>&1
	gw=$(cat /tmp/gw 2>/dev/null)
	echo "KILN-GUEST-DHCP $(ip -4 addr show eth0 | grep -o 'inet [0-9./]*') gw=$gw"
	echo "kiln-user-net-to-host" >/tmp/msg
	tcpxfer send "$gw" 5003 /tmp/msg
	tcpxfer recv 8080 /tmp/fwd
	echo "KILN-GUEST-FWD $(cat /tmp/fwd)"
	;;
rng)
	echo "KILN-GUEST-RNG $(cat /sys/class/misc/hw_random/rng_current) $(head -c 64 /dev/hwrng | od -An -tx1 | wc -w)"
	;;
hvc)
	echo "KILN-GUEST-CONSOLE $(cat /sys/class/tty/console/active)"
	# Commands come from kiln's standard input, through hvc0.
	sh
	;;
shell)
	# busybox's init as PID 1, so poweroff and reboot work as on any
	# machine; a shell on the console, again after each exit.
	echo
	echo "kiln demo guest: busybox shell. 'poweroff', 'reboot' or Ctrl-A x ends it."
	printf '%s\n' '::respawn:/bin/cttyhack /bin/sh -l' \
		'::shutdown:/bin/umount -a -r' >/etc/inittab
	exec /bin/init
	;;
blk-rate)
	# 4 MiB written to /dev/vda and flushed, timed; then again once the
	# host has lifted the limit (it has 10 s for its PATCH).
	for n in 1 2; do
		t0=$(cut -d' ' -f1 /proc/uptime)
		dd if=/dev/zero of=/dev/vda bs=64k count=64 conv=fsync 2>/dev/null
		t1=$(cut -d' ' -f1 /proc/uptime)
		echo "KILN-GUEST-RATE$n $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
		[ $n = 2 ] || sleep 10
	done
	;;
drive-watch)
	# A disk whose file the API swaps: what /dev/vda holds, and its size.
	while :; do
		blockdev --flushbufs /dev/vda 2>/dev/null
		echo "KILN-GUEST-VDB $(head -c 11 /dev/vda) $(blockdev --getsize64 /dev/vda)"
		sleep 0.3
	done
	;;
tick)
	# A line a tick (5 a second), for ever: the API's pause test counts
	# them. Ctrl-Alt-Del (the kernel restarts) or kiln ends it.
	dmesg | grep -i -E 'i8042|serio|atkbd|keyboard' | sed 's/^/KILN-GUEST-KBD /'
	i=0
	while :; do
		echo "KILN-GUEST-TICK $i"
		i=$((i + 1))
		sleep 0.2
	done
	;;
"")
	# Booted as Firecracker's getting-started boots: the root from the
	# drive marked is_root_device, no init= (/sbin/init brought us here).
	mount -o remount,rw / 2>/dev/null
	root=$(grep -o 'root=[^ ]*' /proc/cmdline)
	if echo rw >/rw-probe 2>/dev/null && [ "$(cat /rw-probe)" = rw ]; then
		echo "KILN-GUEST-DEFAULT-INIT $root writable pid=$$ $(uname -r)"
	else
		echo "KILN-GUEST-DEFAULT-INIT $root read-only pid=$$ $(uname -r)"
	fi
	;;
*)
	echo "KILN-GUEST-UNKNOWN-CASE '$kt'"
	;;
esac
echo "KILN-GUEST-DONE"
reboot -f
