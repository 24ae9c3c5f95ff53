# shellcheck shell=sh
# Hardening cases, sourced by cases.sh after cases-run.sh (needs GKERNEL):
# the seccomp filters seen from the host, a forbidden call through the test
# hook (KILN_HOOKS: a test build of kiln), and the jail.

# status_field PID/TASK FIELD: a /proc status value ("Seccomp", "CapEff").
status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null
}

# child_of PID: the first child process of PID.
child_of() {
	awk -v p="$1" '$4 == p { print $1; found = 1; exit } END { exit !found }' \
		/proc/[0-9]*/stat 2>/dev/null
}

# children_of PID: every child process of PID.
children_of() {
	awk -v p="$1" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null
}

# kiln_pid PID: PID itself when it is kiln, else its kiln child (GNU
# timeout forks the command; busybox's execs it in place).
kiln_pid() {
	i=0
	while [ $i -lt 100 ] && kill -0 "$1" 2>/dev/null; do
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = kiln ] && { echo "$1"; return 0; }
		# A kiln child of GNU timeout's; but busybox's timeout may have
		# become kiln since the look above, and that kiln's own child
		# (--jail's) is no answer: look at PID once more first.
		c=$(child_of "$1") && [ "$(cat "/proc/$c/comm" 2>/dev/null)" = kiln ] &&
			[ "$(cat "/proc/$1/comm" 2>/dev/null)" != kiln ] &&
			{ echo "$c"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	echo "$1"
}

if want seccomp-threads; then
	START=$(now_cs)
	# The guest's command waits for the host to look, then ends.
	rm -f /tmp/kiln-looked
	timeout -s KILL $T "$KILN" run --kernel "$GKERNEL" --share /tmp:/hostmp -- sh -c \
		'i=0; while [ ! -e /hostmp/kiln-looked ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done' \
		</dev/null >"$LOGDIR/seccomp-threads.out" 2>"$LOGDIR/seccomp-threads.err" &
	bg=$!
	pid=$(kiln_pid $bg)
	# Every thread (main, I/O, vCPU) filtered once the guest runs.
	seen= i=0
	while [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
		n=0 f=0
		for t in /proc/$pid/task/*; do
			n=$((n + 1))
			[ "$(status_field "$pid/task/${t##*/}" Seccomp)" = 2 ] && f=$((f + 1))
		done
		if [ $n -ge 3 ] && [ $f -eq $n ]; then
			seen="$n threads, $f filtered, NoNewPrivs $(status_field $pid NoNewPrivs)"
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	touch /tmp/kiln-looked
	wait $bg
	RC=$?
	"$KILN" run --kernel "$GKERNEL" --seccomp=off -- sh -c 'exit 4' \
		</dev/null >"$LOGDIR/seccomp-threads-off.out" 2>>"$LOGDIR/seccomp-threads.err"
	RC_OFF=$?
	if [ -z "$seen" ]; then
		result seccomp-threads 1 "not every thread had a filter (status $RC)"
	elif [ $RC -ne 0 ]; then
		result seccomp-threads 1 "the filtered run ended with $RC, want 0"
	elif [ $RC_OFF -ne 4 ]; then
		result seccomp-threads 1 "--seccomp=off: status $RC_OFF, want 4"
	else
		result seccomp-threads 0 "$seen; 9P share and exit status work filtered"
	fi
	rm -f /tmp/kiln-looked
fi

if want seccomp-trap; then
	START=$(now_cs)
	detail= bad=
	if [ -z "${KILN_HOOKS:-}" ] || [ ! -x "$KILN_HOOKS" ]; then
		bad="no test build of kiln (KILN_HOOKS) to trigger the hook"
	fi
	for role in main vcpu io; do
		[ -n "$bad" ] && break
		KILN_TEST_SECCOMP=$role timeout -s KILL $T "$KILN_HOOKS" run \
			--kernel "$GKERNEL" -- sleep 1 </dev/null \
			>"$LOGDIR/seccomp-trap.out" 2>"$LOGDIR/seccomp-trap-$role.err"
		rc=$?
		line="kiln: seccomp: the $role thread made a system call outside its list: socket (41)"
		if [ $rc -ne 159 ]; then
			bad="$role: status $rc, want 159"
		elif ! grep -qF "$line" "$LOGDIR/seccomp-trap-$role.err"; then
			bad="$role: no line naming the call: $(head -c 300 "$LOGDIR/seccomp-trap-$role.err")"
		fi
		detail="$detail $role"
	done
	if [ -n "$bad" ]; then
		cat "$LOGDIR"/seccomp-trap-*.err >"$LOGDIR/seccomp-trap.err" 2>/dev/null
		result seccomp-trap 1 "$bad"
	else
		result seccomp-trap 0 "socket() killed kiln from the$detail threads, status 159, call named"
	fi
fi

# jail_check NAME PID WANT-ROOT: the jailed child of kiln PID, seen from
# here; sets JBAD to what is wrong, JCHILD to its PID.
jail_check() {
	JBAD= JCHILD= i=0
	while [ $i -lt 300 ] && kill -0 "$2" 2>/dev/null; do
		# Of kiln's children, the filtered one: not the first one
		# /proc happens to list.
		JCHILD=
		for c in $(children_of "$2"); do
			[ "$(status_field "$c" Seccomp)" = 2 ] && JCHILD=$c
		done
		[ -n "$JCHILD" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$JCHILD" ] || { JBAD="no jailed child of $2: $(head -c 300 "$LOGDIR/$1.err")"; return; }
	root=$(ls -A "/proc/$JCHILD/root/" | tr '\n' ' ')
	[ "$root" = "$3" ] || JBAD="the jail holds '$root', want '$3'"
	for ns in mnt pid ipc uts net; do
		[ "$(readlink "/proc/$JCHILD/ns/$ns")" != "$(readlink /proc/self/ns/$ns)" ] ||
			JBAD="$JBAD; shares the $ns namespace"
	done
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		v=$(status_field "$JCHILD" $c)
		[ "$v" = 0000000000000000 ] || JBAD="$JBAD; $c is $v"
	done
	[ "$(status_field "$JCHILD" NoNewPrivs)" = 1 ] || JBAD="$JBAD; no no_new_privs"
	[ "$(status_field "$JCHILD" NSpid | awk '{print $NF}')" = 1 ] ||
		JBAD="$JBAD; not PID 1 of its namespace"
}

if want jail; then
	START=$(now_cs)
	J=/tmp/kiln-jail
	rm -rf "$J" && mkdir -p "$J"
	mounts_before=$(wc -l </proc/mounts)
	dd if=/dev/zero of=/tmp/kiln-jail-disk bs=1M count=4 2>/dev/null
	# A host block device too (a loop device), bound into the jail.
	dd if=/dev/zero of=/tmp/kiln-jail-bdev bs=1M count=4 2>/dev/null
	jlo=$(losetup -f) && losetup "$jlo" /tmp/kiln-jail-bdev || jlo=
	rm -f /tmp/kiln-looked
	timeout -s KILL $T "$KILN" run --jail "$J" --kernel "$GKERNEL" --rootfs "$BBROOT,ro" \
		--disk /tmp/kiln-jail-disk ${jlo:+--disk "$jlo"} -- sh -c \
		'cat /etc/marker; echo jailed | dd of=/dev/vda conv=fsync 2>/dev/null
		[ -b /dev/vdb ] && echo jailed-bdev | dd of=/dev/vdb conv=fsync 2>/dev/null
		sleep 5; exit 3' \
		</dev/null >"$LOGDIR/jail.out" 2>"$LOGDIR/jail.err" &
	bg=$!
	jail_check jail "$(kiln_pid $bg)" "dev disks kernel proc rootfs "
	wait $bg
	RC=$?
	if [ -n "$JBAD" ]; then
		result jail 1 "$JBAD"
	elif [ $RC -ne 3 ] || [ "$(out jail)" != bbroot-marker ]; then
		result jail 1 "status $RC, output '$(out jail | head -c 200)', want 3 and bbroot-marker; kiln said: $(tail -c 300 "$LOGDIR/jail.err")"
	elif [ "$(head -c 6 /tmp/kiln-jail-disk)" != jailed ]; then
		result jail 1 "the guest's write did not reach the disk image"
	elif [ -z "$jlo" ] || [ "$(head -c 11 "$jlo")" != jailed-bdev ]; then
		result jail 1 "the guest's write did not reach the host block device ('$jlo')"
	elif [ -n "$(ls -A "$J")" ] || [ "$(wc -l </proc/mounts)" != "$mounts_before" ]; then
		result jail 1 "left behind: '$(ls -A "$J")', mounts $mounts_before -> $(wc -l </proc/mounts)"
	else
		result jail 0 "PID 1 in its own mnt/pid/ipc/uts/net namespaces, root holds only the VM's files, no capabilities, no_new_privs, seccomp; status and disk writes (an image, a block device) pass through"
	fi
	[ -z "$jlo" ] || losetup -d "$jlo"
	rm -rf "$J" /tmp/kiln-jail-disk /tmp/kiln-jail-bdev
fi

# vsock from a jailed kiln: the socket made in its directory (bound into
# the jail) for host programs, a CONNECT answered through the guest (no
# listener there: closed without OK), the socket gone at the end.
if want jail-vsock && command -v vsockxfer >/dev/null; then
	START=$(now_cs)
	J=/tmp/kiln-jail
	V=/tmp/kiln-jail-vsock
	rm -rf "$J" "$V" && mkdir -p "$J" "$V"
	timeout -s KILL $T "$KILN" run --jail "$J" --kernel "$GKERNEL" --rootfs "$BBROOT,ro" \
		--vsock "$V/v.sock" -- sh -c 'sleep 8' \
		</dev/null >"$LOGDIR/jail-vsock.out" 2>"$LOGDIR/jail-vsock.err" &
	bg=$!
	bad=
	j=0
	while [ $j -lt $((T * 5)) ] && [ ! -S "$V/v.sock" ] && kill -0 $bg 2>/dev/null; do
		sleep 0.2
		j=$((j + 1))
	done
	[ -S "$V/v.sock" ] || bad="no socket at $V/v.sock"
	[ -n "$bad" ] || vsockxfer refused-uds "$V/v.sock" 9 >"$LOGDIR/jail-vsock.host" 2>&1 ||
		bad="a CONNECT to the jailed kiln: $(cat "$LOGDIR/jail-vsock.host")"
	wait $bg
	RC=$?
	[ $RC -eq 0 ] || bad="$bad; status $RC"
	[ ! -e "$V/v.sock" ] || bad="$bad; the socket was left behind"
	[ -z "$(ls -A "$J")" ] || bad="$bad; left in the jail's root: $(ls -A "$J")"
	if [ -n "$bad" ]; then
		result jail-vsock 1 "${bad#; }; $(tail -c 300 "$LOGDIR/jail-vsock.err")"
	else
		result jail-vsock 0 "the socket made in a directory bound into the jail; a host CONNECT answered by the guest; removed at the end"
	fi
	rm -rf "$J" "$V"
fi

if want jail-cgroup; then
	START=$(now_cs)
	J=/tmp/kiln-jail
	rm -rf "$J" && mkdir -p "$J"
	cg=/sys/fs/cgroup/kiln-e2e
	# An unprivileged kiln: /dev/kvm and the root directory must be its.
	kvm_mode=$(stat -c %a /dev/kvm)
	chmod 0666 /dev/kvm
	timeout -s KILL $T "$KILN" run --jail "$J" --uid 1000 --gid 1000 --cgroup kiln-e2e,cpu=50,mem=1G \
		--kernel "$GKERNEL" --rootfs "$BBROOT,ro" -- sh -c 'sleep 5; cat /etc/marker' \
		</dev/null >"$LOGDIR/jail-cgroup.out" 2>"$LOGDIR/jail-cgroup.err" &
	bg=$!
	jail_check jail-cgroup "$(kiln_pid $bg)" "dev kernel proc rootfs "
	bad=$JBAD
	if [ -n "$JCHILD" ]; then
		ids="$(status_field "$JCHILD" Uid | awk '{print $1,$2,$3}') $(status_field "$JCHILD" Gid | awk '{print $1,$2,$3}')"
		[ "$ids" = "1000 1000 1000 1000 1000 1000" ] || bad="$bad; uid/gid $ids"
		grep -qx "$JCHILD" "$cg/cgroup.procs" 2>/dev/null || bad="$bad; not in $cg"
		[ "$(cat "$cg/memory.max" 2>/dev/null)" = 1073741824 ] || bad="$bad; memory.max $(cat "$cg/memory.max" 2>&1)"
		[ "$(cat "$cg/cpu.max" 2>/dev/null)" = "50000 100000" ] || bad="$bad; cpu.max $(cat "$cg/cpu.max" 2>&1)"
	fi
	wait $bg
	RC=$?
	chmod "$kvm_mode" /dev/kvm
	if [ -n "$bad" ]; then
		result jail-cgroup 1 "$bad"
	elif [ $RC -ne 0 ] || [ "$(out jail-cgroup)" != bbroot-marker ]; then
		result jail-cgroup 1 "status $RC, output '$(out jail-cgroup | head -c 200)'"
	elif [ -e "$cg" ]; then
		result jail-cgroup 1 "the cgroup kiln made is still there"
	else
		result jail-cgroup 0 "as 1000:1000 in a cgroup with cpu.max 50% and memory.max 1G, removed after"
	fi
	rm -rf "$J"
fi

if want hostile; then
	# A guest program drives the disk and a share's 9P device directly
	# with bad input (tests/tools/hostile.c); kiln must refuse it all,
	# say so in a bounded log, and keep serving.
	rm -rf /tmp/kiln-hostile && mkdir -p /tmp/kiln-hostile
	dd if=/dev/zero of=/tmp/kiln-hostile.img bs=1M count=8 2>/dev/null
	krun hostile --disk /tmp/kiln-hostile.img --share /tmp/kiln-hostile:/hostile \
		-- /bin/hostile --flood 2000
	lines=$(wc -l <"$LOGDIR/hostile.err")
	if [ $RC -ne 0 ] || ! out hostile | grep -q '^hostile: PASS'; then
		result hostile 1 "status $RC: $(out hostile | grep -v '^hostile: blk at' | head -c 300)"
	elif grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$LOGDIR/hostile.err"; then
		result hostile 1 "a sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' "$LOGDIR/hostile.err")"
	elif ! grep -q 'virtqueue: dropped request' "$LOGDIR/hostile.err" ||
		! grep -q 'rejected' "$LOGDIR/hostile.err"; then
		result hostile 1 "kiln did not log the refusals: $(head -c 300 "$LOGDIR/hostile.err")"
	elif ! grep -q 'more warnings about the guest were dropped' "$LOGDIR/hostile.err" ||
		[ "$lines" -gt 300 ]; then
		result hostile 1 "the flood was not rate-limited: $lines lines"
	else
		result hostile 0 "every attack refused, devices still serve, $lines log lines for 2000+ bad requests"
	fi
	rm -rf /tmp/kiln-hostile /tmp/kiln-hostile.img
fi
