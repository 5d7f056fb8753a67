"""Malformed chunks and parameters, unknown chunk and parameter types (RFC 9260 §3.2,
§3.2.1, §3.3, §6.2, §6.5, §8.4). The server must answer or drop as the RFC says and
never crash or hang: after each group it still serves a fresh client (sctpp cat) and
the association under attack (when one is used) still echoes.
"""

import os
import struct
import time
import unittest

from scapy.compat import raw
from scapy.packet import Raw

from attacklib import (ABORT, CAUSE_INVALID_STREAM, CAUSE_NO_USER_DATA, CAUSE_UNRECOGNIZED_CHUNK,
                       CAUSE_UNRECOGNIZED_PARAMS, CAUSE_UNRESOLVABLE_ADDRESS, DATA, ERROR,
                       HEARTBEAT, HEARTBEAT_ACK, INIT, INIT_ACK, SACK, SHUTDOWN, AttackCase,
                       Assoc, S, causes_of, chunk, echo_roundtrip, header, heartbeat_chunk, main,
                       observe, pad4, param, split_tlvs)

INIT_FIXED = struct.Struct("!IIHHI")


def init_value(tag=0x01020304, a_rwnd=65536, os_=10, mis=10, tsn=1):
    return INIT_FIXED.pack(tag, a_rwnd, os_, mis, tsn)


def describe(packets):
    if not packets:
        return "no answer"
    return " + ".join(repr(p) for p in packets)


class MalformedStateless(AttackCase):
    """Garbage sent to the listening port, no association."""

    def send_and_collect(self, p, data, timeout=0.25):
        p.send_raw(data)
        return p.recv(timeout)

    def test_runts_and_bad_chunk_lengths(self):
        p = self.peer()
        hdr = header(p.sctp_port, self.server.sctp_port, 0)
        cases = []
        for n in range(0, 12):
            cases.append(("runt of %d bytes" % n, os.urandom(n), False))
        cases += [
            ("common header only", hdr, True),
            ("header + 3 bytes", hdr + b"\x01\x00\x00", True),
            ("INIT chunk length 0", hdr + struct.pack("!BBH", INIT, 0, 0) + init_value(), True),
            ("INIT chunk length 2", hdr + struct.pack("!BBH", INIT, 0, 2) + init_value(), True),
            ("INIT chunk length past the packet", hdr + struct.pack("!BBH", INIT, 0, 400) + init_value(), True),
            ("INIT chunk length 65535", hdr + struct.pack("!BBH", INIT, 0, 65535) + init_value(), True),
            ("INIT shorter than its fixed part (16)", hdr + struct.pack("!BBH", INIT, 0, 16) + init_value()[:12], True),
            ("INIT length 19 (not a multiple of 4, inside the fixed part)",
             hdr + struct.pack("!BBH", INIT, 0, 19) + init_value(), True),
            ("unknown chunk type 0xff, length 0", hdr + b"\xff\x00\x00\x00", True),
            ("DATA chunk length 1 (vtag 0)", hdr + b"\x00\x03\x00\x01", True),
        ]
        seen = []
        for what, data, fix in cases:
            p.send_raw(data, fix_crc=fix)
            got = p.recv(0.1)
            self.assertTrue(self.server.alive(), "server died on: " + what)
            # None of these is a valid INIT: no INIT ACK may come back.
            self.assertFalse(any(INIT_ACK in x.types() for x in got), "%s answered with INIT ACK" % what)
            if got:
                seen.append("%s -> %s" % (what, describe(got)))
        self.assertServes("runts and bad chunk lengths")
        observe("runts (0-11 bytes), header-only, chunk length 0/2/past the packet/65535, INIT "
                "shorter than 20: no INIT ACK, server alive; answers: %s"
                % ("; ".join(seen) if seen else "none (all dropped)"))

    def test_bad_init_parameters(self):
        """Parameter lengths that lie: zero, under 4, past the chunk, past the packet, not
        what the type requires. The server must not loop, crash or read out of bounds."""
        cases = {
            "zero-length parameter": struct.pack("!HH", 5, 0) + b"\x7f\0\0\1",
            "parameter length 2": struct.pack("!HH", 5, 2) + b"\x7f\0\0\1",
            "parameter length past the chunk (nested length > chunk length)":
                struct.pack("!HH", 5, 200) + b"\x7f\0\0\1",
            "IPv4 address parameter of length 7": struct.pack("!HH", 5, 7) + b"\x7f\0\0\x00",
            "IPv4 address parameter of length 12": struct.pack("!HH", 5, 12) + b"\x7f\0\0\1" + b"\0" * 4,
            "IPv6 address parameter of length 8": struct.pack("!HH", 6, 8) + b"\0" * 4,
            "Cookie Preservative of length 6": struct.pack("!HH", 9, 6) + b"\0\0\0\0",
            "Supported Address Types of odd length 5": struct.pack("!HH", 12, 5) + b"\0\0\0\0",
            "a valid parameter then 3 stray bytes": param(12, b"\0\5") + b"\0\0\0",
            "parameter whose padding is missing before the next one":
                struct.pack("!HH", 0x8001, 5) + b"\x01" + param(5, b"\x7f\0\0\1"),
        }
        p = self.peer()
        seen = []
        for what, params in cases.items():
            value = init_value(tag=0x0A0B0C0D) + params
            body = header(p.sctp_port, self.server.sctp_port, 0) + struct.pack("!BBH", INIT, 0, 4 + len(value)) + value
            p.send_raw(pad4(body))
            got = p.recv(0.2)
            self.assertTrue(self.server.alive(), "server died on INIT with " + what)
            for x in got:
                self.assertTrue(x.crc_ok)
                if INIT_ACK in x.types():
                    self.assertEqual(0x0A0B0C0D, x.vtag)
            seen.append("%s -> %s" % (what, "/".join(sorted({n for x in got for n in
                                                             [str(t) for t in x.types()]})) or "dropped"))
        self.assertServes("INITs with bad parameters")
        observe("INIT with malformed parameters (chunk type 2 = INIT ACK, 6 = ABORT): " + "; ".join(seen))

    def test_unknown_init_parameters(self):
        """§3.2.1: upper two bits of an unrecognized parameter type: 00 stop, 01 stop and
        report, 10 skip, 11 skip and report; reports go in the INIT ACK as Unrecognized
        Parameter (type 8) parameters."""
        results = {}
        for bits, ptype in ((0b00, 0x3FF0), (0b01, 0x7FF0), (0b10, 0xBFF0), (0b11, 0xFFF0)):
            p = self.peer()
            first = param(ptype, b"first!")
            second = param(0xFFF1, b"second")  # 11: reported when reached
            tag, tsn, ack = Assoc.init(p, params=[Raw(first), Raw(second)])
            self.assertIsNotNone(ack, "no INIT ACK for unknown parameter %#06x" % ptype)
            tlvs = split_tlvs(ack.find(INIT_ACK)[0][2][20:])
            reported = [v for t, v in tlvs if t == CAUSE_UNRECOGNIZED_PARAMS]
            rtypes = [struct.unpack_from("!H", v)[0] for v in reported]
            results[bits] = rtypes
            expect = {0b00: [], 0b01: [ptype], 0b10: [0xFFF1], 0b11: [ptype, 0xFFF1]}[bits]
            self.assertEqual(expect, rtypes, "unknown parameter %#06x: reported %s, RFC: %s"
                             % (ptype, [hex(t) for t in rtypes], [hex(t) for t in expect]))
            for v in reported:
                self.assertIn(v[:4 + 6], (first[:10], second[:10]), "report does not carry the parameter")
            # The INIT ACK is usable: the association comes up and echoes.
            peer_tag = struct.unpack_from("!I", ack.find(INIT_ACK)[0][2], 4)[0]
            p.send(p.sctp(peer_tag) / S.SCTPChunkCookieEcho(cookie=Assoc.cookie_of(ack)))
            self.assertIsNotNone(p.expect(11), "no COOKIE ACK after unknown parameter %#06x" % ptype)
        observe("INIT with unknown parameter then a 0b11 one: 00 -> nothing reported; 01 -> "
                "first reported, processing stopped; 10 -> first skipped, second reported; 11 -> "
                "both reported (Unrecognized Parameter in INIT ACK); association set up each time")

    def test_init_host_name_address(self):
        p = self.peer()
        tag, tsn, ack = Assoc.init(p, params=[S.SCTPChunkParamHostname(hostname=b"attacker.example\0")])
        self.assertIsNone(ack, "INIT with a Host Name Address answered with INIT ACK")
        got = p.recv(0.1)
        # §3.3.2.1 / §5.1.2: ABORT with Unresolvable Address (the ABORT may already have been
        # read by Assoc.init's wait; ask again).
        p.send(p.sctp(0) / S.SCTPChunkInit(init_tag=tag, a_rwnd=65536, n_out_streams=1, n_in_streams=1,
                                           init_tsn=1, params=[S.SCTPChunkParamHostname(hostname=b"x.example\0")]))
        ab = p.expect(ABORT, 1.0)
        self.assertIsNotNone(ab, "no ABORT for a Host Name Address")
        self.assertEqual(tag, ab.vtag)
        self.assertEqual(CAUSE_UNRESOLVABLE_ADDRESS, causes_of(ab.find(ABORT)[0][2])[0][0])
        observe("INIT with Host Name Address: ABORT (Unresolvable Address), vtag = Initiate Tag")

    def test_many_parameters(self):
        """A 64 KiB INIT: 400 loopback addresses and thousands of skip-type parameters."""
        p = self.peer()
        addrs = [S.SCTPChunkParamIPv4Addr(addr="127.0.%d.%d" % (i // 250, 2 + i % 250)) for i in range(400)]
        junk = [Raw(param(0xBFF2, b"x" * 8)) for _ in range(4000)]
        pkt = raw(p.sctp(0) / S.SCTPChunkInit(init_tag=0x600D0001, a_rwnd=65536, n_out_streams=10,
                                              n_in_streams=10, init_tsn=1, params=addrs + junk))
        t0 = time.monotonic()
        p.send_raw(pkt, fix_crc=False)
        ack = p.expect(INIT_ACK, 2.0)
        elapsed = time.monotonic() - t0
        self.assertIsNotNone(ack, "no INIT ACK for a big INIT")
        self.assertLess(len(ack.data), 1500, "INIT ACK grew with the INIT's parameters")
        observe("INIT of %d bytes (400 addresses, 4000 skip parameters): INIT ACK of %d bytes "
                "in %.1f ms" % (len(pkt), len(ack.data), elapsed * 1000))
        self.assertServes("a 64 KiB INIT")

    def test_out_of_the_blue(self):
        """§8.4: packets for no association."""
        p = self.peer()
        vt = 0x11223344
        res = {}
        for name, pkt in {
            "DATA": p.sctp(vt) / S.SCTPChunkData(tsn=1, stream_id=0, stream_seq=0, proto_id=0, data=b"x",
                                                 beginning=1, ending=1, reserved=0),
            "ABORT": p.sctp(vt) / S.SCTPChunkAbort(reserved=0),
            "SHUTDOWN ACK": p.sctp(vt) / S.SCTPChunkShutdownAck(),
            "SHUTDOWN COMPLETE": p.sctp(vt) / S.SCTPChunkShutdownComplete(reserved=0),
            "COOKIE ACK": p.sctp(vt) / S.SCTPChunkCookieAck(),
            "INIT ACK": p.sctp(vt) / S.SCTPChunkInitAck(init_tag=5, a_rwnd=1500, n_out_streams=1,
                                                        n_in_streams=1, init_tsn=1),
            "ERROR (stale cookie)": p.sctp(vt) / S.SCTPChunkError(error_causes=struct.pack("!HHI", 3, 8, 1)),
            "HEARTBEAT": p.sctp(vt) / heartbeat_chunk(),
        }.items():
            p.send(pkt)
            res[name] = p.recv(0.5, until=lambda x: True)
        def kind(got):
            if not got:
                return None
            t, f, _ = got[0].chunks[0]
            return (t, f & 1, got[0].vtag)
        # §8.4 (2), (6), (7): never answered.
        for name in ("ABORT", "SHUTDOWN COMPLETE", "COOKIE ACK", "ERROR (stale cookie)"):
            self.assertEqual([], res[name], "out-of-the-blue %s answered" % name)
        # §8.4 (5): SHUTDOWN ACK -> SHUTDOWN COMPLETE, T bit, reflected tag.
        self.assertEqual((14, 1, vt), kind(res["SHUTDOWN ACK"]))
        # §8.4 (8): the rest -> ABORT with the T bit and the reflected tag (or nothing).
        for name in ("DATA", "INIT ACK", "HEARTBEAT"):
            self.assertIn(kind(res[name]), ((6, 1, vt), None), "out-of-the-blue %s" % name)
        observe("out of the blue: " + "; ".join("%s -> %s" % (n, describe(g)) for n, g in res.items()))


def unknown_chunk(ctype, body=b"unknown!"):
    return chunk(ctype, 0, body)


class UnknownChunks(AttackCase):
    """§3.2: upper two bits of an unrecognized chunk type, with a HEARTBEAT after it:
    00 drop the rest of the packet; 01 drop and report (ERROR, Unrecognized Chunk Type);
    10 skip; 11 skip and report."""

    def test_each_action(self):
        a = Assoc.open(self.peer())
        seen = {}
        for bits, ctype in ((0b00, 0x3E), (0b01, 0x7E), (0b10, 0xBE), (0b11, 0xFE)):
            info = os.urandom(12)
            hb = bytes(heartbeat_chunk(info))
            a.send_raw_chunks(unknown_chunk(ctype) + hb)
            # Wait long for what must come, briefly for what must not.
            want = (HEARTBEAT_ACK if bits & 0b10 else None, ERROR if bits & 0b01 else None)
            seen_types = set()

            def complete(x):
                seen_types.update(x.types())
                return all(t is None or t in seen_types for t in want)
            got = a.peer.recv(2.0 if any(want) else 0.3, until=complete)
            if any(want):
                got += a.peer.recv(0.1)
            hb_acked = any(HEARTBEAT_ACK in x.types() for x in got)
            errors = [c for x in got for c in x.find(ERROR)]
            reported = [cs for e in errors for cs in causes_of(e[2]) if cs[0] == CAUSE_UNRECOGNIZED_CHUNK]
            seen[bits] = (hb_acked, len(reported))
            self.assertEqual(bits & 0b10 != 0, hb_acked,
                             "chunk type %#04x: HEARTBEAT after it %s" % (ctype, "answered" if hb_acked else "dropped"))
            self.assertEqual(1 if bits & 0b01 else 0, len(reported),
                             "chunk type %#04x: %d Unrecognized Chunk Type reports" % (ctype, len(reported)))
            if reported:
                self.assertEqual(unknown_chunk(ctype)[:12], reported[0][1][:12], "report does not carry the chunk")
        self.assertTrue(echo_roundtrip(a))
        observe("unknown chunk type then HEARTBEAT: 00 -> packet dropped; 01 -> dropped + ERROR "
                "(Unrecognized Chunk Type); 10 -> skipped (HEARTBEAT answered); 11 -> skipped + ERROR")

    def test_many_unknown_chunks_in_one_packet(self):
        a = Assoc.open(self.peer())
        # 16,000 4-byte chunks of a skip-and-report type in one 64 KiB datagram.
        body = b"".join(struct.pack("!BBH", 0xFD, 0, 4) for _ in range(16000))
        t0 = time.monotonic()
        a.send_raw_chunks(body)
        got = a.peer.recv(2.0, until=lambda x: ERROR in x.types())
        got += a.peer.recv(0.2)
        errors = [x for x in got if ERROR in x.types()]
        sizes = [len(x.data) for x in errors]
        self.assertLessEqual(len(errors), 1, "more than one ERROR for one packet")
        self.assertTrue(all(s <= 1500 for s in sizes), "ERROR larger than the path MTU: %s" % sizes)
        # 16,000 skip-type (10) chunks, then a HEARTBEAT: answered.
        body = b"".join(struct.pack("!BBH", 0xBD, 0, 4) for _ in range(16000))
        a.send_raw_chunks(body[:-8 * 4] + bytes(heartbeat_chunk(b"after-16000")))
        self.assertIsNotNone(a.peer.expect(HEARTBEAT_ACK, 1.0), "HEARTBEAT after 16,000 skip chunks lost")
        self.assertTrue(echo_roundtrip(a))
        observe("16,000 unknown 0b11 chunks in one datagram: %d ERROR packet(s) of %s bytes (bounded); "
                "16,000 0b10 chunks then HEARTBEAT: answered; %.0f ms" % (len(errors), sizes,
                                                                          (time.monotonic() - t0) * 1000))

    # Regression (was a bug): the causes of that ERROR were cut at a byte count, not at a
    # cause boundary, so 8-byte unknown chunks (12-byte causes) made a malformed ERROR
    # chunk whose last cause was cut (RFC 9260 §3.3.10: a cause is whole).
    def test_error_for_many_unknown_chunks_is_well_formed(self):
        a = Assoc.open(self.peer())
        results = []
        for body in (b"", b"abcd", b"abcdefgh", b"abcde"):
            a.send_raw_chunks(chunk(0xFD, 0, body) * 300)
            got = a.peer.recv(2.0, until=lambda x: ERROR in x.types())
            errors = [c for x in got for c in x.find(ERROR)]
            self.assertTrue(errors, "no ERROR for unrecognized 0b11 chunks")
            region = errors[0][2][4:]
            off, whole = 0, True
            while off < len(region):
                if len(region) - off < 4:
                    whole = False
                    break
                code, length = struct.unpack_from("!HH", region, off)
                if length < 4 or off + length > len(region):
                    whole = False
                    break
                off += length + (-length % 4)
            results.append((len(body) + 4, whole, region[off:off + 4].hex()))
        observe("ERROR for 300 unrecognized chunks of 4/8/12/9 bytes: causes well-formed: %s" % ", ".join("%d-byte chunks %s" % (n, "yes" if w else
                                                               "NO (cut cause %s)" % t) for n, w, t in results))
        for n, whole, tail in results:
            self.assertTrue(whole, "ERROR for %d-byte unknown chunks ends in a cut cause (%s)" % (n, tail))


class MalformedInAssociation(AttackCase):
    def test_data_without_user_data(self):
        a = Assoc.open(self.peer())
        tsn = a.next_tsn
        a.send_raw_chunks(struct.pack("!BBHIHHI", DATA, 3, 16, tsn, 0, 0, 0))
        ab = a.peer.expect(ABORT, 1.0)
        self.assertIsNotNone(ab, "DATA with no user data not answered with ABORT (§3.3.1)")
        self.assertEqual(a.my_tag, ab.vtag)
        c = causes_of(ab.find(ABORT)[0][2])
        self.assertEqual(CAUSE_NO_USER_DATA, c[0][0])
        self.assertEqual(tsn, struct.unpack("!I", c[0][1][:4])[0])
        observe("DATA with no user data (length 16): ABORT with No User Data naming the TSN")

    def test_data_on_invalid_stream(self):
        a = Assoc.open(self.peer(), os_=10)
        inbound = a.os  # what the server accepts from us
        a.send(a.data(b"bad-stream", stream=1000 if inbound <= 1000 else 65535, i=True))
        seen = set()
        got = a.peer.recv(2.0, until=lambda x: seen.update(x.types()) or {ERROR, SACK} <= seen)
        errs = [cs for x in got for e in x.find(ERROR) for cs in causes_of(e[2])]
        self.assertIn(CAUSE_INVALID_STREAM, [c[0] for c in errs], "no Invalid Stream Identifier error (§6.5)")
        sacks = [x for x in got if SACK in x.types()]
        self.assertTrue(sacks, "TSN on an invalid stream not acknowledged (§6.5)")
        # §6.5: "MAY bundle the ERROR chunk in the same packet as the SACK chunk as long
        # as the ERROR chunk follows the SACK chunk".
        first_error = next(x for x in got if ERROR in x.types())
        t = first_error.types()
        self.assertTrue(SACK in t and t.index(SACK) < t.index(ERROR) or got.index(sacks[0]) < got.index(first_error),
                        "ERROR ahead of the SACK: %r" % got)
        self.assertTrue(echo_roundtrip(a))
        observe("DATA on stream >= negotiated inbound streams: ERROR Invalid Stream Identifier + "
                "SACK of the TSN, data dropped, association fine")

    def test_short_and_inconsistent_chunks(self):
        a = Assoc.open(self.peer())
        cum = (a.peer_initial_tsn - 1) & 0xFFFFFFFF
        cases = {
            "DATA of length 12 (shorter than its header)": struct.pack("!BBHII", DATA, 3, 12, a.next_tsn, 0),
            "SACK of length 8": struct.pack("!BBHI", SACK, 0, 8, cum),
            "SACK claiming 1000 gap blocks in 16 bytes": struct.pack("!BBHIIHH", SACK, 0, 16, cum, 65536, 1000, 0),
            "SACK claiming 65535 duplicates in 20 bytes": struct.pack("!BBHIIHHI", SACK, 0, 20, cum, 65536, 0, 65535, 1),
            "SACK with length not matching its counts (17)": struct.pack("!BBHIIHH", SACK, 0, 17, cum, 65536, 0, 0) + b"\0",
            "HEARTBEAT without info parameter": struct.pack("!BBH", HEARTBEAT, 0, 4),
            "HEARTBEAT info length past the chunk": struct.pack("!BBHHH", HEARTBEAT, 0, 8, 1, 100) + b"",
            "HEARTBEAT info length 0": struct.pack("!BBHHH", HEARTBEAT, 0, 12, 1, 0) + b"\0\0\0\0",
            "SHUTDOWN of length 12": struct.pack("!BBHII", SHUTDOWN, 0, 12, cum, 0),
            "SHUTDOWN of length 4": struct.pack("!BBH", SHUTDOWN, 0, 4),
            "ERROR with a cause of length 0": struct.pack("!BBHHH", ERROR, 0, 8, 1, 0),
            "ERROR with a cause length past the chunk": struct.pack("!BBHHH", ERROR, 0, 8, 1, 60),
            "COOKIE ACK of length 8": struct.pack("!BBHI", 11, 0, 8, 0),
        }
        seen = []
        for what, raw_chunk in cases.items():
            a.send_raw_chunks(pad4(raw_chunk))
            got = a.peer.recv(0.15)
            self.assertTrue(self.server.alive(), "server died on " + what)
            self.assertEqual("alive", a.probe(), "association lost after " + what)
            seen.append("%s -> %s" % (what, describe(got)))
        self.assertTrue(echo_roundtrip(a))
        self.assertServes("short and inconsistent chunks")
        observe("short/inconsistent chunks in an association: " + "; ".join(seen))

    def test_lengths_that_disagree_within_a_packet(self):
        a = Assoc.open(self.peer())
        hb = bytes(heartbeat_chunk(b"hb-in-bad-packet"))
        cases = {
            "HEARTBEAT then a chunk of length 0": hb + b"\xbf\x00\x00\x00",
            "HEARTBEAT then a chunk whose length runs past the packet": hb + struct.pack("!BBH", 0xBF, 0, 64) + b"abcd",
            "HEARTBEAT of odd length with its padding missing before the next chunk":
                hb[:2] + struct.pack("!H", len(hb) - 3) + hb[4:-3] + bytes(heartbeat_chunk(b"second")),
            "HEARTBEAT then 2 stray bytes": hb + b"\x01\x02",
            "DATA whose length says 2000 in a 100-byte packet": struct.pack("!BBHIHHI", DATA, 3, 2000, a.next_tsn, 0, 0, 0) + b"x" * 80,
        }
        seen = []
        for what, body in cases.items():
            a.send_raw_chunks(body)
            got = a.peer.recv(0.2)
            self.assertTrue(self.server.alive(), "server died on " + what)
            seen.append("%s -> %s" % (what, describe(got)))
        self.assertEqual("alive", a.probe())
        self.assertTrue(echo_roundtrip(a))
        observe("chunk lengths that disagree with the packet: " + "; ".join(seen))

    def test_sack_for_data_never_sent(self):
        a = Assoc.open(self.peer())
        cum = (a.peer_initial_tsn - 1) & 0xFFFFFFFF
        cases = {
            "cumulative TSN ack 1,000,000 ahead": S.SCTPChunkSACK(cumul_tsn_ack=(cum + 1_000_000) & 0xFFFFFFFF,
                                                                  a_rwnd=65536, flags=0),
            "cumulative TSN ack 2^31 away": S.SCTPChunkSACK(cumul_tsn_ack=(cum + 2 ** 31) & 0xFFFFFFFF,
                                                           a_rwnd=65536, flags=0),
            "gap blocks far beyond anything sent": S.SCTPChunkSACK(cumul_tsn_ack=cum, a_rwnd=65536, flags=0,
                                                                   gap_ack_list=["100:200", "5:4", "65535:65535"]),
            "1000 duplicate TSNs": S.SCTPChunkSACK(cumul_tsn_ack=cum, a_rwnd=65536, flags=0,
                                                   dup_tsn_list=list(range(1000))),
            "a_rwnd 0": S.SCTPChunkSACK(cumul_tsn_ack=cum, a_rwnd=0, flags=0),
        }
        seen = []
        for what, sack in cases.items():
            a.send(sack)
            got = a.peer.recv(0.2)
            self.assertTrue(self.server.alive(), "server died on SACK with " + what)
            seen.append("%s -> %s" % (what, describe(got)))
        # Whatever it decided, it must stay coherent: either it aborted, or it still echoes.
        state = a.probe()
        if state == "alive":
            self.assertTrue(echo_roundtrip(a, b"after-bogus-sacks", timeout=4.0),
                            "association alive but no longer echoes after bogus SACKs")
        self.assertServes("SACKs for data never sent")
        observe("SACKs acknowledging TSNs never sent: %s; association afterwards: %s"
                % ("; ".join(seen), state))


if __name__ == "__main__":
    main()
