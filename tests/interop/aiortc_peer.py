#!/usr/bin/python3
"""aiortc_peer: an SCTP peer on aiortc's SCTP (aiortc/rtcsctptransport.py), over plain UDP.

One job: be the "other stack" of the aiortc interop tests (run_aiortc.py). It speaks SCTP
over UDP encapsulation (RFC 6951: the UDP payload is the SCTP common header plus chunks), which
is exactly what aiortc's RTCSctpTransport hands its DTLS transport, so a small stand-in for
that DTLS transport (UdpDtlsStandIn) is all it takes to put aiortc on a UDP socket.

    aiortc_peer.py server --port P --udp-port U [--then none|shutdown|abort] [--after N]
                   [--expect-end shutdown|abort|any] [--loop] [--timeout S]
    aiortc_peer.py client --connect IP:P --udp-port U --remote-udp-port R
                   [--builtin mixed|frag|streams|flood|big|single] [--then shutdown|abort|hold]
                   [--expect-peer shutdown|abort] [--timeout S]

server: prints "listening ..." when ready; echoes every message back on the same stream with
the same PPID and the same unordered flag, logging "echoed message N: stream=S ppid=P
ordered|unordered len=L" on stderr. --then shutdown|abort acts after --after N echoes.
--expect-end says how the association must end (exit 1 otherwise). Without --loop it serves
one association and exits when it is over; with --loop it serves them one after another until
SIGTERM.
client: connects, sends the --builtin set (all queued at once), checks every echo (content,
stream, PPID, unordered flag, order per stream for ordered messages), then shuts down
gracefully, ABORTs, or holds until the peer ends the association (--expect-peer).
Exit 0 only if every check passed; "error:" lines on stderr say what did not. Everything runs
under one deadline (--timeout, default 20 s).

aiortc internals relied upon (aiortc 1.4.0, Debian python3-aiortc; none is public API):
* RTCSctpTransport(transport, port) and start(caps, remote_port): the DTLS transport it gets
  must offer state, transport.role ("controlling" = client), _register_data_receiver,
  _unregister_data_receiver and async _send_data(bytes); every received datagram goes to the
  receiver's async _handle_data(bytes), one at a time, in order (as the DTLS loop does).
* _send(stream_id, pp_id, user_data, ordered=...) to send a message (no DCEP, any PPID).
* _receive(stream_id, pp_id, data), overridden, for every delivered message. aiortc does not
  pass the unordered flag up: _get_inbound_stream is overridden to return an InboundStream
  whose pop_messages also reports the U flag of the DATA chunks that made up each message.
* _receive_chunk(chunk), wrapped, to see ABORT / SHUTDOWN / SHUTDOWN ACK / SHUTDOWN COMPLETE.
* _send_chunk, _set_state, _association_state, State, _remote_port, _last_received_tsn,
  _outbound_queue, _sent_queue, _local_verification_tag.

Where aiortc 1.4.0 falls short of RFC 9260, and what this peer does about it:
* It cannot start a graceful shutdown (stop() sends ABORT; SHUTDOWN-PENDING/-SENT exist as
  states but are never entered, and a received SHUTDOWN ACK is ignored). --then shutdown
  therefore does §9.2 by hand: wait until all our DATA is acknowledged, send SHUTDOWN with our
  cumulative TSN ack (retransmitted on a timer), answer SHUTDOWN ACK with SHUTDOWN COMPLETE.
* As a server it learns nothing from an INIT's source port (RTCDtlsTransport always knew the
  peer's port from signalling): the peer port is set from the first INIT before aiortc sees it.
* One RTCSctpTransport holds one association; --loop makes a fresh one for the next.
* On a SHUTDOWN it sends SHUTDOWN ACK at once, even with its own DATA queued or in flight,
  which is then lost (§9.2: send and have acknowledged the outstanding data first), and it
  ignores the SHUTDOWN's cumulative TSN ack. The peer holds such a SHUTDOWN
  (SHUTDOWN-RECEIVED), feeds its cumulative TSN ack to aiortc's SACK handling, and lets
  aiortc answer it once all its data is acknowledged.
* It ignores the peer's a_rwnd when sending (only cwnd limits it, §6.1 rule A is not
  applied); the flood set exercises sctpp's receive buffer against that.
"""

import argparse
import asyncio
import os
import random
import signal
import socket
import struct
import sys
import time
import traceback
import types

from aiortc.rtcsctptransport import (
    SCTP_DATA_UNORDERED,
    AbortChunk,
    DataChunk,
    ErrorChunk,
    ForwardTsnChunk,
    InboundStream,
    InitChunk,
    RTCSctpCapabilities,
    RTCSctpTransport,
    SackChunk,
    ShutdownAckChunk,
    ShutdownChunk,
    ShutdownCompleteChunk,
)

ROLE = "aiortc_peer"


def log(msg):
    print("%s: %s" % (ROLE, msg), file=sys.stderr, flush=True)


def error(msg):
    log("error: " + msg)


# --------------------------------------------------------------------------- aiortc over UDP


def udp_socket(bind, port):
    """A UDP socket with 4 MiB buffers (as usrsctp_peer's): aiortc sends without looking at
    the receiver's window, and a burst beyond the kernel's default buffer would be lost."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for opt, force in ((socket.SO_RCVBUF, 33), (socket.SO_SNDBUF, 32)):  # Linux SO_*BUFFORCE
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, 4 << 20)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
    sock.bind((bind, port))
    sock.setblocking(False)
    return sock


class UdpDtlsStandIn(asyncio.DatagramProtocol):
    """What RTCSctpTransport uses of its RTCDtlsTransport, on a UDP socket."""

    def __init__(self, role, loss=0.0, seed=1):
        self.loss = loss  # --loss: drop this share of datagrams each way (after the handshake)
        self.rng = random.Random(seed)
        self.dropped = [0, 0]  # in, out
        self.state = "connected"
        self.transport = types.SimpleNamespace(role=role)  # the ICE transport's role
        self.udp = None
        self.remote = None  # (ip, udp port) of the peer
        self.receiver = None
        self.inbox = asyncio.Queue()

    # asyncio.DatagramProtocol
    def connection_made(self, transport):
        self.udp = transport

    def lose(self, data, way):
        # Only packets that carry DATA or SACK, so the handshake and shutdown stay
        # deterministic and a scenario's time is spent on recovery from data loss.
        if self.loss and len(data) > 12 and data[12] in (0, 3) and self.rng.random() < self.loss:
            self.dropped[way] += 1
            return True
        return False

    def datagram_received(self, data, addr):
        if not self.lose(data, 0):
            self.inbox.put_nowait((data, addr))

    def error_received(self, exc):
        log("udp: %s" % exc)

    # what RTCSctpTransport calls
    def _register_data_receiver(self, receiver):
        self.receiver = receiver

    def _unregister_data_receiver(self, receiver):
        if self.receiver is receiver:
            self.receiver = None

    async def _send_data(self, data):
        if self.remote is None or self.udp is None:
            raise ConnectionError("no peer yet")
        if not self.lose(data, 1):
            self.udp.sendto(data, self.remote)


class FlaggedInboundStream(InboundStream):
    """aiortc's reassembly, taking one message per scan, and also reporting each message's U
    flag (the chunks pop_messages took out of the reassembly list for a message are the
    message's own).

    One message per scan, because aiortc 1.4.0's pop_messages does not reset its scan state
    after it delivers a message: the next chunk is taken as a continuation of the delivered
    message if its TSN is the next one, with the delivered message's ordered/unordered mode
    and without a look at its SSN, and if its TSN is not the next one the scan stops. After a
    loss that (a) leaves a complete message undelivered until the stream's next DATA chunk,
    forever if none comes, (b) delivers an ordered message as if unordered, ahead of its
    turn, without advancing the stream's expected SSN, which then blocks the stream for
    good. A fresh scan per message starts from a clean state each time."""

    def pop_messages(self):
        while True:
            before = {id(c): c for c in self.reassembly}
            it = super().pop_messages()
            try:
                stream_id, ppid, data = next(it)
            except StopIteration:
                return
            finally:
                it.close()
            left = {id(c) for c in self.reassembly}
            gone = [c for k, c in before.items() if k not in left]
            unordered = bool(gone) and bool(gone[-1].flags & SCTP_DATA_UNORDERED)
            yield stream_id, ppid, data, unordered


class PeerSctp(RTCSctpTransport):
    instances = []

    def __init__(self, dtls, port, on_message):
        super().__init__(dtls, port)
        PeerSctp.instances.append(self)
        self.on_message = on_message
        self.seen = []  # chunk type names received that end or shut down the association
        self.closed = asyncio.Event()
        self.shutdown_sent = False
        self.shutdown_acked = False
        self.reshutdown = False
        self.pending_shutdown = None  # a SHUTDOWN held until our data is acknowledged
        self.collide = False  # --then collide: answer the peer's SHUTDOWN with one of ours
        self.violations = []  # RFC 9260 rules the peer broke, seen from here
        self.errors = []  # (cause code, cause info) of every ERROR chunk received
        self.end = None  # "abort" | "shutdown" once over

    def _get_inbound_stream(self, stream_id):
        if stream_id not in self._inbound_streams:
            self._inbound_streams[stream_id] = FlaggedInboundStream()
        return self._inbound_streams[stream_id]

    async def _receive(self, stream_id, pp_id, data, unordered=False):
        await self.on_message(self, stream_id, pp_id, data, unordered)

    async def _receive_chunk(self, chunk):
        if isinstance(chunk, AbortChunk):
            causes = ", ".join("cause=%d info=%r" % (k, v[:60]) for k, v in chunk.params)
            log("event: ABORT T=%d %s" % (chunk.flags & 1, causes or "(no cause)"))
            self.end = self.end or "abort"
        elif isinstance(chunk, ShutdownChunk):
            log("event: SHUTDOWN received (cum TSN ack %d)" % chunk.cumulative_tsn)
            self.end = self.end or "shutdown"
            if self.collide and not self.shutdown_sent:
                # As if our own SHUTDOWN had crossed the peer's on the wire: the peer, in
                # SHUTDOWN-SENT, gets a SHUTDOWN (must answer SHUTDOWN ACK, §9.2), then
                # aiortc's SHUTDOWN ACK below (must answer SHUTDOWN COMPLETE).
                self.collide = False
                log("event: SHUTDOWN crossing the peer's")
                await self.send_shutdown()
            elif not self.shutdown_sent and not self.all_acked():
                # aiortc would send SHUTDOWN ACK at once, losing what it has not sent or
                # not had acknowledged. §9.2: SHUTDOWN-RECEIVED, take the cumulative TSN ack
                # as a SACK's, go on sending, SHUTDOWN ACK once everything is acknowledged.
                self._association_state = self.State.SHUTDOWN_RECEIVED
                self.pending_shutdown = chunk
                sack = SackChunk()
                sack.cumulative_tsn = chunk.cumulative_tsn
                await self._receive_sack_chunk(sack)
                return
        elif isinstance(chunk, ShutdownCompleteChunk):
            log("event: SHUTDOWN COMPLETE received")
        elif isinstance(chunk, ErrorChunk):
            for code, info in chunk.params:
                log("event: ERROR cause=%d info=%s" % (code, info[:8].hex()))
                self.errors.append((code, bytes(info)))
        elif isinstance(chunk, DataChunk) and self.shutdown_sent:
            if self.shutdown_acked:
                # §9.2: the SHUTDOWN ACK says all the sender's data was acknowledged.
                self.violations.append("DATA (TSN %d) after the peer's SHUTDOWN ACK" % chunk.tsn)
            # §9.2: in SHUTDOWN-SENT, answer each packet with DATA with a SHUTDOWN.
            self.reshutdown = True
        elif isinstance(chunk, ShutdownAckChunk):
            log("event: SHUTDOWN ACK received")
            if self.shutdown_sent:
                self.shutdown_acked = True
                if self._sack_misordered:
                    # §9.2: SHUTDOWN ACK only once all outstanding DATA was acknowledged,
                    # and what we acknowledged has no gaps.
                    self.violations.append("SHUTDOWN ACK with DATA still missing (%d TSNs above "
                                           "the cumulative ack)" % len(self._sack_misordered))
                # §9.2: SHUTDOWN ACK in SHUTDOWN-SENT: stop T2, send SHUTDOWN COMPLETE, CLOSED.
                # aiortc ignores SHUTDOWN ACK, having never sent SHUTDOWN itself.
                self._t2_cancel()
                await self._send_chunk(ShutdownCompleteChunk())
                self.end = self.end or "shutdown"
                self._set_state(self.State.CLOSED)
                return
        await super()._receive_chunk(chunk)

    async def _handle_data(self, data):
        await super()._handle_data(data)
        if self.pending_shutdown is not None and self.all_acked():
            chunk, self.pending_shutdown = self.pending_shutdown, None
            log("event: all our data acknowledged, answering the SHUTDOWN")
            await super()._receive_chunk(chunk)  # aiortc's own SHUTDOWN ACK and T2
        if self.reshutdown and self._association_state == self.State.SHUTDOWN_SENT:
            self.reshutdown = False
            chunk = ShutdownChunk()
            chunk.cumulative_tsn = self._last_received_tsn
            await self._send_chunk(chunk)
            self._t2_cancel()
            self._t2_start(chunk)

    def _set_state(self, state):
        super()._set_state(state)
        if state == self.State.CLOSED:
            self.closed.set()

    def describe(self):
        """aiortc's send and receive state, for a diagnosis after a timeout."""
        return ("%s queued=%d in_flight=%d flight_size=%d cwnd=%d rto=%.1f T3=%s "
                "last_sacked=%s last_received=%s misordered=%d reassembly=%s" % (
                    self._association_state.name, len(self._outbound_queue),
                    len(self._sent_queue), self._flight_size, self._cwnd, self._rto,
                    "on" if self._t3_handle else "off", self._last_sacked_tsn,
                    self._last_received_tsn, len(self._sack_misordered),
                    {k: (v.sequence_number, [(c.tsn, c.flags, c.stream_seq, len(c.user_data))
                                             for c in v.reassembly[:4]])
                     for k, v in self._inbound_streams.items() if v.reassembly}))

    def all_acked(self):
        return not self._outbound_queue and not self._sent_queue

    async def graceful_shutdown(self, timeout):
        """§9.2 done by hand (aiortc cannot start a shutdown): SHUTDOWN-PENDING until every DATA
        chunk we sent is acknowledged, then SHUTDOWN (T2-retransmitted by aiortc's own timer)."""
        deadline = time.monotonic() + timeout
        while not self.all_acked():
            if self.closed.is_set():
                return False
            if time.monotonic() > deadline:
                error("shutdown: our data still unacknowledged")
                return False
            await asyncio.sleep(0.01)
        await self.send_shutdown()
        return True

    async def send_shutdown(self):
        chunk = ShutdownChunk()
        chunk.cumulative_tsn = self._last_received_tsn
        self.shutdown_sent = True
        self._association_state = self.State.SHUTDOWN_SENT
        await self._send_chunk(chunk)
        self._t2_cancel()
        self._t2_start(chunk)
        log("event: SHUTDOWN sent")


async def run_sctp(dtls, sctp):
    """Feeds received datagrams to aiortc one at a time, like RTCDtlsTransport's receive loop."""
    while True:
        data, addr = await dtls.inbox.get()
        if len(data) < 12:
            continue
        if dtls.remote is None:
            # Server: the first INIT's source is the peer (UDP address and SCTP port).
            if len(data) < 13 or data[12] != InitChunk.type:
                continue
            dtls.remote = addr
            sctp._remote_port = struct.unpack("!H", data[0:2])[0]
        elif addr != dtls.remote:
            continue
        try:
            await sctp._handle_data(data)
        except Exception:  # noqa: BLE001 - an aiortc failure must be seen, not kill the feeder
            error("aiortc raised while handling a packet:\n" + traceback.format_exc())
            raise


# --------------------------------------------------------------------------- message sets


def payload(idx, size):
    """Distinct, printable content: a header naming the message, then a pattern."""
    head = b"m%d/%d:" % (idx, size)
    if size <= len(head):
        return bytes((33 + (idx * 7 + i) % 90) for i in range(size))
    body = bytes((48 + (idx + i * 13) % 75) for i in range(size - len(head)))
    return head + body


PPIDS = [0, 51, 0xFFFFFFFF, 1, 53, 46, 7, 12345678]


def builtin(name):
    """-> list of (stream, ppid, unordered, size)."""
    if name == "single":
        return [(0, 0, False, 32)]
    if name == "mixed":
        sizes = [1, 2, 7, 100, 500, 1000, 1199, 1200, 1201, 1400, 1444, 1445, 1452, 1500, 2400,
                 2889, 4000, 8000, 16384, 30000, 65535, 65536, 100000, 1, 3, 64, 1024, 9000,
                 100000, 5, 100, 256, 2000, 50000, 307200]
        return [(i % 8, PPIDS[i % len(PPIDS)], i % 3 == 2, s) for i, s in enumerate(sizes)]
    if name == "frag":
        # Around both stacks' fragmentation points: aiortc cuts DATA at 1200 bytes of user
        # data; sctpp at path MTU 1500 - IPv4 20 - UDP 8 - common header 12 - DATA header 16 =
        # 1444, and bundles small chunks up to that.
        points = [1200, 2400, 3600, 1444, 2888, 4332, 1428, 1440, 1452, 1456, 1472, 1480]
        sizes = sorted({p + d for p in points for d in (-1, 0, 1)})
        return [(i % 4, PPIDS[i % len(PPIDS)], i % 5 == 4, s) for i, s in enumerate(sizes)]
    if name == "streams":
        # Many streams interleaved, ordered and unordered, small and multi-packet.
        out = []
        for r in range(4):
            for s in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 1000, 9999]:
                out.append((s, (s * 31 + r) & 0xFFFFFFFF, (s + r) % 4 == 3,
                            [10, 1300, 3000, 40][r]))
        return out
    if name == "flood":
        # Many messages at once; aiortc sends them as fast as its cwnd allows (it ignores
        # a_rwnd), the echoes come back just as fast.
        return [(i % 4, PPIDS[i % 3], i % 7 == 6, 1 + (i * 37) % 600) for i in range(3000)]
    if name == "big":
        # Large messages, one unordered, 750 kB in all: under aiortc's 1 MiB receive window
        # with room to spare. aiortc has no partial delivery, so a message (or messages
        # reassembling at once) larger than its window shuts the window for good: sctpp then
        # probes it one chunk at a time with exponential back-off (§6.1 A) and never finishes.
        return [(0, 0, False, 100000), (1, 51, True, 400000), (2, 53, False, 250000),
                (0, 0, False, 1)]
    raise SystemExit("%s: unknown builtin %s" % (ROLE, name))


# --------------------------------------------------------------------------- server


async def serve(args):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    ok = True
    assoc_no = 0
    # One socket for all associations (--loop): closing it in between would make the next
    # client's INIT meet an ICMP port unreachable.
    dtls = UdpDtlsStandIn("controlled", args.loss, args.seed)
    udp, _ = await loop.create_datagram_endpoint(lambda: dtls,
                                                 sock=udp_socket(args.bind, args.udp_port))
    print("listening 127.0.0.1:%d udp %d" % (args.port, args.udp_port), flush=True)
    while True:
        assoc_no += 1
        dtls.remote = None
        echoed = [0]
        acted = [False]

        async def on_message(sctp, stream_id, ppid, data, unordered):
            await sctp._send(stream_id, ppid, data, ordered=not unordered)
            echoed[0] += 1
            if not args.quiet:
                log("echoed message %d: stream=%d ppid=%d %s len=%d"
                    % (echoed[0], stream_id, ppid, "unordered" if unordered else "ordered",
                       len(data)))
            if args.then != "none" and echoed[0] == args.after and not acted[0]:
                acted[0] = True
                if args.then == "abort":
                    log("event: sending ABORT after %d echoes" % echoed[0])
                    asyncio.ensure_future(sctp.stop())
                else:
                    asyncio.ensure_future(sctp.graceful_shutdown(args.timeout))

        sctp = PeerSctp(dtls, args.port, on_message)
        await sctp.start(RTCSctpCapabilities(maxMessageSize=0), 0)  # peer port from its INIT
        feeder = asyncio.ensure_future(run_sctp(dtls, sctp))
        stopper = asyncio.ensure_future(stop.wait())
        closed = asyncio.ensure_future(sctp.closed.wait())
        await asyncio.wait([feeder, stopper, closed], return_when=asyncio.FIRST_COMPLETED)
        feeder.cancel()
        if stopper.done() and not closed.done():
            udp.close()
            if sctp.state == "connected":
                log("event: SIGTERM with the association up")
            return ok and (sctp.state != "connected" or args.expect_end == "any")
        stopper.cancel()
        end = sctp.end or "closed"
        log("event: association %d ended (%s) after %d echoes" % (assoc_no, end, echoed[0]))
        if args.expect_end != "any" and end != args.expect_end:
            error("association ended by %s, expected %s" % (end, args.expect_end))
            ok = False
        if not args.loop:
            udp.close()
            return ok


# --------------------------------------------------------------------------- client


async def client(args):
    loop = asyncio.get_running_loop()
    host, _, port = args.connect.rpartition(":")
    dtls = UdpDtlsStandIn("controlling", args.loss, args.seed)
    dtls.remote = (host, args.remote_udp_port)
    await loop.create_datagram_endpoint(lambda: dtls, sock=udp_socket(args.bind, args.udp_port))
    msgs = builtin(args.builtin)
    pending = {}  # (stream, ppid, unordered, bytes) -> count still expected
    order = {}  # stream -> list of ordered payloads, in sending order
    order_pos = {}

    def expect(s, p, u, data):
        key = (s, p, u, data)
        pending[key] = pending.get(key, 0) + 1
        if not u:
            order.setdefault(s, []).append(data)
            order_pos.setdefault(s, 0)

    # --outbound-streams N: aiortc announces N outbound streams but (it does not check) sends
    # on higher ones too; sctpp must acknowledge, report Invalid Stream Identifier and drop
    # those DATA chunks (RFC 9260 §6.5). Only the others come back.
    limit = args.outbound_streams or 65536
    invalid = sorted({m[0] for m in msgs if m[0] >= limit})
    for i, (s, p, u, n) in enumerate(msgs):
        if s < limit:
            expect(s, p, u, payload(i, n))
    echoes = sum(1 for m in msgs if m[0] < limit)
    got = [0]
    bad = []
    all_back = asyncio.Event()
    aborted = asyncio.Event()

    async def on_message(sctp, stream_id, ppid, data, unordered):
        key = (stream_id, ppid, unordered, data)
        if pending.get(key, 0) > 0:
            pending[key] -= 1
        else:
            alike = [k for k in pending if k[3] == data and pending[k] > 0]
            bad.append("echo %d B on stream=%d ppid=%d %s matches nothing sent%s" % (
                len(data), stream_id, ppid, "unordered" if unordered else "ordered",
                " (sent as stream=%d ppid=%d unordered=%s)" % alike[0][:3] if alike else ""))
        if not unordered and stream_id in order:
            want = order[stream_id]
            pos = order_pos[stream_id]
            if pos < len(want) and want[pos] == data:
                order_pos[stream_id] = pos + 1
            else:
                bad.append("stream %d: ordered echo out of order (#%d)" % (stream_id, pos))
        got[0] += 1
        if got[0] == echoes:
            all_back.set()
        if got[0] == args.abort_after:
            # ABORT in the middle of the exchange: sctpp has DATA in flight both ways.
            log("event: ABORT sent after %d echoes" % got[0])
            aborted.set()
            asyncio.ensure_future(sctp.stop())

    sctp = PeerSctp(dtls, args.sctp_port, on_message)
    if args.outbound_streams:
        sctp._outbound_streams_count = args.outbound_streams  # what its INIT announces
    if args.then == "collide":
        sctp.collide = True
        args.then, args.expect_peer = "hold", "shutdown"
    feeder = asyncio.ensure_future(run_sctp(dtls, sctp))
    t0 = time.monotonic()
    await sctp.start(RTCSctpCapabilities(maxMessageSize=0), int(port))
    while sctp.state != "connected":
        if sctp.closed.is_set() or feeder.done():
            error("association setup failed")
            return False
        await asyncio.sleep(0.005)
    log("event: established in %.3f s" % (time.monotonic() - t0))
    t1 = time.monotonic()
    for i, (s, p, u, n) in enumerate(msgs):
        await sctp._send(s, p, payload(i, n), ordered=not u)
    log("queued %d messages, %d bytes" % (len(msgs), sum(m[3] for m in msgs)))
    closed = asyncio.ensure_future(sctp.closed.wait())
    back = asyncio.ensure_future(all_back.wait())
    if args.then == "shutdown-early":
        # SHUTDOWN as soon as all our DATA is acknowledged, while echoes are still coming:
        # sctpp (SHUTDOWN-RECEIVED) must send what it has queued, then SHUTDOWN ACK (§9.2).
        if not await sctp.graceful_shutdown(args.timeout):
            return False
        await closed
        for b in bad[:5] + sctp.violations[:5]:
            error(b)
        if bad or sctp.violations:
            return False
        if sctp.end != "shutdown":
            error("shutdown ended by %s" % sctp.end)
            return False
        print("shutdown complete after %d of %d echoes, all intact" % (got[0], len(msgs)),
              flush=True)
        return True
    await asyncio.wait([closed, back], return_when=asyncio.FIRST_COMPLETED)
    if back.done() and invalid:
        try:  # the ERRORs went out with the SACKs of those chunks, long before the last echo
            await asyncio.wait_for(_wait_for(lambda: all(
                any(c == 1 and i[:2] == struct.pack("!H", st) for c, i in sctp.errors)
                for st in invalid)), 2)
        except asyncio.TimeoutError:
            bad.append("no ERROR (Invalid Stream Identifier) for some of streams %s" % invalid)
    for b in bad[:5]:
        error(b)
    if bad:
        return False
    if not back.done():
        if aborted.is_set():
            print("aborted after %d of %d echoes, all intact" % (got[0], len(msgs)), flush=True)
            return True
        if args.then == "hold" and args.expect_peer and sctp.end == args.expect_peer:
            # The peer ended it midway, as told to; what came back must be intact, and on
            # a graceful end all our DATA must have been acknowledged (§9.2).
            if sctp.end == "shutdown" and not sctp.all_acked():
                error("graceful end with our DATA unacknowledged (%d queued, %d in flight)"
                      % (len(sctp._outbound_queue), len(sctp._sent_queue)))
                return False
            print("peer %s after %d of %d echoes, all intact" % (
                "aborted" if sctp.end == "abort" else "shut down", got[0], echoes), flush=True)
            return True
        error("association closed (%s) after %d of %d echoes" % (sctp.end, got[0], len(msgs)))
        return False
    secs = time.monotonic() - t1
    print("echoes ok: %d messages, %d bytes, %.3f s%s%s" % (
        echoes, sum(m[3] for m in msgs if m[0] < limit), secs,
        ", streams %s reported invalid" % invalid if invalid else "",
        ", %d/%d datagrams dropped in/out" % tuple(dtls.dropped) if args.loss else ""),
        flush=True)
    if args.extensions and not await probe_extensions(sctp, expect, got, bad):
        return False
    if args.then == "abort":
        await sctp.stop()
        log("event: ABORT sent")
        return True
    if args.then == "shutdown":
        if not await sctp.graceful_shutdown(args.timeout):
            return False
        await closed
        for v in sctp.violations[:5]:
            error(v)
        if sctp.end != "shutdown" or sctp.violations:
            error("shutdown ended by %s" % sctp.end)
            return False
        print("shutdown complete", flush=True)
        return True
    # hold: the peer must end the association
    await closed
    log("event: association ended by the peer (%s)" % sctp.end)
    if args.expect_peer and sctp.end != args.expect_peer:
        error("peer ended the association by %s, expected %s" % (sctp.end, args.expect_peer))
        return False
    print("peer ended the association: %s" % sctp.end, flush=True)
    return True


async def probe_extensions(sctp, expect, got, bad):
    """aiortc uses RE-CONFIG and FORWARD TSN although the peer did not offer them (its
    INIT/INIT ACK had no Supported Extensions naming them; RFC 6525 §5.1 and RFC 3758 §3.3.1
    say not to). sctpp implements neither and must, by the chunk type's upper two bits (RFC
    9260 §3.2), skip RE-CONFIG (130 = 10xxxxxx) silently, and skip FORWARD TSN (192 =
    11xxxxxx) reporting it in an ERROR (Unrecognized Chunk Type); then carry on."""
    # What closing a data channel does: an outgoing stream reset request for stream 1.
    sctp._reconfig_queue = [1]
    await sctp._transmit_reconfig()
    # What abandoning a partially reliable message does; a cumulative TSN sctpp already
    # acknowledged, so sctpp would not lose anything even if it did act on it.
    fwd = ForwardTsnChunk()
    fwd.cumulative_tsn = sctp._last_sacked_tsn
    sctp._forward_tsn_chunk = fwd
    await sctp._transmit()
    def reported(chunk_type):  # an Unrecognized Chunk Type cause carries the chunk
        return any(code == 6 and info[:1] == bytes([chunk_type]) for code, info in sctp.errors)

    try:
        await asyncio.wait_for(_wait_for(lambda: reported(192)), 3)
    except asyncio.TimeoutError:
        error("no ERROR (Unrecognized Chunk Type) for FORWARD TSN")
        return False
    await asyncio.sleep(0.2)  # an ERROR for the RE-CONFIG sent before it would be here by now
    if reported(130):
        error("RE-CONFIG reported in an ERROR: type 130's upper bits 10 say skip silently")
        return False
    # The association carries on: one more message each way.
    before = got[0]
    data = b"after-extensions"
    expect(3, 51, False, data)
    await sctp._send(3, 51, data)
    try:
        await asyncio.wait_for(_wait_for(lambda: got[0] > before), 5)
    except asyncio.TimeoutError:
        error("no echo after the RE-CONFIG / FORWARD TSN chunks")
        return False
    for b in bad[:5]:
        error(b)
    if bad:
        return False
    print("extensions ok: RE-CONFIG skipped, FORWARD TSN reported as unrecognized, association "
          "carries on", flush=True)
    return True


async def _wait_for(cond):
    while not cond():
        await asyncio.sleep(0.005)


# --------------------------------------------------------------------------- main


def main():
    global ROLE
    ap = argparse.ArgumentParser(description="SCTP peer on aiortc's SCTP over UDP (RFC 6951)")
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5000, help="server: local SCTP port")
    ap.add_argument("--udp-port", type=int, required=True, help="local UDP port")
    ap.add_argument("--connect", help="client: IP:SCTP_PORT")
    ap.add_argument("--remote-udp-port", type=int, help="client: the peer's UDP port")
    ap.add_argument("--sctp-port", type=int, default=5001, help="client: local SCTP port")
    ap.add_argument("--builtin", default="mixed")
    ap.add_argument("--then", default=None,
                    help="server: none|shutdown|abort (default none); "
                         "client: shutdown|shutdown-early|abort|hold|collide "
                         "(default shutdown)")
    ap.add_argument("--after", type=int, default=1)
    ap.add_argument("--expect-end", default="any", choices=["shutdown", "abort", "any"])
    ap.add_argument("--expect-peer", choices=["shutdown", "abort"])
    ap.add_argument("--loop", action="store_true")
    ap.add_argument("--outbound-streams", type=int, default=0,
                    help="client: announce this many outbound streams (and send beyond them)")
    ap.add_argument("--abort-after", type=int, default=0,
                    help="client: ABORT (aiortc's stop()) once this many echoes arrived")
    ap.add_argument("--extensions", action="store_true",
                    help="client: after the echoes, send RE-CONFIG and FORWARD TSN")
    ap.add_argument("--loss", type=float, default=0.0,
                    help="drop this share of DATA/SACK datagrams each way")
    ap.add_argument("--seed", type=int, default=1, help="seed of --loss")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args()
    ROLE = "aiortc_peer " + args.mode
    if args.mode == "client":
        if not args.connect or not args.remote_udp_port:
            ap.error("client needs --connect and --remote-udp-port")
        args.then = args.then or "shutdown"
        if args.then not in ("shutdown", "shutdown-early", "abort", "hold", "collide"):
            ap.error("client --then is shutdown|shutdown-early|abort|hold|collide")
        coro = client(args)
    else:
        args.then = args.then or "none"
        if args.then not in ("none", "shutdown", "abort"):
            ap.error("server --then is none|shutdown|abort")
        coro = serve(args)

    async def bounded():
        try:
            return await asyncio.wait_for(coro, args.timeout)
        except asyncio.TimeoutError:
            error("timeout after %.1f s" % args.timeout)
            for sctp in PeerSctp.instances:
                log("state at timeout: " + sctp.describe())
            return False

    if os.environ.get("AIORTC_PEER_DEBUG"):
        import logging
        logging.basicConfig(level=logging.DEBUG)
    ok = asyncio.run(bounded())
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: aiortc may leave timers and futures behind; they must not delay the exit.
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
