"""State cookies: forged, modified, replayed and stale (RFC 9260 §5.1.3, §5.1.5, §5.2.4).

A cookie that does not authenticate is silently discarded (§5.1.5 step 1); one that
authenticates but has outlived its lifetime gets an ERROR with a Stale Cookie cause
(step 3); a second COOKIE ECHO of an established association maps to it (§5.2.4
action D: COOKIE ACK again, no second association).
"""

import os
import struct
import time
import unittest

from attacklib import (ATTACK_ECHO_BIN, CAUSE_STALE_COOKIE, COOKIE_ACK, ERROR, AttackCase, Assoc,
                       S, causes_of, echo_roundtrip, main, observe)


class Cookies(AttackCase):
    def handshake_to_cookie(self, peer=None):
        p = peer or self.peer()
        tag, tsn, ack = Assoc.init(p)
        self.assertIsNotNone(ack, "no INIT ACK")
        peer_tag = struct.unpack_from("!I", ack.find(2)[0][2], 4)[0]
        return p, tag, peer_tag, Assoc.cookie_of(ack)

    def echo_cookie(self, p, peer_tag, cookie, timeout=0.5):
        p.send(p.sctp(peer_tag) / S.SCTPChunkCookieEcho(cookie=cookie))
        return p.recv(timeout)

    def assertNoAssociation(self, got, what):
        self.assertEqual([], got, "%s answered: %r" % (what, got))
        time.sleep(0.05)
        self.assertEqual(0, self.server.associations_up(), "%s created an association" % what)

    def test_forged_cookie(self):
        p, tag, peer_tag, cookie = self.handshake_to_cookie()
        cases = {
            "random bytes of the right length": os.urandom(len(cookie)),
            "real body, random MAC": cookie[:-32] + os.urandom(32),
            "real body, MAC of zeros": cookie[:-32] + b"\0" * 32,
            "empty cookie": b"",
            "one byte": b"\x01",
            "truncated (MAC cut)": cookie[:-1],
            "trailing byte added": cookie + b"\0",
            "64 KiB of garbage": os.urandom(60000),
        }
        for what, forged in cases.items():
            got = self.echo_cookie(p, peer_tag, forged, timeout=0.3)
            self.assertNoAssociation(got, "forged cookie (%s)" % what)
        # The genuine one still works afterwards.
        got = self.echo_cookie(p, peer_tag, cookie)
        self.assertTrue(any(COOKIE_ACK in x.types() for x in got), "genuine cookie refused")
        observe("forged cookies (%s): silently discarded, no association; the genuine cookie "
                "then gets COOKIE ACK" % ", ".join(cases))

    def test_modified_cookie(self):
        p, tag, peer_tag, cookie = self.handshake_to_cookie()
        body = len(cookie) - 32
        # Flip one bit in each byte of the signed body in turn (version, generation,
        # creation time, lifetime, tags, TSNs, streams, ports, addresses).
        for i in range(body):
            forged = bytearray(cookie)
            forged[i] ^= 0x01
            got = self.echo_cookie(p, peer_tag, bytes(forged), timeout=0.02)
            self.assertEqual([], got, "cookie with byte %d of %d modified answered" % (i, body))
        # Lifetime field raised (bytes 10..13 in sctpp's layout) with the MAC left as is.
        forged = bytearray(cookie)
        forged[10:14] = b"\xff\xff\xff\xff"
        self.assertNoAssociation(self.echo_cookie(p, peer_tag, bytes(forged)), "lifetime raised")
        observe("modified cookie (each of %d body bytes flipped in turn, lifetime raised): all "
                "silently discarded" % body)

    def test_cookie_with_wrong_vtag_or_port(self):
        p, tag, peer_tag, cookie = self.handshake_to_cookie()
        # §5.1.5 / §8.5: the COOKIE ECHO must carry the tag of the INIT ACK.
        got = self.echo_cookie(p, peer_tag ^ 0x10101010, cookie)
        self.assertNoAssociation(got, "COOKIE ECHO with a wrong verification tag")
        # The cookie replayed from another SCTP port (and UDP port).
        other = self.peer()
        got = self.echo_cookie(other, peer_tag, cookie)
        self.assertNoAssociation(got, "cookie replayed from another port")
        observe("genuine cookie with a wrong vtag, or echoed from another SCTP/UDP port: "
                "silently discarded")

    def test_replayed_cookie(self):
        a = Assoc.open(self.peer())
        self.assertTrue(echo_roundtrip(a, b"before-replay"))
        # The same COOKIE ECHO again: §5.2.4 action D, COOKIE ACK, same association.
        for _ in range(3):
            got = self.echo_cookie(a.peer, a.peer_tag, a.cookie)
            self.assertTrue(any(COOKIE_ACK in x.types() for x in got),
                            "replayed cookie not answered with COOKIE ACK: %r" % got)
            self.assertTrue(all(x.vtag == a.my_tag for x in got))
        self.assertTrue(echo_roundtrip(a, b"after-replay"), "association broken by a replay")
        time.sleep(0.05)
        self.assertEqual(1, self.server.associations_up(), "a replayed cookie made a second association")
        # Replayed with a DATA chunk bundled: the DATA goes to the same association.
        a.send(S.SCTPChunkCookieEcho(cookie=a.cookie), a.data(b"bundled-with-replay", i=True))
        got = a.peer.recv(1.0, until=lambda x: 0 in x.types())
        self.assertIn(b"bundled-with-replay", b"".join(c[2] for x in got for c in x.find(0)))
        self.assertEqual(1, self.server.associations_up())
        observe("replayed cookie (x3, and with DATA bundled): COOKIE ACK each time, same "
                "association (§5.2.4 D), still 1 association, data echoed")

    def test_replayed_cookie_after_abort(self):
        # After the association is gone, its cookie (still within its lifetime) may set
        # it up again: RFC 9260 allows it (the cookie only proves the INIT ACK reached
        # the address); sctpp must not crash or end up with two.
        a = Assoc.open(self.peer())
        a.abort()
        time.sleep(0.1)
        got = self.echo_cookie(a.peer, a.peer_tag, a.cookie)
        kinds = sorted({t for x in got for t in x.types()})
        observe("cookie replayed after its association was aborted: answered with chunk "
                "types %s; associations up so far: %d" % (kinds, self.server.associations_up()))
        self.assertServes("cookie replay after abort")


class StaleCookie(AttackCase):
    """attack_echo with a 300 ms cookie lifetime (`sctpp echo` has 60 s and no flag)."""

    server_args = ("--cookie-life-ms", "300")

    @classmethod
    def setUpClass(cls):
        cls.server_binary = ATTACK_ECHO_BIN

    def test_stale_cookie(self):
        p = self.peer()
        tag, tsn, ack = Assoc.init(p)
        peer_tag = struct.unpack_from("!I", ack.find(2)[0][2], 4)[0]
        cookie = Assoc.cookie_of(ack)
        time.sleep(0.6)
        p.send(p.sctp(peer_tag) / S.SCTPChunkCookieEcho(cookie=cookie))
        err = p.expect(ERROR, 1.0)
        self.assertIsNotNone(err, "no ERROR for a stale cookie")
        self.assertEqual(tag, err.vtag, "Stale Cookie ERROR not sent with the peer's tag")
        causes = causes_of(err.find(ERROR)[0][2])
        self.assertEqual(CAUSE_STALE_COOKIE, causes[0][0], "cause is not Stale Cookie: %r" % causes)
        staleness_us = struct.unpack("!I", causes[0][1][:4])[0]
        self.assertGreater(staleness_us, 200_000)
        self.assertLess(staleness_us, 2_000_000)
        time.sleep(0.05)
        self.assertEqual(0, self.server.associations_up())
        observe("stale cookie (lifetime 300 ms, echoed after 600 ms): ERROR Stale Cookie, "
                "staleness %d us, vtag = our Initiate Tag, no association" % staleness_us)

    def test_cookie_preservative(self):
        # §5.2.6: an INIT with a Cookie Preservative asks for more life; the server
        # grants up to one more lifetime.
        p = self.peer()
        tag, tsn, ack = Assoc.init(p, params=[S.SCTPChunkParamCookiePreservative(sug_cookie_inc=1000)])
        peer_tag = struct.unpack_from("!I", ack.find(2)[0][2], 4)[0]
        time.sleep(0.45)
        p.send(p.sctp(peer_tag) / S.SCTPChunkCookieEcho(cookie=Assoc.cookie_of(ack)))
        self.assertIsNotNone(p.expect(COOKIE_ACK, 1.0), "preserved cookie (450 ms old) refused")
        observe("Cookie Preservative +1000 ms on a 300 ms lifetime: cookie 450 ms old accepted")

    def test_fresh_cookie_accepted(self):
        a = Assoc.open(self.peer())
        self.assertTrue(echo_roundtrip(a))
        observe("attack_echo control: a cookie echoed at once is accepted and data echoed")


class PreservedCookieAcrossRotations(AttackCase):
    """Cookie lifetime 400 ms, secret rotation 300 ms (the defaults are 60 s and 60 s)."""

    server_args = ("--cookie-life-ms", "400", "--secret-rotation-ms", "300")

    @classmethod
    def setUpClass(cls):
        cls.server_binary = ATTACK_ECHO_BIN

    # Regression (was a bug): a Cookie Preservative grants up to one more lifetime, but a
    # cookie verifies only under the secrets still kept (CookieSigner,
    # src/endpoint/state_cookie.cpp). A preserved cookie used to be silently discarded
    # once the secret had rotated twice: neither accepted nor answered with Stale
    # Cookie. The granted lifetime is now capped at the rotation period, so such a
    # cookie is either accepted or, past the cap, answered with Stale Cookie.
    def test_preserved_cookie_survives_secret_rotation(self):
        keepalive = self.peer()
        p = self.peer()
        tag, tsn, ack = Assoc.init(p, params=[S.SCTPChunkParamCookiePreservative(sug_cookie_inc=400)])
        peer_tag = struct.unpack_from("!I", ack.find(2)[0][2], 4)[0]
        # Keep packets arriving so that the endpoint rotates its secret on time
        # (rotation happens when a packet comes in).
        end = time.monotonic() + 0.7
        while time.monotonic() < end:
            keepalive.send(keepalive.sctp(0) / S.SCTPChunkInit(init_tag=1, a_rwnd=1500, n_out_streams=1,
                                                               n_in_streams=1, init_tsn=1))
            time.sleep(0.05)
        keepalive.drain()
        # Age ~700 ms: within the granted 800 ms.
        p.send(p.sctp(peer_tag) / S.SCTPChunkCookieEcho(cookie=Assoc.cookie_of(ack)))
        got = p.recv(1.0, until=lambda x: COOKIE_ACK in x.types() or ERROR in x.types())
        observe("cookie lifetime 400 ms + preservative 400 ms, secret rotation 300 ms, cookie "
                "echoed at ~700 ms: %s (lifetime capped at the rotation: Stale Cookie)"
                % (got or "silently discarded"))
        self.assertTrue(any(COOKIE_ACK in x.types() or ERROR in x.types() for x in got),
                        "cookie silently discarded instead of accepted or reported stale")


if __name__ == "__main__":
    main()
