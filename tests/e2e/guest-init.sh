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
