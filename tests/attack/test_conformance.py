"""Packet-level RFC 9260 conformance cases, driven through the command-line contract.

Server side: a running `sctpp echo` is talked to by hand with scapy-built packets (as
the other attack groups do). Client side: `sctpp cat --connect` is pointed at a fake
server, a plain UDP socket in this process that answers with hand-built packets, so
that the initiator's handshake, retransmissions, collisions and shutdown can be
checked packet by packet.

One test per rule; each names the RFC section it checks. Cases already covered by
the other groups (INIT flood, tags and T bits, cookies forged/stale/replayed, unknown
chunks and parameters, zero streams, restart, resource limits) are not repeated.
"""

import os
import random
import select
import signal
import socket
import struct
import subprocess
import time
import unittest

from attacklib import (ATTACK_ECHO_BIN, ABORT, CAUSE_INVALID_MANDATORY, CAUSE_MISSING_PARAM, CAUSE_UNRECOGNIZED_PARAMS,
                       CAUSE_UNRECOGNIZED_CHUNK,
                       COOKIE_ACK, COOKIE_ECHO, DATA, ERROR, HEARTBEAT, HEARTBEAT_ACK, INIT, INIT_ACK,
                       LOOPBACK, SACK, SCTPP_BIN, SHUTDOWN, SHUTDOWN_ACK, SHUTDOWN_COMPLETE,
                       AttackCase, Assoc, Packet, Peer, S, Server, causes_of, chunk, data_bytes, data_chunk,
                       data_payloads, echo_roundtrip, header, heartbeat_chunk, main, observe, param,
                       split_tlvs, with_crc)

CONTROL_ONLY_ALONE = (INIT, INIT_ACK, SHUTDOWN_COMPLETE)
# "At once": well under the 200 ms delayed-ack timer, with room for a loaded machine.
IMMEDIATE = 0.15
# Largest UDP payload at the assumed path MTU of 1500 on IPv4 (design: Tuning::path_mtu).
MAX_UDP_PAYLOAD = 1500 - 20 - 8


def parse_sack(c):
    """(cum, a_rwnd, [(start, end)], [dup TSNs]) of a SACK chunk."""
    cum, a_rwnd, ngaps, ndups = struct.unpack_from("!IIHH", c, 4)
    gaps = [struct.unpack_from("!HH", c, 16 + 4 * k) for k in range(ngaps)]
    off = 16 + 4 * ngaps
    dups = [struct.unpack_from("!I", c, off + 4 * k)[0] for k in range(ndups)]
    return cum, a_rwnd, gaps, dups


def parse_data(c):
    """(flags, tsn, stream, ssn, ppid, payload) of a DATA chunk."""
    flags = c[1]
    tsn, sid, ssn, ppid = struct.unpack_from("!IHHI", c, 4)
    return flags, tsn, sid, ssn, ppid, c[16:]


def parse_init(c):
    """Fields of an INIT or INIT ACK chunk."""
    tag, a_rwnd, os_, mis, tsn = struct.unpack_from("!IIHHI", c, 4)
    return dict(tag=tag, a_rwnd=a_rwnd, os=os_, mis=mis, tsn=tsn, params=split_tlvs(c[20:]))


def sacks_in(packets):
    return [parse_sack(c) for p in packets for _, _, c in p.find(SACK)]


def datas_in(packets):
    return [parse_data(c) for p in packets for _, _, c in p.find(DATA)]


def check_bundling(case, packets):
    """§6.10: control chunks come before DATA; INIT, INIT ACK and SHUTDOWN COMPLETE
    are never bundled."""
    for p in packets:
        types = p.types()
        if DATA in types:
            first = types.index(DATA)
            case.assertTrue(all(t == DATA for t in types[first:]),
                            "control chunk after DATA in %r (§6.10)" % p)
        for t in CONTROL_ONLY_ALONE:
            if t in types:
                case.assertEqual([t], types, "%r bundled (§6.10)" % p)


# ---------------------------------------------------------------------------------
# Server side: sctpp echo


class DataReceiver(AttackCase):
    """§6.2, §6.7: when the receiver acknowledges."""

    def settle(self, a):
        """Past the association's first DATA (acknowledged at once): one echoed message."""
        a.send(a.data(b"settle", i=True))
        a.peer.recv(1.0, until=lambda p: DATA in p.types())

    def time_to_sack(self, a):
        """Sends a first fragment (never echoed, so the SACK goes alone); returns the
        seconds until a SACK came and the SACKs received."""
        a.send(a.data(b"first-fragment", e=False))
        t0 = time.monotonic()
        got = a.peer.recv(1.0, until=lambda p: SACK in p.types())
        dt = time.monotonic() - t0
        sacks = sacks_in(got)
        self.assertTrue(sacks, "DATA never acknowledged")
        return dt, sacks

    def test_first_data_sacked_at_once(self):
        # ETSI TS 102 369 A-V-9-1, "first SACK is sent immediately" (Linux and FreeBSD
        # do): the association's first DATA is acknowledged without the delayed-ack
        # wait.
        a = Assoc.open(self.peer())
        dt, _ = self.time_to_sack(a)
        self.assertLess(dt, IMMEDIATE, "first DATA acknowledged after %.0f ms" % (dt * 1000))
        observe("first DATA of the association: SACK after %.0f ms" % (dt * 1000))

    def test_single_packet_sacked_within_200ms(self):
        # §6.2: a SACK SHOULD be generated within 200 ms of the arrival of any
        # unacknowledged DATA chunk.
        a = Assoc.open(self.peer())
        self.settle(a)
        dt, sacks = self.time_to_sack(a)
        self.assertEqual((a.next_tsn - 1) & 0xFFFFFFFF, sacks[0][0])
        self.assertLess(dt, 0.2 + 0.1, "SACK after %.0f ms (§6.2: within 200 ms)" % (dt * 1000))
        observe("§6.2 one DATA packet: SACK after %.0f ms (delayed ack <= 200 ms)" % (dt * 1000))

    def test_sack_for_every_second_packet(self):
        # §6.2: a SACK SHOULD be generated for at least every second packet received.
        a = Assoc.open(self.peer())
        self.settle(a)
        a.send(a.data(b"frag-1", e=False))
        a.send(a.data(b"frag-2", b=False, e=False))
        t0 = time.monotonic()
        got = a.peer.recv(1.0, until=lambda p: SACK in p.types())
        dt = time.monotonic() - t0
        sacks = sacks_in(got)
        self.assertTrue(sacks)
        self.assertEqual((a.next_tsn - 1) & 0xFFFFFFFF, sacks[0][0], "first SACK does not cover both packets")
        self.assertLess(dt, IMMEDIATE, "second packet not acknowledged at once (%.0f ms)" % (dt * 1000))
        observe("§6.2 two DATA packets back to back: one SACK for both after %.0f ms" % (dt * 1000))

    def test_gap_reported_immediately(self):
        # §6.7: on detecting a gap the receiver SHOULD send a SACK with Gap Ack Blocks
        # immediately (no delayed ack).
        a = Assoc.open(self.peer())
        missing = a.next_tsn
        a.next_tsn += 1
        a.send(data_chunk(a.next_tsn, 1, 0, b"after-the-gap", b=True, e=False))
        t0 = time.monotonic()
        got = a.peer.recv(1.0, until=lambda p: SACK in p.types())
        dt = time.monotonic() - t0
        sacks = sacks_in(got)
        self.assertTrue(sacks, "no SACK for out-of-order DATA")
        cum, _, gaps, _ = sacks[0]
        self.assertEqual((missing - 1) & 0xFFFFFFFF, cum)
        self.assertEqual([(2, 2)], gaps, "gap block not reported")
        self.assertLess(dt, IMMEDIATE, "gap SACK delayed %.0f ms (§6.7: immediately)" % (dt * 1000))
        # §6.7: a SACK goes out for each further packet that does not fill the gap.
        a.next_tsn += 1
        a.send(data_chunk(a.next_tsn, 3, 0, b"still-a-gap", b=True, e=False))
        t1 = time.monotonic()
        sacks = sacks_in(a.peer.recv(1.0, until=lambda p: SACK in p.types()))
        dt2 = time.monotonic() - t1
        self.assertTrue(sacks)
        self.assertEqual([(2, 3)], sacks[0][2])
        self.assertLess(dt2, IMMEDIATE, "second gap SACK delayed %.0f ms" % (dt2 * 1000))
        # Filling the hole: the cumulative TSN moves over both.
        a.send(data_chunk(missing, 2, 0, b"fills-it", b=True, e=False))
        got = a.peer.recv(1.0, until=lambda p: SACK in p.types())
        sacks = sacks_in(got)
        self.assertTrue(sacks)
        self.assertEqual(a.next_tsn, sacks[0][0])
        self.assertEqual([], sacks[0][2])
        observe("§6.7 gap: SACK cum=%d gap (2,2) after %.0f ms; filling it moves cum over both"
                % (cum, dt * 1000))

    def test_duplicate_reported_immediately(self):
        # §6.2: a packet with duplicate DATA and no new DATA MUST be answered with a
        # SACK immediately; the duplicate TSN is listed (§3.3.4).
        a = Assoc.open(self.peer())
        tsn = a.next_tsn
        dup = a.data(b"dup-me", e=False)
        a.send(dup)
        self.assertTrue(sacks_in(a.peer.recv(1.0, until=lambda p: SACK in p.types())))
        a.send(dup)
        t0 = time.monotonic()
        got = a.peer.recv(1.0, until=lambda p: SACK in p.types())
        dt = time.monotonic() - t0
        sacks = sacks_in(got)
        self.assertTrue(sacks, "duplicate DATA not answered")
        self.assertIn(tsn, sacks[0][3], "duplicate TSN not reported: %r" % (sacks[0],))
        self.assertLess(dt, IMMEDIATE, "duplicate SACK delayed %.0f ms (§6.2: MUST immediately)" % (dt * 1000))
        # A TSN older than the cumulative TSN is a duplicate too.
        old = (tsn - 3) & 0xFFFFFFFF
        a.send(data_chunk(old, 0, 0, b"old", b=True, e=False))
        sacks = sacks_in(a.peer.recv(1.0, until=lambda p: SACK in p.types()))
        self.assertTrue(sacks, "DATA below the cumulative TSN not answered")
        self.assertIn(old, sacks[0][3])
        self.assertEqual(tsn, sacks[0][0], "an old TSN moved the cumulative TSN")
        observe("§6.2 duplicate DATA: SACK after %.0f ms listing the TSN; TSN below cum ack: "
                "reported as duplicate" % (dt * 1000))


class ZeroWindow(AttackCase):
    """§6.2 (RFC 4960 errata 4656): a DATA chunk dropped because the receive window is
    full MUST be answered at once by a SACK that shows the current window and does
    not include the dropped TSN."""

    server_binary = ATTACK_ECHO_BIN
    server_args = ("--receive-buffer", "8192")

    def test_dropped_data_sacked_at_once(self):
        a = Assoc.open(self.peer())
        # The TSN `missing` is never sent, and each message after it is the second
        # (SSN 1) of its own stream: all held, none readable.
        missing = a.next_tsn
        tsn = (missing + 1) & 0xFFFFFFFF
        dropped = None
        for k in range(20):
            a.send(data_chunk(tsn, 1 + k, 1, b"z" * 1000))
            t0 = time.monotonic()
            sacks = sacks_in(a.peer.recv(1.0, until=lambda p: SACK in p.types()))
            dt = time.monotonic() - t0
            if not sacks:
                dropped = (tsn, None, None)
                break
            cum, rwnd, gaps, _ = sacks[-1]
            off = (tsn - cum) & 0xFFFFFFFF
            if not any(s <= off <= e for s, e in gaps):
                dropped = (tsn, dt, rwnd)
                break
            tsn = (tsn + 1) & 0xFFFFFFFF
        self.assertIsNotNone(dropped, "the window never filled")
        self.assertIsNotNone(dropped[1], "DATA dropped for lack of window was not answered "
                             "with a SACK (§6.2: MUST immediately)")
        self.assertLess(dropped[1], IMMEDIATE, "SACK for the dropped DATA delayed %.0f ms" % (dropped[1] * 1000))
        self.assertLess(dropped[2], 1000, "the SACK advertises room the chunk did not get")
        self.assertEqual("alive", a.probe())
        observe("§6.2 receive window full (8 KiB of unreadable messages): DATA %d dropped, "
                "SACK after %.0f ms without it, a_rwnd %d" % (dropped[0] - missing, dropped[1] * 1000,
                                                              dropped[2]))


class DataSender(AttackCase):
    """§6.5, §6.6, §6.9, §6.10: what the echo sends back."""

    def collect_echo(self, a, count, timeout=3.0):
        """Packets until `count` DATA chunks arrived (all SACKed)."""
        got = []
        end = time.monotonic() + timeout
        while time.monotonic() < end and len(datas_in(got)) < count:
            ps = a.peer.recv(end - time.monotonic(), until=lambda p: DATA in p.types())
            got += ps
        a.send(a.sack_for(got))
        return got

    def test_initial_cwnd_limits_first_flight(self):
        # §7.2.1 / §6.1 B: the initial cwnd is min(4*MTU, max(2*MTU, 4380)) = 4380
        # bytes at MTU 1500; no new DATA goes out while cwnd or more is outstanding.
        # Twelve 1000-byte messages: the unacknowledged echoes stop after the window.
        a = Assoc.open(self.peer())
        msgs = [bytes([65 + k]) * 1000 for k in range(12)]
        for m in msgs:
            a.send(a.data(m))
        got = a.peer.recv(0.6)
        first = [c[5] for c in datas_in(got)]
        total = sum(len(x) for x in first)
        self.assertGreaterEqual(total, 4380 - 1000, "first flight of %d bytes: window unused" % total)
        self.assertLess(total - 1000, 4380, "first flight of %d bytes beyond the initial cwnd" % total)
        check_bundling(self, got)
        echoed = list(first)
        end = time.monotonic() + 4
        while len(echoed) < len(msgs) and time.monotonic() < end:
            a.send(a.sack_for(got))
            got = a.peer.recv(0.3, until=lambda p: DATA in p.types())
            echoed += [c[5] for c in datas_in(got)]
        a.send(a.sack_for(got))
        self.assertEqual(msgs, echoed, "not every message echoed once, in order")
        observe("§7.2.1 initial cwnd: first flight %d bytes (%d messages) of 12 unacknowledged "
                "echoes; the rest after SACKs" % (total, len(first)))

    def test_stream_limit_of_peer_respected(self):
        # §5.1.1: the server may use only as many outbound streams as the peer's MIS.
        # The peer offers OS=6, MIS=3: a message on inbound stream 5 cannot be echoed
        # on stream 5, and no DATA on stream >= 3 may come back. (sctpp echo then
        # closes the association gracefully: it cannot keep its contract.)
        a = Assoc.open(self.peer(), os_=6, mis=3)
        a.send(a.data(b"on-stream-2", stream=2, i=True))
        got = a.peer.recv(1.0, until=lambda p: DATA in p.types())
        a.send(a.sack_for(got))
        a.send(a.data(b"on-stream-5", stream=5, i=True))
        got += a.peer.recv(1.0)
        a.send(a.sack_for(got))
        streams = [c[2] for c in datas_in(got)]
        self.assertTrue(all(sid < 3 for sid in streams), "DATA on stream >= peer's MIS: %r" % streams)
        self.assertEqual([b"on-stream-2"], data_payloads(got))
        observe("§5.1.1 peer MIS 3: stream-2 message echoed; stream-5 one not echoed (no DATA on "
                "stream >= 3); server then: %s" % [p for p in got if DATA not in p.types()])

    def test_old_sack_ignored(self):
        # §6.2.1 D i): a SACK whose Cumulative TSN Ack is below the current one is
        # out of date and is discarded (here: its a_rwnd of 0 must not close the
        # window).
        a = Assoc.open(self.peer())
        for k in range(3):
            a.send(a.data(b"first-%d" % k, i=True))
        got = a.peer.recv(0.5)
        while len(datas_in(got)) < 3:
            more = a.peer.recv(0.5, until=lambda p: DATA in p.types())
            if not more:
                break
            got += more
        tsns = [c[1] for c in datas_in(got)]
        self.assertEqual(3, len(tsns))
        a.send(sack_for_tsn(tsns[-1]))
        a.send(sack_for_tsn(tsns[0], a_rwnd=0))
        time.sleep(0.05)
        msgs = [b"second-%d" % k for k in range(4)]
        for m in msgs:
            a.send(a.data(m, i=True))
        got = a.peer.recv(0.5)
        self.assertEqual(msgs, data_payloads(got), "window closed by an out-of-date SACK")
        a.send(a.sack_for(got))
        observe("§6.2.1 out-of-date SACK (lower cum ack, a_rwnd 0): ignored, echoes keep flowing")

    def test_fast_retransmit_on_third_miss(self):
        # §7.2.4: a TSN reported missing by three SACKs (each newly acknowledging a
        # higher TSN) is fast-retransmitted at once, not after T3-rtx; two reports
        # are not enough.
        a = Assoc.open(self.peer())
        for k in range(5):
            a.send(a.data(b"fr-%d" % k, i=True))
        got = []
        end = time.monotonic() + 1.0
        while len(datas_in(got)) < 5 and time.monotonic() < end:
            got += a.peer.recv(end - time.monotonic(), until=lambda p: DATA in p.types())
        tsns = [c[1] for c in datas_in(got)]
        self.assertEqual(5, len(tsns))
        lost = tsns[0]
        cum = (lost - 1) & 0xFFFFFFFF
        for k, upto in enumerate((2, 3, 4)):
            a.send(S.SCTPChunkSACK(cumul_tsn_ack=cum, a_rwnd=1 << 20, flags=0,
                                   gap_ack_list=["2:%d" % upto], dup_tsn_list=[]))
            r = a.peer.recv(IMMEDIATE if k < 2 else 0.5, until=lambda p: DATA in p.types())
            rtx = [c[1] for c in datas_in(r)]
            if k < 2:
                self.assertEqual([], rtx, "retransmitted after %d miss reports" % (k + 1))
        self.assertEqual([lost], rtx, "not fast-retransmitted on the third miss report")
        a.send(sack_for_tsn(tsns[-1]))
        observe("§7.2.4 fast retransmit: nothing after 1 and 2 miss reports; TSN retransmitted "
                "at once on the third")

    def test_max_burst(self):
        # §6.1 D, §16: Max.Burst (4) limits the packets of new DATA sent at one time,
        # however large the cwnd. The cwnd is first opened by rounds of echoes each
        # SACKed packet by packet; then one 30 KB message is echoed: no more than 4
        # packets may leave before a SACK, and the rest follow the SACKs.
        a = Assoc.open(self.peer(), a_rwnd=1 << 22)
        for rnd in range(5):
            n = 4 << rnd
            for _ in range(n):
                a.send(a.data(b"x" * 1400))
            got = []
            end = time.monotonic() + 1.0
            while len(datas_in(got)) < n and time.monotonic() < end:
                ps = a.peer.recv(0.05)
                for q in ps:
                    if DATA in q.types():
                        a.send(a.sack_for([q], a_rwnd=1 << 22))
                got += ps
            self.assertEqual(n, len(datas_in(got)), "round %d not echoed" % rnd)
        time.sleep(0.05)
        a.peer.drain()
        msg = bytes(range(256)) * 120
        frags = [msg[i:i + 1400] for i in range(0, len(msg), 1400)]
        for k, f in enumerate(frags):
            a.send(a.data(f, b=k == 0, e=k == len(frags) - 1))
        burst = [q for q in a.peer.recv(0.3) if DATA in q.types()]
        echoed = datas_in(burst)
        self.assertTrue(burst, "no echo")
        self.assertLessEqual(len(burst), 4, "%d DATA packets in one burst (Max.Burst 4)" % len(burst))
        end = time.monotonic() + 3
        got = burst
        while not (echoed and echoed[-1][0] & 1) and time.monotonic() < end:
            a.send(a.sack_for(got, a_rwnd=1 << 22))
            got = a.peer.recv(0.2, until=lambda q: DATA in q.types())
            echoed += datas_in(got)
        a.send(a.sack_for(got, a_rwnd=1 << 22))
        self.assertEqual(msg, b"".join(c[5] for c in echoed))
        observe("§6.1 D Max.Burst: 30 KB echo with an open cwnd: %d packets before the first "
                "SACK, the rest on the ack clock" % len(burst))

    def test_t3_rtx_backoff(self):
        # §6.3.3 E1-E3: an unacknowledged DATA chunk is retransmitted when T3-rtx
        # expires (RTO.Initial 1 s), and the RTO doubles for the next expiry.
        a = Assoc.open(self.peer())
        a.send(a.data(b"never-acked", i=True))
        got = a.peer.recv(1.0, until=lambda p: DATA in p.types())
        tsn = datas_in(got)[0][1]
        t0 = time.monotonic()
        r1 = a.peer.recv(2.0, until=lambda p: DATA in p.types())
        t1 = time.monotonic()
        r2 = a.peer.recv(3.5, until=lambda p: DATA in p.types())
        t2 = time.monotonic()
        self.assertEqual([tsn], [c[1] for c in datas_in(r1)])
        self.assertEqual([tsn], [c[1] for c in datas_in(r2)])
        d1, d2 = t1 - t0, t2 - t1
        self.assertTrue(0.8 <= d1 <= 1.5, "first retransmission after %.2f s" % d1)
        self.assertTrue(1.7 <= d2 <= 2.7, "second retransmission after %.2f s (no back-off?)" % d2)
        a.send(sack_for_tsn(tsn))
        observe("§6.3.3 T3-rtx: retransmitted after %.2f s, then %.2f s (RTO doubled)" % (d1, d2))

    def test_bundling_control_before_data(self):
        # §6.10: control chunks MUST be placed before DATA chunks. Three messages in
        # one packet: the echoes leave with the SACK owed for them.
        a = Assoc.open(self.peer())
        a.send(a.data(b"bundle-1"), a.data(b"bundle-2"), a.data(b"bundle-3"))
        got = self.collect_echo(a, 3)
        check_bundling(self, got)
        self.assertEqual([b"bundle-1", b"bundle-2", b"bundle-3"], data_payloads(got))
        observe("§6.10 three messages in one packet: echoed as %s" % got)

    def test_fragmented_message_echoed_in_fragments(self):
        # §6.9: a message larger than the path MTU allows leaves in fragments: B on
        # the first, E on the last, consecutive TSNs, one stream and SSN, every packet
        # within the MTU. It arrives here in five fragments of 1000 bytes.
        a = Assoc.open(self.peer())
        payload = bytes((i * 13) % 251 for i in range(5000))
        frags = [payload[k:k + 1000] for k in range(0, len(payload), 1000)]
        for k, f in enumerate(frags):
            a.send(a.data(f, stream=4, b=k == 0, e=k == len(frags) - 1, i=k == len(frags) - 1))
        # The first flight: three ~1.45 KB fragments reach the initial cwnd of 4380
        # bytes (the flight counts chunk headers, §7.2); the rest follow our SACKs.
        got = self.collect_echo(a, 3)
        end = time.monotonic() + 3
        chunks = datas_in(got)
        while not (chunks and chunks[-1][0] & 1) and time.monotonic() < end:
            got += self.collect_echo(a, 1, end - time.monotonic())  # the next packet(s)
            chunks = datas_in(got)
        self.assertTrue(chunks and chunks[-1][0] & 1, "last fragment never echoed")
        check_bundling(self, got)
        for p in got:
            self.assertLessEqual(len(p.data), MAX_UDP_PAYLOAD, "packet beyond the path MTU")
        flags = [c[0] & 3 for c in chunks]
        self.assertEqual([2] + [0] * (len(chunks) - 2) + [1], flags, "B/E bits wrong: %r" % flags)
        tsns = [c[1] for c in chunks]
        self.assertEqual([(tsns[0] + k) & 0xFFFFFFFF for k in range(len(tsns))], tsns)
        self.assertEqual({(4, chunks[0][3])}, {(c[2], c[3]) for c in chunks})
        self.assertEqual(payload, b"".join(c[5] for c in chunks))
        observe("§6.9 5000-byte message in 5 fragments: echoed in %d fragments (sizes %s), "
                "B..E, consecutive TSNs, one SSN" % (len(chunks), [len(c[5]) for c in chunks]))

    def test_two_fragments_in_one_packet(self):
        # §6.9/§6.10: both fragments of a message in one packet are reassembled.
        a = Assoc.open(self.peer())
        a.send(a.data(b"first-half|", e=False), a.data(b"second-half", b=False, i=True))
        got = self.collect_echo(a, 1)
        self.assertEqual([b"first-half|second-half"], data_payloads(got))
        observe("§6.9 message of two fragments in one packet: reassembled and echoed")

    def test_unordered_fragments_reassembled(self):
        # §6.9 / §6.6: an unordered message in three fragments arriving in reverse
        # order is reassembled by TSN and delivered once, with the U flag.
        a = Assoc.open(self.peer())
        t0 = a.next_tsn
        a.next_tsn += 3
        parts = [b"unordered-", b"in-three-", b"fragments"]
        flags = [(True, False), (False, False), (False, True)]
        for k in (2, 1, 0):
            b, e = flags[k]
            a.send(data_chunk(t0 + k, 7, 0, parts[k], b=b, e=e, u=True, i=True))
        got = self.collect_echo(a, 1)
        chunks = datas_in(got)
        self.assertEqual([b"".join(parts)], [c[5] for c in chunks])
        self.assertTrue(chunks[0][0] & 4, "U flag lost")
        self.assertEqual(7, chunks[0][2])
        observe("§6.9 unordered message in 3 fragments, reversed: reassembled, echoed once with U=1")

    def test_ordered_delivery_waits_for_ssn(self):
        # §6.6: ordered messages are delivered in SSN order: SSN 1 arriving first
        # waits for SSN 0.
        a = Assoc.open(self.peer())
        t0 = a.next_tsn
        a.next_tsn += 2
        a.send(data_chunk(t0 + 1, 3, 1, b"second", i=True))
        early = a.peer.recv(0.4)
        self.assertEqual([], data_payloads(early), "SSN 1 delivered before SSN 0")
        a.send(data_chunk(t0, 3, 0, b"first", i=True))
        got = self.collect_echo(a, 2)
        chunks = datas_in(got)
        self.assertEqual([b"first", b"second"], [c[5] for c in chunks])
        self.assertEqual([(3, 0), (3, 1)], [(c[2], c[3]) for c in chunks], "echo SSNs")
        observe("§6.6 ordered: SSN 1 held until SSN 0 arrived, echoed in SSN order 0, 1")

    def test_unordered_delivered_at_once(self):
        # §6.6 / §3.3.1 U bit: an unordered message is delivered as soon as it is
        # whole, past a gap and past ordered messages still waiting; the echo keeps
        # the U flag (design §3).
        a = Assoc.open(self.peer())
        t0 = a.next_tsn
        a.next_tsn += 3
        a.send(data_chunk(t0 + 1, 5, 1, b"ordered-waits", i=True))
        a.send(data_chunk(t0 + 2, 5, 0, b"unordered", u=True, i=True))
        got = a.peer.recv(1.0, until=lambda p: DATA in p.types())
        chunks = datas_in(got)
        self.assertEqual([b"unordered"], [c[5] for c in chunks], "unordered message held back")
        self.assertTrue(chunks[0][0] & 4, "echo lost the U flag")
        a.send(a.sack_for(got))
        a.send(data_chunk(t0, 5, 0, b"ordered-first", i=True))
        got = self.collect_echo(a, 2)
        self.assertEqual([b"ordered-first", b"ordered-waits"], data_payloads(got))
        observe("§6.6 unordered message behind a gap: echoed at once with U=1; the ordered "
                "ones followed in SSN order once the gap closed")


class Heartbeat(AttackCase):
    def test_heartbeat_info_echoed_unchanged(self):
        # §8.3: the HEARTBEAT ACK carries the Heartbeat Information parameter of the
        # HEARTBEAT unchanged, sent to where the HEARTBEAT came from. Odd lengths
        # (padding) and a large info included.
        a = Assoc.open(self.peer())
        for info in (b"odd-13-bytes!", os.urandom(1), os.urandom(1000)):
            hb = struct.pack("!HH", 1, 4 + len(info)) + info
            a.send_raw_chunks(chunk(HEARTBEAT, 0, hb))
            p = a.peer.expect(HEARTBEAT_ACK, 1.0)
            self.assertIsNotNone(p, "HEARTBEAT with %d-byte info not answered" % len(info))
            self.assertEqual([HEARTBEAT_ACK], p.types())
            self.assertEqual(a.my_tag, p.vtag)
            params = split_tlvs(p.find(HEARTBEAT_ACK)[0][2][4:])
            self.assertEqual([(1, info)], params, "Heartbeat Info changed")
        observe("§8.3 HEARTBEAT with 13-, 1- and 1000-byte info: HEARTBEAT ACK echoes the "
                "parameter byte for byte")


    def test_other_tlvs_echoed_with_the_info(self):
        # §8.3: the HEARTBEAT ACK "contains the Heartbeat Information TLV, together with
        # any other received TLVs, copied unchanged from the received HEARTBEAT chunk".
        a = Assoc.open(self.peer())
        value = param(1, b"hb-info-123") + param(0x8123, b"extra-tlv") + param(0x4001, b"x")
        value = value[:-3]  # the last TLV's padding is the chunk's
        a.send_raw_chunks(chunk(HEARTBEAT, 0, value))
        p = a.peer.expect(HEARTBEAT_ACK, 1.0)
        self.assertIsNotNone(p, "HEARTBEAT with extra TLVs not answered")
        self.assertEqual(value, p.find(HEARTBEAT_ACK)[0][2][4:], "HEARTBEAT ACK did not copy the TLVs")
        observe("§8.3 HEARTBEAT with Heartbeat Info + two more TLVs: HEARTBEAT ACK copies all three")


class Handshake(AttackCase):
    """§5.1, §5.2: unexpected handshake chunks at an established server."""

    def test_init_in_established(self):
        # §5.2.2: an unexpected INIT is answered with an INIT ACK carrying a new
        # Initiate Tag, in a packet tagged with the INIT's Initiate Tag; the existing
        # association is not disturbed.
        p = self.peer()
        a = Assoc.open(p)
        new_tag = random.randint(1, 0xFFFFFFFF)
        p.send(p.sctp(0) / S.SCTPChunkInit(init_tag=new_tag, a_rwnd=65536, n_out_streams=10,
                                           n_in_streams=10, init_tsn=7))
        ack = p.expect(INIT_ACK, 1.0)
        self.assertIsNotNone(ack, "no INIT ACK for an INIT in ESTABLISHED")
        self.assertEqual([INIT_ACK], ack.types())
        self.assertEqual(new_tag, ack.vtag, "INIT ACK not tagged with the INIT's Initiate Tag")
        f = parse_init(ack.find(INIT_ACK)[0][2])
        self.assertNotIn(f["tag"], (a.peer_tag, a.my_tag, 0), "INIT ACK reuses a current tag")
        self.assertEqual("alive", a.probe())
        self.assertTrue(echo_roundtrip(a), "association disturbed by the INIT")
        observe("§5.2.2 INIT in ESTABLISHED: INIT ACK, vtag = new Initiate Tag, fresh tag; "
                "association unchanged")

    def test_unexpected_init_ack_discarded(self):
        # §5.2.3: an INIT ACK in any state but COOKIE-WAIT is discarded.
        a = Assoc.open(self.peer())
        a.send(S.SCTPChunkInitAck(init_tag=0x1234, a_rwnd=65536, n_out_streams=1, n_in_streams=1,
                                  init_tsn=1, params=[S.SCTPChunkParamStateCookie(cookie=b"x" * 32)]))
        got = a.peer.recv(0.4)
        self.assertEqual([], got, "unexpected INIT ACK answered: %r" % got)
        self.assertTrue(echo_roundtrip(a))
        observe("§5.2.3 INIT ACK in ESTABLISHED: silently discarded")

    def test_duplicate_cookie_ack_discarded(self):
        # §5.2.5: a COOKIE ACK in any state but COOKIE-ECHOED is discarded.
        a = Assoc.open(self.peer())
        a.send(S.SCTPChunkCookieAck())
        self.assertEqual([], a.peer.recv(0.4))
        self.assertTrue(echo_roundtrip(a))
        observe("§5.2.5 COOKIE ACK in ESTABLISHED: silently discarded")

    def test_cookie_ack_first_with_bundled_data(self):
        # §5.1 (D, E): DATA may ride behind the COOKIE ECHO; the COOKIE ACK, when
        # bundled with DATA or SACK, MUST be the first chunk of its packet.
        p = self.peer()
        tag, tsn, ack = Assoc.init(p)
        peer_tag = struct.unpack_from("!I", ack.find(INIT_ACK)[0][2], 4)[0]
        p.send(p.sctp(peer_tag) / S.SCTPChunkCookieEcho(cookie=Assoc.cookie_of(ack)) /
               data_chunk(tsn, 0, 0, b"with-the-cookie", i=True))
        got = p.recv(1.0, until=lambda x: DATA in x.types())
        self.assertTrue(got, "nothing answered")
        self.assertEqual(COOKIE_ACK, got[0].types()[0], "COOKIE ACK not first: %r" % got[0])
        self.assertEqual(tag, got[0].vtag)
        self.assertIn(b"with-the-cookie", data_payloads(got))
        check_bundling(self, got)
        observe("§5.1 COOKIE ECHO + DATA: answered %s" % got)

    def test_cookie_action_c_discarded(self):
        # §5.2.4 action C: a COOKIE ECHO whose local tag differs, peer tag matches and
        # tie-tags are 0 (an old cookie from an INIT of the same peer) is silently
        # discarded; the association stays as it is.
        p = self.peer()
        tag = random.randint(1, 0xFFFFFFFF)
        _, _, old_ack = Assoc.init(p, tag=tag)  # cookie X: local Lx, peer tag, no tie-tags
        self.assertIsNotNone(old_ack)
        old_local = struct.unpack_from("!I", old_ack.find(INIT_ACK)[0][2], 4)[0]
        tag2, tsn, ack = Assoc.init(p, tag=tag)  # same Initiate Tag again: cookie Y
        peer_tag = struct.unpack_from("!I", ack.find(INIT_ACK)[0][2], 4)[0]
        p.send(p.sctp(peer_tag) / S.SCTPChunkCookieEcho(cookie=Assoc.cookie_of(ack)))
        self.assertIsNotNone(p.expect(COOKIE_ACK, 1.0))
        a = Assoc(p, tag, peer_tag, tsn, struct.unpack_from("!I", ack.find(INIT_ACK)[0][2], 16)[0],
                  ack, Assoc.cookie_of(ack), 10, 10)
        p.send(p.sctp(old_local) / S.SCTPChunkCookieEcho(cookie=Assoc.cookie_of(old_ack)))
        got = p.recv(0.4)
        self.assertEqual([], got, "action C cookie answered: %r" % got)
        self.assertTrue(echo_roundtrip(a), "association changed by an action C cookie")
        self.assertEqual(1, self.server.associations_up())
        observe("§5.2.4 action C (local tag differs, peer tag matches, no tie-tags): "
                "silently discarded")


class Shutdown(AttackCase):
    """§9.2 graceful shutdown."""

    def echo_unacked(self, a, payload=b"outstanding"):
        a.send(a.data(payload, i=True))
        got = a.peer.recv(1.0, until=lambda p: DATA in p.types())
        chunks = datas_in(got)
        self.assertTrue(chunks, "no echo")
        a.received_tsns.add(chunks[0][1])
        return chunks[0][1]

    def test_shutdown_ack_waits_for_outstanding_data(self):
        # §9.2: the SHUTDOWN receiver checks the Cumulative TSN Ack; while its own DATA
        # is outstanding it goes on with normal data transmission and sends the
        # SHUTDOWN ACK only once everything is acknowledged.
        a = Assoc.open(self.peer())
        tsn = self.echo_unacked(a)
        a.send(S.SCTPChunkShutdown(cumul_tsn_ack=(tsn - 1) & 0xFFFFFFFF))
        early = a.peer.recv(0.5)
        self.assertFalse([p for p in early if SHUTDOWN_ACK in p.types()],
                         "SHUTDOWN ACK with DATA outstanding")
        # It stops taking new data from its user (the echo): a new message is not
        # echoed.
        a.send(a.data(b"too-late", i=True))
        late = a.peer.recv(0.4)
        self.assertNotIn(b"too-late", data_payloads(late), "echoed after SHUTDOWN was received")
        # T3-rtx retransmits the outstanding DATA (RTO.Initial 1 s).
        rtx = a.peer.recv(1.5, until=lambda p: DATA in p.types())
        self.assertIn(tsn, [c[1] for c in datas_in(rtx)], "outstanding DATA not retransmitted")
        a.send(sack_for_tsn(tsn))
        sa = a.peer.expect(SHUTDOWN_ACK, 1.0)
        self.assertIsNotNone(sa, "no SHUTDOWN ACK once the data was acknowledged")
        self.assertEqual(a.my_tag, sa.vtag)
        a.send(S.SCTPChunkShutdownComplete(TCB=0, reserved=0))
        time.sleep(0.1)
        self.assertEqual("abort", a.probe(), "association not closed by SHUTDOWN COMPLETE")
        observe("§9.2 SHUTDOWN with the echo unacknowledged: no SHUTDOWN ACK, no new echo, "
                "DATA retransmitted; SACK -> SHUTDOWN ACK; SHUTDOWN COMPLETE closes")

    def test_shutdown_with_queued_data(self):
        # §9.2: data accepted from the user before the SHUTDOWN arrived is still sent
        # (within cwnd) and must all be acknowledged before the SHUTDOWN ACK.
        a = Assoc.open(self.peer())
        msgs = [bytes([97 + k]) * 1000 for k in range(10)]
        for m in msgs:
            a.send(a.data(m))
        got = a.peer.recv(0.5)
        a.send(S.SCTPChunkShutdown(cumul_tsn_ack=(a.next_tsn - 1) & 0xFFFFFFFF))
        echoed = [c[5] for c in datas_in(got)]
        self.assertLess(len(echoed), len(msgs), "cwnd did not hold anything back")
        shutdown_ack_early = False
        end = time.monotonic() + 4
        sa = None
        while time.monotonic() < end:
            more = a.peer.recv(0.3)
            got += more
            echoed += [c[5] for c in datas_in(more)]
            if [p for p in more if SHUTDOWN_ACK in p.types()]:
                sa = True
                if len(echoed) < len(msgs) or datas_in(more):
                    shutdown_ack_early = True
                break
            a.send(a.sack_for(got))
        self.assertEqual(msgs, echoed, "queued echoes lost after SHUTDOWN")
        self.assertTrue(sa, "no SHUTDOWN ACK after everything was acknowledged")
        self.assertFalse(shutdown_ack_early, "SHUTDOWN ACK before all DATA was acknowledged")
        observe("§9.2 SHUTDOWN with 10 echoes queued behind cwnd: all sent and acknowledged, "
                "then SHUTDOWN ACK")

    def test_shutdown_cum_tsn_acknowledges(self):
        # §9.2 / §3.3.8: the SHUTDOWN's Cumulative TSN Ack acknowledges DATA like a SACK.
        a = Assoc.open(self.peer())
        tsn = self.echo_unacked(a)
        a.send(S.SCTPChunkShutdown(cumul_tsn_ack=tsn))
        sa = a.peer.expect(SHUTDOWN_ACK, 0.5)
        self.assertIsNotNone(sa, "SHUTDOWN acknowledging everything not answered at once")
        self.assertEqual([SHUTDOWN_ACK], [t for t in sa.types() if t != SACK])
        observe("§9.2 SHUTDOWN whose cum TSN ack covers the echo: SHUTDOWN ACK at once")

    def test_init_in_shutdown_ack_sent(self):
        # §9.2: an INIT in SHUTDOWN-ACK-SENT SHOULD be discarded and the SHUTDOWN ACK
        # retransmitted.
        p = self.peer()
        a = Assoc.open(p)
        a.send(S.SCTPChunkShutdown(cumul_tsn_ack=(a.peer_initial_tsn - 1) & 0xFFFFFFFF))
        self.assertIsNotNone(p.expect(SHUTDOWN_ACK, 1.0))
        p.send(p.sctp(0) / S.SCTPChunkInit(init_tag=0x5EED5EED, a_rwnd=65536, n_out_streams=10,
                                           n_in_streams=10, init_tsn=1))
        got = p.recv(0.5, until=lambda x: SHUTDOWN_ACK in x.types())
        self.assertFalse([x for x in got if INIT_ACK in x.types()], "INIT ACK in SHUTDOWN-ACK-SENT")
        self.assertTrue([x for x in got if SHUTDOWN_ACK in x.types()], "SHUTDOWN ACK not repeated")
        observe("§9.2 INIT in SHUTDOWN-ACK-SENT: no INIT ACK, SHUTDOWN ACK repeated")

    def test_cookie_while_shutting_down(self):
        # §5.2.4 action A in SHUTDOWN-ACK-SENT: no new association; the SHUTDOWN ACK is
        # sent again with an ERROR "Cookie Received While Shutting Down" (10).
        p = self.peer()
        a = Assoc.open(p)
        restart_tag = random.randint(1, 0xFFFFFFFF)
        p.send(p.sctp(0) / S.SCTPChunkInit(init_tag=restart_tag, a_rwnd=65536, n_out_streams=10,
                                           n_in_streams=10, init_tsn=1))
        ack = p.expect(INIT_ACK, 1.0)
        self.assertIsNotNone(ack)
        new_local = parse_init(ack.find(INIT_ACK)[0][2])["tag"]
        a.send(S.SCTPChunkShutdown(cumul_tsn_ack=(a.peer_initial_tsn - 1) & 0xFFFFFFFF))
        self.assertIsNotNone(p.expect(SHUTDOWN_ACK, 1.0))
        p.send(p.sctp(new_local) / S.SCTPChunkCookieEcho(cookie=Assoc.cookie_of(ack)))
        got = p.recv(0.5)
        self.assertFalse([x for x in got if COOKIE_ACK in x.types()], "restart while shutting down")
        self.assertTrue([x for x in got if SHUTDOWN_ACK in x.types()], "SHUTDOWN ACK not resent")
        codes = [code for x in got for _, _, c in x.find(ERROR) for code, _ in causes_of(c)]
        self.assertIn(10, codes, "no 'Cookie Received While Shutting Down' error: %r" % got)
        observe("§5.2.4 A in SHUTDOWN-ACK-SENT: %s" % got)

    def test_server_initiated_shutdown(self):
        # §9.2 from the server's side (SIGTERM: the echo shuts down gracefully):
        # SHUTDOWN carries the last TSN received; in SHUTDOWN-SENT each packet with DATA
        # is answered with a SHUTDOWN at once; T2-shutdown repeats it; SHUTDOWN ACK is
        # answered with SHUTDOWN COMPLETE (T=0, our tag), and the server exits.
        self.check_alive_at_end = False  # it exits, as asked
        a = Assoc.open(self.peer())
        self.assertTrue(echo_roundtrip(a))
        self.server.proc.send_signal(signal.SIGTERM)
        sd = a.peer.expect(SHUTDOWN, 2.0)
        self.assertIsNotNone(sd, "no SHUTDOWN after SIGTERM")
        cum = struct.unpack_from("!I", sd.find(SHUTDOWN)[0][2], 4)[0]
        self.assertEqual((a.next_tsn - 1) & 0xFFFFFFFF, cum, "SHUTDOWN Cumulative TSN Ack")
        a.send(a.data(b"while-shutdown-sent", i=True))
        t0 = time.monotonic()
        got = a.peer.recv(1.0, until=lambda p: SHUTDOWN in p.types())
        dt = time.monotonic() - t0
        self.assertTrue([p for p in got if SHUTDOWN in p.types()], "DATA in SHUTDOWN-SENT not "
                        "answered with SHUTDOWN")
        self.assertLess(dt, IMMEDIATE, "SHUTDOWN after DATA delayed %.0f ms" % (dt * 1000))
        last = [p for p in got if SHUTDOWN in p.types()][-1]
        self.assertEqual(a.next_tsn - 1, struct.unpack_from("!I", last.find(SHUTDOWN)[0][2], 4)[0])
        t1 = time.monotonic()
        again = a.peer.expect(SHUTDOWN, 2.5)
        self.assertIsNotNone(again, "SHUTDOWN not retransmitted (T2-shutdown)")
        t2 = time.monotonic() - t1
        # §8.5: a SHUTDOWN ACK with a wrong tag is discarded (no SHUTDOWN COMPLETE).
        a.send(S.SCTPChunkShutdownAck(), vtag=(a.peer_tag ^ 0x5A5A5A5A) or 1)
        self.assertFalse([p for p in a.peer.recv(0.2) if SHUTDOWN_COMPLETE in p.types()],
                         "SHUTDOWN ACK with a wrong tag answered")
        a.send(S.SCTPChunkShutdownAck())
        sc = a.peer.expect(SHUTDOWN_COMPLETE, 1.0)
        self.assertIsNotNone(sc, "no SHUTDOWN COMPLETE")
        self.assertEqual([SHUTDOWN_COMPLETE], sc.types())
        self.assertEqual(0, sc.chunks[0][1] & 1, "SHUTDOWN COMPLETE with T bit")
        self.assertEqual(a.my_tag, sc.vtag)
        self.server.proc.wait(timeout=5)
        self.assertEqual(0, self.server.proc.returncode)
        observe("§9.2 SIGTERM: SHUTDOWN cum=last TSN; DATA in SHUTDOWN-SENT -> SHUTDOWN after "
                "%.0f ms; T2 repeat after %.2f s; wrong-tag SHUTDOWN ACK ignored; SHUTDOWN ACK -> "
                "SHUTDOWN COMPLETE T=0; exit 0"
                % (dt * 1000, t2))



    def test_simultaneous_shutdown(self):
        # §9.2: a SHUTDOWN received in SHUTDOWN-SENT is answered with SHUTDOWN ACK
        # (SHUTDOWN-ACK-SENT); the SHUTDOWN ACK of the other side is then answered with
        # SHUTDOWN COMPLETE and the association closes.
        self.check_alive_at_end = False  # it exits, as asked
        a = Assoc.open(self.peer())
        self.assertTrue(echo_roundtrip(a))
        self.server.proc.send_signal(signal.SIGTERM)
        self.assertIsNotNone(a.peer.expect(SHUTDOWN, 2.0), "no SHUTDOWN after SIGTERM")
        a.send(S.SCTPChunkShutdown(cumul_tsn_ack=(a.peer_initial_tsn) & 0xFFFFFFFF))
        sa = a.peer.expect(SHUTDOWN_ACK, 1.0)
        self.assertIsNotNone(sa, "SHUTDOWN in SHUTDOWN-SENT not answered with SHUTDOWN ACK")
        a.send(S.SCTPChunkShutdownAck())
        sc = a.peer.expect(SHUTDOWN_COMPLETE, 1.0)
        self.assertIsNotNone(sc, "SHUTDOWN ACK in SHUTDOWN-ACK-SENT not answered")
        self.assertEqual((0, a.my_tag), (sc.chunks[0][1] & 1, sc.vtag))
        self.server.proc.wait(timeout=5)
        self.assertEqual(0, self.server.proc.returncode)
        observe("§9.2 simultaneous shutdown: SHUTDOWN in SHUTDOWN-SENT -> SHUTDOWN ACK; "
                "SHUTDOWN ACK -> SHUTDOWN COMPLETE T=0; exit 0")

    def test_second_signal_a_second_later_aborts(self):
        # A second SIGTERM well after the first forces the exit (the first one's graceful
        # shutdown is stuck: the echo is never acknowledged). Peers must not be left
        # with an open association: ABORT first (our tag, T=0), then exit 128+15.
        self.check_alive_at_end = False  # it exits, as asked
        a = Assoc.open(self.peer())
        self.echo_unacked(a)
        self.server.proc.send_signal(signal.SIGTERM)
        time.sleep(1.2)
        a.peer.drain()
        self.server.proc.send_signal(signal.SIGTERM)
        ab = a.peer.expect(ABORT, 1.0)
        self.assertIsNotNone(ab, "no ABORT on a forced exit")
        self.assertEqual((a.my_tag, 0), (ab.vtag, ab.find(ABORT)[0][1] & 1))
        self.server.proc.wait(timeout=5)
        self.assertEqual(128 + signal.SIGTERM, self.server.proc.returncode)
        observe("second SIGTERM 1.2 s after the first, shutdown stuck: ABORT, exit 143")


def sack_for_tsn(tsn, a_rwnd=1 << 20):
    return S.SCTPChunkSACK(cumul_tsn_ack=tsn & 0xFFFFFFFF, a_rwnd=a_rwnd, flags=0,
                           gap_ack_list=[], dup_tsn_list=[])


class Encapsulation(AttackCase):
    def test_remote_udp_port_learned(self):
        # RFC 6951 §5.4: the UDP source port of received packets is the peer's
        # encapsulation port; when it changes (NAT rebinding, a restarted socket),
        # replies follow it.
        p = self.peer()
        a = Assoc.open(p)
        q = self.peer(sctp_port=p.sctp_port)  # same SCTP port and tags, new UDP port
        info = os.urandom(8)
        q.send(a.packet(heartbeat_chunk(info)))
        ack = q.expect(HEARTBEAT_ACK, 1.0)
        self.assertIsNotNone(ack, "HEARTBEAT ACK not sent to the new UDP port")
        q.send(a.packet(a.data(b"from-new-port", i=True)))
        got = q.recv(1.0, until=lambda x: DATA in x.types())
        self.assertIn(b"from-new-port", data_payloads(got), "echo not sent to the new UDP port")
        self.assertFalse([x for x in p.recv(0.2) if DATA in x.types()], "echo went to the old port")
        observe("RFC 6951 §5.4: peer's UDP port changed %d -> %d: HEARTBEAT ACK and echo follow "
                "it" % (p.udp_port, q.udp_port))

    def test_init_ack_outbound_streams_within_the_init_mis(self):
        # §3.3.3: the INIT ACK's Number of Outbound Streams "MUST NOT be greater than the
        # MIS value sent in the INIT chunk" (sctpp echo offers 65535 otherwise).
        p = self.peer()
        for mis in (3, 65534):
            body = struct.pack("!IIHHI", 0xABCD0004, 65536, 10, mis, 1)
            p.send_raw(header(p.sctp_port, self.server.sctp_port, 0) + chunk(INIT, 0, body))
            ack = p.expect(INIT_ACK, 1.0)
            self.assertIsNotNone(ack, "no INIT ACK")
            os_ = struct.unpack("!H", ack.find(INIT_ACK)[0][2][12:14])[0]
            self.assertLessEqual(os_, mis)
        observe("§3.3.3 INIT with MIS 3 and 65534: INIT ACK's OS within it")

    def test_ootb_for_a_port_nobody_serves(self):
        # §8.4 (3), (8): over UDP encapsulation the process owns the UDP port, so a
        # packet for an SCTP port it does not serve is out of the blue: an INIT gets an
        # ABORT with its Initiate Tag (T=0), anything else an ABORT reflecting the tag
        # (T=1).
        p = self.peer()
        other = self.server.sctp_port + 1 if self.server.sctp_port < 65535 else self.server.sctp_port - 1
        p.send(S.SCTP(sport=p.sctp_port, dport=other, tag=0) /
               S.SCTPChunkInit(init_tag=0x1234, a_rwnd=65536, n_out_streams=1, n_in_streams=1, init_tsn=1))
        ab = p.expect(ABORT, 0.5)
        self.assertIsNotNone(ab, "INIT to an unserved port not answered")
        self.assertEqual((0x1234, 0, other), (ab.vtag, ab.chunks[0][1] & 1, ab.sport))
        p.send(S.SCTP(sport=p.sctp_port, dport=other, tag=0x777) / heartbeat_chunk())
        ab = p.expect(ABORT, 0.5)
        self.assertIsNotNone(ab, "HEARTBEAT to an unserved port not answered")
        self.assertEqual((0x777, 1), (ab.vtag, ab.chunks[0][1] & 1))
        observe("§8.4 packets for an SCTP port the server does not serve: INIT -> ABORT T=0 "
                "with the Initiate Tag; HEARTBEAT -> ABORT T=1 reflecting the tag")

    def test_remote_udp_port_not_moved_by_unverified_packets(self):
        # RFC 6951 §5.4: the UDP source port is stored "after finding the SCTP
        # association (which includes checking the verification tag)". Packets with a
        # wrong tag from another UDP port must not redirect the association: the
        # T3-rtx retransmission of an unacknowledged echo still reaches the old port.
        p = self.peer()
        a = Assoc.open(p)
        a.send(a.data(b"stay-here", i=True))
        first = p.recv(1.0, until=lambda x: DATA in x.types())
        self.assertIn(b"stay-here", data_payloads(first))
        q = self.peer(sctp_port=p.sctp_port)
        bad = (a.peer_tag ^ 0x5A5A5A5A) or 1
        q.send(a.packet(heartbeat_chunk(b"hijack!!"), vtag=bad))
        q.send(a.packet(S.SCTPChunkAbort(TCB=1, reserved=0), vtag=bad))
        q.send(a.packet(S.SCTPChunkShutdownAck(), vtag=bad))
        rtx = p.recv(2.0, until=lambda x: DATA in x.types())
        self.assertIn(b"stay-here", data_payloads(rtx), "retransmission did not reach the old port")
        self.assertFalse([x for x in q.recv(0.1) if DATA in x.types() or HEARTBEAT_ACK in x.types()],
                         "wrong-tag packets redirected the association")
        a.send(a.sack_for(first + rtx))
        observe("RFC 6951 §5.4: wrong-tag HEARTBEAT/ABORT/SHUTDOWN ACK from a new UDP port: port "
                "not learned, T3 retransmission to the old one")

    def test_init_supported_address_types_other_family(self):
        # §5.1.2: an INIT over IPv4 whose Supported Address Types lists only IPv6: the
        # family it was sent over counts as supported too; no error is returned.
        p = self.peer()
        body = struct.pack("!IIHHI", 0xABCD0001, 65536, 10, 10, 1) + param(12, struct.pack("!H", 6))
        p.send_raw(header(p.sctp_port, self.server.sctp_port, 0) + chunk(INIT, 0, body))
        got = p.recv(1.0, until=lambda x: INIT_ACK in x.types() or ABORT in x.types())
        self.assertTrue([x for x in got if INIT_ACK in x.types()], "no INIT ACK: %r" % got)
        observe("§5.1.2 INIT (IPv4) listing only IPv6 as supported: INIT ACK")


class DualFamily(AttackCase):
    server_args = ()

    def setUp(self):
        self.server = Server(self.server_binary, listen="%s,[::1]" % LOOPBACK)
        self.peers = []

    def init_ack_families(self, extra):
        p = self.peer()
        body = struct.pack("!IIHHI", 0xABCD0002, 65536, 10, 10, 1) + extra
        p.send_raw(header(p.sctp_port, self.server.sctp_port, 0) + chunk(INIT, 0, body))
        ack = p.expect(INIT_ACK, 1.0)
        self.assertIsNotNone(ack, "no INIT ACK")
        return sorted({t for t, _ in split_tlvs(ack.find(INIT_ACK)[0][2][20:]) if t in (5, 6)})

    def test_init_ack_lists_only_supported_address_types(self):
        # §5.1.2: "the receiver of INIT MUST either use one of the address types
        # indicated in the Supported Address Types parameter when responding to the
        # INIT, or abort": a server on IPv4 and IPv6 lists only IPv4 to a peer that
        # supports only IPv4, and both to a peer that does not say.
        self.assertEqual([5, 6], self.init_ack_families(b""))
        self.assertEqual([5], self.init_ack_families(param(12, struct.pack("!H", 5))))
        # The family the INIT came over, and those it lists addresses of, count too.
        self.assertEqual([5, 6], self.init_ack_families(
            param(12, struct.pack("!H", 5)) + param(6, socket.inet_pton(socket.AF_INET6, "::1"))))
        observe("§5.1.2 server on 127.0.0.1 and ::1: INIT ACK lists both, or IPv4 only to an "
                "INIT with Supported Address Types = IPv4")


class Reports(AttackCase):
    def test_large_unrecognized_parameter_reported(self):
        # §3.2.2: "it MUST put the 'Unrecognized Parameter' parameter(s) in the INIT ACK
        # chunk": a 604-byte skip+report parameter fits a 1500-byte path next to the
        # cookie (it was dropped above 512 bytes).
        p = self.peer()
        big = param(0xFFF0, os.urandom(600))
        body = struct.pack("!IIHHI", 0xABCD0003, 65536, 10, 10, 1) + big
        p.send_raw(header(p.sctp_port, self.server.sctp_port, 0) + chunk(INIT, 0, body))
        ack = p.expect(INIT_ACK, 1.0)
        self.assertIsNotNone(ack, "no INIT ACK")
        reported = [v for t, v in split_tlvs(ack.find(INIT_ACK)[0][2][20:]) if t == 8]
        self.assertEqual([big], reported)
        observe("§3.2.2 INIT with a 604-byte skip+report parameter: reported in the INIT ACK")

    def test_large_unrecognized_chunk_reported(self):
        # §3.2 action 11: skip, and report "in an ERROR chunk using the 'Unrecognized
        # Chunk Type' error cause"; a 1000-byte chunk still fits one packet.
        a = Assoc.open(self.peer())
        unknown = chunk(0xFF, 0, os.urandom(1000))
        a.send_raw_chunks(unknown + heartbeat_chunk_raw(b"after"))
        got = a.peer.recv(1.0, until=lambda x: ERROR in x.types())
        causes = [c for x in got for e in x.find(ERROR) for c in causes_of(e[2])]
        self.assertEqual([(CAUSE_UNRECOGNIZED_CHUNK, unknown)], causes)
        observe("§3.2 a 1004-byte chunk of type 0xFF: ERROR with the whole chunk")


def heartbeat_chunk_raw(info):
    return chunk(HEARTBEAT, 0, param(1, info))


# ---------------------------------------------------------------------------------
# Client side: sctpp cat against a fake server


class FakeServer:
    """A UDP socket playing an SCTP server by hand."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.udp_port = self.sock.getsockname()[1]
        self.sctp_port = random.randint(20000, 60000)
        self.cat = None
        self.cat_addr = None
        self.cat_port = None  # the client's SCTP port

    def start_cat(self, lines=("hello",), replies=0, extra=(), close_stdin=True):
        args = [SCTPP_BIN, "cat", "--connect", "%s:%d" % (LOOPBACK, self.sctp_port),
                "--remote-udp-port", str(self.udp_port), "--replies", str(replies)] + list(extra)
        self.cat = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        if lines:
            self.cat.stdin.write(("\n".join(lines) + "\n").encode())
            self.cat.stdin.flush()
        if close_stdin:
            self.cat.stdin.close()

    def close(self):
        if self.cat and self.cat.poll() is None:
            self.cat.kill()
            self.cat.wait()
        if self.cat:
            for f in (self.cat.stdout, self.cat.stderr):
                f.close()
            if not self.cat.stdin.closed:
                try:
                    self.cat.stdin.close()
                except BrokenPipeError:
                    pass
        self.sock.close()

    def recv(self, timeout, until=None):
        out = []
        end = time.monotonic() + timeout
        while True:
            r, _, _ = select.select([self.sock], [], [], max(0.0, end - time.monotonic()))
            if not r:
                return out
            data, addr = self.sock.recvfrom(70000)
            if len(data) < 12:
                continue
            p = Packet(data, addr)
            if self.cat_addr is None:
                self.cat_addr = addr
                self.cat_port = p.sport
            out.append(p)
            if until and until(p):
                return out

    def expect(self, ctype, timeout=2.0):
        for p in self.recv(timeout, until=lambda p: ctype in p.types()):
            if ctype in p.types():
                return p
        return None

    def send(self, vtag, *chunks):
        data = with_crc(header(self.sctp_port, self.cat_port, vtag) + b"".join(chunks))
        self.sock.sendto(data, self.cat_addr)

    def cat_exit(self, timeout=5.0):
        try:
            self.cat.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, "", ""
        return self.cat.returncode, self.cat.stdout.read().decode(), self.cat.stderr.read().decode()


def init_ack_chunk(tag, tsn, cookie=b"fake-state-cookie-0123456789", os_=10, mis=10, a_rwnd=1 << 20,
                   extra_params=b""):
    body = struct.pack("!IIHHI", tag, a_rwnd, os_, mis, tsn)
    if cookie is not None:
        body += param(7, cookie)
    return chunk(INIT_ACK, 0, body + extra_params)


def init_chunk_bytes(tag, tsn, os_=10, mis=10, a_rwnd=1 << 20):
    return chunk(INIT, 0, struct.pack("!IIHHI", tag, a_rwnd, os_, mis, tsn))


def sack_bytes(cum, a_rwnd=1 << 20):
    return chunk(SACK, 0, struct.pack("!IIHH", cum & 0xFFFFFFFF, a_rwnd, 0, 0))


class ClientCase(unittest.TestCase):
    def setUp(self):
        self.fs = FakeServer()
        self.my_tag = random.randint(1, 0xFFFFFFFF)
        self.my_tsn = random.getrandbits(32)

    def tearDown(self):
        self.fs.close()

    def get_init(self, timeout=2.0):
        p = self.fs.expect(INIT, timeout)
        self.assertIsNotNone(p, "no INIT from sctpp cat")
        return p, parse_init(p.find(INIT)[0][2])

    def establish(self, cookie=b"fake-state-cookie-0123456789"):
        _, init = self.get_init()
        self.fs.send(init["tag"], init_ack_chunk(self.my_tag, self.my_tsn, cookie))
        echo = self.fs.expect(COOKIE_ECHO, 2.0)
        self.assertIsNotNone(echo, "no COOKIE ECHO")
        self.fs.send(init["tag"], chunk(COOKIE_ACK, 0, b""))
        return init

    def serve_to_the_end(self, cat_tag, echo=True, timeout=5.0):
        """Acknowledges (and echoes) the client's DATA, answers its SHUTDOWN; returns
        the exit code, stdout and the packets seen."""
        seen = []
        my_next = self.my_tsn
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.fs.cat.poll() is None:
            got = self.fs.recv(0.1)
            seen += got
            for p in got:
                ds = datas_in([p])
                if ds:
                    chunks = [sack_bytes(ds[-1][1])]
                    if echo:
                        for d in ds:
                            chunks.append(data_bytes(my_next, d[2], d[3], d[5], i=True))
                            my_next = (my_next + 1) & 0xFFFFFFFF
                    self.fs.send(cat_tag, *chunks)
                if SHUTDOWN in p.types():
                    self.fs.send(cat_tag, chunk(SHUTDOWN_ACK, 0, b""))
        seen += self.fs.recv(0.05)
        rc, out, err = self.fs.cat_exit(max(0.1, end - time.monotonic()))
        return rc, out, err, seen


class ClientHandshake(ClientCase):
    def test_init_fields(self):
        # §3.3.2, §5.1, §8.5.1 A: the INIT goes alone with verification tag 0, a
        # nonzero Initiate Tag, a_rwnd >= 1500, the requested outbound streams.
        self.fs.start_cat(extra=["--streams", "7"])
        p, f = self.get_init()
        self.assertTrue(p.crc_ok, "bad CRC32c")
        self.assertEqual([INIT], p.types())
        self.assertEqual(0, p.vtag)
        self.assertNotEqual(0, f["tag"])
        self.assertGreaterEqual(f["a_rwnd"], 1500)
        self.assertEqual(7, f["os"])
        self.assertGreaterEqual(f["mis"], 1)
        self.assertNotEqual(0, p.sport)
        self.assertEqual(self.fs.sctp_port, p.dport)
        observe("§3.3.2 INIT of sctpp cat --streams 7: tag %08x a_rwnd %d OS %d MIS %d params %s"
                % (f["tag"], f["a_rwnd"], f["os"], f["mis"], [t for t, _ in f["params"]]))

    def test_t1_init_backoff(self):
        # §5.1 A / §6.3.3: an unanswered INIT is retransmitted when T1-init expires
        # (RTO.Initial = 1 s), with the timer doubled each time (back-off); the INIT is
        # the same (tag, TSN).
        self.fs.start_cat()
        _, f0 = self.get_init()
        t0 = time.monotonic()
        _, f1 = self.get_init(3.0)
        t1 = time.monotonic()
        _, f2 = self.get_init(4.0)
        t2 = time.monotonic()
        d1, d2 = t1 - t0, t2 - t1
        self.assertTrue(0.8 <= d1 <= 1.6, "first retransmission after %.2f s" % d1)
        self.assertTrue(1.7 <= d2 <= 3.0, "second retransmission after %.2f s (no back-off?)" % d2)
        self.assertEqual((f0["tag"], f0["tsn"]), (f1["tag"], f1["tsn"]))
        self.assertEqual((f0["tag"], f0["tsn"]), (f2["tag"], f2["tsn"]))
        observe("§5.1 T1-init: INIT retransmitted after %.2f s, then %.2f s (doubling), same "
                "tag and TSN" % (d1, d2))

    def test_abort_in_cookie_wait(self):
        # §8.5.1 B: in COOKIE-WAIT an ABORT counts only with T=0 and the client's own
        # tag (the peer's tag is not known yet); others are discarded.
        self.fs.start_cat()
        _, f = self.get_init()
        wrong = (f["tag"] ^ 0x5A5A5A5A) or 1
        self.fs.send(wrong, chunk(ABORT, 0, b""))
        self.fs.send(0, chunk(ABORT, 1, b""))
        time.sleep(0.3)
        self.assertIsNone(self.fs.cat.poll(), "ABORT with a wrong tag ended the connect")
        self.fs.send(f["tag"], chunk(ABORT, 0, b""))
        rc, out, err = self.fs.cat_exit(2.0)
        self.assertIsNotNone(rc, "ABORT with the right tag ignored in COOKIE-WAIT")
        self.assertNotEqual(0, rc)
        self.assertTrue(err.strip(), "no error message")
        observe("§8.5.1 B ABORT in COOKIE-WAIT: wrong tag and T=1/tag 0 ignored; T=0 with own "
                "tag -> cat exits %d: %s" % (rc, err.strip()))

    def test_shutdown_ack_while_connecting(self):
        # §8.5.1 E: a SHUTDOWN ACK in COOKIE-WAIT or COOKIE-ECHOED SHOULD be treated as
        # out of the blue (§8.4 (5)): SHUTDOWN COMPLETE with the T bit and the tag of
        # the SHUTDOWN ACK reflected (the peer is finishing an older association whose
        # tag is not the new INIT's); the setup goes on.
        # The COOKIE-WAIT ones come from another UDP port: the answer goes there, but
        # the unchecked packets must not move the peer's encapsulation port (RFC 6951
        # §5.4 learns it only after the verification tag check): the INIT is
        # retransmitted to the original port.
        self.fs.start_cat()
        _, f = self.get_init()
        t_init = time.monotonic()
        results = []
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind((LOOPBACK, 0))
        try:
            for vtag in (0x0DDBA11, f["tag"]):
                other.sendto(with_crc(header(self.fs.sctp_port, self.fs.cat_port, vtag) +
                                      chunk(SHUTDOWN_ACK, 0, b"")), self.fs.cat_addr)
                r, _, _ = select.select([other], [], [], 0.5)
                self.assertTrue(r, "SHUTDOWN ACK in COOKIE-WAIT (vtag %08x) not answered" % vtag)
                sc = Packet(*other.recvfrom(70000))
                results.append("COOKIE-WAIT, vtag %s: %s" % ("own" if vtag == f["tag"] else "foreign", sc))
                self.assertEqual([SHUTDOWN_COMPLETE], sc.types())
                self.assertEqual(1, sc.chunks[0][1] & 1, "T bit not set")
                self.assertEqual(vtag, sc.vtag, "tag not reflected")
        finally:
            other.close()
        again = self.fs.expect(INIT, 1.5)
        self.assertIsNotNone(again, "INIT not retransmitted to the original UDP port")
        results.append("INIT retransmitted to the original port after %.2f s" % (time.monotonic() - t_init))
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn))
        self.assertIsNotNone(self.fs.expect(COOKIE_ECHO, 1.0))
        self.fs.send(0x0DDBA11, chunk(SHUTDOWN_ACK, 0, b""))
        sc = self.fs.expect(SHUTDOWN_COMPLETE, 0.5)
        results.append("COOKIE-ECHOED, vtag foreign: %s" % sc)
        self.assertIsNotNone(sc, "SHUTDOWN ACK in COOKIE-ECHOED not answered")
        self.assertEqual((1, 0x0DDBA11), (sc.chunks[0][1] & 1, sc.vtag))
        self.fs.send(f["tag"], chunk(COOKIE_ACK, 0, b""))
        rc, out, err, _ = self.serve_to_the_end(f["tag"])
        self.assertEqual(0, rc, err)
        observe("§8.5.1 E SHUTDOWN ACK while connecting: " + "; ".join(results))

    def test_init_ack_with_wrong_tag_discarded(self):
        # §8.5: an INIT ACK whose verification tag is not the client's Initiate Tag is
        # discarded; the right one is then used.
        self.fs.start_cat()
        _, f = self.get_init()
        self.fs.send((f["tag"] ^ 0x0F0F0F0F) or 1, init_ack_chunk(self.my_tag, self.my_tsn, b"bad-cookie"))
        self.assertIsNone(self.fs.expect(COOKIE_ECHO, 0.4), "INIT ACK with a wrong tag answered")
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn, b"good-cookie"))
        echo = self.fs.expect(COOKIE_ECHO, 1.0)
        self.assertIsNotNone(echo)
        self.assertEqual(self.my_tag, echo.vtag)
        self.assertEqual(b"good-cookie", echo.find(COOKIE_ECHO)[0][2][4:4 + len(b"good-cookie")])
        observe("§8.5 INIT ACK with a wrong vtag: discarded; the right one answered")

    def test_unexpected_init_ack_and_t1_cookie(self):
        # §5.2.3: an INIT ACK in COOKIE-ECHOED is discarded. §5.1 C: T1-cookie
        # retransmits the same COOKIE ECHO.
        self.fs.start_cat()
        _, f = self.get_init()
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn, b"cookie-one"))
        e1 = self.fs.expect(COOKIE_ECHO, 1.0)
        self.assertIsNotNone(e1)
        t0 = time.monotonic()
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag ^ 1, self.my_tsn, b"cookie-two"))
        e2 = self.fs.expect(COOKIE_ECHO, 2.5)
        dt = time.monotonic() - t0
        self.assertIsNotNone(e2, "COOKIE ECHO not retransmitted")
        self.assertTrue(0.7 <= dt <= 1.7, "COOKIE ECHO again after %.2f s: answer to the INIT ACK?" % dt)
        self.assertEqual(e1.find(COOKIE_ECHO)[0][2], e2.find(COOKIE_ECHO)[0][2], "cookie changed")
        self.assertEqual(self.my_tag, e2.vtag)
        self.fs.send(f["tag"], chunk(COOKIE_ACK, 0, b""))
        rc, out, err, _ = self.serve_to_the_end(f["tag"])
        self.assertEqual(0, rc, err)
        observe("§5.2.3 INIT ACK in COOKIE-ECHOED: discarded; §5.1 T1-cookie: same COOKIE ECHO "
                "after %.2f s; then established and closed cleanly" % dt)

    def test_unrecognized_params_reported_with_cookie_echo(self):
        # §3.2.1, §3.2.2: unrecognized INIT ACK parameters with the upper bits 11 (skip
        # and report) are reported in an ERROR (Unrecognized Parameters) bundled with
        # the COOKIE ECHO, which comes first (§5.1 D); 10 (skip) is not reported.
        self.fs.start_cat()
        _, f = self.get_init()
        report = param(0xC123, b"report-me")
        silent = param(0x8123, b"skip-me!")
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn, extra_params=silent + report))
        p = self.fs.expect(COOKIE_ECHO, 1.0)
        self.assertIsNotNone(p)
        self.assertEqual(COOKIE_ECHO, p.types()[0], "COOKIE ECHO not first: %r" % p)
        self.assertIn(ERROR, p.types(), "ERROR not bundled with the COOKIE ECHO: %r" % p)
        causes = causes_of(p.find(ERROR)[0][2])
        self.assertEqual([CAUSE_UNRECOGNIZED_PARAMS], [c for c, _ in causes])
        self.assertEqual(report.rstrip(b"\0")[:4 + len(b"report-me")], causes[0][1][:4 + len(b"report-me")])
        self.assertNotIn(b"skip-me!", causes[0][1])
        observe("§3.2.2 INIT ACK with unknown params 0x8123 (skip) and 0xC123 (skip+report): "
                "%r, ERROR lists only 0xC123" % p)

    def test_unrecognized_params_reported_padded(self):
        # §3.2.1: each parameter is padded to a multiple of 4 bytes, also when copied
        # into an Unrecognized Parameters cause; unpadded, the second one's type and
        # length are read from the middle of the first.
        self.fs.start_cat()
        _, f = self.get_init()
        odd = param(0xC001, b"a") + param(0xC002, b"bcd") + param(0xC003, b"ef")
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn, extra_params=odd))
        p = self.fs.expect(COOKIE_ECHO, 1.0)
        self.assertIsNotNone(p)
        causes = causes_of(p.find(ERROR)[0][2])
        self.assertEqual(CAUSE_UNRECOGNIZED_PARAMS, causes[0][0])
        self.assertEqual([(0xC001, b"a"), (0xC002, b"bcd"), (0xC003, b"ef")], split_tlvs(causes[0][1]))
        observe("§3.2.1 three odd-length skip+report parameters in the INIT ACK: reported padded")

    def test_data_bundled_with_cookie_ack(self):
        # §5.1 E: DATA may be bundled behind the COOKIE ACK; it is delivered. §6.2 /
        # §3.3.1 I bit: a DATA chunk with the I bit SHOULD be acknowledged at once.
        self.fs.start_cat(lines=(), replies=1)
        _, f = self.get_init()
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn))
        self.assertIsNotNone(self.fs.expect(COOKIE_ECHO, 1.0))
        self.fs.send(f["tag"], chunk(COOKIE_ACK, 0, b""),
                     data_bytes(self.my_tsn, 0, 0, b"riding-on-cookie-ack", i=True))
        t0 = time.monotonic()
        got = self.fs.recv(1.0, until=lambda p: SACK in p.types() or SHUTDOWN in p.types())
        dt = time.monotonic() - t0
        acks = [p for p in got if SACK in p.types() or SHUTDOWN in p.types()]
        self.assertTrue(acks, "DATA bundled with COOKIE ACK not acknowledged")
        self.assertLess(dt, IMMEDIATE, "I-bit DATA acknowledged after %.0f ms" % (dt * 1000))
        rc, out, err, _ = self.serve_to_the_end(f["tag"])
        self.assertEqual(0, rc, err)
        self.assertEqual("riding-on-cookie-ack\n", out)
        observe("§5.1 E DATA bundled with COOKIE ACK: delivered, acknowledged after %.0f ms "
                "(I bit)" % (dt * 1000))

    def test_init_ack_with_host_name_address(self):
        # §3.3.2.1 / §3.3.10.5: a Host Name Address the client cannot resolve aborts the
        # setup with Unresolvable Address carrying the parameter.
        host = param(11, b"example.invalid\0")
        f, aborts, rc, err = self.init_ack_refused(init_ack_chunk(self.my_tag, self.my_tsn, extra_params=host))
        self.assertTrue(aborts, "no ABORT for a Host Name Address")
        self.assertEqual(self.my_tag, aborts[0].vtag)
        causes = causes_of(aborts[0].find(ABORT)[0][2])
        self.assertEqual(5, causes[0][0])
        self.assertIn(b"example.invalid", causes[0][1])
        self.assertNotEqual(0, rc)
        observe("§3.3.10.5 INIT ACK with a Host Name Address: ABORT Unresolvable Address, exit %s" % rc)

    def test_unrecognized_param_stop_and_report(self):
        # §3.2.1: an unrecognized INIT ACK parameter with upper bits 01 stops the
        # processing of the parameters after it and is reported (ERROR with the
        # COOKIE ECHO, §3.2.2); 00 stops silently. The State Cookie before them counts.
        results = []
        for ptype, reported in ((0x4123, True), (0x0123, False)):
            self.fs.start_cat()
            _, f = self.get_init()
            self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn,
                                                  extra_params=param(ptype, b"stop-here")))
            p = self.fs.expect(COOKIE_ECHO, 1.0)
            self.assertIsNotNone(p, "no COOKIE ECHO after a stop parameter behind the cookie")
            codes = [c for _, _, e in p.find(ERROR) for c, _ in causes_of(e)]
            self.assertEqual([CAUSE_UNRECOGNIZED_PARAMS] if reported else [], codes,
                             "param %04x: %r" % (ptype, p))
            results.append("%04x -> %r" % (ptype, p))
            self.fs.close()
            self.fs = FakeServer()
        observe("§3.2.1 stop parameters after the cookie: " + "; ".join(results))

    def test_init_ack_from_another_udp_port(self):
        # RFC 6951 §5.4: the peer's encapsulation port is the UDP source port of what
        # it sends; an INIT ACK from another port moves the COOKIE ECHO there.
        self.fs.start_cat()
        _, f = self.get_init()
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind((LOOPBACK, 0))
        try:
            data = with_crc(header(self.fs.sctp_port, self.fs.cat_port, f["tag"]) +
                            init_ack_chunk(self.my_tag, self.my_tsn))
            other.sendto(data, self.fs.cat_addr)
            r, _, _ = select.select([other], [], [], 1.0)
            self.assertTrue(r, "COOKIE ECHO not sent to the INIT ACK's UDP port")
            echo = Packet(*other.recvfrom(70000))
            self.assertEqual(COOKIE_ECHO, echo.types()[0])
            port = other.getsockname()[1]
        finally:
            other.close()
        observe("RFC 6951 §5.4 INIT ACK from UDP port %d (INIT went to %d): COOKIE ECHO "
                "follows it" % (port, self.fs.udp_port))

    def init_ack_refused(self, ack_chunk):
        self.fs.start_cat()
        _, f = self.get_init()
        self.fs.send(f["tag"], ack_chunk)
        got = self.fs.recv(1.0, until=lambda p: ABORT in p.types())
        rc, out, err = self.fs.cat_exit(3.0)
        return f, [p for p in got if ABORT in p.types()], rc, err

    def test_init_ack_zero_streams(self):
        # §3.3.3: an INIT ACK with 0 outbound or 0 inbound streams destroys the
        # association; the ABORT (Invalid Mandatory Parameter) goes to the peer's tag.
        results = []
        for os_, mis in ((0, 10), (10, 0)):
            f, aborts, rc, err = self.init_ack_refused(init_ack_chunk(self.my_tag, self.my_tsn, os_=os_, mis=mis))
            self.assertTrue(aborts, "no ABORT for INIT ACK OS=%d MIS=%d" % (os_, mis))
            self.assertEqual(self.my_tag, aborts[0].vtag)
            self.assertEqual(0, aborts[0].chunks[0][1] & 1)
            self.assertEqual(CAUSE_INVALID_MANDATORY, causes_of(aborts[0].find(ABORT)[0][2])[0][0])
            self.assertNotEqual(0, rc, "cat did not fail")
            results.append("OS=%d MIS=%d -> ABORT, exit %s (%s)" % (os_, mis, rc, err.strip()))
            self.fs.close()
            self.fs = FakeServer()
        observe("§3.3.3 INIT ACK with zero streams: " + "; ".join(results))

    def test_init_ack_without_cookie(self):
        # §3.3.3 (State Cookie is mandatory), §3.3.10.2: ABORT with Missing Mandatory
        # Parameter naming the State Cookie (7).
        f, aborts, rc, err = self.init_ack_refused(init_ack_chunk(self.my_tag, self.my_tsn, cookie=None))
        self.assertTrue(aborts, "no ABORT for an INIT ACK without State Cookie")
        causes = causes_of(aborts[0].find(ABORT)[0][2])
        self.assertEqual(CAUSE_MISSING_PARAM, causes[0][0])
        n, = struct.unpack_from("!I", causes[0][1], 0)
        self.assertEqual(1, n)
        self.assertEqual(7, struct.unpack_from("!H", causes[0][1], 4)[0])
        self.assertNotEqual(0, rc)
        observe("§3.3.10.2 INIT ACK without State Cookie: ABORT Missing Mandatory Parameter "
                "(1 missing: type 7), exit %s" % rc)


class ClientCollisions(ClientCase):
    def test_init_in_cookie_wait(self):
        # §5.2.1: an INIT in COOKIE-WAIT is answered with an INIT ACK carrying the same
        # parameters as the original INIT (Initiate Tag unchanged), tagged with the
        # new INIT's Initiate Tag; the COOKIE ECHO of that cookie then sets the
        # association up (§5.2.4 B).
        self.fs.start_cat(lines=("collide",), replies=1)
        _, f = self.get_init()
        self.fs.send(0, init_chunk_bytes(self.my_tag, self.my_tsn))
        ack = self.fs.expect(INIT_ACK, 1.0)
        self.assertIsNotNone(ack, "INIT in COOKIE-WAIT not answered")
        self.assertEqual([INIT_ACK], ack.types())
        self.assertEqual(self.my_tag, ack.vtag)
        g = parse_init(ack.find(INIT_ACK)[0][2])
        for k in ("tag", "tsn", "os", "mis"):
            self.assertEqual(f[k], g[k], "INIT ACK %s differs from the INIT's" % k)
        cookie = [v for t, v in g["params"] if t == 7]
        self.assertTrue(cookie, "INIT ACK without State Cookie")
        self.fs.send(f["tag"], chunk(COOKIE_ECHO, 0, cookie[0]))
        got = self.fs.recv(1.0, until=lambda p: COOKIE_ACK in p.types())
        self.assertTrue([p for p in got if COOKIE_ACK in p.types()], "no COOKIE ACK")
        rc, out, err, seen = self.serve_to_the_end(f["tag"])
        self.assertEqual(0, rc, err)
        self.assertEqual("collide\n", out)
        self.assertTrue(all(p.vtag == self.my_tag for p in seen))
        observe("§5.2.1 INIT in COOKIE-WAIT: INIT ACK with the original tag/TSN/streams, "
                "vtag = new INIT's tag; COOKIE ECHO -> COOKIE ACK; data and shutdown clean")

    def test_init_in_cookie_echoed(self):
        # §5.2.1: an INIT in COOKIE-ECHOED (no new address) is answered with an INIT
        # ACK with the original Initiate Tag; the state does not change, and the
        # COOKIE ACK then completes the association.
        self.fs.start_cat(lines=("echoed",), replies=1)
        _, f = self.get_init()
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn))
        self.assertIsNotNone(self.fs.expect(COOKIE_ECHO, 1.0))
        self.fs.send(0, init_chunk_bytes(self.my_tag, self.my_tsn))
        ack = self.fs.expect(INIT_ACK, 1.0)
        self.assertIsNotNone(ack, "INIT in COOKIE-ECHOED not answered")
        self.assertEqual(self.my_tag, ack.vtag)
        g = parse_init(ack.find(INIT_ACK)[0][2])
        self.assertEqual((f["tag"], f["tsn"]), (g["tag"], g["tsn"]))
        self.fs.send(f["tag"], chunk(COOKIE_ACK, 0, b""))
        rc, out, err, _ = self.serve_to_the_end(f["tag"])
        self.assertEqual(0, rc, err)
        self.assertEqual("echoed\n", out)
        observe("§5.2.1 INIT in COOKIE-ECHOED: INIT ACK with the original tag and TSN; "
                "COOKIE ACK completes it")

    def test_cookie_echo_crossing_in_cookie_echoed(self):
        # §5.2.1 then §5.2.4 D: both sides opened at once; the client, in
        # COOKIE-ECHOED, answers the peer's INIT with an INIT ACK, and the COOKIE ECHO
        # of that cookie (both tags match) establishes the association with a COOKIE
        # ACK - no COOKIE ACK from the peer needed.
        self.fs.start_cat(lines=("crossed",), replies=1)
        _, f = self.get_init()
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn))
        self.assertIsNotNone(self.fs.expect(COOKIE_ECHO, 1.0))
        self.fs.send(0, init_chunk_bytes(self.my_tag, self.my_tsn))
        ack = self.fs.expect(INIT_ACK, 1.0)
        self.assertIsNotNone(ack)
        cookie = [v for t, v in parse_init(ack.find(INIT_ACK)[0][2])["params"] if t == 7][0]
        self.fs.send(f["tag"], chunk(COOKIE_ECHO, 0, cookie))
        got = self.fs.recv(1.0, until=lambda p: COOKIE_ACK in p.types())
        self.assertTrue([p for p in got if COOKIE_ACK in p.types()], "crossing COOKIE ECHO not "
                        "answered with COOKIE ACK (§5.2.4 D)")
        rc, out, err, _ = self.serve_to_the_end(f["tag"])
        self.assertEqual(0, rc, err)
        self.assertEqual("crossed\n", out)
        observe("§5.2.4 D crossing COOKIE ECHO in COOKIE-ECHOED: COOKIE ACK, established")

    def test_init_with_new_address_in_cookie_echoed(self):
        # §5.2.1: an INIT in COOKIE-ECHOED that adds an address is discarded, an ABORT
        # SHOULD answer it (MAY carry Restart With New Addresses), and the forming
        # association is left as it was.
        self.fs.start_cat(lines=("kept",), replies=1)
        _, f = self.get_init()
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn))
        self.assertIsNotNone(self.fs.expect(COOKIE_ECHO, 1.0))
        body = struct.pack("!IIHHI", 0x7E577E57, 1 << 20, 10, 10, 5) + param(5, bytes([127, 0, 0, 9]))
        self.fs.send(0, chunk(INIT, 0, body))
        got = self.fs.recv(0.5, until=lambda p: ABORT in p.types() or INIT_ACK in p.types())
        self.assertFalse([p for p in got if INIT_ACK in p.types()], "INIT with a new address answered "
                         "with INIT ACK")
        aborts = [p for p in got if ABORT in p.types()]
        self.assertTrue(aborts, "no ABORT")
        self.assertEqual(0x7E577E57, aborts[0].vtag)
        self.fs.send(f["tag"], chunk(COOKIE_ACK, 0, b""))
        rc, out, err, _ = self.serve_to_the_end(f["tag"])
        self.assertEqual(0, rc, err)
        self.assertEqual("kept\n", out)
        observe("§5.2.1 INIT adding 127.0.0.9 in COOKIE-ECHOED: %s; setup unaffected" % aborts[0])

    def test_abort_in_cookie_echoed_with_t_bit(self):
        # §8.5.1 B: once the peer's tag is known (COOKIE-ECHOED), an ABORT with the T
        # bit and that tag is accepted.
        self.fs.start_cat()
        _, f = self.get_init()
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn))
        self.assertIsNotNone(self.fs.expect(COOKIE_ECHO, 1.0))
        self.fs.send(self.my_tag ^ 0x1111, chunk(ABORT, 1, b""))
        time.sleep(0.2)
        self.assertIsNone(self.fs.cat.poll(), "T=1 ABORT with a wrong tag accepted")
        self.fs.send(self.my_tag, chunk(ABORT, 1, b""))
        rc, out, err = self.fs.cat_exit(2.0)
        self.assertIsNotNone(rc, "T=1 ABORT with the peer's tag ignored in COOKIE-ECHOED")
        self.assertNotEqual(0, rc)
        observe("§8.5.1 B ABORT T=1 in COOKIE-ECHOED: wrong tag ignored, peer's tag -> exit %d" % rc)

    def test_stale_cookie_retry(self):
        # §5.2.6: on a Stale Cookie error the client may start over with a Cookie
        # Preservative; the extension SHOULD be based on the RTT of the COOKIE ECHO /
        # ERROR exchange and SHOULD add no more than 1 s beyond it. An ERROR with a
        # wrong tag is ignored (§8.5).
        self.fs.start_cat(lines=("stale",), replies=1)
        _, f = self.get_init()
        self.fs.send(f["tag"], init_ack_chunk(self.my_tag, self.my_tsn, b"stale-cookie"))
        self.assertIsNotNone(self.fs.expect(COOKIE_ECHO, 1.0))
        t0 = time.monotonic()  # the COOKIE ECHO / ERROR round trip starts about now
        stale = chunk(ERROR, 0, struct.pack("!HHI", 3, 8, 30_000_000))  # 30 s stale
        self.fs.send((f["tag"] ^ 0x3C3C3C3C) or 1, stale)
        self.assertIsNone(self.fs.expect(INIT, 0.3), "Stale Cookie ERROR with a wrong tag acted on")
        self.fs.send(f["tag"], stale)
        p, g = self.get_init(1.0)
        rtt_ms = (time.monotonic() - t0) * 1000
        pres = [v for t, v in g["params"] if t == 9]
        self.assertTrue(pres, "new INIT without Cookie Preservative")
        ms = struct.unpack("!I", pres[0][:4])[0]
        self.assertGreater(ms, 0)
        self.assertLessEqual(ms, rtt_ms + 1000 + 5, "Cookie Preservative asks %d ms (§5.2.6: RTT + "
                             "at most 1 s)" % ms)
        self.fs.send(g["tag"], init_ack_chunk(self.my_tag, self.my_tsn, b"fresh-cookie"))
        echo = self.fs.expect(COOKIE_ECHO, 1.0)
        self.assertIsNotNone(echo)
        self.assertIn(b"fresh-cookie", echo.find(COOKIE_ECHO)[0][2])
        self.fs.send(g["tag"], chunk(COOKIE_ACK, 0, b""))
        rc, out, err, _ = self.serve_to_the_end(g["tag"])
        self.assertEqual(0, rc, err)
        observe("§5.2.6 Stale Cookie (30 s stale): new INIT with Cookie Preservative %d ms; "
                "wrong-tag ERROR ignored; association then set up" % ms)


class ClientData(ClientCase):
    def test_peer_shuts_down(self):
        # §9.2 on the client: a SHUTDOWN with nothing outstanding is answered with
        # SHUTDOWN ACK (the peer's tag); SHUTDOWN COMPLETE then ends the association
        # and, all replies received, cat exits 0.
        self.fs.start_cat(lines=(), replies=0, close_stdin=False)
        f = self.establish()
        time.sleep(0.1)
        self.fs.send(f["tag"], chunk(SHUTDOWN, 0, struct.pack("!I", (self.my_tsn - 1) & 0xFFFFFFFF)))
        sa = self.fs.expect(SHUTDOWN_ACK, 1.0)
        self.assertIsNotNone(sa, "SHUTDOWN not answered")
        self.assertEqual(self.my_tag, sa.vtag)
        self.fs.send(f["tag"], chunk(SHUTDOWN_COMPLETE, 0, b""))
        rc, out, err = self.fs.cat_exit(3.0)
        self.assertEqual(0, rc, err)
        observe("§9.2 peer-initiated shutdown at sctpp cat: SHUTDOWN ACK, SHUTDOWN COMPLETE, "
                "exit 0")

    def test_abort_when_the_peers_shutdown_does_not_complete(self):
        # ETSI AT-I-2-11 (§9.2): the peer's SHUTDOWN is answered with SHUTDOWN ACK, which
        # is never answered. cat gives the shutdown 30 s, then sends ABORT rather than
        # vanishing, and exits 1.
        self.fs.start_cat(lines=(), replies=0, close_stdin=False)
        f = self.establish()
        self.fs.send(f["tag"], chunk(SHUTDOWN, 0, struct.pack("!I", (self.my_tsn - 1) & 0xFFFFFFFF)))
        self.assertIsNotNone(self.fs.expect(SHUTDOWN_ACK, 1.0), "SHUTDOWN not answered")
        t0 = time.monotonic()
        acks, ab = 1, None
        while ab is None and time.monotonic() - t0 < 40:
            for p in self.fs.recv(1.0):
                acks += SHUTDOWN_ACK in p.types()
                if ABORT in p.types():
                    ab = p
        self.assertIsNotNone(ab, "no ABORT after the shutdown did not complete")
        self.assertEqual((self.my_tag, 0), (ab.vtag, ab.find(ABORT)[0][1] & 1))
        rc, out, err = self.fs.cat_exit(3.0)
        self.assertEqual(1, rc, err)
        observe("AT-I-2-11 SHUTDOWN ACK unanswered: %d SHUTDOWN ACKs, then ABORT after %.1f s, "
                "exit 1" % (acks, time.monotonic() - t0))

    def test_ootb_after_the_end_answered(self):
        # §8.4 rule 8: an out-of-the-blue HEARTBEAT is answered with ABORT (T=1, the
        # packet's own tag). cat keeps its stack running a moment after its
        # association ended, so a packet that arrives right after is still answered.
        self.fs.start_cat(lines=(), replies=0, close_stdin=False)
        f = self.establish()
        time.sleep(0.1)
        self.fs.send(f["tag"], chunk(SHUTDOWN, 0, struct.pack("!I", (self.my_tsn - 1) & 0xFFFFFFFF)))
        self.assertIsNotNone(self.fs.expect(SHUTDOWN_ACK, 1.0), "SHUTDOWN not answered")
        self.fs.send(f["tag"], chunk(SHUTDOWN_COMPLETE, 0, b""))
        time.sleep(0.1)
        self.fs.send(f["tag"], heartbeat_chunk_raw(b"after-the-end"))
        ab = self.fs.expect(ABORT, 0.3)
        self.assertIsNotNone(ab, "HEARTBEAT after SHUTDOWN COMPLETE not answered")
        self.assertEqual((f["tag"], 1), (ab.vtag, ab.find(ABORT)[0][1] & 1))
        rc, out, err = self.fs.cat_exit(3.0)
        self.assertEqual(0, rc, err)
        observe("§8.4 rule 8 at sctpp cat: HEARTBEAT 0.1 s after SHUTDOWN COMPLETE -> ABORT T=1")

    def test_data_sack_and_shutdown(self):
        # §6.1/§3.3.1: the first DATA carries the INIT's Initial TSN, SSNs from 0, B and
        # E set, stream and PPID as asked. §6.3.3: unacknowledged DATA is retransmitted
        # by T3-rtx. §6.2: received DATA is SACKed within 200 ms. §9.2: SHUTDOWN
        # carries the last TSN received; SHUTDOWN ACK -> SHUTDOWN COMPLETE (T=0, the
        # peer's tag); cat exits 0.
        self.fs.start_cat(lines=("one", "two"), replies=2, extra=["--stream", "2", "--ppid", "51"])
        f = self.establish()
        got = []
        end = time.monotonic() + 2
        while len(datas_in(got)) < 2 and time.monotonic() < end:
            got += self.fs.recv(end - time.monotonic(), until=lambda p: DATA in p.types())
        ds = datas_in(got)
        self.assertEqual(2, len(ds), "DATA not sent: %r" % got)
        check_bundling(self, got)
        self.assertEqual([f["tsn"], (f["tsn"] + 1) & 0xFFFFFFFF], [d[1] for d in ds])
        self.assertEqual([(2, 0, 51), (2, 1, 51)], [(d[2], d[3], d[4]) for d in ds])
        self.assertEqual([3, 3], [d[0] & 7 for d in ds], "B/E/U bits")
        self.assertEqual([b"one", b"two"], [d[5] for d in ds])
        self.assertTrue(all(p.vtag == self.my_tag for p in got))
        t0 = time.monotonic()
        rtx = self.fs.recv(2.0, until=lambda p: DATA in p.types())
        dt = time.monotonic() - t0
        self.assertIn(f["tsn"], [d[1] for d in datas_in(rtx)], "DATA not retransmitted")
        self.fs.send(f["tag"], sack_bytes(ds[-1][1]))
        # One echo without the I bit: the delayed SACK.
        self.fs.send(f["tag"], data_bytes(self.my_tsn, 2, 0, b"one"))
        t1 = time.monotonic()
        p = self.fs.expect(SACK, 1.0)
        sack_ms = (time.monotonic() - t1) * 1000
        self.assertIsNotNone(p, "echo not acknowledged")
        self.assertEqual(self.my_tsn, parse_sack(p.find(SACK)[0][2])[0])
        self.assertLess(sack_ms, 300, "SACK after %.0f ms" % sack_ms)
        self.fs.send(f["tag"], data_bytes((self.my_tsn + 1) & 0xFFFFFFFF, 2, 1, b"two"))
        sd = self.fs.expect(SHUTDOWN, 2.0)
        self.assertIsNotNone(sd, "no SHUTDOWN after the replies")
        self.assertEqual((self.my_tsn + 1) & 0xFFFFFFFF, struct.unpack_from("!I", sd.find(SHUTDOWN)[0][2], 4)[0])
        self.fs.send(f["tag"], chunk(SHUTDOWN_ACK, 0, b""))
        sc = self.fs.expect(SHUTDOWN_COMPLETE, 1.0)
        self.assertIsNotNone(sc, "no SHUTDOWN COMPLETE")
        self.assertEqual([SHUTDOWN_COMPLETE], sc.types())
        self.assertEqual(0, sc.chunks[0][1] & 1)
        self.assertEqual(self.my_tag, sc.vtag)
        rc, out, err = self.fs.cat_exit(3.0)
        self.assertEqual(0, rc, err)
        self.assertEqual("one\ntwo\n", out)
        observe("client DATA: TSN = initial TSN, SSN 0,1, B|E, stream 2 PPID 51; T3-rtx after "
                "%.2f s; SACK of an echo after %.0f ms; SHUTDOWN cum = last TSN; SHUTDOWN "
                "COMPLETE T=0; exit 0" % (dt, sack_ms))


if __name__ == "__main__":
    main()
