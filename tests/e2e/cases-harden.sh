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
	for s in /proc/[0-9]*/stat; do
		set -- "$1" $(cat "$s" 2>/dev/null)
		[ "${5:-}" = "$1" ] && { echo "$2"; return 0; }
	done
	return 1
}

if want seccomp-threads; then
	START=$(now_cs)
	# The guest's command waits for the host to look, then ends.
	rm -f /tmp/kiln-looked
	"$KILN" run --kernel "$GKERNEL" --share /tmp:/hostmp -- sh -c \
		'i=0; while [ ! -e /hostmp/kiln-looked ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done' \
		</dev/null >"$LOGDIR/seccomp-threads.out" 2>"$LOGDIR/seccomp-threads.err" &
	pid=$!
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
	wait $pid
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
	while [ $i -lt 300 ]; do
		JCHILD=$(child_of "$2") && [ "$(status_field "$JCHILD" Seccomp)" = 2 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$JCHILD" ] || { JBAD="no jailed child of $2"; return; }
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
	rm -f /tmp/kiln-looked
	"$KILN" run --jail "$J" --kernel "$GKERNEL" --rootfs "$BBROOT,ro" \
		--disk /tmp/kiln-jail-disk -- sh -c \
		'cat /etc/marker; echo jailed | dd of=/dev/vda conv=fsync 2>/dev/null; sleep 5; exit 3' \
		</dev/null >"$LOGDIR/jail.out" 2>"$LOGDIR/jail.err" &
	pid=$!
	jail_check jail $pid "dev disks kernel proc rootfs "
	wait $pid
	RC=$?
	if [ -n "$JBAD" ]; then
		result jail 1 "$JBAD"
	elif [ $RC -ne 3 ] || [ "$(out jail)" != bbroot-marker ]; then
		result jail 1 "status $RC, output '$(out jail | head -c 200)', want 3 and bbroot-marker"
	elif [ "$(head -c 6 /tmp/kiln-jail-disk)" != jailed ]; then
		result jail 1 "the guest's write did not reach the disk image"
	elif [ -n "$(ls -A "$J")" ] || [ "$(wc -l </proc/mounts)" != "$mounts_before" ]; then
		result jail 1 "left behind: '$(ls -A "$J")', mounts $mounts_before -> $(wc -l </proc/mounts)"
	else
		result jail 0 "PID 1 in its own mnt/pid/ipc/uts/net namespaces, root holds only the VM's files, no capabilities, no_new_privs, seccomp; status and disk write pass through"
	fi
	rm -rf "$J" /tmp/kiln-jail-disk
fi

if want jail-cgroup; then
	START=$(now_cs)
	J=/tmp/kiln-jail
	rm -rf "$J" && mkdir -p "$J"
	cg=/sys/fs/cgroup/kiln-e2e
	# An unprivileged kiln: /dev/kvm and the root directory must be its.
	kvm_mode=$(stat -c %a /dev/kvm)
	chmod 0666 /dev/kvm
	"$KILN" run --jail "$J" --uid 1000 --gid 1000 --cgroup kiln-e2e,cpu=50,mem=1G \
		--kernel "$GKERNEL" --rootfs "$BBROOT,ro" -- sh -c 'sleep 5; cat /etc/marker' \
		</dev/null >"$LOGDIR/jail-cgroup.out" 2>"$LOGDIR/jail-cgroup.err" &
	pid=$!
	jail_check jail-cgroup $pid "dev kernel proc rootfs "
	bad=$JBAD
	if [ -n "$JCHILD" ]; then
		ids="$(status_field "$JCHILD" Uid | awk '{print $1,$2,$3}') $(status_field "$JCHILD" Gid | awk '{print $1,$2,$3}')"
		[ "$ids" = "1000 1000 1000 1000 1000 1000" ] || bad="$bad; uid/gid $ids"
		grep -qx "$JCHILD" "$cg/cgroup.procs" 2>/dev/null || bad="$bad; not in $cg"
		[ "$(cat "$cg/memory.max" 2>/dev/null)" = 1073741824 ] || bad="$bad; memory.max $(cat "$cg/memory.max" 2>&1)"
		[ "$(cat "$cg/cpu.max" 2>/dev/null)" = "50000 100000" ] || bad="$bad; cpu.max $(cat "$cg/cpu.max" 2>&1)"
	fi
	wait $pid
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
