"""Packet-level attack kit for sctpp: an independent SCTP packet crafter and a running server.

Packets are built with scapy's SCTP layers (scapy.layers.sctp, Debian python3-scapy),
never with sctpp's own codec, and sent as UDP payloads (RFC 6951 UDP encapsulation)
from ordinary Python UDP sockets on loopback to a running `sctpp echo`. Replies are
split into chunks by a small independent TLV walk and decoded with scapy where a
field is needed.

Each scenario starts its own server on free ports (`--udp-port 0`: the port is read
from the "listening" line) and reads its memory from /proc/PID/status.

Environment (set by tests/attack/CMakeLists.txt):
  SCTPP_BIN         path of the sctpp tool
  ATTACK_ECHO_BIN   path of attack_echo (echo server with configurable limits)
"""

import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from scapy.compat import raw
from scapy.layers import sctp as S

# Chunk types (RFC 9260 §3.2).
DATA, INIT, INIT_ACK, SACK, HEARTBEAT, HEARTBEAT_ACK, ABORT, SHUTDOWN = 0, 1, 2, 3, 4, 5, 6, 7
SHUTDOWN_ACK, ERROR, COOKIE_ECHO, COOKIE_ACK, SHUTDOWN_COMPLETE = 8, 9, 10, 11, 14
CHUNK_NAMES = {0: "DATA", 1: "INIT", 2: "INIT ACK", 3: "SACK", 4: "HEARTBEAT",
               5: "HEARTBEAT ACK", 6: "ABORT", 7: "SHUTDOWN", 8: "SHUTDOWN ACK",
               9: "ERROR", 10: "COOKIE ECHO", 11: "COOKIE ACK", 14: "SHUTDOWN COMPLETE"}

# Error cause codes (RFC 9260 §3.3.10).
CAUSE_INVALID_STREAM, CAUSE_MISSING_PARAM, CAUSE_STALE_COOKIE, CAUSE_OUT_OF_RESOURCE = 1, 2, 3, 4
CAUSE_UNRESOLVABLE_ADDRESS, CAUSE_UNRECOGNIZED_CHUNK, CAUSE_INVALID_MANDATORY = 5, 6, 7
CAUSE_UNRECOGNIZED_PARAMS, CAUSE_NO_USER_DATA, CAUSE_PROTOCOL_VIOLATION = 8, 9, 13

SCTPP_BIN = os.environ.get("SCTPP_BIN", "")
ATTACK_ECHO_BIN = os.environ.get("ATTACK_ECHO_BIN", "")
LOOPBACK = "127.0.0.1"

_observations = []


def observe(line):
    """Records one line of what a scenario saw (printed at once and in the summary)."""
    _observations.append(line)
    print("OBSERVED: " + line, flush=True)


# ---------------------------------------------------------------------------------
# CRC32c and raw packet helpers


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data):
    """CRC32c of `data` (Castagnoli, as RFC 9260 Appendix A), as an integer."""
    crc = 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def with_crc(packet):
    """Returns `packet` (bytes) with its checksum field set (little-endian per Appendix A)."""
    p = bytearray(packet)
    p[8:12] = b"\0\0\0\0"
    p[8:12] = struct.pack("<I", crc32c(bytes(p)))
    return bytes(p)


def crc_ok(packet):
    return len(packet) >= 12 and with_crc(packet) == bytes(packet)


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def chunk(ctype, flags, value):
    """A raw chunk (type, flags, length, value) with its padding; for malformed cases."""
    return pad4(struct.pack("!BBH", ctype, flags, 4 + len(value)) + value)


def param(ptype, value):
    return pad4(struct.pack("!HH", ptype, 4 + len(value)) + value)


def cause(code, value):
    return pad4(struct.pack("!HH", code, 4 + len(value)) + value)


def header(sport, dport, vtag):
    return struct.pack("!HHII", sport, dport, vtag, 0)


def split_chunks(packet):
    """Independent TLV walk over an SCTP packet: list of (type, flags, whole_chunk_bytes)."""
    out = []
    off = 12
    while len(packet) - off >= 4:
        ctype, flags, length = struct.unpack_from("!BBH", packet, off)
        if length < 4 or off + length > len(packet):
            out.append((ctype, flags, None))  # malformed
            break
        out.append((ctype, flags, packet[off:off + length]))
        off += length + (-length % 4)
    return out


def split_tlvs(region):
    out = []
    off = 0
    while len(region) - off >= 4:
        t, length = struct.unpack_from("!HH", region, off)
        if length < 4 or off + length > len(region):
            break
        out.append((t, region[off + 4:off + length]))
        off += length + (-length % 4)
    return out


def causes_of(chunk_bytes):
    """Error causes of an ERROR or ABORT chunk: list of (code, value)."""
    return split_tlvs(chunk_bytes[4:])


class Packet:
    """One received SCTP packet, decoded."""

    def __init__(self, data, addr):
        self.data = bytes(data)
        self.addr = addr
        self.sport, self.dport, self.vtag = struct.unpack_from("!HHI", self.data, 0)
        self.crc_ok = crc_ok(self.data)
        self.chunks = split_chunks(self.data)

    def types(self):
        return [c[0] for c in self.chunks]

    def find(self, ctype):
        return [c for c in self.chunks if c[0] == ctype]

    def scapy(self):
        return S.SCTP(self.data)

    def __repr__(self):
        names = ",".join(CHUNK_NAMES.get(t, str(t)) + ("[T]" if t in (ABORT, SHUTDOWN_COMPLETE) and f & 1 else "")
                         for t, f, _ in self.chunks)
        return "<SCTP %d->%d vtag=%08x %s>" % (self.sport, self.dport, self.vtag, names)


# ---------------------------------------------------------------------------------
# The server under attack


def read_status(pid):
    """VmRSS and VmHWM of a process, in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "Threads:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
    return out


class Server:
    """A running `sctpp echo` (or attack_echo) on free ports."""

    def __init__(self, binary=None, extra_args=(), sctp_port=None, env=None, listen=None):
        self.binary = binary or SCTPP_BIN
        self.sctp_port = sctp_port or random.randint(20000, 60000)
        self.stderr_file = tempfile.TemporaryFile(mode="w+")
        if os.path.basename(self.binary) == "sctpp":
            args = [self.binary, "echo"]
        else:
            args = [self.binary]
        # `listen`: the addresses part of --listen ("127.0.0.1,[::1]"), loopback by default.
        args += ["--listen", "%s:%d" % (listen or LOOPBACK, self.sctp_port), "--udp-port", "0"]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr_file,
                                     stdin=subprocess.DEVNULL, env=env)
        line = self._readline(10.0)
        if not line.startswith("listening"):
            self.stop()
            raise RuntimeError("server did not start: %r, stderr: %s" % (line, self.stderr()))
        # "listening on 127.0.0.1:PORT (sctp over udp N)"
        self.udp_port = int(line.split("udp")[1].split(")")[0])
        self.addr = (LOOPBACK, self.udp_port)
        self.pid = self.proc.pid
        self.baseline = self.memory()

    def _readline(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return ""
        return self.proc.stdout.readline().decode(errors="replace").strip()

    def memory(self):
        return read_status(self.pid)

    def rss_kib(self):
        return self.memory()["VmRSS"]

    def hwm_kib(self):
        return self.memory()["VmHWM"]

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        if self.stderr_file.closed:
            return self.stderr_text
        self.stderr_file.seek(0)
        return self.stderr_file.read()

    def associations_up(self):
        """Associations the echo reported as up (its stderr log)."""
        return self.stderr().count(" up: peer ")

    def stop(self, graceful=True):
        """SIGTERM (the echo then shuts associations down, up to 5 s), or SIGKILL."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.stderr_text = self.stderr()
        self.stderr_file.close()
        return self.proc.returncode


class MemorySampler:
    """Samples a process's VmRSS in a thread; keeps the peak."""

    def __init__(self, pid, interval=0.05):
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                rss = read_status(self.pid)["VmRSS"]
            except OSError:
                return
            self.samples.append(rss)
            self.peak_rss = max(self.peak_rss, rss)
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak_rss


def run_cat(server, lines=("ping",), timeout=15.0, extra=()):
    """A legitimate client: `sctpp cat` sends `lines` and waits for the echoes.

    Returns (ok, stdout, stderr)."""
    args = [SCTPP_BIN, "cat", "--connect", "%s:%d" % (LOOPBACK, server.sctp_port),
            "--remote-udp-port", str(server.udp_port), "--replies", str(len(lines))]
    args += list(extra)
    try:
        p = subprocess.run(args, input=("\n".join(lines) + "\n").encode(), capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return False, (e.stdout or b"").decode(), "timeout"
    out = p.stdout.decode()
    return p.returncode == 0 and out.split("\n")[:len(lines)] == list(lines), out, p.stderr.decode()


# ---------------------------------------------------------------------------------
# The attacker's side: a UDP socket that speaks SCTP through scapy


class Peer:
    """An attacker/peer: one UDP socket (its own UDP source port) and one SCTP port."""

    def __init__(self, server, sctp_port=None, rcvbuf=8 << 20):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.sock.bind((LOOPBACK, 0))
        self.udp_port = self.sock.getsockname()[1]
        self.sctp_port = sctp_port or random.randint(1024, 65535)

    def close(self):
        self.sock.close()

    # --- sending
    def send_raw(self, data, fix_crc=True):
        """Sends SCTP packet bytes as one UDP datagram (checksum computed unless told not)."""
        self.sock.sendto(with_crc(data) if fix_crc else bytes(data), self.server.addr)

    def send(self, pkt):
        """Sends a scapy SCTP packet (scapy computes the CRC32c when chksum is None)."""
        self.sock.sendto(raw(pkt), self.server.addr)

    def sctp(self, vtag):
        return S.SCTP(sport=self.sctp_port, dport=self.server.sctp_port, tag=vtag)

    # --- receiving
    def recv(self, timeout=0.5, until=None):
        """Packets received within `timeout` s (stops early once `until(packet)` is true)."""
        out = []
        end = time.monotonic() + timeout
        while True:
            left = max(0.0, end - time.monotonic())
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                break
            data, addr = self.sock.recvfrom(70000)
            if len(data) < 12:
                continue
            p = Packet(data, addr)
            out.append(p)
            if until and until(p):
                break
        return out

    def drain(self):
        """Reads whatever is queued right now."""
        n = 0
        while True:
            try:
                self.sock.recv(70000, socket.MSG_DONTWAIT)
                n += 1
            except BlockingIOError:
                return n

    def expect(self, ctype, timeout=2.0):
        """First received packet carrying a chunk of `ctype`, or None."""
        for p in self.recv(timeout, until=lambda p: ctype in p.types()):
            if ctype in p.types():
                return p
        return None


# ---------------------------------------------------------------------------------
# Building chunks with scapy


def init_chunk(tag, a_rwnd=65536, os_=10, mis=65535, tsn=None, params=None):
    return S.SCTPChunkInit(init_tag=tag, a_rwnd=a_rwnd, n_out_streams=os_, n_in_streams=mis,
                           init_tsn=tsn if tsn is not None else random.getrandbits(32),
                           params=params if params is not None else [])


def data_chunk(tsn, stream, ssn, payload, b=True, e=True, u=False, i=False, ppid=0):
    return S.SCTPChunkData(tsn=tsn, stream_id=stream, stream_seq=ssn, proto_id=ppid, data=payload,
                           beginning=int(b), ending=int(e), unordered=int(u),
                           delay_sack=int(i), reserved=0)


def data_bytes(tsn, stream, ssn, payload, b=True, e=True, u=False, i=False, ppid=0):
    """A DATA chunk as bytes, without scapy: for floods of many chunks (same layout)."""
    flags = (8 if i else 0) | (4 if u else 0) | (2 if b else 0) | (1 if e else 0)
    return pad4(struct.pack("!BBHIHHI", DATA, flags, 16 + len(payload), tsn & 0xFFFFFFFF,
                            stream, ssn & 0xFFFF, ppid) + payload)


def sack_chunk(cum, a_rwnd, gaps=(), dups=()):
    return S.SCTPChunkSACK(cumul_tsn_ack=cum & 0xFFFFFFFF, a_rwnd=a_rwnd, flags=0,
                           gap_ack_list=["%d:%d" % g for g in gaps], dup_tsn_list=list(dups))


def heartbeat_chunk(info=b"attack-hb-info!!"):
    return S.SCTPChunkHeartbeatReq(params=[S.SCTPChunkParamHeartbeatInfo(data=info)])


class Assoc:
    """An association driven by hand from the attacker's side."""

    def __init__(self, peer, my_tag, peer_tag, my_tsn, peer_tsn, init_ack, cookie, os_, mis):
        self.peer = peer
        self.my_tag = my_tag          # the tag we chose; the server puts it in its packets
        self.peer_tag = peer_tag      # the server's tag; we put it in ours
        self.next_tsn = my_tsn        # our next DATA TSN
        self.peer_initial_tsn = peer_tsn
        self.init_ack = init_ack      # the INIT ACK packet
        self.cookie = cookie
        self.os = os_
        self.mis = mis
        self.ssn = {}
        self.received_tsns = set()

    # --- handshake
    @staticmethod
    def init(peer, a_rwnd=65536, os_=10, mis=65535, params=None, tag=None, tsn=None):
        """Sends INIT, waits for INIT ACK. Returns (tag, tsn, INIT ACK packet or None)."""
        tag = tag or random.randint(1, 0xFFFFFFFF)
        tsn = random.getrandbits(32) if tsn is None else tsn
        peer.send(peer.sctp(0) / init_chunk(tag, a_rwnd, os_, mis, tsn, params))
        return tag, tsn, peer.expect(INIT_ACK)

    @staticmethod
    def cookie_of(init_ack):
        ack = init_ack.find(INIT_ACK)[0][2]
        for t, v in split_tlvs(ack[20:]):
            if t == 7:
                return v
        return None

    @classmethod
    def open(cls, peer, a_rwnd=65536, os_=10, mis=65535, params=None):
        tag, tsn, ack = cls.init(peer, a_rwnd, os_, mis, params)
        assert ack is not None, "no INIT ACK"
        chunk_bytes = ack.find(INIT_ACK)[0][2]
        peer_tag, _a_rwnd, s_os, s_mis, peer_tsn = struct.unpack_from("!IIHHI", chunk_bytes, 4)
        cookie = cls.cookie_of(ack)
        peer.send(peer.sctp(peer_tag) / S.SCTPChunkCookieEcho(cookie=cookie))
        cack = peer.expect(COOKIE_ACK)
        assert cack is not None, "no COOKIE ACK"
        a = cls(peer, tag, peer_tag, tsn, peer_tsn, ack, cookie, min(os_, s_mis), min(mis, s_os))
        return a

    # --- sending
    def packet(self, *chunks, vtag=None):
        pkt = self.peer.sctp(self.peer_tag if vtag is None else vtag)
        for c in chunks:
            pkt = pkt / c
        return pkt

    def send(self, *chunks, vtag=None):
        self.peer.send(self.packet(*chunks, vtag=vtag))

    def send_raw_chunks(self, chunk_bytes, vtag=None, fix_crc=True):
        hdr = header(self.peer.sctp_port, self.peer.server.sctp_port,
                     self.peer_tag if vtag is None else vtag)
        self.peer.send_raw(hdr + chunk_bytes, fix_crc)

    def data(self, payload, stream=0, ordered=True, b=True, e=True, i=False, scapy=True):
        tsn = self.next_tsn
        self.next_tsn = (self.next_tsn + 1) & 0xFFFFFFFF
        ssn = self.ssn.get(stream, 0) if ordered else 0
        if ordered and e:
            self.ssn[stream] = (ssn + 1) & 0xFFFF
        if scapy:
            return data_chunk(tsn, stream, ssn, payload, b, e, not ordered, i)
        return data_bytes(tsn, stream, ssn, payload, b, e, not ordered, i)

    def sack_for(self, packets, a_rwnd=1 << 20):
        """A SACK acknowledging every DATA chunk the server sent in `packets`."""
        for p in packets:
            for t, f, c in p.find(DATA):
                self.received_tsns.add(struct.unpack_from("!I", c, 4)[0])
        cum = (self.peer_initial_tsn - 1) & 0xFFFFFFFF
        while ((cum + 1) & 0xFFFFFFFF) in self.received_tsns:
            cum = (cum + 1) & 0xFFFFFFFF
        return sack_chunk(cum, a_rwnd)

    def heartbeat_answered(self, timeout=1.0, vtag=None, info=None):
        """Sends a HEARTBEAT (server's tag unless told) and says whether an ACK came back."""
        info = info or os.urandom(12)
        self.send(heartbeat_chunk(info), vtag=vtag)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.peer.expect(HEARTBEAT_ACK, deadline - time.monotonic())
            if p is None:
                return False
            if info in p.find(HEARTBEAT_ACK)[0][2]:
                return True
        return False

    def probe(self, timeout=1.0):
        """'alive' when the server answers a HEARTBEAT on this association, 'abort' when it
        answers with ABORT (the association is gone: out of the blue, §8.4), else 'silent'."""
        info = os.urandom(12)
        self.send(heartbeat_chunk(info))
        for p in self.peer.recv(timeout, until=lambda p: HEARTBEAT_ACK in p.types() or ABORT in p.types()):
            if HEARTBEAT_ACK in p.types() and info in p.find(HEARTBEAT_ACK)[0][2]:
                return "alive"
            if ABORT in p.types():
                return "abort"
        return "silent"

    def abort(self):
        self.send(S.SCTPChunkAbort(TCB=0, reserved=0))


def data_payloads(packets):
    """User data of every DATA chunk in `packets` (bytes list)."""
    out = []
    for p in packets:
        for t, f, c in p.find(DATA):
            out.append(c[16:])
    return out


def echo_roundtrip(assoc, payload=b"are-you-there", timeout=2.0):
    """Sends one message on the association and waits for its echo (SACKing it)."""
    assoc.send(assoc.data(payload, i=True))
    got = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ps = assoc.peer.recv(end - time.monotonic(), until=lambda p: DATA in p.types())
        got += ps
        if payload in data_payloads(got):
            assoc.send(assoc.sack_for(got))
            return True
        if not ps:
            break
    return False


def fresh_probe(server, timeout=10.0):
    """The server still serves a new legitimate client (sctpp cat, one line echoed)."""
    token = "alive-%d" % random.randint(0, 1 << 30)
    ok, out, err = run_cat(server, [token], timeout=timeout)
    return ok, err


# ---------------------------------------------------------------------------------
# Running


class AttackCase(unittest.TestCase):
    """Base: a fresh server per test; checks it is alive and serving at the end."""

    server_binary = None
    server_args = ()
    check_alive_at_end = True

    def setUp(self):
        self.server = Server(self.server_binary, self.server_args)
        self.peers = []

    def tearDown(self):
        try:
            if self.check_alive_at_end and not self._failed():
                self.assertTrue(self.server.alive(), "server died: " + self.server.stderr()[-2000:])
        finally:
            for p in self.peers:
                p.close()
            # Hand-driven associations never answer a graceful shutdown: kill.
            alive = self.server.alive()
            rc = self.server.stop(graceful=False)
            if not alive:
                print("server exit code %s; stderr tail:\n%s" % (rc, self.server.stderr()[-2000:]))

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        result = getattr(outcome, "result", None)
        errors = getattr(outcome, "errors", None)
        if errors:
            return any(e[1] is not None for e in errors)
        if result is not None:
            return bool(result.failures or result.errors)
        return False

    def peer(self, **kw):
        p = Peer(self.server, **kw)
        self.peers.append(p)
        return p

    def assertServes(self, what):
        """The server is alive and a legitimate client (sctpp cat) is echoed."""
        self.assertTrue(self.server.alive(), "server died after %s: %s" % (what, self.server.stderr()[-2000:]))
        ok, err = fresh_probe(self.server)
        self.assertTrue(ok, "server no longer serves a client after %s: %s" % (what, err))


def main():
    """unittest main that prints the observations at the end."""
    prog = unittest.main(exit=False, verbosity=2)
    print("\n---- observations ----")
    for line in _observations:
        print("  " + line)
    r = prog.result
    failed = len(r.failures) + len(r.errors) + len(r.unexpectedSuccesses)
    passed = r.testsRun - failed - len(r.skipped) - len(r.expectedFailures)
    print("expected failures (known bugs, see comments): %d" % len(r.expectedFailures))
    print("%d passed, %d failed, %d skipped" % (passed, failed, len(r.skipped)))
    sys.exit(0 if failed == 0 else 1)
