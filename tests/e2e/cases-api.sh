# shellcheck shell=sh
# The Firecracker-compatible API and config file (sourced by cases.sh):
# Firecracker's getting-started sequence, pause and resume, --no-api
# with a config file, and bad requests against a running VM.

# fc SOCK METHOD PATH [BODY]: "STATUS BODY", through curl where there is
# one (as a Firecracker user would), else kiln's test client.
fc() {
	if command -v curl >/dev/null; then
		code=$(curl -s --unix-socket "$1" -X "$2" ${4:+--data "$4"} \
			-o "$LOGDIR/fc.body" -w '%{http_code}' "http://localhost$3")
		echo "$code $(cat "$LOGDIR/fc.body" 2>/dev/null)"
	else
		fcreq "$1" "$2" "$3" ${4:+"$4"}
	fi
}

# wait_sock SOCK PID: until kiln listens there (or PID ends).
wait_sock() {
	j=0
	while [ $j -lt 100 ] && [ ! -S "$1" ] && kill -0 "$2" 2>/dev/null; do
		sleep 0.1
		j=$((j + 1))
	done
	[ -S "$1" ]
}

# ticks NAME: the last tick the guest printed (-1 for none).
ticks() {
	t=$(tr -d '\r' <"$LOGDIR/$1.out" | grep -a '^KILN-GUEST-TICK ' | tail -n1 | cut -d' ' -f2)
	echo "${t:--1}"
}

# wait_tick NAME N PID: until the guest printed tick N or more.
wait_tick() {
	j=0
	while [ $j -lt $((T * 5)) ] && [ "$(ticks "$1")" -lt "$2" ] &&
		kill -0 "$3" 2>/dev/null; do
		sleep 0.2
		j=$((j + 1))
	done
	[ "$(ticks "$1")" -ge "$2" ]
}

# A config file: Debian's kernel, kiln's test initrd, case $1.
fc_config() {
	cat <<EOT
{
  "boot-source": {
    "kernel_image_path": "$KERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off $APPEND_BASE kt=$1"
  },
  "drives": [],
  "machine-config": { "vcpu_count": 2, "mem_size_mib": 256 },
  "network-interfaces": []
}
EOT
}

if want api-getting-started; then
	START=$(now_cs)
	SOCK=/tmp/firecracker.socket
	LOGFILE=$LOGDIR/api-getting-started.fclog
	rm -f "$SOCK" "$LOGFILE"
	touch "$LOGFILE"
	cp "$ROOTFS" "$W/gs-rootfs.ext4"
	ROOTFS_GS=$W/gs-rootfs.ext4
	KERNEL_BOOT_ARGS="console=ttyS0 reboot=k panic=1 pci=off"
	[ "$(uname -m)" = aarch64 ] && KERNEL_BOOT_ARGS="keep_bootcon $KERNEL_BOOT_ARGS"
	FC_MAC=06:00:AC:10:00:02
	TAP_DEV=tap0
	ip link del "$TAP_DEV" 2>/dev/null
	tunctl -t "$TAP_DEV" >/dev/null
	timeout -s KILL $T "$KILN" --api-sock "$SOCK" </dev/null \
		>"$LOGDIR/api-getting-started.out" 2>"$LOGDIR/api-getting-started.err" &
	kpid=$!
	bad=
	wait_sock "$SOCK" $kpid || bad="no socket at $SOCK"
	if [ -z "$bad" ] && command -v curl >/dev/null; then
		# Firecracker's getting-started, word for word.
		API_SOCKET=$SOCK KERNEL=$GKERNEL ROOTFS=$ROOTFS_GS
		{
			curl -X PUT --unix-socket "${API_SOCKET}" \
				--data "{
        \"log_path\": \"${LOGFILE}\",
        \"level\": \"Debug\",
        \"show_level\": true,
        \"show_log_origin\": true
    }" \
				"http://localhost/logger"
			curl -X PUT --unix-socket "${API_SOCKET}" \
				--data "{
        \"kernel_image_path\": \"${KERNEL}\",
        \"boot_args\": \"${KERNEL_BOOT_ARGS}\"
    }" \
				"http://localhost/boot-source"
			curl -X PUT --unix-socket "${API_SOCKET}" \
				--data "{
        \"drive_id\": \"rootfs\",
        \"path_on_host\": \"${ROOTFS}\",
        \"is_root_device\": true,
        \"is_read_only\": false
    }" \
				"http://localhost/drives/rootfs"
			curl -X PUT --unix-socket "${API_SOCKET}" \
				--data "{
        \"iface_id\": \"net1\",
        \"guest_mac\": \"$FC_MAC\",
        \"host_dev_name\": \"$TAP_DEV\"
    }" \
				"http://localhost/network-interfaces/net1"
			sleep 0.015s
			curl -X PUT --unix-socket "${API_SOCKET}" \
				--data "{
        \"action_type\": \"InstanceStart\"
    }" \
				"http://localhost/actions"
		} >"$LOGDIR/api-getting-started.curl" 2>"$LOGDIR/api-getting-started.progress"
		KERNEL=/guest/vmlinuz
	elif [ -z "$bad" ]; then
		for r in "PUT /logger {\"log_path\": \"$LOGFILE\", \"level\": \"Debug\", \"show_level\": true, \"show_log_origin\": true}" \
			"PUT /boot-source {\"kernel_image_path\": \"$GKERNEL\", \"boot_args\": \"$KERNEL_BOOT_ARGS\"}" \
			"PUT /drives/rootfs {\"drive_id\": \"rootfs\", \"path_on_host\": \"$ROOTFS_GS\", \"is_root_device\": true, \"is_read_only\": false}" \
			"PUT /network-interfaces/net1 {\"iface_id\": \"net1\", \"guest_mac\": \"$FC_MAC\", \"host_dev_name\": \"$TAP_DEV\"}" \
			"PUT /actions {\"action_type\": \"InstanceStart\"}"; do
			set -- $r
			m=$1 p=$2
			shift 2
			fcreq "$SOCK" "$m" "$p" "$*"
		done >"$LOGDIR/api-getting-started.curl" 2>&1
	fi
	wait $kpid
	RC=$?
	ip link del "$TAP_DEV" 2>/dev/null
	line=$(out api-getting-started | grep -a -m1 '^KILN-GUEST-DEFAULT-INIT')
	if [ -n "$bad" ]; then
		result api-getting-started 1 "$bad: $(head -c 300 "$LOGDIR/api-getting-started.err")"
	elif grep -q fault_message "$LOGDIR/api-getting-started.curl"; then
		result api-getting-started 1 "a request was refused: $(head -c 300 "$LOGDIR/api-getting-started.curl")"
	elif [ $RC -ne 0 ] || [ -z "$line" ]; then
		result api-getting-started 1 "status $RC, '$line', $(head -c 300 "$LOGDIR/api-getting-started.curl") $(tail -c 300 "$LOGDIR/api-getting-started.err")"
	elif ! echo "$line" | grep -q 'root=/dev/vda writable'; then
		result api-getting-started 1 "the root drive: '$line'"
	elif [ -S "$SOCK" ]; then
		result api-getting-started 1 "the socket is still there after kiln ended"
	elif ! grep -q . "$LOGFILE"; then
		result api-getting-started 1 "nothing in the logger's file"
	else
		result api-getting-started 0 "logger, boot-source, drives, network-interfaces, InstanceStart: /sbin/init on $(echo "$line" | cut -d' ' -f2-3); exit 0 on reboot"
	fi
fi

# The same requests with Debian's kernel, which needs its initrd (its
# virtio drivers are modules): boot-source gains initrd_path.
if want api-getting-started-debian; then
	START=$(now_cs)
	SOCK=/tmp/firecracker.socket
	rm -f "$SOCK"
	cp "$ROOTFS" "$W/gs-rootfs.ext4"
	BA="console=ttyS0 reboot=k panic=1 pci=off"
	[ "$(uname -m)" = aarch64 ] && BA="keep_bootcon $BA"
	tunctl -t tap0 >/dev/null
	timeout -s KILL $T "$KILN" --api-sock "$SOCK" </dev/null \
		>"$LOGDIR/api-getting-started-debian.out" 2>"$LOGDIR/api-getting-started-debian.err" &
	kpid=$!
	bad=
	wait_sock "$SOCK" $kpid || bad="no socket at $SOCK"
	for r in "PUT /boot-source {\"kernel_image_path\": \"$KERNEL\", \"initrd_path\": \"$GUEST_INITRD\", \"boot_args\": \"$BA\"}" \
		"PUT /drives/rootfs {\"drive_id\": \"rootfs\", \"path_on_host\": \"$W/gs-rootfs.ext4\", \"is_root_device\": true, \"is_read_only\": false}" \
		"PUT /network-interfaces/net1 {\"iface_id\": \"net1\", \"guest_mac\": \"06:00:AC:10:00:02\", \"host_dev_name\": \"tap0\"}" \
		"PUT /actions {\"action_type\": \"InstanceStart\"}"; do
		[ -z "$bad" ] || break
		m=${r%% *}
		rest=${r#* }
		p=${rest%% *}
		got=$(fc "$SOCK" "$m" "$p" "${rest#* }")
		[ "$got" = "204 " ] || bad="$m $p: $got"
	done
	[ -z "$bad" ] || kill -KILL $kpid 2>/dev/null
	wait $kpid
	RC=$?
	ip link del tap0 2>/dev/null
	line=$(out api-getting-started-debian | grep -a -m1 '^KILN-GUEST-DEFAULT-INIT')
	if [ -n "$bad" ]; then
		result api-getting-started-debian 1 "$bad; $(tail -c 300 "$LOGDIR/api-getting-started-debian.err")"
	elif [ $RC -ne 0 ] || ! echo "$line" | grep -q 'root=/dev/vda.*-\(amd64\|arm64\)$'; then
		result api-getting-started-debian 1 "status $RC, '$line', $(tail -c 300 "$LOGDIR/api-getting-started-debian.err")"
	else
		result api-getting-started-debian 0 "Debian's $(echo "$line" | awk '{print $NF}') to init with the root drive's root= on its command line; exit 0 on reboot"
	fi
fi

if want api-pause-resume; then
	START=$(now_cs)
	SOCK=/tmp/kiln-api.sock
	rm -f "$SOCK"
	fc_config tick >"$W/tick.json"
	timeout -s KILL $T "$KILN" --api-sock "$SOCK" --config-file "$W/tick.json" \
		--id pause-test </dev/null >"$LOGDIR/api-pause-resume.out" \
		2>"$LOGDIR/api-pause-resume.err" &
	kpid=$!
	bad=
	wait_sock "$SOCK" $kpid || bad="no socket"
	[ -n "$bad" ] || wait_tick api-pause-resume 3 $kpid || bad="no ticks from the guest"
	[ -n "$bad" ] || case $(fc "$SOCK" GET /) in
		*'"state":"Running"'*) ;;
		*) bad="GET / before the pause: $(fc "$SOCK" GET /)" ;;
	esac
	[ -n "$bad" ] || [ "$(fc "$SOCK" PATCH /vm '{"state": "Paused"}')" = "204 " ] ||
		bad="PATCH Paused: $(fc "$SOCK" PATCH /vm '{"state": "Paused"}')"
	if [ -z "$bad" ]; then
		t1=$(ticks api-pause-resume)
		case $(fc "$SOCK" GET /) in
		*'"id":"pause-test","state":"Paused"'*) ;;
		*) bad="GET / while paused: $(fc "$SOCK" GET /)" ;;
		esac
		sleep 2
		t2=$(ticks api-pause-resume)
		[ "$t1" = "$t2" ] || bad="ticks went on while paused: $t1 -> $t2"
		case $(fc "$SOCK" PATCH /vm '{"state": "Paused"}') in
		"400 "*"cannot pause a VM that is paused"*) ;;
		*) bad="$bad; a second pause: $(fc "$SOCK" PATCH /vm '{"state": "Paused"}')" ;;
		esac
	fi
	[ -n "$bad" ] || [ "$(fc "$SOCK" PATCH /vm '{"state": "Resumed"}')" = "204 " ] ||
		bad="PATCH Resumed refused"
	[ -n "$bad" ] || wait_tick api-pause-resume $((t2 + 3)) $kpid ||
		bad="no ticks after Resumed (last $(ticks api-pause-resume))"
	[ -n "$bad" ] || case $(fc "$SOCK" GET /) in
		*'"state":"Running"'*) ;;
		*) bad="GET / after resume: $(fc "$SOCK" GET /)" ;;
	esac
	how=
	if [ -z "$bad" ] && [ "$(uname -m)" = x86_64 ]; then
		# Ctrl-Alt-Del through the keyboard controller: Linux restarts.
		r=$(fc "$SOCK" PUT /actions '{"action_type": "SendCtrlAltDel"}')
		[ "$r" = "204 " ] || bad="SendCtrlAltDel: $r"
		how="SendCtrlAltDel rebooted it"
	elif [ -z "$bad" ]; then
		case $(fc "$SOCK" PUT /actions '{"action_type": "SendCtrlAltDel"}') in
		"400 "*"no keyboard"*) ;;
		*) bad="SendCtrlAltDel on an Arm machine was not refused" ;;
		esac
		kill -TERM $kpid
		how="SIGTERM ended it"
	fi
	[ -z "$bad" ] || kill -KILL $kpid 2>/dev/null
	wait $kpid
	RC=$?
	want_rc=0
	[ "$(uname -m)" = x86_64 ] || want_rc=143
	if [ -n "$bad" ]; then
		result api-pause-resume 1 "$bad; $(tail -c 300 "$LOGDIR/api-pause-resume.err")"
	elif [ $RC -ne $want_rc ]; then
		result api-pause-resume 1 "status $RC after '$how', want $want_rc"
	else
		result api-pause-resume 0 "ticks stopped at $t2 while Paused (2 s), went on after Resumed; GET / said Running, Paused, Running; $how"
	fi
fi

if want api-no-api; then
	START=$(now_cs)
	fc_config boot >"$W/boot.json"
	timeout -s KILL $T "$KILN" --no-api --config-file "$W/boot.json" </dev/null \
		>"$LOGDIR/api-no-api.out" 2>"$LOGDIR/api-no-api.err"
	RC=$?
	if [ $RC -ne 0 ] || ! out api-no-api | grep -q '^KILN-GUEST-DONE'; then
		result api-no-api 1 "status $RC, $(tail -c 300 "$LOGDIR/api-no-api.err")"
	else
		result api-no-api 0 "--no-api --config-file booted $(out api-no-api | grep -a -m1 '^KILN-GUEST-KERNEL' | cut -d' ' -f2) and exited 0 on the guest's reboot"
	fi
fi

if want api-bad-requests; then
	START=$(now_cs)
	SOCK=/tmp/kiln-api.sock
	bad=
	# Before a boot source: InstanceStart is refused, the API stays.
	rm -f "$SOCK"
	timeout -s KILL $T "$KILN" --api-sock "$SOCK" </dev/null \
		>"$LOGDIR/api-bad-requests.pre.out" 2>"$LOGDIR/api-bad-requests.pre.err" &
	kpid=$!
	wait_sock "$SOCK" $kpid || bad="no socket"
	case $(fc "$SOCK" PUT /actions '{"action_type": "InstanceStart"}') in
	"400 "*"no boot source"*) ;;
	*) bad="InstanceStart with no boot source: $(fc "$SOCK" PUT /actions '{"action_type": "InstanceStart"}')" ;;
	esac
	# A live socket is not taken by a second kiln.
	"$KILN" --api-sock "$SOCK" </dev/null >/dev/null 2>"$LOGDIR/api-bad-requests.second.err"
	src=$?
	grep -q 'another process serves this socket' "$LOGDIR/api-bad-requests.second.err" && [ $src -ne 0 ] ||
		bad="$bad; a second kiln on a live socket: status $src, $(cat "$LOGDIR/api-bad-requests.second.err")"
	kill -TERM $kpid
	wait $kpid
	# After start: each bad request answered, the VM running on.
	fc_config tick >"$W/tick.json"
	timeout -s KILL $T "$KILN" --api-sock "$SOCK" --config-file "$W/tick.json" </dev/null \
		>"$LOGDIR/api-bad-requests.out" 2>"$LOGDIR/api-bad-requests.err" &
	kpid=$!
	wait_sock "$SOCK" $kpid || bad="$bad; no socket after the stale one"
	wait_tick api-bad-requests 2 $kpid || bad="$bad; no ticks"
	head -c 1048576 /dev/zero | tr '\0' x >"$W/big"
	{
		printf 'PUT /boot-source HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1048576\r\n\r\n'
		cat "$W/big"
	} >"$W/big.req"
	n=0
	for c in "PUT /actions {\"action_type\": \"InstanceStart\"}|400 *started already*" \
		"PUT /machine-config {\"vcpu_count\": 1, \"mem_size_mib\": 128}|400 *not allowed after the VM started*" \
		"PUT /drives/x {\"drive_id\": \"x\", \"path_on_host\": \"/x\", \"is_root_device\": false}|400 *not allowed after the VM started*" \
		"PATCH /vm {\"state\": \"Paused\"|400 *not valid JSON*" \
		"GET /no/such/path|400 *invalid request method and/or path*" \
		"DELETE /vm|400 *invalid request method and/or path*" \
		"PATCH /vm {\"state\": \"Frozen\"}|400 *give Paused or Resumed*"; do
		req=${c%%|*}
		pat=${c#*|}
		set -- $req
		m=$1 p=$2
		shift 2
		got=$(fc "$SOCK" "$m" "$p" ${1:+"$*"})
		# shellcheck disable=SC2254
		case $got in $pat) n=$((n + 1)) ;; *) bad="$bad; $m $p: '$got'" ;; esac
	done
	got=$(fcreq "$SOCK" --raw "$W/big.req")
	case $got in "413 "*) n=$((n + 1)) ;; *) bad="$bad; a 1 MiB body: '$got'" ;; esac
	t1=$(ticks api-bad-requests)
	wait_tick api-bad-requests $((t1 + 2)) $kpid || bad="$bad; the guest stopped after the bad requests"
	case $(fc "$SOCK" GET /) in
	*'"state":"Running"'*) ;;
	*) bad="$bad; GET / at the end: $(fc "$SOCK" GET /)" ;;
	esac
	kill -TERM $kpid
	wait $kpid
	RC=$?
	rm -f "$W/big" "$W/big.req"
	if [ -n "$bad" ]; then
		result api-bad-requests 1 "${bad#; }"
	elif [ $RC -ne 143 ]; then
		result api-bad-requests 1 "status $RC on SIGTERM, want 143"
	else
		result api-bad-requests 0 "no boot source, a live socket, $n bad requests after start (incl. a 1 MiB body: 413) answered; the guest ran on"
	fi
fi

if want api-drive-patch; then
	START=$(now_cs)
	SOCK=/tmp/kiln-api.sock
	rm -f "$SOCK"
	{ printf 'KILN-DISK-A'; head -c 1048565 /dev/zero; } >"$W/disk-a.img"
	{ printf 'KILN-DISK-B'; head -c 2097141 /dev/zero; } >"$W/disk-b.img"
	cat >"$W/drive.json" <<EOT
{
  "boot-source": {
    "kernel_image_path": "$GKERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off $APPEND_BASE kt=drive-watch"
  },
  "drives": [{ "drive_id": "data", "path_on_host": "$W/disk-a.img",
               "is_root_device": false }],
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256 }
}
EOT
	timeout -s KILL $T "$KILN" --api-sock "$SOCK" --config-file "$W/drive.json" </dev/null \
		>"$LOGDIR/api-drive-patch.out" 2>"$LOGDIR/api-drive-patch.err" &
	kpid=$!
	bad=
	wait_sock "$SOCK" $kpid || bad="no socket"
	[ -n "$bad" ] || wait_out api-drive-patch '^KILN-GUEST-VDB KILN-DISK-A 1048576' $kpid ||
		bad="the guest did not see the first file"
	if [ -z "$bad" ]; then
		case $(fc "$SOCK" PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"/nonexistent.img\"}") in
		"400 "*"does not exist"*) ;;
		*) bad="a missing file was not refused" ;;
		esac
		r=$(fc "$SOCK" PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$W/disk-b.img\"}")
		[ "$r" = "204 " ] || bad="$bad; PATCH: $r"
	fi
	[ -n "$bad" ] || wait_out api-drive-patch '^KILN-GUEST-VDB KILN-DISK-B 2097152' $kpid ||
		bad="the guest did not see the new file: $(out api-drive-patch | grep -a KILN-GUEST-VDB | tail -n1)"
	[ -n "$bad" ] || case $(fc "$SOCK" GET /vm/config) in
		*"disk-b.img"*) ;;
		*) bad="GET /vm/config still names the old file" ;;
	esac
	kill -TERM $kpid
	wait $kpid
	RC=$?
	rm -f "$W/disk-a.img" "$W/disk-b.img"
	if [ -n "$bad" ]; then
		result api-drive-patch 1 "${bad#; }; $(tail -c 300 "$LOGDIR/api-drive-patch.err")"
	elif [ $RC -ne 143 ]; then
		result api-drive-patch 1 "status $RC on SIGTERM, want 143"
	else
		result api-drive-patch 0 "PATCH /drives path_on_host on a running VM: the guest read the new file and its new size (1 -> 2 MiB); a missing file refused"
	fi
fi

# A disk's rate limiter: 1 MiB/s makes a 4 MiB write take 3.5 s or more
# (a bucket of 512 KiB, full at the start); PATCH /drives lifts it, and
# the metrics show no request held back after that.
if want api-rate-limit; then
	START=$(now_cs)
	SOCK=/tmp/kiln-api.sock
	rm -f "$SOCK" "$W/rl-metrics.json"
	head -c 8388608 /dev/zero >"$W/rl.img"
	cat >"$W/rl-vm.json" <<EOT
{
  "boot-source": {
    "kernel_image_path": "$GKERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off $APPEND_BASE kt=blk-rate"
  },
  "drives": [{ "drive_id": "data", "path_on_host": "$W/rl.img",
               "is_root_device": false,
               "rate_limiter": { "bandwidth": { "size": 524288, "refill_time": 500 } } }],
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256 },
  "metrics": { "metrics_path": "$W/rl-metrics.json" }
}
EOT
	timeout -s KILL $T "$KILN" --api-sock "$SOCK" --config-file "$W/rl-vm.json" </dev/null \
		>"$LOGDIR/api-rate-limit.out" 2>"$LOGDIR/api-rate-limit.err" &
	kpid=$!
	bad=
	wait_sock "$SOCK" $kpid || bad="no socket"
	[ -n "$bad" ] || wait_out api-rate-limit '^KILN-GUEST-RATE1' $kpid || bad="the guest did not write"
	if [ -z "$bad" ]; then
		fc "$SOCK" PUT /actions '{"action_type": "FlushMetrics"}' >/dev/null
		r=$(fc "$SOCK" PATCH /drives/data '{"drive_id": "data", "rate_limiter": {}}')
		[ "$r" = "204 " ] || bad="PATCH: $r"
		case $(fc "$SOCK" PATCH /drives/data '{"drive_id": "data", "rate_limiter": {"ops": {"size": 0, "refill_time": 1}}}') in
		"400 "*"must be above 0"*) ;;
		*) bad="$bad; a bad limiter was not refused" ;;
		esac
	fi
	# The guest ends after its second write: kiln's last metrics line
	# then holds what happened since the flush.
	[ -n "$bad" ] || finish $kpid
	[ -z "$bad" ] || { kill -TERM $kpid; wait $kpid; }
	RC=${RC:-1}
	t1=$(out api-rate-limit | sed -n 's/^KILN-GUEST-RATE1 //p')
	t2=$(out api-rate-limit | sed -n 's/^KILN-GUEST-RATE2 //p')
	held1=$(sed -n '1s/.*"rate_limiter_throttled_events":\([0-9]*\).*/\1/p' "$W/rl-metrics.json" 2>/dev/null)
	held2=$(sed -n '2s/.*"rate_limiter_throttled_events":\([0-9]*\).*/\1/p' "$W/rl-metrics.json" 2>/dev/null)
	w2=$(sed -n '2s/.*"write_count":\([0-9]*\).*/\1/p' "$W/rl-metrics.json" 2>/dev/null)
	rm -f "$W/rl.img" "$W/rl-metrics.json"
	[ -n "$bad" ] || awk -v t="$t1" 'BEGIN { exit !(t >= 3.0) }' ||
		bad="4 MiB at 1 MiB/s took $t1 s in the guest, want 3 s or more"
	[ -n "$bad" ] || [ "${held1:-0}" -gt 0 ] || bad="no request held back under the limit: '$held1'"
	[ -n "$bad" ] || { [ "$held2" = 0 ] && [ "${w2:-0}" -gt 0 ]; } ||
		bad="after the PATCH: $held2 requests held back, $w2 written (want 0 and some)"
	if [ -n "$bad" ]; then
		result api-rate-limit 1 "${bad#; }; $(tail -c 300 "$LOGDIR/api-rate-limit.err")"
	elif [ -z "$t2" ] || [ $RC -ne 0 ]; then
		result api-rate-limit 1 "status $RC, second write '$t2' (want 0 and a time)"
	else
		result api-rate-limit 0 "4 MiB at 1 MiB/s: $t1 s ($held1 holds); limit lifted by PATCH: $t2 s, none held"
	fi
fi

# A NIC's rate limiters, both ways at 1 MiB/s (buckets of 512 KiB): 4 MiB
# takes 3.5 s or more each way as the guest sees it; PATCH
# /network-interfaces lifts them and the metrics show nothing held after.
if want api-net-rate-limit && [ -c /dev/net/tun ] && command -v tcpxfer >/dev/null; then
	START=$(now_cs)
	SOCK=/tmp/kiln-api.sock
	rm -f "$SOCK" "$W/nl-metrics.json"
	ip link del ktap3 2>/dev/null
	tunctl -t ktap3 >/dev/null
	ip addr add 192.0.2.1/24 dev ktap3
	ip link set ktap3 up
	head -c 4194304 /dev/zero >"$W/nl-4m"
	lim='{ "bandwidth": { "size": 524288, "refill_time": 500 } }'
	cat >"$W/nl-vm.json" <<EOT
{
  "boot-source": {
    "kernel_image_path": "$GKERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off $APPEND_BASE kt=net-limit"
  },
  "network-interfaces": [{ "iface_id": "eth0", "host_dev_name": "ktap3",
                           "rx_rate_limiter": $lim, "tx_rate_limiter": $lim }],
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256 },
  "metrics": { "metrics_path": "$W/nl-metrics.json" }
}
EOT
	tcpxfer recv 5004 /dev/null >"$LOGDIR/api-net-rate-limit.recv1" 2>&1 &
	rpid=$!
	timeout -s KILL $T "$KILN" --api-sock "$SOCK" --config-file "$W/nl-vm.json" </dev/null \
		>"$LOGDIR/api-net-rate-limit.out" 2>"$LOGDIR/api-net-rate-limit.err" &
	kpid=$!
	bad=
	wait_sock "$SOCK" $kpid || bad="no socket"
	[ -n "$bad" ] || wait_out api-net-rate-limit '^KILN-GUEST-tcpxfer listening' $kpid ||
		bad="the guest's first send did not end"
	[ -n "$bad" ] || tcpxfer send 192.0.2.2 5001 "$W/nl-4m" >"$LOGDIR/api-net-rate-limit.send1" 2>&1 ||
		bad="host to guest, limited: $(cat "$LOGDIR/api-net-rate-limit.send1")"
	wait $rpid
	if [ -z "$bad" ]; then
		fc "$SOCK" PUT /actions '{"action_type": "FlushMetrics"}' >/dev/null
		r=$(fc "$SOCK" PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "rx_rate_limiter": {}, "tx_rate_limiter": {}}')
		[ "$r" = "204 " ] || bad="PATCH: $r"
		case $(fc "$SOCK" PATCH /network-interfaces/eth0 '{"iface_id": "eth1"}') in
		"400 "*"does not match"*) ;;
		*) bad="$bad; a PATCH naming another interface was not refused" ;;
		esac
	fi
	tcpxfer recv 5005 /dev/null >"$LOGDIR/api-net-rate-limit.recv2" 2>&1 &
	rpid=$!
	j=0
	while [ -z "$bad" ] && [ $j -lt $((T * 5)) ] && kill -0 $kpid 2>/dev/null &&
		[ "$(out api-net-rate-limit | grep -c '^KILN-GUEST-tcpxfer listening')" -lt 2 ]; do
		sleep 0.2
		j=$((j + 1))
	done
	[ -n "$bad" ] || tcpxfer send 192.0.2.2 5003 "$W/nl-4m" >"$LOGDIR/api-net-rate-limit.send2" 2>&1 ||
		bad="host to guest, lifted: $(cat "$LOGDIR/api-net-rate-limit.send2")"
	kill $rpid 2>/dev/null
	wait $rpid 2>/dev/null
	[ -n "$bad" ] || finish $kpid
	[ -z "$bad" ] || { kill -TERM $kpid; wait $kpid; }
	RC=${RC:-1}
	ip link del ktap3 2>/dev/null
	# Seconds for 4 MiB from the guest's Mb/s: 33.55 / mbps.
	secs() { out api-net-rate-limit | sed -n "s/^KILN-GUEST-tcpxfer $1 .*mbps=//p" | sed -n "${2}p" |
		awk '{ if ($1 > 0) printf "%.2f", 33.554432 / $1 }'; }
	tx1=$(secs send 1) rx1=$(secs recv 1) tx2=$(secs send 2) rx2=$(secs recv 2)
	m() { sed -n "$1s/.*\"$2_rate_limiter_throttled\":\([0-9]*\).*/\1/p" "$W/nl-metrics.json" 2>/dev/null; }
	rxh1=$(m 1 rx) txh1=$(m 1 tx) rxh2=$(m 2 rx) txh2=$(m 2 tx)
	rm -f "$W/nl-4m" "$W/nl-metrics.json"
	[ -n "$bad" ] || awk -v a="$tx1" -v b="$rx1" 'BEGIN { exit !(a >= 3.0 && b >= 3.0) }' ||
		bad="4 MiB at 1 MiB/s took $tx1 s out of the guest, $rx1 s into it, want 3 s or more each"
	[ -n "$bad" ] || { [ "${rxh1:-0}" -gt 0 ] && [ "${txh1:-0}" -gt 0 ]; } ||
		bad="frames held back under the limits: '$rxh1' in, '$txh1' out (want some each way)"
	[ -n "$bad" ] || { [ "$rxh2" = 0 ] && [ "$txh2" = 0 ]; } ||
		bad="after the PATCH: '$rxh2' frames held back in, '$txh2' out (want 0)"
	if [ -n "$bad" ]; then
		result api-net-rate-limit 1 "${bad#; }; $(tail -c 300 "$LOGDIR/api-net-rate-limit.err")"
	elif [ -z "$tx2" ] || [ -z "$rx2" ] || [ $RC -ne 0 ]; then
		result api-net-rate-limit 1 "status $RC, after the PATCH: '$tx2' s out, '$rx2' s in (want 0 and times)"
	else
		result api-net-rate-limit 0 "4 MiB at 1 MiB/s: $tx1 s out, $rx1 s in ($txh1 and $rxh1 holds); lifted by PATCH: $tx2 s out, $rx2 s in, none held"
	fi
fi

# Firecracker's metrics: the config file's "metrics", FlushMetrics while
# the guest reads a disk, the last line on SIGTERM; kiln run --metrics.
if want api-metrics; then
	START=$(now_cs)
	SOCK=/tmp/kiln-api.sock
	rm -f "$SOCK" "$W/metrics.json"
	{ printf 'KILN-DISK-A'; head -c 1048565 /dev/zero; } >"$W/disk-a.img"
	cat >"$W/metrics-vm.json" <<EOT
{
  "boot-source": {
    "kernel_image_path": "$GKERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off $APPEND_BASE kt=drive-watch"
  },
  "drives": [{ "drive_id": "data", "path_on_host": "$W/disk-a.img",
               "is_root_device": false }],
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256 },
  "metrics": { "metrics_path": "$W/metrics.json" }
}
EOT
	timeout -s KILL $T "$KILN" --api-sock "$SOCK" --config-file "$W/metrics-vm.json" </dev/null \
		>"$LOGDIR/api-metrics.out" 2>"$LOGDIR/api-metrics.err" &
	kpid=$!
	bad=
	wait_sock "$SOCK" $kpid || bad="no socket"
	[ -n "$bad" ] || wait_out api-metrics '^KILN-GUEST-VDB KILN-DISK-A' $kpid ||
		bad="the guest did not read its disk"
	if [ -z "$bad" ]; then
		r=$(fc "$SOCK" PUT /actions '{"action_type": "FlushMetrics"}')
		[ "$r" = "204 " ] || bad="FlushMetrics: $r"
		case $(fc "$SOCK" PUT /metrics "{\"metrics_path\": \"$W/m2.json\"}") in
		"400 "*"not allowed after the VM started"*) ;;
		*) bad="$bad; PUT /metrics after the start was not refused" ;;
		esac
	fi
	first=$(head -n1 "$W/metrics.json" 2>/dev/null)
	reads=$(echo "$first" | sed -n 's/.*"block_data":{"read_count":\([0-9]*\).*/\1/p')
	exits=$(echo "$first" | sed -n 's/.*"exit_mmio_write":\([0-9]*\).*/\1/p')
	kill -TERM $kpid
	wait $kpid
	RC=$?
	lines=$(wc -l <"$W/metrics.json" 2>/dev/null)
	last=$(tail -n1 "$W/metrics.json" 2>/dev/null)
	[ "${reads:-0}" -gt 0 ] || bad="$bad; no reads of the disk counted: $(echo "$first" | head -c 400)"
	[ "${exits:-0}" -gt 0 ] || bad="$bad; no MMIO exits counted"
	# The flush and the end (and one a minute, were it that slow).
	[ "${lines:-0}" -ge 2 ] || bad="$bad; $lines lines in the metrics file, want the flush's and the end's"
	case $last in
	*'"signals":{"sigterm":1,'*'"requests":'*) ;;
	*'"requests":'*'"signals":{"sigterm":1,'*) ;;
	*) bad="$bad; the last line has no SIGTERM: $(echo "$last" | head -c 300)" ;;
	esac
	rm -f "$W/disk-a.img" "$W/metrics.json" "$W/m2.json"
	if [ -n "$bad" ]; then
		result api-metrics 1 "${bad#; }; $(tail -c 300 "$LOGDIR/api-metrics.err")"
	elif [ $RC -ne 143 ]; then
		result api-metrics 1 "status $RC on SIGTERM, want 143"
	else
		result api-metrics 0 "FlushMetrics: $reads disk reads and $exits MMIO writes counted; a last line at SIGTERM; PUT /metrics refused after the start"
	fi
fi

if want metrics-run; then
	rm -f "$W/run-metrics.json"
	kiln_run metrics-run --metrics "$W/run-metrics.json" --rootfs "$BBROOT" -- sh -c 'echo hi'
	line=$(cat "$W/run-metrics.json" 2>/dev/null)
	outs=$(echo "$line" | sed -n 's/.*"exit_io_out":\([0-9]*\).*/\1/p')
	if [ $RC -ne 0 ]; then
		result metrics-run 1 "status $RC: $(tail -n2 "$LOGDIR/metrics-run.err")"
	elif [ "$(echo "$line" | grep -c .)" != 1 ] || [ -z "$outs" ]; then
		result metrics-run 1 "want one line with vCPU exits, got: $(echo "$line" | head -c 300)"
	else
		result metrics-run 0 "kiln run --metrics: one line at the end ($outs port writes)"
	fi
	rm -f "$W/run-metrics.json"
fi

if want api-run-command; then
	START=$(now_cs)
	cat >"$W/run.json" <<EOT
{
  "boot-source": { "kernel_image_path": "$GKERNEL" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256 },
  "run": { "command": ["sh", "-c", "echo hello-from-run; cat /etc/marker; exit 7"],
           "rootfs": "$BBROOT", "rootfs_read_only": true }
}
EOT
	timeout -s KILL $T "$KILN" --no-api --config-file "$W/run.json" </dev/null \
		>"$LOGDIR/api-run-command.out" 2>"$LOGDIR/api-run-command.err"
	RC=$?
	got=$(out api-run-command | tr '\n' ' ')
	if [ $RC -ne 7 ] || [ "$got" != "hello-from-run bbroot-marker " ]; then
		result api-run-command 1 "status $RC, output '$got', want 7 and 'hello-from-run bbroot-marker'; $(tail -c 300 "$LOGDIR/api-run-command.err")"
	else
		result api-run-command 0 "kiln's \"run\" key: the command ran on its busybox root, its output and status 7 are kiln's"
	fi
fi
