"""INIT with out-of-range mandatory fields (RFC 9260 §3.3.2 and its errata).

* zero outbound or zero inbound streams: ABORT (Invalid Mandatory Parameter), tagged
  with the INIT's Initiate Tag;
* Initiate Tag 0: silently discarded (RFC 9260 changed this from RFC 4960's ABORT);
* a_rwnd below 1500: accepted; the association works and the server never sends more
  than the advertised window (plus the one-packet probe of §6.1 rule A).
"""

import struct
import time
import unittest

from attacklib import (ABORT, CAUSE_INVALID_MANDATORY, DATA, INIT_ACK, AttackCase, Assoc, S,
                       causes_of, data_payloads, echo_roundtrip, main, observe, sack_chunk)


class InitFields(AttackCase):
    def init(self, p, tag, os_, mis, a_rwnd=65536):
        p.send(p.sctp(0) / S.SCTPChunkInit(init_tag=tag, a_rwnd=a_rwnd, n_out_streams=os_,
                                           n_in_streams=mis, init_tsn=1))
        # An answer (ABORT or INIT ACK) is waited for up to 2 s; silence costs 0.3 s.
        got = p.recv(0.3 if tag == 0 else 2.0, until=lambda x: ABORT in x.types() or INIT_ACK in x.types())
        return got + p.recv(0.05)

    def test_zero_streams(self):
        for os_, mis in ((0, 10), (10, 0), (0, 0)):
            p = self.peer()
            got = self.init(p, 0xCAFE0001, os_, mis)
            self.assertFalse(any(INIT_ACK in x.types() for x in got),
                             "INIT with OS=%d MIS=%d answered with INIT ACK" % (os_, mis))
            aborts = [x for x in got if ABORT in x.types()]
            self.assertTrue(aborts, "INIT with OS=%d MIS=%d not answered with ABORT" % (os_, mis))
            ab = aborts[0]
            self.assertEqual(0xCAFE0001, ab.vtag, "ABORT not tagged with the Initiate Tag")
            self.assertEqual(0, ab.chunks[0][1] & 1, "ABORT has the T bit")
            self.assertEqual(CAUSE_INVALID_MANDATORY, causes_of(ab.find(ABORT)[0][2])[0][0])
        time.sleep(0.05)
        self.assertEqual(0, self.server.associations_up())
        observe("INIT with 0 outbound and/or 0 inbound streams: ABORT (Invalid Mandatory "
                "Parameter), vtag = Initiate Tag, T=0; no state")

    def test_zero_initiate_tag(self):
        p = self.peer()
        got = self.init(p, 0, 10, 10)
        self.assertEqual([], got, "INIT with Initiate Tag 0 answered: %r" % got)
        observe("INIT with Initiate Tag 0: silently discarded (RFC 9260 §3.3.2)")

    def test_extreme_stream_counts(self):
        a = Assoc.open(self.peer(), os_=65535, mis=65535)
        a.send(a.data(b"on-the-last-stream", stream=65534, i=True))
        got = a.peer.recv(1.0, until=lambda x: DATA in x.types())
        self.assertIn(b"on-the-last-stream", data_payloads(got))
        sid = struct.unpack_from("!H", [c for x in got for c in x.find(DATA)][0][2], 8)[0]
        self.assertEqual(65534, sid, "echo not on the same stream")
        a.send(a.sack_for(got))
        observe("INIT with 65535 streams each way: association up, message on stream 65534 "
                "echoed on stream 65534")

    def small_window(self, a_rwnd, size):
        a = Assoc.open(self.peer(), a_rwnd=a_rwnd)
        payload = bytes((i * 7) % 251 for i in range(size))
        # Send the message in fragments that fit one packet each.
        frags = [payload[i:i + 1200] for i in range(0, len(payload), 1200)]
        for k, f in enumerate(frags):
            a.send(a.data(f, b=k == 0, e=k == len(frags) - 1, i=True))
        received = {}
        max_flight = 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = a.peer.recv(0.3)
            chunks = [c for x in got for c in x.find(DATA)]
            flight = 0
            for t, f, c in chunks:
                tsn = struct.unpack_from("!I", c, 4)[0]
                if tsn not in received:
                    flight += len(c) - 16
                received[tsn] = (f, c[16:])
            max_flight = max(max_flight, flight)
            if chunks:
                # Acknowledge, advertising the small window again.
                a.send(a.sack_for(got, a_rwnd=a_rwnd))
            ordered = [received[t] for t in sorted(received)]
            if ordered and ordered[-1][0] & 1 and b"".join(d for _, d in ordered) == payload:
                return max_flight, len(received)
        self.fail("message of %d bytes not echoed with a_rwnd %d (got %d bytes)"
                  % (size, a_rwnd, sum(len(d) for _, d in received.values())))

    def test_small_a_rwnd(self):
        results = []
        for a_rwnd, size in ((1000, 5000), (1, 3000)):
            max_flight, chunks = self.small_window(a_rwnd, size)
            # §6.1 A: at most a_rwnd outstanding, except one chunk (the probe) may always go.
            self.assertLessEqual(max_flight, max(a_rwnd, 1452), "sent %d bytes into a window of %d"
                                 % (max_flight, a_rwnd))
            results.append("a_rwnd %d: %d-byte message echoed in %d chunks, at most %d new bytes "
                           "per round trip" % (a_rwnd, size, chunks, max_flight))
        observe("INIT with a_rwnd < 1500: " + "; ".join(results))

    def test_a_rwnd_zero(self):
        a = Assoc.open(self.peer(), a_rwnd=0)
        a.send(a.data(b"zero-window", i=True))
        got = a.peer.recv(1.0, until=lambda x: DATA in x.types())
        # §6.1 A: with nothing in flight one DATA chunk may probe a zero window.
        self.assertIn(b"zero-window", data_payloads(got))
        a.send(a.sack_for(got, a_rwnd=65536))
        self.assertTrue(echo_roundtrip(a, b"window-opened"))
        observe("INIT with a_rwnd 0: association up; the echo goes out as a zero-window probe")

class Restart(AttackCase):
    """§5.2.2 and §5.2.4 A: an INIT from the peer of an established association."""

    def test_restart(self):
        p = self.peer()
        old = Assoc.open(p)
        self.assertTrue(echo_roundtrip(old))
        new = Assoc.open(p)  # same IP, SCTP port and UDP port: the peer restarted
        self.assertNotEqual(old.peer_tag, new.peer_tag)
        self.assertTrue(echo_roundtrip(new, b"after-restart"), "restarted association does not echo")
        self.assertEqual("silent", old.probe(0.3), "the old tags still work after the restart")
        observe("restart (INIT + COOKIE ECHO from the peer of an established association): "
                "COOKIE ACK, new tags echo, old tags silently dropped")

    # RFC 9260 §5.2.2: "Before responding, the endpoint MUST check to see if the
    # unexpected INIT adds new addresses to the association. If new addresses are added
    # to the association, the endpoint MUST respond with an ABORT, copying the 'Initiate
    # Tag' of the unexpected INIT into the 'Verification Tag' of the outbound packet"
    # (cause 11, Restart of an Association with New Addresses). Was a bug: sctpp
    # answered with an INIT ACK.
    def test_unexpected_init_with_new_addresses(self):
        p = self.peer()
        a = Assoc.open(p)
        p.send(p.sctp(0) / S.SCTPChunkInit(
            init_tag=0x77777777, a_rwnd=65536, n_out_streams=10, n_in_streams=10, init_tsn=1,
            params=[S.SCTPChunkParamIPv4Addr(addr="127.0.0.1"), S.SCTPChunkParamIPv4Addr(addr="127.0.0.9")]))
        got = p.recv(0.5)
        observe("unexpected INIT adding address 127.0.0.9 to an established association: %s "
                "(RFC 9260 §5.2.2: ABORT, cause 11)" % (got,))
        self.assertEqual("alive", a.probe())
        self.assertFalse(any(INIT_ACK in x.types() for x in got), "answered with INIT ACK")
        aborts = [x for x in got if ABORT in x.types()]
        self.assertTrue(aborts, "no ABORT")
        self.assertEqual(0x77777777, aborts[0].vtag)
        self.assertEqual(11, causes_of(aborts[0].find(ABORT)[0][2])[0][0])


if __name__ == "__main__":
    main()
