#!/bin/sh
# /init of the e2e test guest (busybox). The case to run comes from the
# kernel command line as kt=NAME, which the kernel hands us as $kt.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "KILN-GUEST-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
case "$kt" in
boot)
	echo "KILN-GUEST-KERNEL $(uname -r)"
	;;
cpus)
	echo "KILN-GUEST-CPUS $(grep -c '^processor' /proc/cpuinfo) online=$(cat /sys/devices/system/cpu/online)"
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
	blkdiscard /dev/vdb && echo "KILN-GUEST-DISCARDED"
	;;
blkbench)
	randio /dev/vda write 64 2000 | sed 's/^/KILN-GUEST-/'
	randio /dev/vda read 64 2000 | sed 's/^/KILN-GUEST-/'
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
	echo
	echo "kiln demo guest: busybox shell. 'reboot -f' or Ctrl-A x ends it."
	setsid cttyhack sh -l
	;;
*)
	echo "KILN-GUEST-UNKNOWN-CASE '$kt'"
	;;
esac
echo "KILN-GUEST-DONE"
reboot -f
