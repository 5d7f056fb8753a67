"""The limits are configurable and enforced on the wire (attack_echo sets each one;
`sctpp echo` has no flag for them). What a peer sees when it hits each limit:

* associations (EndpointConfig::max_associations): INIT or COOKIE ECHO beyond it gets
  ABORT with Out of Resource (RFC 9260 §3.3.10.4);
* send + receive buffer (AssocConfig::send_buffer, receive_buffer): a peer that never
  acknowledges gets at most that much accepted, then a closed window;
* largest message (AssocConfig::max_message_size): a bigger one is refused with ABORT
  (Out of Resource);
* streams (InitOptions): the INIT ACK offers the configured count; DATA on a stream
  beyond it gets an Invalid Stream Identifier error.
"""

import os
import struct
import time

from attacklib import (ABORT, ATTACK_ECHO_BIN, CAUSE_INVALID_STREAM, CAUSE_OUT_OF_RESOURCE, DATA,
                       ERROR, INIT_ACK, SACK, AttackCase, Assoc, S, causes_of, data_payloads,
                       echo_roundtrip, init_chunk, main, observe)


class Limits(AttackCase):
    server_args = ("--max-associations", "4", "--send-buffer", "65536", "--receive-buffer",
                   "65536", "--max-message", "10000", "--streams", "5")

    @classmethod
    def setUpClass(cls):
        cls.server_binary = ATTACK_ECHO_BIN

    def test_max_associations(self):
        assocs = [Assoc.open(self.peer()) for _ in range(4)]
        p = self.peer()
        p.send(p.sctp(0) / init_chunk(0xABCD0001))
        ab = p.expect(ABORT, 1.0)
        self.assertIsNotNone(ab, "INIT beyond max_associations not refused")
        self.assertEqual(0xABCD0001, ab.vtag)
        self.assertEqual(CAUSE_OUT_OF_RESOURCE, causes_of(ab.find(ABORT)[0][2])[0][0])
        for a in assocs:
            self.assertTrue(echo_roundtrip(a))
        # A slot freed by an ABORT can be used again.
        assocs[0].abort()
        time.sleep(0.1)
        again = Assoc.open(self.peer())
        self.assertTrue(echo_roundtrip(again))
        observe("max associations 4: the 5th INIT gets ABORT (Out of Resource, vtag = its "
                "Initiate Tag); the 4 stay usable; after one is aborted a new one comes up")

    def test_max_associations_cookie(self):
        # INIT ACKs handed out before the table filled: their COOKIE ECHOs are refused.
        pending = []
        for _ in range(6):
            p = self.peer()
            tag, tsn, ack = Assoc.init(p)
            self.assertIsNotNone(ack)
            pending.append((p, ack))
        results = []
        for p, ack in pending:
            peer_tag = struct.unpack_from("!I", ack.find(INIT_ACK)[0][2], 4)[0]
            p.send(p.sctp(peer_tag) / S.SCTPChunkCookieEcho(cookie=Assoc.cookie_of(ack)))
            got = p.recv(2.0, until=lambda x: 11 in x.types() or ABORT in x.types())
            results.append("COOKIE ACK" if any(11 in x.types() for x in got) else
                           "ABORT cause %s" % causes_of(got[0].find(ABORT)[0][2])[0][0]
                           if got and ABORT in got[0].types() else "nothing")
        self.assertEqual(["COOKIE ACK"] * 4 + ["ABORT cause 4"] * 2, results)
        observe("max associations 4, 6 cookies echoed: %s" % ", ".join(results))

    def test_send_and_receive_buffer(self):
        a = Assoc.open(self.peer(), a_rwnd=0)
        ack = a.init_ack.find(INIT_ACK)[0][2]
        advertised = struct.unpack_from("!I", ack, 8)[0]
        self.assertEqual(65536, advertised, "INIT ACK a_rwnd is not the receive buffer")
        first = a.next_tsn
        for _ in range(300):  # 300 KB: far more than 64 KiB + 64 KiB
            a.send_raw_chunks(a.data(os.urandom(1000), scapy=False))
            time.sleep(0.0005)
        time.sleep(0.3)
        cum = None
        rwnd = None
        for p in a.peer.recv(0.3):
            for t, f, c in p.find(SACK):
                cum, rwnd = struct.unpack_from("!II", c, 4)
        accepted = ((cum - first + 1) & 0xFFFFFFFF) * 1000
        # Accepted: what the send buffer holds (64 KiB, less a fixed bookkeeping charge
        # per message and chunk, association.cpp), the receive buffer (64 KiB) and the
        # reassembly reserve for in-sequence data (64 KiB, reassembly_queue.h).
        self.assertLessEqual(accepted, 3 * 65536 + 2000)
        self.assertGreaterEqual(accepted, 65536 + 65536 * 1000 // (1000 + 128 + 96) - 2000)
        self.assertLess(rwnd, 2000)
        observe("send and receive buffer 64 KiB each, peer never acknowledges: %d bytes "
                "accepted of 300,000 sent, then a_rwnd %d (closed)" % (accepted, rwnd))

    def test_max_message(self):
        a = Assoc.open(self.peer())
        msg = os.urandom(10000)
        for k in range(0, 10000, 1000):
            a.send(a.data(msg[k:k + 1000], b=k == 0, e=k == 9000, i=True))
        got = []
        end = time.monotonic() + 3
        while len(b"".join(data_payloads(got))) < 10000 and time.monotonic() < end:
            more = a.peer.recv(0.3)
            got += more
            if more:
                a.send(a.sack_for(got))
        self.assertEqual(msg, b"".join(data_payloads(got)), "message at the limit not echoed")
        for k in range(0, 11000, 1000):
            a.send(a.data(os.urandom(1000), b=k == 0, e=k == 10000))
        ab = a.peer.expect(ABORT, 1.0)
        self.assertIsNotNone(ab, "message over max_message_size accepted")
        self.assertEqual(CAUSE_OUT_OF_RESOURCE, causes_of(ab.find(ABORT)[0][2])[0][0])
        observe("max message 10,000 bytes: a 10,000-byte message is echoed; an 11,000-byte one "
                "gets ABORT (Out of Resource)")

    def test_streams(self):
        a = Assoc.open(self.peer(), os_=100, mis=100)
        ack = a.init_ack.find(INIT_ACK)[0][2]
        os_, mis = struct.unpack_from("!HH", ack, 12)
        self.assertEqual((5, 5), (os_, mis), "INIT ACK does not offer the configured streams")
        a.send(a.data(b"stream-7", stream=7, i=True))
        got = a.peer.recv(2.0, until=lambda x: ERROR in x.types())
        errs = [cs[0] for x in got for e in x.find(ERROR) for cs in causes_of(e[2])]
        self.assertIn(CAUSE_INVALID_STREAM, errs)
        a.send(a.data(b"stream-4", stream=4, i=True))
        got = a.peer.recv(0.5, until=lambda x: DATA in x.types())
        self.assertIn(b"stream-4", data_payloads(got))
        observe("streams 5: INIT ACK offers 5 out / 5 in; DATA on stream 7 gets Invalid Stream "
                "Identifier; stream 4 is echoed")


if __name__ == "__main__":
    main()
