# Sourced by cases.sh (needs GKERNEL): virtio-vsock with Firecracker's
# host side. 16 connections at once, 4 MiB each way on each: 64 MiB in
# each direction, checked byte for byte by vsockxfer on both sides; the
# guest connects to host listeners, then host programs to the guest's.

W=${W:-$LOGDIR/images}
mkdir -p "$W"

if want vsock-stream && command -v vsockxfer >/dev/null; then
	START=$(now_cs)
	V=/tmp/vs-e2e
	rm -rf $V
	mkdir -p $V
	bad=
	# The guest's connections to host port 5000 reach v.sock_5000.
	timeout $T vsockxfer listen-uds $V/v.sock_5000 16 4194304 \
		>"$LOGDIR/vsock-stream.host-listen" 2>&1 &
	lpid=$!
	"$KILN" run -v --kernel "$GKERNEL" --initrd "$GUEST_INITRD" --mem 512M \
		--vsock $V/v.sock,cid=7 --append "$APPEND_BASE kt=vsock" </dev/null \
		>"$LOGDIR/vsock-stream.out" 2>"$LOGDIR/vsock-stream.err" &
	kpid=$!
	if wait_out vsock-stream '^KILN-GUEST-vsockxfer listening' $kpid; then
		# Nothing listens on guest port 6001: closed without OK.
		vsockxfer refused-uds $V/v.sock 6001 >"$LOGDIR/vsock-stream.host-refused" 2>&1 ||
			bad="$bad; host to a closed guest port: $(cat "$LOGDIR/vsock-stream.host-refused")"
		vsockxfer connect-uds $V/v.sock 6000 16 4194304 >"$LOGDIR/vsock-stream.host-connect" 2>&1 ||
			bad="$bad; host to guest: $(cat "$LOGDIR/vsock-stream.host-connect")"
	else
		bad="$bad; the guest never listened"
	fi
	finish $kpid
	wait $lpid || bad="$bad; guest to host, the host's side: $(cat "$LOGDIR/vsock-stream.host-listen")"
	g_conn=$(out vsock-stream | grep -m1 '^KILN-GUEST-vsockxfer connect-vsock')
	g_list=$(out vsock-stream | grep -m1 '^KILN-GUEST-vsockxfer listen-vsock')
	case $g_conn in *" conns=16 bytes=67108864 ok "*) ;; *) bad="$bad; guest to host, the guest's side: '$g_conn'" ;; esac
	case $g_list in *" conns=16 bytes=67108864 ok "*) ;; *) bad="$bad; host to guest, the guest's side: '$g_list'" ;; esac
	out vsock-stream | grep -q '^KILN-GUEST-vsockxfer refused-vsock ok' ||
		bad="$bad; guest to a closed host port: '$(out vsock-stream | grep -m1 'refused-vsock')'"
	[ $RC -eq 0 ] || bad="$bad; status $RC"
	[ ! -e $V/v.sock ] || bad="$bad; $V/v.sock left behind"
	if [ -n "$bad" ]; then
		# What the guest said first: a report cut short keeps it.
		result vsock-stream 1 "guest: '$(out vsock-stream | grep '^KILN-GUEST-vsockxfer' | tr '\n' ' ' | cut -c1-240)'; ${bad#; }; $(tail -c 300 "$LOGDIR/vsock-stream.err")"
	else
		result vsock-stream 0 "64 MiB each way over 16 connections, both directions of connection, byte-exact (guest-initiated ${g_conn##*mbps=} Mb/s, host-initiated ${g_list##*mbps=} Mb/s each way); refused ports closed cleanly"
	fi
	rm -rf $V
fi

# rss PID: kiln's resident memory in KiB.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# The balloon through the API: 128 MiB inflated makes kiln's resident
# memory fall by about that much; deflated and used again, it grows back.
if want balloon-inflate; then
	START=$(now_cs)
	SOCK=/tmp/kiln-api.sock
	rm -f "$SOCK"
	cat >"$W/bl-vm.json" <<EOT
{
  "boot-source": {
    "kernel_image_path": "$GKERNEL",
    "initrd_path": "$GUEST_INITRD",
    "boot_args": "console=ttyS0 reboot=k panic=1 pci=off $APPEND_BASE kt=balloon"
  },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256 },
  "balloon": { "amount_mib": 0, "deflate_on_oom": true, "stats_polling_interval_s": 1 }
}
EOT
	"$KILN" --api-sock "$SOCK" --config-file "$W/bl-vm.json" </dev/null \
		>"$LOGDIR/balloon-inflate.out" 2>"$LOGDIR/balloon-inflate.err" &
	kpid=$!
	bad=
	# actual_mib N: waits until the guest holds N MiB in the balloon.
	actual_is() {
		j=0
		while [ $j -lt $((T * 5)) ] && kill -0 $kpid 2>/dev/null; do
			fc "$SOCK" GET /balloon/statistics | grep -q "\"actual_mib\":$1[,}]" && return 0
			sleep 0.2
			j=$((j + 1))
		done
		return 1
	}
	wait_sock "$SOCK" $kpid || bad="no socket"
	[ -n "$bad" ] || wait_out balloon-inflate '^KILN-GUEST-FILLED' $kpid || bad="the guest did not fill its memory"
	sleep 1
	r1=$(rss $kpid)
	if [ -z "$bad" ]; then
		r=$(fc "$SOCK" PATCH /balloon '{"amount_mib": 128}')
		[ "$r" = "204 " ] || bad="PATCH /balloon: $r"
		case $(fc "$SOCK" PATCH /balloon '{"amount_mib": 257}') in
		"400 "*"more than the guest's 256 MiB"*) ;;
		*) bad="$bad; a target above RAM was not refused" ;;
		esac
	fi
	[ -n "$bad" ] || actual_is 128 || bad="the guest never held 128 MiB: $(fc "$SOCK" GET /balloon/statistics)"
	stats=$(fc "$SOCK" GET /balloon/statistics)
	sleep 1
	r2=$(rss $kpid)
	[ -n "$bad" ] || wait_out balloon-inflate '^KILN-GUEST-INFLATED' $kpid || bad="the guest saw no inflation"
	if [ -z "$bad" ]; then
		r=$(fc "$SOCK" PATCH /balloon '{"amount_mib": 0}')
		[ "$r" = "204 " ] || bad="PATCH /balloon to 0: $r"
	fi
	[ -n "$bad" ] || actual_is 0 || bad="the balloon did not deflate"
	[ -n "$bad" ] || wait_out balloon-inflate '^KILN-GUEST-REFILLED' $kpid || bad="the guest did not use its memory again"
	r3=$(rss $kpid)
	finish $kpid
	case $stats in *'"total_memory":'*'"free_memory"'* | *'"free_memory":'*'"total_memory"'*) ;;
	*) [ -n "$bad" ] || bad="statistics without total and free memory: $stats" ;; esac
	[ -n "$bad" ] || [ $((r1 - r2)) -ge 98304 ] ||
		bad="resident memory fell by $(((r1 - r2) / 1024)) MiB with 128 MiB in the balloon (want 96 or more): $r1 -> $r2 KiB"
	[ -n "$bad" ] || [ $((r3 - r2)) -ge 98304 ] ||
		bad="resident memory grew by $(((r3 - r2) / 1024)) MiB after the deflate and a refill (want 96 or more): $r2 -> $r3 KiB"
	[ -n "$bad" ] || [ $RC -eq 0 ] || bad="status $RC"
	if [ -n "$bad" ]; then
		result balloon-inflate 1 "${bad#; }; $(tail -c 300 "$LOGDIR/balloon-inflate.err")"
	else
		result balloon-inflate 0 "inflated by 128 MiB: kiln's RSS $((r1 / 1024)) -> $((r2 / 1024)) MiB; deflated and refilled: $((r3 / 1024)) MiB; statistics read"
	fi
fi

# Free page reporting (--balloon 0,reporting): memory the guest frees goes
# back to the host with no target set.
if want balloon-reporting; then
	START=$(now_cs)
	"$KILN" run --kernel "$GKERNEL" --initrd "$GUEST_INITRD" --mem 256M \
		--balloon 0,reporting --append "$APPEND_BASE kt=balloon-report" </dev/null \
		>"$LOGDIR/balloon-reporting.out" 2>"$LOGDIR/balloon-reporting.err" &
	kpid=$!
	bad=
	wait_out balloon-reporting '^KILN-GUEST-FILLED' $kpid || bad="the guest did not fill its memory"
	r1=$(rss $kpid)
	[ -n "$bad" ] || wait_out balloon-reporting '^KILN-GUEST-FREED' $kpid || bad="the guest did not free it"
	# The lowest resident size over the next 25 s (reports come after a
	# 2 s delay, in batches).
	r2=$r1
	j=0
	while [ -z "$bad" ] && [ $j -lt 50 ] && kill -0 $kpid 2>/dev/null; do
		r=$(rss $kpid)
		[ -z "$r" ] || [ "$r" -ge "$r2" ] || r2=$r
		[ $((r1 - r2)) -lt 98304 ] || break
		sleep 0.5
		j=$((j + 1))
	done
	finish $kpid
	[ -n "$bad" ] || [ $((r1 - r2)) -ge 98304 ] ||
		bad="resident memory fell by $(((r1 - r2) / 1024)) MiB after the guest freed 160 MiB (want 96 or more): $r1 -> $r2 KiB"
	[ -n "$bad" ] || [ $RC -eq 0 ] || bad="status $RC"
	if [ -n "$bad" ]; then
		result balloon-reporting 1 "${bad#; }; $(tail -c 300 "$LOGDIR/balloon-reporting.err")"
	else
		result balloon-reporting 0 "160 MiB freed in the guest, no target: kiln's RSS $((r1 / 1024)) -> $((r2 / 1024)) MiB"
	fi
fi
