#!/usr/bin/env python3
"""End-to-end tests of `sctpp --transport ip` (SCTP over raw IP, protocol 132).

Every scenario runs in network namespaces of its own (`ip netns`), so raw SCTP sockets
of other programs on the host (usrsctp opens them when it runs as root, and answers
what it sees as out-of-the-blue packets with ABORT) neither see nor disturb it.

  loopback-v4   sctpp echo and sctpp cat on 127.0.0.1 in one namespace
  loopback-v6   the same on ::1
  coexist       two echo servers and two clients in one namespace: each stack only
                serves its own port, nobody answers for ports it does not own, and a
                second server on a taken port fails with a one-line error
  two-hosts     two namespaces joined by a veth pair (10.200.0.0/24, fd00:200::/64,
                MTU 1500): IPv4 and IPv6 across, messages far larger than the MTU
  no-cap        without CAP_NET_RAW (setpriv) echo and cat fail with one line
  flags         malformed --transport command lines: one line, exit code 2

Each capture is decoded by tshark as plain SCTP over IP with CRC32c verification on
(-o sctp.checksum:crc-32c): no malformed packet, every checksum good, no UDP, no
ABORT, the whole handshake / data / graceful shutdown seen, no DATA sent twice.

Exit code 0 = pass, 1 = fail, 77 = skipped (not root, or ip/tshark/dumpcap missing).
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
TSHARK_COMMON = ["-o", "gui.console_open:NEVER"]
NEED_CAP = "raw IP transport needs CAP_NET_RAW (run as root or grant the capability)"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# --------------------------------------------------------------------------- namespaces


class Netns:
    counter = 0

    def __init__(self):
        Netns.counter += 1
        self.name = "sctpp-raw-%d-%d" % (os.getpid(), Netns.counter)
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.ip("link", "set", "lo", "up")

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.name] + list(args), check=True)

    def argv(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)


def veth_pair(a, b, a_addrs, b_addrs, mtu=1500):
    subprocess.run(["ip", "link", "add", "vA", "netns", a.name, "mtu", str(mtu), "type", "veth",
                    "peer", "name", "vB", "netns", b.name, "mtu", str(mtu)], check=True)
    for ns, dev, addrs in ((a, "vA", a_addrs), (b, "vB", b_addrs)):
        for addr in addrs:
            extra = ["nodad"] if ":" in addr else []
            ns.ip("addr", "add", addr, "dev", dev, *extra)
        ns.ip("link", "set", dev, "up")
    # Wait until IPv6 duplicate address detection is over (the link-local addresses),
    # or the first neighbour solicitation goes unanswered and the first packet waits
    # a second for the next.
    deadline = time.monotonic() + 10
    for ns in (a, b):
        while time.monotonic() < deadline:
            r = subprocess.run(["ip", "-n", ns.name, "-6", "addr", "show", "tentative"],
                               stdout=subprocess.PIPE, check=True)
            if not r.stdout.strip():
                break
            time.sleep(0.05)


# --------------------------------------------------------------------------- processes


class Server:
    """sctpp echo in a namespace; waits for its `listening` line."""

    def __init__(self, ns, sctpp, listen, workdir, name):
        self.name = name
        self.err_path = os.path.join(workdir, name + ".stderr")
        self.err = open(self.err_path, "wb")
        argv = ns.argv([sctpp, "echo", "--transport", "ip", "--listen", listen])
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=self.err)
        self.lines = []
        ready = threading.Event()

        def reader():
            for raw in self.p.stdout:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                ready.set()
            ready.set()

        threading.Thread(target=reader, daemon=True).start()
        ready.wait(10)
        check(self.lines and self.lines[0].startswith("listening"),
              "%s: no 'listening' line (stdout %r, stderr %r)" % (name, self.lines, self.stderr()))
        check("sctp over ip" in self.lines[0], "%s: %r" % (name, self.lines[0]))

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
                raise Fail("%s did not stop on SIGTERM" % self.name)
        self.err.close()
        return self.p.returncode


def run_cat(ns, sctpp, target, lines, extra=(), timeout=60):
    argv = ns.argv([sctpp, "cat", "--transport", "ip", "--connect", target,
                    "--replies", str(len(lines))] + list(extra))
    data = "".join(l + "\n" for l in lines).encode()
    r = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def expect_echo(ns, sctpp, target, lines, extra=()):
    code, out, err = run_cat(ns, sctpp, target, lines, extra)
    check(code == 0, "cat %s exited %d: %s" % (target, code, err.strip()))
    got = out.split("\n")[:-1]
    check(sorted(got) == sorted(lines) and len(got) == len(lines),
          "cat %s: %d of %d replies match" % (target, len(set(got) & set(lines)), len(lines)))
    # cat sends on one stream, ordered: the echoes come back in order.
    check(got == lines, "cat %s: replies out of order" % target)


# --------------------------------------------------------------------------- capture


class Capture:
    def __init__(self, ns, iface, workdir, name):
        self.path = os.path.join(workdir, name + ".pcapng")
        self.err_path = os.path.join(workdir, name + ".capture.stderr")
        self.err = open(self.err_path, "wb")
        dumpcap = shutil.which("dumpcap")
        argv = ([dumpcap, "-i", iface, "-f", "sctp or udp", "-w", self.path] if dumpcap else
                ["tshark"] + TSHARK_COMMON + ["-i", iface, "-f", "sctp or udp", "-w", self.path])
        self.p = subprocess.Popen(ns.argv(argv), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if "Capturing on" in self.stderr() or self.p.poll() is not None:
                break
            time.sleep(0.05)
        check(self.p.poll() is None and "Capturing on" in self.stderr(),
              "capture did not start: " + self.stderr().strip())
        time.sleep(0.3)

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode("latin-1")

    def stop(self):
        time.sleep(0.3)
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self.err.close()


def tshark(pcap, display_filter, fields):
    argv = (["tshark"] + TSHARK_COMMON +
            ["-n", "-r", pcap, "-o", "sctp.checksum:crc-32c", "-o", "sctp.ulp_dissection:FALSE",
             "-Y", display_filter, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
             "-E", "aggregator=,"])
    for f in fields:
        argv += ["-e", f]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise Fail("tshark failed: " + r.stderr.decode("latin-1").strip()[-300:])
    return [l.split("|") for l in r.stdout.decode("latin-1").splitlines() if l.strip()]


CHUNK = {"0": "DATA", "1": "INIT", "2": "INIT_ACK", "3": "SACK", "4": "HEARTBEAT",
         "5": "HEARTBEAT_ACK", "6": "ABORT", "7": "SHUTDOWN", "8": "SHUTDOWN_ACK", "9": "ERROR",
         "10": "COOKIE_ECHO", "11": "COOKIE_ACK", "14": "SHUTDOWN_COMPLETE"}
HANDSHAKE_AND_CLOSE = ["INIT", "INIT_ACK", "COOKIE_ECHO", "COOKIE_ACK", "DATA", "SACK",
                       "SHUTDOWN", "SHUTDOWN_ACK", "SHUTDOWN_COMPLETE"]


def check_capture(pcap, associations, max_ip_packet=None, ppid=None, stream=None,
                  exact_setup=True):
    """Returns a one-line summary; raises Fail on any problem."""
    rows = tshark(pcap, "sctp or udp",
                  ["frame.number", "ip.proto", "ipv6.nxt", "udp.srcport", "sctp.checksum.status",
                   "sctp.chunk_type", "ip.len", "ipv6.plen", "sctp.srcport", "sctp.dstport",
                   "sctp.data_tsn", "sctp.data_payload_proto_id", "sctp.data_sid"])
    check(rows, "no packets captured")
    chunks = {}
    tsns = {}
    problems = []
    largest = 0
    for row in rows:
        frame, proto, nxt, udp, status, types, iplen, plen, sport, dport, tsn, pp, sid = \
            (row + [""] * 13)[:13]
        if udp:
            problems.append("frame %s: UDP packet (raw IP mode must not use UDP)" % frame)
            continue
        check(proto == "132" or nxt == "132", "frame %s: not SCTP over IP" % frame)
        if status != "1":
            problems.append("frame %s: checksum status %r (1 = good)" % (frame, status))
        size = int(iplen) if iplen else (int(plen) + 40 if plen else 0)
        largest = max(largest, size)
        for t in types.split(","):
            chunks[CHUNK.get(t, t)] = chunks.get(CHUNK.get(t, t), 0) + 1
        for t in [t for t in tsn.split(",") if t]:
            key = (sport, dport, t)
            tsns[key] = tsns.get(key, 0) + 1
        if ppid is not None and pp:
            for v in pp.split(","):
                if int(v, 0) != ppid:
                    problems.append("frame %s: PPID %s, expected %s" % (frame, v, ppid))
        if stream is not None and sid:
            for v in sid.split(","):
                if int(v, 0) != stream:
                    problems.append("frame %s: stream %s, expected %s" % (frame, v, stream))
    bad = tshark(pcap, "_ws.malformed or _ws.expert.severity == error or sctp.checksum_bad.expert",
                 ["frame.number", "_ws.col.Info", "_ws.expert.message"])
    for row in bad:
        problems.append("frame %s: malformed/expert error: %s" % (row[0], "|".join(row[1:])))
    for name in HANDSHAKE_AND_CLOSE:
        if chunks.get(name, 0) < (associations if name not in ("DATA", "SACK") else 1):
            problems.append("%s missing (%d seen, %d associations)"
                            % (name, chunks.get(name, 0), associations))
    if exact_setup and chunks.get("INIT", 0) != associations:
        problems.append("%d INITs for %d associations (retransmitted on a clean path?)"
                        % (chunks.get("INIT", 0), associations))
    if chunks.get("ABORT"):
        problems.append("%d ABORT chunks" % chunks["ABORT"])
    twice = [k for k, n in tsns.items() if n > 1]
    if twice:
        problems.append("%d DATA chunks sent more than once, e.g. TSN %s" % (len(twice), twice[0][2]))
    if max_ip_packet and largest > max_ip_packet:
        problems.append("IP packet of %d bytes on a path of MTU %d" % (largest, max_ip_packet))
    if problems:
        uniq = list(dict.fromkeys(problems))
        raise Fail("; ".join(uniq[:4]) + ("" if len(uniq) <= 4 else " (+%d more)" % (len(uniq) - 4)))
    summary = " ".join("%s=%d" % (k, v) for k, v in sorted(chunks.items()))
    return "%d packets, all SCTP over IP, CRC32c good, largest IP packet %d B: %s" % (
        len(rows), largest, summary)


# --------------------------------------------------------------------------- scenarios


def messages(tag, n=40, big=True):
    out = ["%s message %d %s" % (tag, i, "z" * (i * 37 % 300)) for i in range(n)]
    if big:
        out.append(tag + " big " + "B" * 20000)  # about 14 IP packets at MTU 1500
        out.append(tag + " bigger " + "C" * 120000)
    return out


def loopback(ctx, family):
    ns = ctx.netns()
    addr = "127.0.0.1" if family == 4 else "[::1]"
    cap = Capture(ns, "lo", ctx.workdir, "loopback-v%d" % family)
    server = Server(ns, ctx.sctpp, addr + ":5000", ctx.workdir, "echo-v%d" % family)
    try:
        expect_echo(ns, ctx.sctpp, addr + ":5000", messages("v%d" % family),
                    ["--stream", "3", "--ppid", "51"])
        expect_echo(ns, ctx.sctpp, addr + ":5000", ["second association"])
    finally:
        code = server.stop()
        cap.stop()
    check(code == 0, "echo exited %d: %s" % (code, server.stderr().strip()))
    return check_capture(cap.path, associations=2)


def coexist(ctx):
    ns = ctx.netns()
    cap = Capture(ns, "lo", ctx.workdir, "coexist")
    s1 = Server(ns, ctx.sctpp, "127.0.0.1:5000", ctx.workdir, "echo-5000")
    s2 = Server(ns, ctx.sctpp, "127.0.0.1,[::1]:5001", ctx.workdir, "echo-5001")
    try:
        # A third server on a port another process serves: refused at once.
        r = subprocess.run(ns.argv([ctx.sctpp, "echo", "--transport", "ip", "--listen",
                                    "127.0.0.1:5000"]),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        err = r.stderr.decode().strip()
        check(r.returncode == 1 and not r.stdout and len(err.splitlines()) == 1 and
              "SCTP port 5000 is in use by another sctpp stack on this host" in err,
              "second echo on port 5000: exit %d, stderr %r" % (r.returncode, err))
        # Both servers see every packet; each must serve only its own port.
        results = {}

        def client(target, tag):
            try:
                expect_echo(ns, ctx.sctpp, target, messages(tag, n=200, big=False))
                results[tag] = None
            except Exception as e:  # noqa: BLE001 - reported below
                results[tag] = str(e)

        threads = [threading.Thread(target=client, args=a) for a in
                   (("127.0.0.1:5000", "to-5000"), ("127.0.0.1:5001", "to-5001-v4"),
                    ("[::1]:5001", "to-5001-v6"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        for tag, err in sorted(results.items()):
            check(err is None, "%s: %s" % (tag, err))
        check(len(results) == 3, "a client hung")
        # A client to a port nobody serves gets no answer at all (no ABORT from the two
        # servers that see its INIT): it is only stopped after a while.
        p = subprocess.Popen(ns.argv([ctx.sctpp, "cat", "--transport", "ip", "--connect",
                                      "127.0.0.1:5999"]),
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        time.sleep(2.5)
        still_running = p.poll() is None
        p.kill()
        p.wait(5)
        check(still_running, "cat to an unserved port ended early: " +
              p.stderr.read().decode().strip())
    finally:
        codes = [s1.stop(), s2.stop()]
        cap.stop()
    check(codes == [0, 0], "echo exit codes %s" % codes)
    for s in (s1, s2):
        check("up: peer" in s.stderr(), "%s served nothing: %s" % (s.name, s.stderr()))
    s1_peers = s1.stderr().count("up: peer")
    s2_peers = s2.stderr().count("up: peer")
    check(s1_peers == 1 and s2_peers == 2,
          "associations per server: 5000 had %d (want 1), 5001 had %d (want 2)"
          % (s1_peers, s2_peers))
    # The capture holds 3 good associations plus the INITs to 5999 (which nobody may
    # answer), so check it as 3 associations.
    return check_capture(cap.path, associations=3, exact_setup=False)


def two_hosts(ctx):
    a = ctx.netns()
    b = ctx.netns()
    veth_pair(a, b, ["10.200.0.1/24", "fd00:200::1/64"], ["10.200.0.2/24", "fd00:200::2/64"])
    cap = Capture(a, "vA", ctx.workdir, "two-hosts")
    s4 = Server(b, ctx.sctpp, "10.200.0.2:5000", ctx.workdir, "echo-b-v4")
    s6 = Server(b, ctx.sctpp, "[fd00:200::2]:5001", ctx.workdir, "echo-b-v6")
    try:
        expect_echo(a, ctx.sctpp, "10.200.0.2:5000", messages("veth-v4"),
                    ["--stream", "2", "--ppid", "7"])
        expect_echo(a, ctx.sctpp, "[fd00:200::2]:5001", messages("veth-v6"),
                    ["--stream", "2", "--ppid", "7"])
    finally:
        codes = [s4.stop(), s6.stop()]
        cap.stop()
    check(codes == [0, 0], "echo exit codes %s" % codes)
    check("peer 10.200.0.1" in s4.stderr(), "v4 peer: " + s4.stderr())
    check("peer [fd00:200::1]" in s6.stderr(), "v6 peer: " + s6.stderr())
    return check_capture(cap.path, associations=2, max_ip_packet=1500, ppid=7, stream=2)


def no_cap(ctx):
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return "SKIPPED (no setpriv)"
    # Root without CAP_NET_RAW: not in the bounding set, so not after exec either.
    drop = [setpriv, "--inh-caps=-net_raw", "--bounding-set=-net_raw", "--"]
    ns = ctx.netns()
    for cmd, argv in (("echo", ["echo", "--transport", "ip", "--listen", "127.0.0.1:5000"]),
                      ("cat", ["cat", "--transport", "ip", "--connect", "127.0.0.1:5000"])):
        r = subprocess.run(ns.argv(drop + [ctx.sctpp] + argv), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        err = r.stderr.decode()
        want = "sctpp %s: %s\n" % (cmd, NEED_CAP)
        check(r.returncode == 1 and err == want and not r.stdout,
              "%s without CAP_NET_RAW: exit %d, stdout %r, stderr %r (want %r)"
              % (cmd, r.returncode, r.stdout, err, want))
    # UDP encapsulation still works without the capability.
    server = subprocess.Popen(ns.argv(drop + [ctx.sctpp, "echo", "--listen", "127.0.0.1:5000"]),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        line = server.stdout.readline().decode()
        check(line.startswith("listening"), "udp echo without CAP_NET_RAW: %r" % line)
        r = subprocess.run(ns.argv(drop + [ctx.sctpp, "cat", "--connect", "127.0.0.1:5000",
                                           "--replies", "1"]),
                           input=b"over udp\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        check(r.returncode == 0 and r.stdout == b"over udp\n",
              "udp cat without CAP_NET_RAW: exit %d, %r" % (r.returncode, r.stderr))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)
    return "echo and cat fail with one line; UDP encapsulation still works"


def flags(ctx):
    """--transport parsing: one-line errors and exit code 2 (design.md §3)."""
    cases = [
        (["echo", "--transport", "sctp"], "--transport"),
        (["cat", "--connect", "127.0.0.1:5000", "--transport", "raw"], "--transport"),
        (["echo", "--transport", "ip", "--udp-port", "9899"],
         "--udp-port does not apply to --transport ip"),
        (["echo", "--transport", "ip", "--tcp"], "--transport ip does not apply to --tcp"),
        (["cat", "--connect", "127.0.0.1:5000", "--transport", "ip", "--remote-udp-port", "1"],
         "--remote-udp-port does not apply to --transport ip"),
        (["cat", "--connect", "127.0.0.1:5000", "--transport", "ip", "--udp-port", "0"],
         "--udp-port does not apply to --transport ip"),
    ]
    for argv, want in cases:
        r = subprocess.run([ctx.sctpp] + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        err = r.stderr.decode()
        check(r.returncode == 2 and len(err.splitlines()) == 1 and want in err,
              "%s: exit %d, stderr %r (want %r)" % (" ".join(argv), r.returncode, err, want))
    for sub in ("echo", "cat"):
        r = subprocess.run([ctx.sctpp, sub, "--help"], stdout=subprocess.PIPE, timeout=10)
        check(r.returncode == 0 and b"--transport" in r.stdout, "%s --help: no --transport" % sub)
    return "%d malformed command lines rejected with one line" % len(cases)


SCENARIOS = {
    "loopback-v4": lambda ctx: loopback(ctx, 4),
    "loopback-v6": lambda ctx: loopback(ctx, 6),
    "coexist": coexist,
    "two-hosts": two_hosts,
    "no-cap": no_cap,
    "flags": flags,
}


class Ctx:
    def __init__(self, sctpp, workdir):
        self.sctpp = sctpp
        self.workdir = workdir
        self.namespaces = []

    def netns(self):
        ns = Netns()
        self.namespaces.append(ns)
        return ns

    def cleanup(self):
        for ns in self.namespaces:
            ns.delete()
        self.namespaces = []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sctpp", required=True, help="the sctpp binary")
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                    help="run only these (default: all)")
    ap.add_argument("--keep", action="store_true", help="keep the captures and logs")
    args = ap.parse_args()

    if os.geteuid() != 0:
        log("SKIP: needs root (network namespaces, raw sockets)")
        return SKIP
    for tool in ("ip", "tshark"):
        if not shutil.which(tool):
            log("SKIP: %s not found" % tool)
            return SKIP
    sctpp = os.path.abspath(args.sctpp)
    workdir = tempfile.mkdtemp(prefix="sctpp-raw-ip-")
    failed = []
    for name in args.scenario or list(SCENARIOS):
        ctx = Ctx(sctpp, workdir)
        start = time.monotonic()
        try:
            summary = SCENARIOS[name](ctx)
            log("PASS %-12s %5.1fs  %s" % (name, time.monotonic() - start, summary))
        except (Fail, subprocess.SubprocessError, OSError) as e:
            failed.append(name)
            log("FAIL %-12s %5.1fs  %s" % (name, time.monotonic() - start, e))
        finally:
            ctx.cleanup()
    if failed or args.keep:
        log("captures and logs kept in " + workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
