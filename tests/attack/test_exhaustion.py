"""Resource exhaustion by a peer that drives a real association by hand.

Bounds are the configured limits of `sctpp echo` (src/endpoint/options.h, Tuning):
send buffer 4 MiB, receive buffer 4 MiB (also the reassembly bound, plus a 64 KiB
reserve), largest message 4 MiB. The server's RSS (VmRSS sampled every 50 ms, and
VmHWM) may grow by at most send buffer + receive buffer + SLACK for one association.
"""

import os
import socket
import struct
import threading
import time
import unittest

from attacklib import (ABORT, CAUSE_OUT_OF_RESOURCE, DATA, HEARTBEAT_ACK, SACK, AttackCase, Assoc,
                       MemorySampler, causes_of, data_bytes, split_chunks, echo_roundtrip, heartbeat_chunk, main, observe)

MiB = 1024
SEND_BUFFER = 4 * MiB      # KiB
RECEIVE_BUFFER = 4 * MiB   # KiB
SLACK = 6 * MiB            # allocator, thread stack, socket batches
ONE_ASSOC_BOUND = SEND_BUFFER + RECEIVE_BUFFER + SLACK


def sacks_in(packets):
    out = []
    for p in packets:
        for t, f, c in p.find(SACK):
            out.append(struct.unpack_from("!II", c, 4))  # (cum, a_rwnd)
    return out


class Exhaustion(AttackCase):
    def measure(self):
        self.server.baseline = self.server.memory()
        return MemorySampler(self.server.pid)

    def growth(self, sampler):
        peak = max(sampler.stop(), self.server.hwm_kib())
        return peak - self.server.baseline["VmRSS"], peak

    # -----------------------------------------------------------------------------
    def zero_window(self, size, total, per_packet):
        """Handshake advertising a_rwnd 0, then DATA forever; never SACK the echoes."""
        a = Assoc.open(self.peer(rcvbuf=1 << 20), a_rwnd=0)
        sampler = self.measure()
        sent = 0
        sacks = []
        t0 = time.monotonic()
        payload = os.urandom(size)
        while sent < total:
            body = b"".join(a.data(payload, stream=0, scapy=False) for _ in range(per_packet))
            a.send_raw_chunks(body)
            sent += per_packet * size
            if (sent // (per_packet * size)) % 64 == 0:
                sacks += sacks_in(a.peer.recv(0.0))
                time.sleep(0.0005)  # let the server breathe: this is about memory, not loss
        elapsed = time.monotonic() - t0
        time.sleep(1.0)
        sacks += sacks_in(a.peer.recv(0.2))
        growth, peak = self.growth(sampler)
        return a, sent, elapsed, growth, peak, sacks

    def test_zero_window_peer_large_messages(self):
        a, sent, elapsed, growth, peak, sacks = self.zero_window(1400, 16 << 20, 1)
        self.assertTrue(self.server.alive())
        last_rwnd = sacks[-1][1] if sacks else None
        observe("zero-window peer (a_rwnd 0, never SACKs) sending %.0f MiB of 1400-byte messages "
                "in %.1f s: echo RSS +%.1f MiB (peak VmRSS %.1f MiB), last a_rwnd advertised %s"
                % (sent / 2 ** 20, elapsed, growth / 1024, peak / 1024, last_rwnd))
        self.assertLessEqual(growth, ONE_ASSOC_BOUND, "memory grew past send + receive buffer")
        self.assertIsNotNone(last_rwnd)
        self.assertLess(last_rwnd, 256 * 1024, "server kept opening its window while it cannot send")
        self.assertServes("a zero-window peer")

    # Regression (was a bug): the send buffer limit counted payload bytes only, while each
    # queued message also costs bookkeeping; 1-byte messages to a peer that never
    # acknowledges grew the echo by ~115 bytes per byte of limit (+350 MiB after 3 M
    # messages). The limit now counts what a queued message costs (Association::send,
    # SendQueue). Here 400,000 messages.
    def test_zero_window_peer_tiny_messages(self):
        a, sent, elapsed, growth, peak, sacks = self.zero_window(1, 400_000, 72)
        self.assertTrue(self.server.alive())
        observe("zero-window peer sending 400,000 1-byte messages (72 per 1452-byte packet) in "
                "%.1f s: echo RSS +%.1f MiB (peak VmRSS %.1f MiB) for %d payload bytes queued" % (elapsed, growth / 1024, peak / 1024, sent))
        self.assertServes("a zero-window peer with tiny messages")
        self.assertLessEqual(growth, ONE_ASSOC_BOUND,
                             "RSS +%.1f MiB for %d bytes of payload: per-message overhead is not "
                             "counted against the 4 MiB send buffer" % (growth / 1024, sent))

    # -----------------------------------------------------------------------------
    def endless(self, first_is_b):
        """Fragments of one message (B then middles, or middles only), never E."""
        a = Assoc.open(self.peer(rcvbuf=2 << 20))
        sampler = self.measure()
        frag = os.urandom(1400)
        got = []
        sent = 0

        def assoc_abort():
            # The association's own ABORT (T=0, our tag); later packets of ours are out
            # of the blue and get ABORT with the T bit.
            for p in got:
                for t, f, c in p.find(ABORT):
                    if not f & 1 and p.vtag == a.my_tag:
                        return p, c
            return None

        for k in range(6 * 1024 * 1024 // 1400):
            a.send_raw_chunks(a.data(frag, b=first_is_b and k == 0, e=False, scapy=False))
            sent += len(frag)
            if k % 16 == 0:
                got += a.peer.recv(0.0)
                if k % 64 == 0:
                    if assoc_abort():
                        break
                    time.sleep(0.001)
        got += a.peer.recv(0.5, until=lambda p: ABORT in p.types())
        growth, peak = self.growth(sampler)
        ab = assoc_abort()
        cause = causes_of(ab[1])[0][0] if ab and causes_of(ab[1]) else None
        rwnds = [r for _, r in sacks_in(got)]
        outcome = ("ABORT with cause %s" % cause if ab else
                   "no ABORT; window closed (last a_rwnd %s), further fragments not acknowledged"
                   % (rwnds[-1] if rwnds else None))
        return a, sent, outcome, ab, cause, rwnds, growth, peak

    def test_endless_fragments_of_one_message(self):
        a, sent, outcome, ab, cause, rwnds, growth, peak = self.endless(True)
        observe("endless fragments of one message (1400-byte B + middles, no E, %.1f MiB sent): %s; "
                "echo RSS +%.1f MiB (peak %.1f MiB)" % (sent / 2 ** 20, outcome, growth / 1024, peak / 1024))
        # RFC 9260 leaves the choice: abort (Out of Resource) or drop what does not fit.
        if ab:
            self.assertEqual(CAUSE_OUT_OF_RESOURCE, cause)
        else:
            self.assertTrue(rwnds and rwnds[-1] < 64 * 1024, "neither aborted nor closed the window")
        self.assertLessEqual(growth, RECEIVE_BUFFER + SLACK)
        self.assertServes("endless fragments")

    def test_endless_middle_fragments_without_beginning(self):
        a, sent, outcome, ab, cause, rwnds, growth, peak = self.endless(False)
        observe("endless middle fragments (no B, no E, %.1f MiB sent): %s; echo RSS +%.1f MiB "
                "(peak %.1f MiB)" % (sent / 2 ** 20, outcome, growth / 1024, peak / 1024))
        if ab:
            self.assertEqual(CAUSE_OUT_OF_RESOURCE, cause)
        else:
            self.assertTrue(rwnds and rwnds[-1] < 64 * 1024, "neither aborted nor closed the window")
        self.assertLessEqual(growth, RECEIVE_BUFFER + SLACK)
        self.assertServes("endless middle fragments")

    def half_finished(self, streams, size):
        """A first fragment on each stream, every other TSN left missing: nothing can
        complete or be delivered, everything waits in reassembly."""
        a = Assoc.open(self.peer(rcvbuf=4 << 20), os_=65535)
        sampler = self.measure()
        frag = os.urandom(size)
        got = []
        per_packet = max(1, 1400 // (16 + size + 3))
        body = b""
        n = 0
        for s in range(streams):
            body += a.data(frag, stream=s, b=True, e=False, scapy=False)
            a.next_tsn = (a.next_tsn + 1) & 0xFFFFFFFF  # leave a hole after each
            n += 1
            if n == per_packet:
                a.send_raw_chunks(body)
                body, n = b"", 0
                if s % 512 == 0:
                    got += a.peer.recv(0.0)
                    time.sleep(0.0005)
        if body:
            a.send_raw_chunks(body)
        got += a.peer.recv(1.0)
        growth, peak = self.growth(sampler)
        return a, got, growth, peak

    def test_many_half_finished_messages(self):
        a, got, growth, peak = self.half_finished(6000, 1000)
        rwnds = [r for _, r in sacks_in(got)]
        observe("6,000 half-finished 1000-byte messages on 6,000 streams (holes between): "
                "echo RSS +%.1f MiB (peak %.1f MiB), last a_rwnd %s"
                % (growth / 1024, peak / 1024, rwnds[-1] if rwnds else None))
        self.assertLessEqual(growth, RECEIVE_BUFFER + SLACK)
        self.assertTrue(rwnds and rwnds[-1] < 128 * 1024, "window not closed by the held fragments")
        self.assertServes("half-finished messages")

    def test_many_tiny_half_finished_messages(self):
        # 60,000 1-byte first fragments: the entry cap (receive buffer / 128) binds.
        a, got, growth, peak = self.half_finished(60000, 1)
        observe("60,000 half-finished 1-byte messages on 60,000 streams: echo RSS +%.1f MiB "
                "(peak %.1f MiB)" % (growth / 1024, peak / 1024))
        self.assertLessEqual(growth, RECEIVE_BUFFER + SLACK)
        self.assertServes("tiny half-finished messages")


    # Regression (was a bug): DATA on a stream the association does not have is
    # acknowledged (§6.5) without being stored, and nothing but the 2^20-TSN window
    # bounded how many out-of-order TSNs the tracker remembered: every other TSN is a
    # separate gap block (+31 MiB after 500,000 such chunks). Gap ranges are now capped
    # (DataTracker::kMaxGapRanges); TSNs beyond the cap are dropped unacknowledged.
    def test_sparse_tsns_on_an_invalid_stream(self):
        a = Assoc.open(self.peer(rcvbuf=4 << 20), os_=10)
        sampler = self.measure()
        start = a.next_tsn
        n = 500_000
        t0 = time.monotonic()
        body = []
        for k in range(n):
            # Stream 11 does not exist (10 negotiated); TSNs start+1, +3, +5...: all gaps.
            body.append(data_bytes((start + 2 * k + 1) & 0xFFFFFFFF, 11, 0, b"x"))
            if len(body) == 72:
                a.send_raw_chunks(b"".join(body))
                body = []
                if k % (72 * 16) == 0:
                    a.peer.drain()
                    time.sleep(0.0005)
        if body:
            a.send_raw_chunks(b"".join(body))
        time.sleep(0.5)
        a.peer.drain()
        growth, peak = self.growth(sampler)
        observe("500,000 1-byte DATA chunks on a non-existent stream, every other TSN, in %.1f s: "
                "echo RSS +%.1f MiB (peak %.1f MiB)" % (time.monotonic() - t0, growth / 1024, peak / 1024))
        self.assertTrue(self.server.alive())
        self.assertServes("sparse TSNs on an invalid stream")
        self.assertLessEqual(growth, RECEIVE_BUFFER + SLACK,
                             "TSN bookkeeping grew by %.1f MiB" % (growth / 1024))

    # -----------------------------------------------------------------------------
    def test_storm_of_one_byte_data(self):
        """100,000 one-byte DATA chunks (72 per packet) from a peer that SACKs the echoes and
        retransmits what the server did not acknowledge (a real sender)."""
        a = Assoc.open(self.peer(rcvbuf=4 << 20))
        sampler = self.measure()
        n_total = 100_000
        echoed = set()
        unacked = {}  # our TSN -> chunk bytes
        t0 = time.monotonic()

        def pump(timeout):
            got = a.peer.recv(timeout)
            fresh = False
            for p in got:
                for t, f, c in p.find(DATA):
                    tsn = struct.unpack_from("!I", c, 4)[0]
                    fresh |= tsn not in echoed
                    echoed.add(tsn)
                for t, f, c in p.find(SACK):
                    cum, _, ngaps, _ = struct.unpack_from("!IIHH", c, 4)
                    acked = [k for k in unacked if (cum - k) & 0xFFFFFFFF < 1 << 31]
                    for g in range(ngaps):
                        start, end = struct.unpack_from("!HH", c, 16 + 4 * g)
                        acked += [(cum + i) & 0xFFFFFFFF for i in range(start, end + 1)]
                    for k in acked:
                        unacked.pop(k, None)
            if fresh:
                a.send(a.sack_for(got))
            return got

        sent = 0
        while sent < n_total:
            k = min(72, n_total - sent)
            chunks = []
            for i in range(k):
                tsn = a.next_tsn
                c = a.data(b"x", stream=(sent + i) % 10, scapy=False)
                unacked[tsn] = c
                chunks.append(c)
            a.send_raw_chunks(b"".join(chunks))
            sent += k
            if sent % (72 * 8) == 0:
                pump(0.0)
        blast = time.monotonic() - t0
        retransmitted = 0
        end = time.monotonic() + 20
        while (unacked or len(echoed) < n_total) and time.monotonic() < end:
            if not pump(0.2) and unacked:
                # Nothing came for 200 ms: retransmit what is still unacknowledged.
                pending = [unacked[k] for k in sorted(unacked, key=lambda t: (t - a.next_tsn) & 0xFFFFFFFF)]
                for i in range(0, len(pending), 72):
                    a.send_raw_chunks(b"".join(pending[i:i + 72]))
                retransmitted += len(pending)
        growth, peak = self.growth(sampler)
        observe("storm of 100,000 1-byte DATA chunks (72 per packet) sent in %.2f s: %d echoed "
                "back within %.1f s (%d chunks retransmitted after loss), echo RSS +%.1f MiB "
                "(peak %.1f MiB)" % (blast, len(echoed), time.monotonic() - t0, retransmitted,
                                     growth / 1024, peak / 1024))
        self.assertTrue(self.server.alive())
        self.assertEqual(n_total, len(echoed), "not every message of the storm was echoed")
        self.assertLessEqual(growth, ONE_ASSOC_BOUND)
        self.assertTrue(echo_roundtrip(a, b"after-the-storm"))
        self.assertServes("a 1-byte DATA storm")

    def test_heartbeat_flood(self):
        a = Assoc.open(self.peer(rcvbuf=4 << 20))
        sampler = self.measure()
        n = 100_000
        info = b"flood-" + b"x" * 58
        acks = [0]
        done = threading.Event()

        def receive():
            # Counted in a thread so the attacker's own socket buffer is not the bottleneck.
            a.peer.sock.settimeout(0.2)
            while not done.is_set():
                try:
                    data = a.peer.sock.recv(70000)
                except socket.timeout:
                    continue
                # HEARTBEAT ACKs of one batch come bundled: count chunks, not packets.
                acks[0] += sum(1 for c in split_chunks(data) if c[0] == HEARTBEAT_ACK)

        rx = threading.Thread(target=receive, daemon=True)
        rx.start()
        t0 = time.monotonic()
        hb = bytes(a.packet(heartbeat_chunk(info)))
        # Bursts of 500, each waited for (up to 50 ms): loopback UDP socket buffers hold
        # about a thousand small datagrams, so a blind blast measures the kernel, not sctpp.
        for k in range(0, n, 500):
            for _ in range(500):
                a.peer.sock.sendto(hb, self.server.addr)
            wait_until = time.monotonic() + 0.05
            while acks[0] < k + 450 and time.monotonic() < wait_until:
                time.sleep(0.001)
        blast = time.monotonic() - t0
        end = time.monotonic() + 3
        last = -1
        while acks[0] != last and time.monotonic() < end:
            last = acks[0]
            time.sleep(0.3)
        done.set()
        rx.join()
        a.peer.sock.settimeout(None)
        growth, peak = self.growth(sampler)
        observe("HEARTBEAT flood: %d HEARTBEATs (64-byte info) in %.2f s, %d HEARTBEAT ACKs back "
                "(%.0f%%), echo RSS +%.1f MiB (peak %.1f MiB)"
                % (n, blast, acks[0], 100.0 * acks[0] / n, growth / 1024, peak / 1024))
        self.assertTrue(self.server.alive())
        self.assertGreater(acks[0], n // 2, "most HEARTBEATs unanswered")
        self.assertLessEqual(growth, 4 * MiB, "memory grew under a HEARTBEAT flood")
        self.assertEqual("alive", a.probe())
        self.assertServes("a HEARTBEAT flood")


if __name__ == "__main__":
    main()
