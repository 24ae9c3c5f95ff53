# Sourced by cases.sh (needs GKERNEL): virtio-vsock with Firecracker's
# host side. 16 connections at once, 4 MiB each way on each: 64 MiB in
# each direction, checked byte for byte by vsockxfer on both sides; the
# guest connects to host listeners, then host programs to the guest's.

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
		result vsock-stream 1 "${bad#; }; $(tail -c 300 "$LOGDIR/vsock-stream.err")"
	else
		result vsock-stream 0 "64 MiB each way over 16 connections, both directions of connection, byte-exact (guest-initiated ${g_conn##*mbps=} Mb/s, host-initiated ${g_list##*mbps=} Mb/s each way); refused ports closed cleanly"
	fi
	rm -rf $V
fi
