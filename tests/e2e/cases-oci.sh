# shellcheck shell=sh
# kiln as an OCI runtime (create/start/state/kill/delete), driven as conmon
# and containerd's shim drive runc: by ocishim (tests/tools/ocishim.c), a
# child subreaper that waits for the pid create leaves. Sourced by
# cases.sh after cases-run.sh (its busybox root, BBROOT).

OCIROOT=/tmp/kiln-oci-root
OCI_SHIM=$(command -v ocishim || echo /bin/ocishim)

# bundle NAME ARGS_JSON [MORE_JSON_MEMBERS]: a bundle in /tmp/oci-NAME with
# a copy of the busybox root; MORE goes into the top-level object.
# PROCESS= replaces the process's settings, MOUNTS= and LINUX= add to
# theirs, ROOTRO=1 makes the root read-only, NETNS=PATH names a network
# namespace to join.
bundle() {
	b=/tmp/oci-$1
	rm -rf "$b"
	mkdir -p "$b"
	cp -a "$BBROOT" "$b/rootfs"
	ro_member=
	[ -z "${ROOTRO:-}" ] || ro_member=', "readonly": true'
	ns_member=
	[ -z "${NETNS:-}" ] || ns_member=", { \"type\": \"network\", \"path\": \"$NETNS\" }"
	proc=${PROCESS:-"\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\", \"env\": [\"PATH=/bin\"]"}
	cat >"$b/config.json" <<EOF
{
  "ociVersion": "1.0.2-dev",
  "process": { $proc, "args": $2 },
  "root": { "path": "rootfs"$ro_member },
  "hostname": "kiln-oci",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": ["nosuid", "noexec", "nodev", "ro"] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": ["nosuid", "noexec", "nodev"] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
    ${MOUNTS:-}
  ],
  "linux": { "namespaces": [ { "type": "pid" }, { "type": "mount" }$ns_member ] ${LINUX:-} }
  ${3:-}
}
EOF
}

# oci NAME ARGS...: kiln's runtime command line on OCIROOT; output to
# NAME.oci (appended); sets ORC (RC stays the container's).
oci() {
	n=$1
	shift
	"$KILN" --root "$OCIROOT" "$@" >>"$LOGDIR/$n.oci" 2>&1
	ORC=$?
}

# shim NAME [tty RxC]: runs bundle NAME's container to its end; stdin from
# $KIN, stdout NAME.out, stderr NAME.err; sets RC.
shim() {
	n=$1
	shift
	START=$(now_cs)
	timeout -s KILL $T "$OCI_SHIM" "$KILN" "$OCIROOT" "/tmp/oci-$n" "$n" "$@" \
		<"${KIN:-/dev/null}" >"$LOGDIR/$n.out" 2>"$LOGDIR/$n.err"
	RC=$?
}

# gone NAME: nothing of container NAME is left under OCIROOT.
gone() { [ ! -e "$OCIROOT/$1" ]; }

if want oci-status-streams; then
	bundle oci-status-streams '["sh", "-c", "echo out; echo err >&2; exit 7"]'
	shim oci-status-streams
	rc=$RC
	oci oci-status-streams state oci-status-streams
	st=$(grep '"status"' "$LOGDIR/oci-status-streams.oci")
	oci oci-status-streams delete oci-status-streams
	d=$ORC
	if [ $rc -ne 7 ]; then
		result oci-status-streams 1 "status $rc, want 7"
	elif [ "$(cat "$LOGDIR/oci-status-streams.out")" != out ]; then
		result oci-status-streams 1 "stdout is '$(cat "$LOGDIR/oci-status-streams.out")', want 'out'"
	elif [ "$(grep -v '^ocishim: ' "$LOGDIR/oci-status-streams.err")" != err ]; then
		result oci-status-streams 1 "stderr is not just 'err'"
	elif ! echo "$st" | grep -q '"stopped"'; then
		result oci-status-streams 1 "state after the end: $st"
	elif [ $d -ne 0 ] || ! gone oci-status-streams; then
		result oci-status-streams 1 "delete gave $d or left $OCIROOT/oci-status-streams"
	else
		result oci-status-streams 0 "stdout and stderr apart and exact, status 7, then stopped, delete leaves nothing"
	fi
fi

if want oci-stdin; then
	head -c 1048576 /dev/urandom >/tmp/oci-stdin.in
	bundle oci-stdin '["cat"]'
	KIN=/tmp/oci-stdin.in shim oci-stdin
	oci oci-stdin delete oci-stdin
	a=$(md5sum </tmp/oci-stdin.in | cut -d' ' -f1)
	b=$(md5sum <"$LOGDIR/oci-stdin.out" | cut -d' ' -f1)
	if [ $RC -ne 0 ] || [ "$a" != "$b" ]; then
		result oci-stdin 1 "status $RC, 1 MiB in $a, out $b ($(wc -c <"$LOGDIR/oci-stdin.out") bytes)"
	else
		result oci-stdin 0 "1 MiB through cat, byte-exact"
	fi
	rm -f /tmp/oci-stdin.in "$LOGDIR/oci-stdin.out"
fi

if want oci-process; then
	rm -rf /tmp/oci-vol /tmp/oci-rovol
	mkdir -p /tmp/oci-vol /tmp/oci-rovol
	chmod 777 /tmp/oci-vol
	echo ro-content >/tmp/oci-rovol/f
	echo "10.9.8.7 oci-hosts-marker" >/tmp/oci-hosts
	PROCESS='"terminal": false, "cwd": "/tmp/w", "env": ["PATH=/bin", "FOO=bar baz"],
	  "user": { "uid": 1000, "gid": 1000, "additionalGids": [ 20, 30 ] },
	  "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 777, "soft": 555 } ]' \
	MOUNTS=', { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"] },
	  { "destination": "/data", "type": "bind", "source": "/tmp/oci-vol", "options": ["rbind", "rw"] },
	  { "destination": "/ro", "type": "bind", "source": "/tmp/oci-rovol", "options": ["rbind", "ro"] },
	  { "destination": "/etc/hosts", "type": "bind", "source": "/tmp/oci-hosts", "options": ["rbind", "ro"] }' \
	LINUX=', "resources": { "memory": { "limit": 201326592 } }' \
		bundle oci-process '["sh", "-c", "id; pwd; echo \"FOO=$FOO\"; hostname; grep marker /etc/hosts; ulimit -n; ulimit -Hn; grep MemTotal /proc/meminfo; echo w >/data/written && echo data-rw; cat /ro/f; touch /ro/x 2>/dev/null || echo ro-refused; echo x >/etc/hosts 2>/dev/null || echo hosts-ro"]'
	shim oci-process
	oci oci-process delete oci-process
	o=$(cat "$LOGDIR/oci-process.out")
	mem=$(echo "$o" | sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p')
	bad=
	for w in "uid=1000 gid=1000" "groups=.*20.*30" "^/tmp/w$" "^FOO=bar baz$" "^kiln-oci$" \
		"oci-hosts-marker" "^555$" "^777$" "^data-rw$" "^ro-content$" "^ro-refused$" "^hosts-ro$"; do
		echo "$o" | grep -q "$w" || bad="$bad '$w'"
	done
	if [ $RC -ne 0 ] || [ -n "$bad" ]; then
		result oci-process 1 "status $RC; missing:$bad"
	elif [ "$(cat /tmp/oci-vol/written 2>/dev/null)" != w ]; then
		result oci-process 1 "the rw volume's file is not on the host"
	elif [ -e /tmp/oci-rovol/x ]; then
		result oci-process 1 "a file appeared in the ro volume"
	elif [ -z "$mem" ] || [ "$mem" -gt 196608 ] || [ "$mem" -lt 131072 ]; then
		result oci-process 1 "MemTotal '$mem' kB for a 192 MiB limit"
	else
		result oci-process 0 "user 1000:1000 + groups, cwd, env, hostname, rlimits, rw/ro volumes, a file bind, MemTotal $mem kB of 192 MiB"
	fi
fi

if want oci-readonly; then
	ROOTRO=1 MOUNTS=', { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs" }' \
		bundle oci-readonly '["sh", "-c", "touch /newfile 2>/dev/null && echo wrote || echo root-ro; echo t >/tmp/t && echo tmp-rw"]'
	shim oci-readonly
	oci oci-readonly delete oci-readonly
	o=$(cat "$LOGDIR/oci-readonly.out")
	if [ $RC -ne 0 ] || [ "$o" != "$(printf 'root-ro\ntmp-rw')" ]; then
		result oci-readonly 1 "status $RC: $o"
	elif [ -e /tmp/oci-oci-readonly/rootfs/newfile ]; then
		result oci-readonly 1 "the read-only root took a file"
	else
		result oci-readonly 0 "root.readonly: writes refused, a tmpfs in it writable"
	fi
fi

if want oci-kill-term; then
	bundle oci-kill-term '["sh", "-c", "trap \"echo got-term; exit 0\" TERM; echo ready; while :; do sleep 0.1; done"]'
	START=$(now_cs)
	"$OCI_SHIM" "$KILN" "$OCIROOT" /tmp/oci-oci-kill-term oci-kill-term </dev/null \
		>"$LOGDIR/oci-kill-term.out" 2>"$LOGDIR/oci-kill-term.err" &
	sp=$!
	ok=1
	wait_out oci-kill-term ready $sp || ok=0
	oci oci-kill-term state oci-kill-term
	running=$(grep -c '"running"' "$LOGDIR/oci-kill-term.oci")
	oci oci-kill-term ps --format json oci-kill-term
	oci oci-kill-term list
	oci oci-kill-term kill oci-kill-term TERM
	k=$ORC
	finish $sp
	oci oci-kill-term delete oci-kill-term
	if [ $ok -ne 1 ]; then
		result oci-kill-term 1 "the container never said ready"
	elif [ "$running" -ne 1 ] || [ $k -ne 0 ]; then
		result oci-kill-term 1 "state not running ($running) or kill gave $k"
	elif [ $RC -ne 0 ] || ! grep -q got-term "$LOGDIR/oci-kill-term.out"; then
		result oci-kill-term 1 "status $RC: the trap did not run"
	elif ! gone oci-kill-term; then
		result oci-kill-term 1 "delete left its directory"
	else
		result oci-kill-term 0 "kill TERM reached the container's trap, status 0"
	fi
fi

if want oci-kill-kill; then
	bundle oci-kill-kill '["sh", "-c", "trap \"\" TERM; echo ready; sleep 1000"]'
	START=$(now_cs)
	"$OCI_SHIM" "$KILN" "$OCIROOT" /tmp/oci-oci-kill-kill oci-kill-kill </dev/null \
		>"$LOGDIR/oci-kill-kill.out" 2>"$LOGDIR/oci-kill-kill.err" &
	sp=$!
	wait_out oci-kill-kill ready $sp
	oci oci-kill-kill delete oci-kill-kill
	busy=$ORC
	oci oci-kill-kill kill oci-kill-kill 9
	finish $sp
	oci oci-kill-kill state oci-kill-kill
	st=$(grep '"status"' "$LOGDIR/oci-kill-kill.oci")
	oci oci-kill-kill delete oci-kill-kill
	if [ $busy -eq 0 ]; then
		result oci-kill-kill 1 "delete of a running container without --force succeeded"
	elif [ $RC -ne 137 ]; then
		result oci-kill-kill 1 "status $RC after kill 9, want 137"
	elif ! echo "$st" | grep -q stopped; then
		result oci-kill-kill 1 "state after kill 9: $st"
	elif ! gone oci-kill-kill; then
		result oci-kill-kill 1 "delete left its directory"
	else
		result oci-kill-kill 0 "delete refused while running; kill 9 ends it at once: 137, stopped, deleted"
	fi
fi

if want oci-exec; then
	bundle oci-exec '["sh", "-c", "echo ready; while :; do sleep 0.1; done"]'
	START=$(now_cs)
	"$OCI_SHIM" "$KILN" "$OCIROOT" /tmp/oci-oci-exec oci-exec </dev/null \
		>"$LOGDIR/oci-exec.out" 2>"$LOGDIR/oci-exec.err" &
	sp=$!
	wait_out oci-exec ready $sp
	L=$LOGDIR/oci-exec
	"$KILN" --root "$OCIROOT" exec oci-exec sh -c 'echo out-$((2+3)); echo err >&2; exit 5' \
		</dev/null >"$L.x1" 2>"$L.x1e"
	x1=$?
	cat >/tmp/oci-exec-process.json <<'JSON'
{ "args": ["sh", "-c", "id -u; id -g; pwd; echo \"E=$E\"; hostname"], "cwd": "/tmp",
  "env": ["PATH=/bin", "E=v1"], "user": { "uid": 1000, "gid": 1001 }, "terminal": false }
JSON
	"$KILN" --root "$OCIROOT" exec --process /tmp/oci-exec-process.json oci-exec \
		</dev/null >"$L.x2" 2>>"$L.x1e"
	x2=$?
	printf 'through-stdin' | "$KILN" --root "$OCIROOT" exec oci-exec cat >"$L.x3" 2>>"$L.x1e"
	x3=$?
	# 4 MiB through cat: its output flows while its input still comes.
	head -c 4194304 /dev/urandom >/tmp/oci-exec.big
	"$KILN" --root "$OCIROOT" exec oci-exec cat </tmp/oci-exec.big >/tmp/oci-exec.bigout 2>>"$L.x1e"
	x7=$?
	big_in=$(md5sum </tmp/oci-exec.big | cut -d' ' -f1)
	big_out=$(md5sum </tmp/oci-exec.bigout | cut -d' ' -f1)
	rm -f /tmp/oci-exec.big /tmp/oci-exec.bigout
	rm -f /tmp/oci-exec.pid
	"$KILN" --root "$OCIROOT" exec --detach --pid-file /tmp/oci-exec.pid oci-exec \
		sh -c 'sleep 0.3; echo detached' </dev/null >"$L.x4" 2>>"$L.x1e"
	x4=$?
	rp=$(cat /tmp/oci-exec.pid 2>/dev/null)
	j=0
	while [ $j -lt 100 ] && ! grep -q detached "$L.x4"; do sleep 0.1; j=$((j + 1)); done
	"$KILN" --root "$OCIROOT" exec oci-exec /no/such/cmd </dev/null >/dev/null 2>>"$L.x1e"
	x5=$?
	oci oci-exec kill oci-exec TERM
	finish $sp
	crc=$RC
	"$KILN" --root "$OCIROOT" exec oci-exec true </dev/null >/dev/null 2>"$L.x6"
	x6=$?
	oci oci-exec delete oci-exec
	if [ $x1 -ne 5 ] || [ "$(cat "$L.x1")" != out-5 ] || ! grep -qx err "$L.x1e"; then
		result oci-exec 1 "exec sh -c: status $x1, out '$(cat "$L.x1")'"
	elif [ $x2 -ne 0 ] || [ "$(cat "$L.x2")" != "$(printf '1000\n1001\n/tmp\nE=v1\nkiln-oci')" ]; then
		result oci-exec 1 "exec --process: status $x2, out '$(cat "$L.x2")'"
	elif [ $x3 -ne 0 ] || [ "$(cat "$L.x3")" != through-stdin ]; then
		result oci-exec 1 "exec with stdin: status $x3, out '$(cat "$L.x3")'"
	elif [ $x7 -ne 0 ] || [ "$big_in" != "$big_out" ]; then
		result oci-exec 1 "exec cat of 4 MiB: status $x7, in $big_in out $big_out"
	elif [ $x4 -ne 0 ] || [ -z "$rp" ] || ! grep -q detached "$L.x4"; then
		result oci-exec 1 "exec --detach: status $x4, pid '$rp', out '$(cat "$L.x4")'"
	elif [ $x5 -ne 127 ]; then
		result oci-exec 1 "exec of a missing command: status $x5, want 127"
	elif [ $crc -ne 143 ]; then
		result oci-exec 1 "the container after kill TERM: status $crc, want 143"
	elif [ $x6 -eq 0 ] || ! grep -q "not running" "$L.x6"; then
		result oci-exec 1 "exec into a stopped container: status $x6: $(cat "$L.x6")"
	else
		result oci-exec 0 "status 5 and streams, --process user/cwd/env, stdin, 4 MiB through cat, --detach with a pid file, 127, refused once stopped"
	fi
fi

if want oci-tty; then
	PROCESS='"terminal": true, "user": { "uid": 0, "gid": 0 }, "cwd": "/", "env": ["PATH=/bin", "TERM=xterm"]' \
		bundle oci-tty '["sh"]'
	printf 'stty size; tty\necho typed-$((6*7))\nexit 3\n' >/tmp/oci-tty.in
	KIN=/tmp/oci-tty.in shim oci-tty tty 31x97
	oci oci-tty delete oci-tty
	o=$(tr -d '\r' <"$LOGDIR/oci-tty.out")
	if [ $RC -ne 3 ]; then
		result oci-tty 1 "status $RC, want 3"
	elif ! echo "$o" | grep -q '^31 97$'; then
		result oci-tty 1 "stty size did not say 31 97"
	elif ! echo "$o" | grep -q '^/dev/pts/'; then
		result oci-tty 1 "tty is not a pty"
	elif ! echo "$o" | grep -q '^typed-42$'; then
		result oci-tty 1 "the typed command did not run"
	else
		result oci-tty 0 "the master over --console-socket: a pty in the guest, 31x97, a typed command, status 3"
	fi
fi

if want oci-lifecycle; then
	START=$(now_cs)
	bundle oci-lifecycle '["true"]' ', "annotations": { "org.example.k": "v1" }'
	oci oci-lifecycle create --bundle /tmp/oci-oci-lifecycle --pid-file /tmp/oci-lc.pid oci-lifecycle
	c1=$ORC
	oci oci-lifecycle create --bundle /tmp/oci-oci-lifecycle oci-lifecycle
	c2=$ORC
	oci oci-lifecycle state oci-lifecycle
	st=$(cat "$LOGDIR/oci-lifecycle.oci")
	pid=$(cat /tmp/oci-lc.pid 2>/dev/null)
	oci oci-lifecycle delete oci-lifecycle
	d=$ORC
	alive=0
	sleep 0.5
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
	# Killed before it starts: the status says which signal.
	OCISHIM_NOSTART=1 "$OCI_SHIM" "$KILN" "$OCIROOT" /tmp/oci-oci-lifecycle oci-lc2 </dev/null \
		>"$LOGDIR/oci-lifecycle.out" 2>"$LOGDIR/oci-lifecycle.err" &
	sp=$!
	j=0
	while [ $j -lt 600 ] && kill -0 $sp 2>/dev/null &&
		! grep -q 'ocishim: pid' "$LOGDIR/oci-lifecycle.err"; do
		sleep 0.1
		j=$((j + 1))
	done
	oci oci-lifecycle kill oci-lc2 TERM
	finish $sp
	lc2=$RC
	oci oci-lifecycle delete oci-lc2
	if [ $c1 -ne 0 ] || [ -z "$pid" ]; then
		result oci-lifecycle 1 "create gave $c1, pid '$pid'"
	elif [ $c2 -eq 0 ] || ! grep -q "exists" "$LOGDIR/oci-lifecycle.oci"; then
		result oci-lifecycle 1 "a second create of the same id was not refused"
	elif ! echo "$st" | grep -q '"created"' || ! echo "$st" | grep -q "\"pid\": $pid" ||
		! echo "$st" | grep -q '"org.example.k": "v1"'; then
		result oci-lifecycle 1 "state of a created container: $st"
	elif [ $d -ne 0 ] || [ $alive -ne 0 ] || ! gone oci-lifecycle; then
		result oci-lifecycle 1 "delete of a created one: status $d, process alive $alive"
	elif [ $lc2 -ne 143 ] || ! gone oci-lc2; then
		result oci-lifecycle 1 "kill TERM of a created container: status $lc2, want 143"
	else
		result oci-lifecycle 0 "created (pid, annotations), a second create refused, delete ends it and leaves nothing, kill TERM before start: 143"
	fi
fi

# Bad bundles: one clear error, non-zero status, nothing under the root.
oci_bad() { # NAME PATTERN
	want "$1" || return 0
	START=$(now_cs)
	oci "$1" --log "$LOGDIR/$1.json" --log-format json create --bundle "/tmp/oci-$1" "$1"
	if [ $ORC -eq 0 ]; then
		result "$1" 1 "create succeeded"
	elif ! grep -q -- "$2" "$LOGDIR/$1.oci"; then
		result "$1" 1 "error does not say '$2': $(cat "$LOGDIR/$1.oci")"
	elif ! grep -q '"level":"error","msg":"' "$LOGDIR/$1.json"; then
		result "$1" 1 "no JSON error line in --log"
	elif ! gone "$1"; then
		result "$1" 1 "left $OCIROOT/$1 behind"
	else
		result "$1" 0 "$(cat "$LOGDIR/$1.oci")"
	fi
}
if want oci-bad-*; then
	bundle oci-bad-noconfig '["true"]'
	rm /tmp/oci-oci-bad-noconfig/config.json
	oci_bad oci-bad-noconfig "config.json: No such file"
	bundle oci-bad-json '["true"]'
	echo '{"ociVersion": "1.0.2", "process": ' >/tmp/oci-oci-bad-json/config.json
	oci_bad oci-bad-json "config.json: line"
	bundle oci-bad-root '["true"]'
	rm -rf /tmp/oci-oci-bad-root/rootfs
	oci_bad oci-bad-root "root.path '/tmp/oci-oci-bad-root/rootfs'"
	bundle oci-bad-version '["true"]'
	sed -i 's/"1.0.2-dev"/"2.0.0"/' /tmp/oci-oci-bad-version/config.json
	oci_bad oci-bad-version "ociVersion '2.0.0'"
fi

# A container network made as CNI's bridge plugin makes one: a network
# namespace with one end of a veth pair (10.77.0.2/24, a default route
# via the other end, 10.77.0.1, on the host). The VM joins it: the host
# fetches the guest's page at the container's address and the guest the
# host's; then a second container in the same namespace (a restart, or
# another of a pod's) replaces the first's redirects and reaches the host.
if want oci-netns && [ -c /dev/net/tun ]; then
	START=$(now_cs)
	NS=/run/netns/kiln-oci
	mkdir -p /run/netns /tmp/on-www
	echo "host-page-$$" >/tmp/on-www/h.html
	touch $NS
	unshare --net=$NS true
	# (busybox's ip names the peer veth0, and moves links by pid.)
	ip link add kon0 type veth && ip link set veth0 name kon1
	nsenter --net=$NS sleep 100 &
	hold=$!
	sleep 0.2
	ip link set kon1 netns $hold
	kill $hold
	ip addr add 10.77.0.1/24 dev kon0
	ip link set kon0 up
	nsenter --net=$NS sh -c 'ip link set lo up && ip addr add 10.77.0.2/24 dev kon1 &&
		ip link set kon1 up && ip route add default via 10.77.0.1' \
		>"$LOGDIR/oci-netns.setup" 2>&1
	busybox httpd -p 10.77.0.1:18082 -h /tmp/on-www
	NETNS=$NS bundle oci-netns '["sh", "-c", "ip -o -4 addr show eth0; ip route; mkdir -p /www; echo guest-page-$((6 * 7)) >/www/index.html; httpd -p 80 -h /www; printf \"GET /h.html HTTP/1.0\\r\\n\\r\\n\" | nc -w 10 10.77.0.1 18082; echo ready; exec sleep 60"]'
	"$OCI_SHIM" "$KILN" "$OCIROOT" /tmp/oci-oci-netns oci-netns </dev/null \
		>"$LOGDIR/oci-netns.out" 2>"$LOGDIR/oci-netns.err" &
	sp=$!
	page=
	if wait_out oci-netns '^ready' $sp; then
		page=$(printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 10 10.77.0.2 80 2>>"$LOGDIR/oci-netns.err" | tr -d '\r' | tail -n1)
	fi
	oci oci-netns kill oci-netns KILL
	wait $sp
	oci oci-netns delete oci-netns
	# The second, in the same namespace.
	NETNS=$NS bundle oci-netns2 '["sh", "-c", "ping -c 1 -W 10 10.77.0.1 >/dev/null && echo second-reached"]'
	shim oci-netns2
	oci oci-netns2 delete oci-netns2
	o=$(tr -d '\r' <"$LOGDIR/oci-netns.out")
	ip link del kon0 2>/dev/null
	umount $NS 2>/dev/null
	rm -f $NS
	pkill -f 'httpd -p 10.77.0.1:18082' 2>/dev/null
	if ! echo "$o" | grep -q 'eth0 *inet 10.77.0.2/24'; then
		result oci-netns 1 "the guest's eth0 is not 10.77.0.2/24: $(echo "$o" | head -3 | tr '\n' ' ') $(tail -c 300 "$LOGDIR/oci-netns.err")"
	elif ! echo "$o" | grep -q '^default via 10.77.0.1'; then
		result oci-netns 1 "no default route via 10.77.0.1: $(echo "$o" | head -4 | tr '\n' ' ')"
	elif [ "$page" != guest-page-42 ]; then
		result oci-netns 1 "the host fetched '$page' from 10.77.0.2, want the guest's page"
	elif ! echo "$o" | grep -q "^host-page-$$\$"; then
		result oci-netns 1 "the guest did not fetch the host's page"
	elif [ $RC -ne 0 ] || ! grep -q second-reached "$LOGDIR/oci-netns2.out"; then
		result oci-netns 1 "a second container in the namespace: status $RC, $(tail -c 200 "$LOGDIR/oci-netns2.err")"
	elif ! gone oci-netns || ! gone oci-netns2; then
		result oci-netns 1 "left under $OCIROOT"
	else
		result oci-netns 0 "a veth's namespace joined: guest 10.77.0.2/24 via 10.77.0.1, host fetched its page and it the host's; a second container in the namespace replaced the first's redirects"
	fi
fi

# --- the opencontainers runtime-tools validation tests ---
# The ones that apply to a runtime whatever its isolation (create, state,
# kill, delete, start), run with kiln and with crun (a plain container
# runtime) one after the other: kiln passes at least what crun passes in
# each, and the counts of both are reported. (Some of the suite's
# checks fail with every runtime tried: they are the tests' own.)
if want oci-validate && [ -n "${RTT_DIR:-}" ] && command -v crun >/dev/null; then
	START=$(now_cs)
	bad=
	sum=
	for t in create state kill delete start; do
		for rt in kiln crun; do
			bin=$KILN
			[ $rt = crun ] && bin=$(command -v crun)
			(cd "$RTT_DIR" && RUNTIME=$bin timeout -s KILL $T "./$t.t") \
				>"$LOGDIR/oci-validate.$t.$rt" 2>&1
			ok=$(grep -c '^ok ' "$LOGDIR/oci-validate.$t.$rt")
			all=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$LOGDIR/oci-validate.$t.$rt" | head -n1)
			[ -n "$all" ] || all=$((ok + $(grep -c '^not ok ' "$LOGDIR/oci-validate.$t.$rt")))
			eval "ok_$rt=$ok all_$rt=$all"
		done
		sum="$sum $t $ok_kiln/$all_kiln (crun $ok_crun/$all_crun);"
		if [ "$all_kiln" -eq 0 ] || [ "$ok_kiln" -lt "$ok_crun" ]; then
			bad="$bad $t: $(grep -m1 '^not ok' "$LOGDIR/oci-validate.$t.kiln" | cut -c1-120);"
		fi
	done
	# Nothing of kiln's left behind by the suite's deletes.
	left=$(ls /run/kiln 2>/dev/null | wc -l)
	if [ -n "$bad" ]; then
		result oci-validate 1 "fewer passed than with crun:$bad counts:$sum"
	elif [ "$left" -ne 0 ]; then
		result oci-validate 1 "$left containers left under /run/kiln;$sum"
	else
		result oci-validate 0 "${sum%;}"
	fi
fi

# --- podman (with conmon) driving kiln, as users run it ---
# Only where podman is in L1 (the plain kiln's pass on the host's arch).
PODMAN_READY=
podman_setup() {
	[ -n "$PODMAN_READY" ] && return 0
	command -v podman >/dev/null || return 1
	mkdir -p /var/tmp /var/lib/containers /run/containers
	tar -C "$BBROOT" -cf /tmp/bb.tar . &&
		podman import --change 'CMD ["/bin/sh"]' /tmp/bb.tar localhost/bb \
			>"$LOGDIR/podman-setup.log" 2>&1
	rc=$?
	rm -f /tmp/bb.tar
	[ $rc -eq 0 ] || { cat "$LOGDIR/podman-setup.log"; return 1; }
	PODMAN_READY=1
}
# pm NAME ARGS...: podman with kiln as its runtime; stdin from $KIN,
# stdout NAME.out, stderr NAME.err (appended); sets RC.
pm() {
	n=$1
	shift
	timeout -s KILL $T podman --runtime "$KILN" "$@" <"${KIN:-/dev/null}" \
		>>"$LOGDIR/$n.out" 2>>"$LOGDIR/$n.err"
	RC=$?
}
pm_case() { # NAME: should it run, and is podman set up for it?
	want "$1" || return 1
	START=$(now_cs)
	: >"$LOGDIR/$1.out"
	: >"$LOGDIR/$1.err"
	if ! command -v podman >/dev/null; then
		return 1
	fi
	if ! podman_setup; then
		cp "$LOGDIR/podman-setup.log" "$LOGDIR/$1.setup" 2>/dev/null
		result "$1" 1 "podman import of the busybox image failed"
		return 1
	fi
}

if pm_case podman-run; then
	pm podman-run run --rm --network none localhost/bb sh -c 'echo out; echo err >&2; exit 7'
	if [ $RC -ne 7 ]; then
		result podman-run 1 "status $RC, want 7"
	elif [ "$(cat "$LOGDIR/podman-run.out")" != out ] || [ "$(cat "$LOGDIR/podman-run.err")" != err ]; then
		result podman-run 1 "stdout '$(cat "$LOGDIR/podman-run.out")', stderr '$(cat "$LOGDIR/podman-run.err")'"
	else
		result podman-run 0 "podman run --rm: stdout and stderr exact and apart, status 7"
	fi
fi

if pm_case podman-stdin; then
	head -c 1048576 /dev/urandom >/tmp/pm-stdin.in
	KIN=/tmp/pm-stdin.in pm podman-stdin run --rm -i --network none localhost/bb cat
	a=$(md5sum </tmp/pm-stdin.in | cut -d' ' -f1)
	b=$(md5sum <"$LOGDIR/podman-stdin.out" | cut -d' ' -f1)
	rm -f /tmp/pm-stdin.in
	if [ $RC -ne 0 ] || [ "$a" != "$b" ]; then
		result podman-stdin 1 "status $RC, in $a out $b ($(wc -c <"$LOGDIR/podman-stdin.out") bytes)"
	else
		result podman-stdin 0 "podman run -i: 1 MiB through cat, byte-exact"
	fi
	: >"$LOGDIR/podman-stdin.out"
fi

if pm_case podman-opts; then
	rm -rf /tmp/pm-vol /tmp/pm-rovol
	mkdir -p /tmp/pm-vol /tmp/pm-rovol
	chmod 777 /tmp/pm-vol
	echo ro-content >/tmp/pm-rovol/f
	pm podman-opts run --rm --network none -e FOO=bar -w /tmp -u 1000:1000 \
		-v /tmp/pm-vol:/data -v /tmp/pm-rovol:/ro:ro --read-only --memory 256m \
		localhost/bb sh -c 'id -u; id -g; pwd; echo "FOO=$FOO"; echo w >/data/w && echo data-rw;
			cat /ro/f; touch /ro/x 2>/dev/null || echo ro-refused;
			touch /newfile 2>/dev/null || echo root-ro; grep MemTotal /proc/meminfo'
	o=$(cat "$LOGDIR/podman-opts.out")
	mem=$(echo "$o" | sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p')
	bad=
	for w in '^1000$' '^/tmp$' '^FOO=bar$' '^data-rw$' '^ro-content$' '^ro-refused$' '^root-ro$'; do
		echo "$o" | grep -q "$w" || bad="$bad '$w'"
	done
	if [ $RC -ne 0 ] || [ -n "$bad" ]; then
		result podman-opts 1 "status $RC; missing:$bad"
	elif [ "$(cat /tmp/pm-vol/w 2>/dev/null)" != w ] || [ -e /tmp/pm-rovol/x ]; then
		result podman-opts 1 "the volumes on the host are not as written"
	elif [ -z "$mem" ] || [ "$mem" -gt 262144 ] || [ "$mem" -lt 196608 ]; then
		result podman-opts 1 "MemTotal '$mem' kB with --memory 256m"
	else
		result podman-opts 0 "-e -w -u 1000:1000, -v rw and :ro, --read-only, --memory 256m: MemTotal $mem kB"
	fi
fi

if pm_case podman-tty && command -v ptyrun >/dev/null; then
	timeout -s KILL $T ptyrun 24 80 --type-on 'PROMPT> ' 'stty size; echo RE""ADY; sleep 2; stty size; exit 3\n' \
		--resize-on READY 30 100 -- \
		podman --runtime "$KILN" run --rm -it --network none -e 'PS1=PROMPT> ' localhost/bb sh \
		>"$LOGDIR/podman-tty.out" 2>"$LOGDIR/podman-tty.err"
	RC=$?
	o=$(tr -d '\r' <"$LOGDIR/podman-tty.out")
	if [ $RC -ne 3 ]; then
		result podman-tty 1 "status $RC, want 3"
	elif ! echo "$o" | grep -q '^24 80$' || ! echo "$o" | grep -q '^30 100$'; then
		result podman-tty 1 "stty size did not see 24 80 and then 30 100"
	else
		result podman-tty 0 "podman run -it: a prompt, a typed command, 24x80 resized to 30x100, status 3"
	fi
fi

if pm_case podman-detach; then
	pm podman-detach rm -f pd
	pm podman-detach run -d --name pd --network none localhost/bb \
		sh -c 'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.1; done'
	d=$RC
	j=0
	while [ $j -lt 300 ] && ! podman logs pd 2>/dev/null | grep -q ready; do
		sleep 0.2
		j=$((j + 1))
	done
	pm podman-detach ps --format '{{.Names}} {{.Status}}'
	ps_ok=$(grep -c '^pd Up' "$LOGDIR/podman-detach.out")
	pm podman-detach exec pd sh -c 'echo in-exec-$((3*4)); exit 4'
	x=$RC
	timeout -s KILL $T ptyrun 27 91 -- podman --runtime "$KILN" exec -it pd sh -c 'tty; stty size' \
		>"$LOGDIR/podman-detach.tty" 2>&1
	xt=$?
	pm podman-detach stop -t 10 pd
	s=$RC
	code=$(podman inspect pd --format '{{.State.ExitCode}}' 2>>"$LOGDIR/podman-detach.err")
	logs=$(podman logs pd 2>&1)
	pm podman-detach rm pd
	r=$RC
	pm podman-detach run -d --name pk --network none localhost/bb sleep 1000
	pm podman-detach kill -s KILL pk
	k=$RC
	pm podman-detach wait pk
	kcode=$(podman inspect pk --format '{{.State.ExitCode}}' 2>>"$LOGDIR/podman-detach.err")
	pm podman-detach rm -f pk
	if [ $d -ne 0 ] || [ "$ps_ok" -ne 1 ]; then
		result podman-detach 1 "run -d gave $d; podman ps did not list it up"
	elif [ $x -ne 4 ] || ! grep -q '^in-exec-12$' "$LOGDIR/podman-detach.out"; then
		result podman-detach 1 "podman exec: status $x"
	elif ! tr -d '\r' <"$LOGDIR/podman-detach.tty" | grep -q '^/dev/pts/' ||
		! tr -d '\r' <"$LOGDIR/podman-detach.tty" | grep -q '^27 91$'; then
		result podman-detach 1 "podman exec -it (status $xt): no terminal of 27x91"
	elif [ $s -ne 0 ] || [ "$code" != 0 ] || ! echo "$logs" | grep -q got-term; then
		result podman-detach 1 "podman stop: status $s, exit code '$code', trap output: $(echo "$logs" | tail -1)"
	elif [ $r -ne 0 ] || [ $k -ne 0 ] || [ "$kcode" != 137 ]; then
		result podman-detach 1 "rm $r, kill -s KILL $k, its exit code '$kcode' (want 137)"
	else
		result podman-detach 0 "run -d, ps, exec (status 4), exec -it, stop: TERM reached the trap (exit 0), kill -s KILL: 137, rm"
	fi
fi

# A container network with a published port: podman makes the network
# namespace (slirp4netns's TAP with 10.0.2.100, a default route, port
# 18080 forwarded to it); kiln's VM joins it, so the guest's busybox
# httpd answers on the host's port, and the guest reaches the host.
if pm_case podman-publish && command -v slirp4netns >/dev/null; then
	pm podman-publish rm -f pp
	mkdir -p /tmp/pp-www
	echo "host-page-$$" >/tmp/pp-www/h.html
	busybox httpd -p 127.0.0.1:18081 -h /tmp/pp-www
	pm podman-publish run -d --name pp \
		--network slirp4netns:allow_host_loopback=true,port_handler=slirp4netns \
		-p 18080:80 localhost/bb sh -c 'mkdir -p /www &&
			echo "guest-page-$((6 * 7))" >/www/index.html &&
			ip -o -4 addr show >/www/addr && ip route >/www/route &&
			exec httpd -f -p 80 -h /www'
	d=$RC
	page=
	j=0
	while [ $d -eq 0 ] && [ $j -lt $((T * 2)) ] && [ -z "$page" ]; do
		page=$(curl -s --max-time 3 http://127.0.0.1:18080/ 2>/dev/null)
		[ -n "$page" ] || sleep 0.5
		j=$((j + 1))
	done
	addr=$(curl -s --max-time 5 http://127.0.0.1:18080/addr 2>/dev/null | grep -o 'eth0 *inet [0-9./]*' | tr -s ' ')
	route=$(curl -s --max-time 5 http://127.0.0.1:18080/route 2>/dev/null | grep -o '^default via [0-9.]*')
	# (busybox's wget crashes on a refused connection: nc speaks HTTP.)
	pm podman-publish exec pp sh -c 'printf "GET /h.html HTTP/1.0\r\n\r\n" | nc -w 10 10.0.2.2 18081'
	x=$RC
	if [ "$page" != "guest-page-42" ] || [ $x -ne 0 ]; then
		ns=$(podman inspect pp --format '{{.NetworkSettings.SandboxKey}}' 2>&1)
		{
			echo "== sandbox key: $ns; /run/netns: $(ls /run/netns 2>&1)"
			nsenter --net="$ns" ip addr 2>&1
			nsenter --net="$ns" ip route 2>&1
			nsenter --net="$ns" cat /proc/net/dev 2>&1
			echo "== the guest's"
			podman exec pp sh -c 'ip route; ping -c 2 -W 2 10.0.2.2; cat /proc/net/dev; netstat -ltn; printf "GET / HTTP/1.0\r\n\r\n" | nc -w 3 127.0.0.1 80' 2>&1
			echo "== host: $(curl -sS --max-time 5 http://127.0.0.1:18081/h.html 2>&1)"
			netstat -ltnp 2>&1
			curl -sS --max-time 5 http://127.0.0.1:18080/ 2>&1
			nsenter --net="$ns" cat /proc/net/dev 2>&1
			echo "== its logs"
			podman logs pp 2>&1 | tail -20
			echo "== kiln's log"
			find /var/lib/containers /run/containers -name 'oci-log' -exec tail -20 {} \; 2>/dev/null
			ps -ef 2>/dev/null | grep -E 'slirp|kiln' | grep -v grep
		} >>"$LOGDIR/podman-publish.out" 2>&1
	fi
	pm podman-publish rm -f pp
	pkill -f 'httpd -p 127.0.0.1:18081' 2>/dev/null
	if [ $d -ne 0 ]; then
		result podman-publish 1 "podman run -d -p 18080:80: status $d: $(tail -c 300 "$LOGDIR/podman-publish.err")"
	elif [ "$page" != "guest-page-42" ]; then
		result podman-publish 1 "host port 18080 gave '$page', want the guest's page"
	elif [ $x -ne 0 ] || ! grep -q "^host-page-$$\$" "$LOGDIR/podman-publish.out"; then
		result podman-publish 1 "the guest could not fetch the host's page (status $x): $(tail -c 200 "$LOGDIR/podman-publish.err")"
	else
		result podman-publish 0 "podman run -p 18080:80 reached the guest's httpd; guest $addr, $route; guest to host: fetched"
	fi
fi

# --- containerd (its runc v2 shim) driving kiln through ctr ---
CTD=/tmp/ctd
CTD_READY=
ctd_setup() {
	[ -n "$CTD_READY" ] && return 0
	command -v containerd >/dev/null && command -v ctr >/dev/null || return 1
	podman_setup || return 1
	rm -rf "$CTD"
	mkdir -p "$CTD"
	printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\n[grpc]\n  address = "%s/sock"\n[plugins."io.containerd.grpc.v1.cri"]\n  disable_apparmor = true\n' \
		"$CTD" "$CTD" "$CTD" >"$CTD/config.toml"
	containerd --config "$CTD/config.toml" >"$LOGDIR/containerd.log" 2>&1 &
	j=0
	while [ $j -lt 300 ] && ! ctr -a "$CTD/sock" version >/dev/null 2>&1; do
		sleep 0.2
		j=$((j + 1))
	done
	podman save --format oci-archive -o "$CTD/bb.tar" localhost/bb >>"$LOGDIR/containerd.log" 2>&1 &&
		ctr -a "$CTD/sock" images import --snapshotter native --base-name localhost/bb \
			"$CTD/bb.tar" >>"$LOGDIR/containerd.log" 2>&1 || return 1
	rm -f "$CTD/bb.tar"
	CTD_READY=1
}
# kctr ARGS...: ctr on the private containerd.
kctr() { ctr -a "$CTD/sock" "$@"; }
ctd_case() {
	want "$1" || return 1
	START=$(now_cs)
	command -v containerd >/dev/null || return 1
	if ! ctd_setup; then
		cp "$LOGDIR/containerd.log" "$LOGDIR/$1.containerd" 2>/dev/null
		result "$1" 1 "containerd did not start or import the image"
		return 1
	fi
}

if ctd_case ctr-run; then
	timeout -s KILL $T ctr -a "$CTD/sock" run --rm --snapshotter native --runc-binary "$KILN" \
		localhost/bb:latest c1 sh -c 'echo out; echo err >&2; exit 6' \
		</dev/null >"$LOGDIR/ctr-run.out" 2>"$LOGDIR/ctr-run.err"
	RC=$?
	if [ $RC -ne 6 ]; then
		result ctr-run 1 "status $RC, want 6"
	elif [ "$(cat "$LOGDIR/ctr-run.out")" != out ] || [ "$(cat "$LOGDIR/ctr-run.err")" != err ]; then
		result ctr-run 1 "stdout '$(cat "$LOGDIR/ctr-run.out")', stderr '$(cat "$LOGDIR/ctr-run.err")'"
	else
		result ctr-run 0 "ctr run --rm --runc-binary kiln: streams apart and exact, status 6"
	fi
fi

if ctd_case ctr-exec-kill; then
	ctr -a "$CTD/sock" run --rm --snapshotter native --runc-binary "$KILN" localhost/bb:latest c2 \
		sh -c 'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.1; done' \
		</dev/null >"$LOGDIR/ctr-exec-kill.out" 2>"$LOGDIR/ctr-exec-kill.err" &
	cp=$!
	wait_out ctr-exec-kill ready $cp
	timeout -s KILL $T ctr -a "$CTD/sock" task exec --exec-id e1 c2 sh -c 'echo in-exec-$((5*5)); exit 4' \
		</dev/null >"$LOGDIR/ctr-exec-kill.x" 2>&1
	x=$?
	kctr task ls >"$LOGDIR/ctr-exec-kill.ls" 2>&1
	kctr task kill -s SIGTERM c2 >>"$LOGDIR/ctr-exec-kill.ls" 2>&1
	k=$?
	finish $cp
	if [ $x -ne 4 ] || ! grep -q '^in-exec-25$' "$LOGDIR/ctr-exec-kill.x"; then
		result ctr-exec-kill 1 "ctr task exec: status $x: $(cat "$LOGDIR/ctr-exec-kill.x")"
	elif ! grep -q 'c2 .*RUNNING' "$LOGDIR/ctr-exec-kill.ls"; then
		result ctr-exec-kill 1 "ctr task ls did not list c2 running"
	elif [ $k -ne 0 ] || [ $RC -ne 0 ] || ! grep -q got-term "$LOGDIR/ctr-exec-kill.out"; then
		result ctr-exec-kill 1 "ctr task kill -s SIGTERM gave $k; the run ended $RC"
	else
		result ctr-exec-kill 0 "ctr task exec (status 4), task ls, task kill -s SIGTERM reaching the trap, status 0"
	fi
fi
