# shellcheck shell=sh
# `kiln run -- CMD` cases, sourced by cases.sh (needs GKERNEL: kiln's own
# guest kernel, with virtio-console, 9p and overlayfs).

# krun NAME [kiln options] -- CMD...: stdin from $KIN (default /dev/null),
# stdout to NAME.out, stderr to NAME.err; sets RC.
krun() {
	n=$1
	shift
	START=$(now_cs)
	timeout -s KILL $T "$KILN" run --kernel "$GKERNEL" "$@" <"${KIN:-/dev/null}" \
		>"$LOGDIR/$n.out" 2>"$LOGDIR/$n.err"
	RC=$?
}

# A busybox root directory for --rootfs DIR.
BBROOT=/tmp/kiln-bbroot
rm -rf "$BBROOT"
mkdir -p "$BBROOT/bin" "$BBROOT/etc"
cp /bin/busybox "$BBROOT/bin/busybox"
for a in $(/bin/busybox --list); do
	[ -e "$BBROOT/bin/$a" ] || ln -s busybox "$BBROOT/bin/$a"
done
echo "bbroot-marker" >"$BBROOT/etc/marker"

# tree_sum DIR: one checksum over every path, type, size and content.
tree_sum() {
	(cd "$1" && find . | LC_ALL=C sort | while read -r f; do
		if [ -L "$f" ]; then
			echo "L $f $(readlink "$f")"
		elif [ -f "$f" ]; then
			echo "F $f $(md5sum <"$f")"
		else
			echo "D $f"
		fi
	done) | md5sum | cut -d' ' -f1
}

if want run-status; then
	krun run-status -- true
	a=$RC
	krun run-status -- false
	b=$RC
	krun run-status -- sh -c 'exit 7'
	c=$RC
	krun run-status -- /no/such/command
	d=$RC
	if [ "$a $b $c $d" != "0 1 7 127" ]; then
		result run-status 1 "true/false/exit 7/missing gave $a $b $c $d, want 0 1 7 127"
	else
		result run-status 0 "true=0 false=1 exit-7=7 missing=127"
	fi
fi

if want run-signal; then
	krun run-signal -- sh -c 'kill -9 $$'
	if [ $RC -ne 137 ]; then
		result run-signal 1 "a command killed by SIGKILL gave $RC, want 137"
	else
		result run-signal 0 "SIGKILL -> 137"
	fi
fi

if want run-streams; then
	# 10 MiB of random bytes on stdout, their checksum on stderr.
	krun run-streams -- sh -c 'head -c 10485760 /dev/urandom >/tmp/blob &&
		md5sum </tmp/blob >&2 && cat /tmp/blob && printf "\000\377end" >&2'
	got=$(md5sum <"$LOGDIR/run-streams.out" | cut -d' ' -f1)
	size=$(wc -c <"$LOGDIR/run-streams.out")
	want_sum=$(head -c 32 "$LOGDIR/run-streams.err")
	tail_hex=$(tail -c 5 "$LOGDIR/run-streams.err" | od -An -tx1 | tr -d ' \n')
	if [ $RC -ne 0 ]; then
		result run-streams 1 "exit status $RC, want 0"
	elif [ "$size" -ne 10485760 ] || [ "$got" != "$want_sum" ]; then
		result run-streams 1 "stdout has $size bytes, sum $got; the guest sent 10485760 with sum $want_sum"
	elif [ "$tail_hex" != "00ff656e64" ]; then
		result run-streams 1 "stderr ends in $tail_hex, want 00ff656e64"
	elif [ "$(wc -c <"$LOGDIR/run-streams.err")" -ne 41 ]; then
		result run-streams 1 "stderr holds more than the command wrote: $(head -c 200 "$LOGDIR/run-streams.err")"
	else
		result run-streams 0 "10 MiB stdout byte-exact, stderr separate"
	fi
fi

if want run-stdin; then
	head -c 3000000 /dev/urandom >/tmp/kiln-stdin
	sum=$(md5sum </tmp/kiln-stdin | cut -d' ' -f1)
	# From a pipe: cat must see end-of-file and end.
	START=$(now_cs)
	cat /tmp/kiln-stdin | timeout -s KILL $T "$KILN" run --kernel "$GKERNEL" -- cat \
		>"$LOGDIR/run-stdin.out" 2>"$LOGDIR/run-stdin.err"
	RC=$?
	got=$(md5sum <"$LOGDIR/run-stdin.out" | cut -d' ' -f1)
	# From a regular file.
	KIN=/tmp/kiln-stdin krun run-stdin-file -- md5sum
	fgot=$(cut -d' ' -f1 "$LOGDIR/run-stdin-file.out")
	if [ $RC -ne 0 ] || [ "$got" != "$sum" ]; then
		result run-stdin 1 "piped: status $RC, sum $got, want 0 and $sum"
	elif [ "$fgot" != "$sum" ]; then
		result run-stdin 1 "from a file: guest summed $fgot, want $sum"
	else
		result run-stdin 0 "3 MB in from a pipe and a file, EOF ends cat"
	fi
	rm -f /tmp/kiln-stdin
fi

if want run-rootfs-dir; then
	rm -f "$BBROOT/written"
	krun run-rootfs-dir ${KILN_E2E_VERBOSE:+-v -v --console-log /dev/null} --rootfs "$BBROOT" -- sh -c 'cat /etc/marker; echo from-guest >/written'
	if [ $RC -ne 0 ] || [ "$(out run-rootfs-dir)" != "bbroot-marker" ]; then
		result run-rootfs-dir 1 "status $RC, output '$(out run-rootfs-dir | head -c 200)'"
	elif [ "$(cat "$BBROOT/written" 2>/dev/null)" != from-guest ]; then
		result run-rootfs-dir 1 "the guest's write did not reach the root directory"
	else
		result run-rootfs-dir 0 "busybox root over 9p, read and written"
	fi
fi

if want run-share-ro; then
	d=/tmp/kiln-share-ro
	rm -rf $d && mkdir -p $d/sub && echo a >$d/a && echo b >$d/sub/b
	ln -s a $d/link
	before=$(tree_sum $d)
	krun run-share-ro --share $d:/mnt/s,ro -- sh -c 'echo new >/mnt/s/new &&
		rm /mnt/s/a && echo more >>/mnt/s/sub/b && mkdir /mnt/s/dir &&
		cat /mnt/s/new /mnt/s/sub/b'
	after=$(tree_sum $d)
	if [ $RC -ne 0 ] || [ "$(out run-share-ro | tr '\n' ' ')" != "new b more " ]; then
		result run-share-ro 1 "status $RC, output '$(out run-share-ro | head -c 200)'"
	elif [ "$before" != "$after" ]; then
		result run-share-ro 1 "the host directory changed"
	else
		result run-share-ro 0 "writes landed in the overlay, host tree unchanged"
	fi
fi

if want run-share-rw; then
	d=/tmp/kiln-share-rw
	rm -rf $d && mkdir -p $d
	krun run-share-rw --share $d:/mnt/w -- sh -c 'echo data >/mnt/w/f &&
		mkdir /mnt/w/d && mv /mnt/w/f /mnt/w/d/g && ln -s g /mnt/w/d/l &&
		echo appended >>/mnt/w/d/l && cat /mnt/w/d/g'
	if [ $RC -ne 0 ]; then
		result run-share-rw 1 "status $RC: $(head -c 200 "$LOGDIR/run-share-rw.err")"
	elif [ "$(cat $d/d/g 2>/dev/null | tr '\n' ' ')" != "data appended " ] ||
		[ "$(readlink $d/d/l)" != g ]; then
		result run-share-rw 1 "host sees '$(cat $d/d/g 2>/dev/null)', link '$(readlink $d/d/l)'"
	else
		result run-share-rw 0 "create, mkdir, rename, symlink, append on the host"
	fi
fi

# Every 9P operation the guest's kernel makes on a writable share, under
# the real filters, each result checked on the host: create, write,
# fsync, hard and symbolic links, mkdir, a FIFO (mknod), chmod, chown,
# truncate, utimes, statfs, locks, readdir, rename, unlink, rmdir.
if want run-share-ops; then
	d=/tmp/kiln-share-ops
	rm -rf $d && mkdir -p $d/gone && echo old >$d/old
	krun run-share-ops --share $d:/mnt/o -- sh -c 'cd /mnt/o &&
		echo hello-world >f && dd if=f of=synced conv=fsync 2>/dev/null &&
		ln f hard && ln -s f sym && mkdir -p dir/sub && mkfifo dir/fifo &&
		chmod 640 f && chown 1000:1000 synced && truncate -s 5 hard &&
		mv old dir/new && touch -d "2001-02-03 04:05:06" dir &&
		rmdir gone && locktest f >/dev/null && ln f f2 && rm f2 &&
		df /mnt/o | tail -n 1 | wc -w && ls -a dir | tr "\n" " "'
	got=$(out run-share-ops | tr '\n' '|')
	bad=
	[ "$(cat $d/f 2>/dev/null)" = hello ] || bad="$bad truncate"
	[ "$(cat $d/synced 2>/dev/null)" = hello-world ] || bad="$bad fsync-copy"
	[ "$(stat -c %h $d/f 2>/dev/null)" = 2 ] || bad="$bad link/unlink"
	[ "$(readlink $d/sym)" = f ] || bad="$bad symlink"
	[ -p $d/dir/fifo ] || bad="$bad mkfifo"
	[ -d $d/dir/sub ] || bad="$bad mkdir"
	[ "$(stat -c %a $d/f 2>/dev/null)" = 640 ] || bad="$bad chmod"
	[ "$(stat -c %u:%g $d/synced 2>/dev/null)" = 1000:1000 ] || bad="$bad chown"
	[ "$(date -u -r $d/dir +%Y 2>/dev/null)" = 2001 ] || bad="$bad utimes"
	[ "$(cat $d/dir/new 2>/dev/null)" = old ] && ! [ -e $d/old ] || bad="$bad rename"
	! [ -e $d/gone ] || bad="$bad rmdir"
	if [ $RC -ne 0 ]; then
		result run-share-ops 1 "status $RC: $(tail -c 300 "$LOGDIR/run-share-ops.err")"
	elif [ -n "$bad" ]; then
		result run-share-ops 1 "on the host, wrong:$bad (guest said '$got')"
	elif [ "$got" != "6|. .. fifo new sub " ]; then
		result run-share-ops 1 "statfs or readdir: guest said '$got'"
	else
		result run-share-ops 0 "every 9P operation, checked on the host"
	fi
fi

if want run-confine; then
	# A secret outside the share, symlinks planted inside it.
	echo SECRET-OUTSIDE >/tmp/kiln-secret
	d=/tmp/kiln-confine
	rm -rf $d && mkdir -p $d
	ln -s / $d/root
	ln -s /tmp/kiln-secret $d/abs
	ln -s ../kiln-secret $d/rel
	krun run-confine --rootfs "$BBROOT" --share $d:/mnt/c -- sh -c '
		cat /mnt/c/root/tmp/kiln-secret /mnt/c/abs /mnt/c/rel \
			/mnt/c/../kiln-secret /mnt/c/root/../tmp/kiln-secret
		ls /mnt/c/root/ /mnt/c/root/tmp; echo confined'
	if out run-confine | grep -q SECRET || grep -q SECRET "$LOGDIR/run-confine.err"; then
		result run-confine 1 "the guest read a host file outside the share"
	elif ! out run-confine | grep -q confined; then
		result run-confine 1 "status $RC, the guest did not finish: $(head -c 200 "$LOGDIR/run-confine.err")"
	else
		result run-confine 0 "symlinks to / and .. stay inside the guest"
	fi
fi

if want run-panic; then
	krun run-panic -- sh -c 'echo c >/proc/sysrq-trigger; sleep 100'
	if [ $RC -ne 255 ]; then
		result run-panic 1 "a panicking guest gave $RC, want 255"
	elif ! grep -q 'without the command' "$LOGDIR/run-panic.err"; then
		result run-panic 1 "no message on stderr: $(head -c 200 "$LOGDIR/run-panic.err")"
	else
		result run-panic 0 "panic -> 255 with a message"
	fi
fi

if want run-timeout; then
	krun run-timeout --timeout 2 -- sleep 100
	if [ $RC -ne 124 ]; then
		result run-timeout 1 "--timeout 2 -- sleep 100 gave $RC, want 124"
	else
		result run-timeout 0 "--timeout -> 124"
	fi
fi

if want run-cmdline; then
	krun run-cmdline --append "kiln_test.param=kunit-like-42" --console-log \
		"$LOGDIR/run-cmdline.console" -- cat /proc/cmdline
	if [ $RC -ne 0 ] || ! out run-cmdline | grep -q 'kiln_test.param=kunit-like-42'; then
		result run-cmdline 1 "status $RC, cmdline '$(out run-cmdline | head -c 300)'"
	elif ! grep -q 'Linux version' "$LOGDIR/run-cmdline.console"; then
		result run-cmdline 1 "--console-log holds no kernel messages"
	elif out run-cmdline | grep -q 'Linux version'; then
		result run-cmdline 1 "kernel messages leaked into stdout"
	else
		result run-cmdline 0 "parameter reached the guest, kernel log in --console-log"
	fi
fi

if want run-env; then
	krun run-env --env FOO=bar --env "SP=a b" --cwd /tmp --user 1000:1000 -- \
		sh -c 'echo "$FOO|$SP|$(pwd)|$(id -u):$(id -g)"'
	if [ $RC -ne 0 ] || [ "$(out run-env)" != "bar|a b|/tmp|1000:1000" ]; then
		result run-env 1 "status $RC, got '$(out run-env)', want 'bar|a b|/tmp|1000:1000'"
	else
		result run-env 0 "env, cwd and user set"
	fi
fi

if want run-rootfs-image && [ -n "${ROOTFS:-}" ]; then
	cp "$ROOTFS" /tmp/kiln-run-root.ext4
	krun run-rootfs-image --rootfs /tmp/kiln-run-root.ext4 -- sh -c 'echo kept >/persist'
	a=$RC
	krun run-rootfs-image --rootfs /tmp/kiln-run-root.ext4 -- cat /persist
	if [ $a -ne 0 ] || [ $RC -ne 0 ] || [ "$(out run-rootfs-image)" != kept ]; then
		result run-rootfs-image 1 "status $a/$RC, read back '$(out run-rootfs-image)'"
	else
		result run-rootfs-image 0 "ext4 image root, written and read back"
	fi
	rm -f /tmp/kiln-run-root.ext4
fi

if want run-default-kernel; then
	# Without --kernel: the kernel 'make guest-kernel' puts beside kiln.
	kdir=$(dirname "$(readlink -f "$KILN")")/guest-kernel
	kimg=bzImage
	[ "$(uname -m)" = aarch64 ] && kimg=Image
	made=
	if [ ! -e "$kdir/$kimg" ]; then
		mkdir -p "$kdir" && cp "$GKERNEL" "$kdir/$kimg" && made=1
	fi
	START=$(now_cs)
	timeout -s KILL $T "$KILN" run -- uname -r </dev/null \
		>"$LOGDIR/run-default-kernel.out" 2>"$LOGDIR/run-default-kernel.err"
	RC=$?
	[ -n "$made" ] && rm -rf "$kdir"
	if [ $RC -ne 0 ] || ! out run-default-kernel | grep -q -- '-kiln'; then
		result run-default-kernel 1 "status $RC, uname -r '$(out run-default-kernel)'"
	else
		result run-default-kernel 0 "$(out run-default-kernel)"
	fi
fi

if want run-tty && command -v ptyrun >/dev/null; then
	# -t: the command's stdio is a terminal of kiln's terminal's size,
	# and a resize of kiln's terminal reaches it.
	START=$(now_cs)
	timeout -s KILL $T ptyrun 40 100 --resize-on READY 50 132 -- \
		"$KILN" run --kernel "$GKERNEL" -t -- sh -c '
		test -t 0 && test -t 1 && echo "size $(stty size)"; echo READY
		i=0
		while [ "$(stty size)" = "40 100" ] && [ $i -lt 600 ]; do
			sleep 0.1; i=$((i + 1))
		done
		echo "now $(stty size)"; exit 3' >"$LOGDIR/run-tty.out" 2>&1
	RC=$?
	if [ $RC -ne 3 ]; then
		result run-tty 1 "status $RC, want 3"
	elif ! out run-tty | grep -q '^size 40 100$'; then
		result run-tty 1 "the command saw no 40x100 terminal: $(out run-tty | head -c 200)"
	elif ! out run-tty | grep -q '^now 50 132$'; then
		result run-tty 1 "the resize did not reach the guest: $(out run-tty | tail -c 200)"
	else
		result run-tty 0 "a 40x100 terminal, resized to 50x132"
	fi
fi

if want run-share-root; then
	# --share / is the root, read-only under a throw-away layer.
	rm -f /etc/kiln-e2e-written
	krun run-share-root --share / -- sh -c 'echo x >/etc/kiln-e2e-written &&
		cat /etc/kiln-e2e-written && test -x /bin/busybox && echo ok'
	if [ $RC -ne 0 ] || [ "$(out run-share-root | tr '\n' ' ')" != "x ok " ]; then
		result run-share-root 1 "status $RC, output '$(out run-share-root | head -c 200)'"
	elif [ -e /etc/kiln-e2e-written ]; then
		result run-share-root 1 "the guest wrote into the host's /etc"
	else
		result run-share-root 0 "host / read-only, writes kept in the guest"
	fi
fi

if want run-boot-timer; then
	# The guest init writes 123 to the boot-timer port just before CMD.
	krun run-boot-timer --boot-timer -- true
	line=$(grep 'boot-timer: guest 123 at' "$LOGDIR/run-boot-timer.err")
	set -- $(echo "$line" | sed -n 's/.*guest 123 at \([0-9]*\) us (kiln CPU \([0-9]*\) us); first KVM_RUN at \([0-9]*\) us (CPU \([0-9]*\) us).*/\1 \2 \3 \4/p')
	if [ $RC -ne 0 ] || [ $# -ne 4 ]; then
		result run-boot-timer 1 "status $RC, line '$line'"
	elif [ "$1" -le "$3" ] || [ "$3" -le 0 ] || [ "$2" -le 0 ]; then
		result run-boot-timer 1 "times out of order: $line"
	elif krun run-boot-timer-off -- true && grep -q boot-timer "$LOGDIR/run-boot-timer-off.err"; then
		result run-boot-timer 1 "a line without --boot-timer"
	else
		result run-boot-timer 0 "guest ready at $1 us, first KVM_RUN at $3 us (CPU $4 us)"
	fi
fi
