"""Verification tags (RFC 9260 §8.5, §8.5.1) and checksums (§6.8, RFC 9653).

Every case runs on an association established by hand; "alive" means the server still
answers a HEARTBEAT on it with the right tag, "gone" that it answers out of the blue
(§8.4: ABORT with the T bit).
"""

import os
import struct
import time

from attacklib import (ABORT, DATA, INIT, HEARTBEAT_ACK, SACK, SHUTDOWN_ACK, AttackCase, Assoc,
                       S, data_payloads, echo_roundtrip, heartbeat_chunk, main, observe,
                       sack_chunk, header, chunk)


def wrong(tag):
    return (tag ^ 0x5A5A5A5A) or 1


class VerificationTag(AttackCase):
    def test_data_with_wrong_tag_is_dropped(self):
        a = Assoc.open(self.peer())
        payload = b"wrong-tag-data"
        a.send(a.data(payload, i=True), vtag=wrong(a.peer_tag))
        got = a.peer.recv(0.5)
        self.assertEqual([], [p for p in got if SACK in p.types() or DATA in p.types()],
                         "DATA with a wrong tag was answered: %r" % got)
        # The same TSN again with the right tag is new to the server: SACKed and echoed.
        a.next_tsn = (a.next_tsn - 1) & 0xFFFFFFFF
        a.ssn[0] = 0
        self.assertTrue(echo_roundtrip(a, payload), "DATA with the right tag not echoed")
        observe("DATA with wrong vtag: silently dropped (no SACK, no echo); same TSN with "
                "the right tag: SACKed and echoed")

    def test_data_with_zero_tag_is_dropped(self):
        a = Assoc.open(self.peer())
        a.send(a.data(b"zero-tag", i=True), vtag=0)
        got = a.peer.recv(0.5)
        self.assertEqual([], got, "DATA with vtag 0 was answered: %r" % got)
        observe("DATA with vtag 0: silently dropped")

    def test_heartbeat_with_wrong_tag_is_dropped(self):
        a = Assoc.open(self.peer())
        self.assertFalse(a.heartbeat_answered(vtag=wrong(a.peer_tag)),
                         "HEARTBEAT with a wrong tag was answered")
        self.assertFalse(a.heartbeat_answered(vtag=a.my_tag),
                         "HEARTBEAT carrying our own tag was answered")
        self.assertTrue(a.heartbeat_answered(), "HEARTBEAT with the right tag not answered")
        observe("HEARTBEAT with wrong vtag (random / reflected): no HEARTBEAT ACK; "
                "right tag: answered")

    def test_sack_with_wrong_tag_is_dropped(self):
        # The server has one echoed DATA chunk outstanding. A SACK with a wrong tag must
        # not acknowledge it: T3-rtx (RTO.Initial 1 s) retransmits the same TSN.
        a = Assoc.open(self.peer())
        a.send(a.data(b"sack-me", i=True))
        got = a.peer.recv(1.0, until=lambda p: DATA in p.types())
        datas = [p for p in got if DATA in p.types()]
        self.assertTrue(datas, "no echo")
        tsn = struct.unpack_from("!I", datas[0].find(DATA)[0][2], 4)[0]
        a.send(sack_chunk(tsn, 1 << 20), vtag=wrong(a.peer_tag))
        again = a.peer.recv(3.5, until=lambda p: DATA in p.types())
        rtx = [p for p in again if DATA in p.types()]
        self.assertTrue(rtx, "the DATA acknowledged by a wrong-tag SACK was never retransmitted")
        self.assertEqual(tsn, struct.unpack_from("!I", rtx[0].find(DATA)[0][2], 4)[0])
        # The right tag acknowledges it: no further retransmission.
        a.send(sack_chunk(tsn, 1 << 20))
        after = a.peer.recv(2.5, until=lambda p: DATA in p.types())
        self.assertFalse([p for p in after if DATA in p.types()], "retransmitted after a valid SACK")
        observe("SACK with wrong vtag: ignored (echoed TSN retransmitted by T3-rtx); "
                "right tag: acknowledged (no more retransmission)")


class AbortTBit(AttackCase):
    """§8.5.1 B: an ABORT takes effect only with T=0 and the receiver's own tag, or with
    T=1 and its peer's tag (the one it sends with)."""

    def abort_with(self, a, t_bit, vtag):
        a.send(S.SCTPChunkAbort(TCB=t_bit, reserved=0), vtag=vtag)
        time.sleep(0.1)

    def test_abort_wrong_combinations_ignored(self):
        a = Assoc.open(self.peer())
        cases = [(0, a.my_tag, "T=0 with the tag the server sends with (reflected)"),
                 (1, a.peer_tag, "T=1 with the server's own tag"),
                 (0, wrong(a.peer_tag), "T=0 with a random tag"),
                 (1, wrong(a.my_tag), "T=1 with a random tag"),
                 (0, 0, "T=0 with tag 0")]
        for t_bit, vtag, what in cases:
            self.abort_with(a, t_bit, vtag)
            self.assertEqual("alive", a.probe(), "ABORT %s took effect" % what)
        self.assertTrue(echo_roundtrip(a), "association unusable after ignored ABORTs")
        self.assertEqual(1, self.server.associations_up())
        self.assertNotIn("closed", self.server.stderr())
        observe("ABORT with T=0+reflected tag, T=1+own tag, random tags, tag 0: all ignored "
                "(association still answers HEARTBEAT and echoes)")

    def test_abort_t0_own_tag_takes_effect(self):
        a = Assoc.open(self.peer())
        self.abort_with(a, 0, a.peer_tag)
        self.assertEqual("abort", a.probe(), "ABORT T=0 with the server's tag ignored")
        observe("ABORT T=0 with the server's own tag: association gone (next packet answered "
                "out of the blue with ABORT)")

    def test_abort_t1_peer_tag_takes_effect(self):
        a = Assoc.open(self.peer())
        self.abort_with(a, 1, a.my_tag)
        self.assertEqual("abort", a.probe(), "ABORT T=1 with the server's peer tag ignored")
        observe("ABORT T=1 with the server's peer tag (reflected): association gone")


class ShutdownCompleteTBit(AttackCase):
    """§8.5.1 C and §9.2: SHUTDOWN COMPLETE takes effect in SHUTDOWN-ACK-SENT only, with
    T=0 and the receiver's tag or T=1 and its peer's tag."""

    def to_shutdown_ack_sent(self):
        a = Assoc.open(self.peer())
        a.send(S.SCTPChunkShutdown(cumul_tsn_ack=(a.peer_initial_tsn - 1) & 0xFFFFFFFF))
        self.assertIsNotNone(a.peer.expect(SHUTDOWN_ACK), "no SHUTDOWN ACK")
        return a

    def sc(self, a, t_bit, vtag):
        a.send(S.SCTPChunkShutdownComplete(TCB=t_bit, reserved=0), vtag=vtag)
        time.sleep(0.1)

    def test_shutdown_complete_wrong_combinations_ignored(self):
        a = self.to_shutdown_ack_sent()
        for t_bit, vtag, what in [(0, a.my_tag, "T=0 with the reflected tag"),
                                  (1, a.peer_tag, "T=1 with the server's own tag"),
                                  (0, wrong(a.peer_tag), "T=0 with a random tag"),
                                  (1, wrong(a.my_tag), "T=1 with a random tag")]:
            self.sc(a, t_bit, vtag)
            self.assertEqual("alive", a.probe(), "SHUTDOWN COMPLETE %s took effect" % what)
        self.assertNotIn("closed", self.server.stderr())
        # T2-shutdown keeps repeating the SHUTDOWN ACK (RTO.Initial = 1 s).
        self.assertIsNotNone(a.peer.expect(SHUTDOWN_ACK, 2.5), "SHUTDOWN ACK not retransmitted")
        observe("SHUTDOWN COMPLETE in SHUTDOWN-ACK-SENT with T=0+reflected, T=1+own, random "
                "tags: ignored (SHUTDOWN ACK retransmitted by T2)")

    def test_shutdown_complete_t0_own_tag(self):
        a = self.to_shutdown_ack_sent()
        self.sc(a, 0, a.peer_tag)
        self.assertEqual("abort", a.probe(), "SHUTDOWN COMPLETE T=0 + own tag ignored")
        observe("SHUTDOWN COMPLETE T=0 with the server's tag in SHUTDOWN-ACK-SENT: closed")

    def test_shutdown_complete_t1_peer_tag(self):
        a = self.to_shutdown_ack_sent()
        self.sc(a, 1, a.my_tag)
        self.assertEqual("abort", a.probe(), "SHUTDOWN COMPLETE T=1 + peer tag ignored")
        observe("SHUTDOWN COMPLETE T=1 with the server's peer tag in SHUTDOWN-ACK-SENT: closed")

    def test_shutdown_complete_while_established_ignored(self):
        a = Assoc.open(self.peer())
        self.sc(a, 0, a.peer_tag)
        self.sc(a, 1, a.my_tag)
        self.assertEqual("alive", a.probe(), "SHUTDOWN COMPLETE in ESTABLISHED took effect")
        self.assertTrue(echo_roundtrip(a))
        observe("SHUTDOWN COMPLETE (valid tags) while ESTABLISHED: ignored (§9.2)")


class Checksum(AttackCase):
    def test_bad_crc_dropped(self):
        a = Assoc.open(self.peer())
        body = bytes(S.SCTP(sport=a.peer.sctp_port, dport=self.server.sctp_port, tag=a.peer_tag,
                            chksum=0xDEADBEEF) / a.data(b"bad-crc", i=True))
        a.peer.send_raw(body, fix_crc=False)
        got = a.peer.recv(0.5)
        self.assertEqual([], got, "packet with a bad CRC32c answered: %r" % got)
        # One bit flipped in the payload after a correct checksum.
        a.next_tsn = (a.next_tsn - 1) & 0xFFFFFFFF
        a.ssn[0] = 0
        good = bytearray(bytes(a.packet(a.data(b"bit-flip", i=True))))
        good[-3] ^= 0x10
        a.peer.send_raw(bytes(good), fix_crc=False)
        self.assertEqual([], a.peer.recv(0.5), "packet with a flipped bit answered")
        # INIT with a bad checksum: no INIT ACK.
        p = self.peer()
        init = bytearray(bytes(p.sctp(0) / S.SCTPChunkInit(init_tag=7, a_rwnd=65536, n_out_streams=1,
                                                            n_in_streams=1, init_tsn=1)))
        init[8] ^= 0xFF
        p.send_raw(bytes(init), fix_crc=False)
        self.assertEqual([], p.recv(0.5), "INIT with a bad CRC answered")
        a.next_tsn = (a.next_tsn - 1) & 0xFFFFFFFF
        a.ssn[0] = 0
        self.assertTrue(echo_roundtrip(a, b"bit-flip"))
        observe("bad CRC32c (DATA, bit flip, INIT): silently dropped; association unaffected")

    def test_zero_checksum_dropped(self):
        # RFC 9653: a zero checksum is acceptable only when negotiated (it never was here).
        a = Assoc.open(self.peer())
        body = bytes(S.SCTP(sport=a.peer.sctp_port, dport=self.server.sctp_port, tag=a.peer_tag,
                            chksum=0) / a.data(b"zero-crc", i=True))
        a.peer.send_raw(body, fix_crc=False)
        self.assertEqual([], a.peer.recv(0.5), "packet with a zero checksum answered")
        p = self.peer()
        p.send_raw(bytes(S.SCTP(sport=p.sctp_port, dport=self.server.sctp_port, tag=0, chksum=0) /
                         S.SCTPChunkInit(init_tag=9, a_rwnd=65536, n_out_streams=1,
                                         n_in_streams=1, init_tsn=1)), fix_crc=False)
        self.assertEqual([], p.recv(0.5), "INIT with a zero checksum answered")
        observe("zero checksum (not negotiated, RFC 9653): DATA and INIT silently dropped")


class InitTag(AttackCase):
    def test_init_with_nonzero_vtag_dropped(self):
        p = self.peer()
        p.send(p.sctp(0x1234) / S.SCTPChunkInit(init_tag=5, a_rwnd=65536, n_out_streams=1,
                                                n_in_streams=1, init_tsn=1))
        self.assertEqual([], p.recv(0.5), "INIT with a nonzero verification tag answered")
        observe("INIT in a packet with vtag != 0: silently discarded (§8.5.1 A)")

    def test_init_bundled_with_other_chunk_dropped(self):
        p = self.peer()
        p.send(p.sctp(0) / S.SCTPChunkInit(init_tag=5, a_rwnd=65536, n_out_streams=1,
                                           n_in_streams=1, init_tsn=1) / heartbeat_chunk())
        self.assertEqual([], p.recv(0.5), "INIT bundled with another chunk answered")
        observe("INIT bundled with a HEARTBEAT: discarded (§6.10: INIT never bundled)")

    def test_init_bundled_behind_another_chunk_dropped(self):
        # §6.10 wherever the INIT sits, and also for an SCTP port nobody serves: no ABORT
        # (an ABORT answered a PAD + INIT packet, and INIT + PAD to an unserved port).
        p = self.peer()
        init = chunk(INIT, 0, struct.pack("!IIHHI", 5, 65536, 1, 1, 1))
        pad = chunk(0x84, 0, b"\0" * 4)
        other = self.server.sctp_port + 1 if self.server.sctp_port < 65535 else self.server.sctp_port - 1
        for dport, chunks in ((self.server.sctp_port, pad + init), (other, init + pad), (other, pad + init)):
            p.send_raw(header(p.sctp_port, dport, 0) + chunks)
            self.assertEqual([], p.recv(0.5), "bundled INIT to port %d answered" % dport)
        observe("PAD + INIT, and INIT + PAD to an unserved port: discarded (§6.10)")

    def test_port_zero_not_answered(self):
        # §3.1: "The port number 0 MUST NOT be used": no ABORT from, or to, port 0.
        p = self.peer()
        init = chunk(INIT, 0, struct.pack("!IIHHI", 5, 65536, 1, 1, 1))
        p.send_raw(header(p.sctp_port, 0, 0) + init)
        p.send_raw(header(0, self.server.sctp_port, 0) + init)
        self.assertEqual([], p.recv(0.5), "INIT with port 0 answered")
        observe("INIT to or from SCTP port 0: discarded (§3.1)")


if __name__ == "__main__":
    main()
