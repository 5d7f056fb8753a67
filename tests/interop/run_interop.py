#!/usr/bin/env python3
"""Interoperability driver: sctpp against usrsctp and pion/sctp over UDP encapsulation (RFC 6951)
on loopback.

Every scenario runs its processes on freshly picked free ports, captures its own loopback
traffic (a capture filter on its own UDP ports, so parallel runs do not see each other) and
checks the capture with Wireshark's dissector: at least one SCTP packet, no malformed packet,
no expert error, every CRC32c verified good, no zero checksum.

Directions: A = sctpp client -> usrsctp server, B = usrsctp client -> sctpp server,
self = usrsctp client -> usrsctp server (proves the kit itself); PA and PB are A and B with
pion/sctp (Go, `pion_peer`, --pion) in place of usrsctp. The sctpp side is the `sctpp`
tool (cat, echo) or, where sctpp itself must ABORT or shut down, `sctpp_peer` (a small program
on the C++ API; found next to usrsctp_peer unless --sctpp-peer names it).

    run_interop.py --peer PATH --self-test
    run_interop.py --peer PATH --checker-selftest
    run_interop.py --sctpp PATH --peer PATH --scenario A-mixed [--scenario ...]
    run_interop.py --sctpp PATH --peer PATH --all [--sctpp-peer PATH] [--pion PATH]
    run_interop.py --sctpp PATH --pion PATH --scenario PB-mixed [--sctpp-peer PATH]
    run_interop.py --check-pcap FILE --sctp-ports 9901,9902
    run_interop.py --list

Extra scenarios (e.g. a C++ program that ABORTs from the sctpp side) come from a JSON list,
`--extra FILE` or the SCTPP_INTEROP_EXTRA environment variable; see README.md.
Only the Python standard library is used.
"""

import argparse
import json
import os
import queue
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BIG = 307200
SCENARIO_TIMEOUT = 20.0
TSHARK_COMMON = ["-o", "gui.console_open:NEVER"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- ports


def free_udp_ports(n):
    """n distinct UDP ports free on both IPv4 and IPv6 wildcard (usrsctp binds both)."""
    ports = []
    socks = []
    try:
        while len(ports) < n:
            s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s4.bind(("0.0.0.0", 0))
            port = s4.getsockname()[1]
            socks.append(s4)
            try:
                s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s6.bind(("::", port))
                socks.append(s6)
            except OSError:
                continue  # taken on IPv6: keep the v4 socket open so we do not get it again
            ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def sctp_port():
    # SCTP ports live inside each stack (no kernel SCTP); any value works, vary it anyway.
    return random.randint(20000, 60000)


# --------------------------------------------------------------------------- processes


class Proc:
    """A child process whose stdout lines are collected by a thread; stderr goes to a file."""

    def __init__(self, name, argv, workdir, stdin_data=None):
        self.name = name
        self.argv = argv
        self.err_path = os.path.join(workdir, name + ".stderr")
        self.out_path = os.path.join(workdir, name + ".stdout")
        self.lines = []
        self.q = queue.Queue()
        self.err_file = open(self.err_path, "wb")
        with open(os.path.join(workdir, name + ".cmd"), "w") as f:
            f.write(" ".join(argv) + "\n")
        self.p = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.err_file,
        )
        if stdin_data is not None:
            threading.Thread(target=self._feed, args=(stdin_data,), daemon=True).start()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _feed(self, data):
        try:
            self.p.stdin.write(data)
            self.p.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def _read(self):
        with open(self.out_path, "wb") as out:
            for raw in self.p.stdout:
                out.write(raw)
                line = raw.decode("latin-1").rstrip("\n")
                self.lines.append(line)
                self.q.put(line)
        self.q.put(None)

    def wait_line(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                return False
            if line is None:
                return False
            if line.startswith(prefix):
                return True

    def wait(self, timeout):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(5)
        return rc

    def alive(self):
        return self.p.poll() is None

    def stderr_text(self):
        self.err_file.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode("latin-1")

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.err_file.close()


# --------------------------------------------------------------------------- capture


class Capture:
    """dumpcap (or tshark) on lo, filtered on this scenario's UDP ports, classic pcap format."""

    def __init__(self, workdir, udp_ports, name):
        self.path = os.path.join(workdir, name + ".pcap")
        self.udp_ports = list(udp_ports)
        # The probe socket owns its port for the whole capture and sends to itself, so a probe
        # never carries one of the scenario's ports: those are picked free and released before
        # the stacks bind them, and an ephemeral probe source port could land on one of them,
        # making tshark decode "interop-probe" as SCTP with a bad CRC32c (a CI failure).
        self.probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        held = []
        while True:
            self.probe.bind(("127.0.0.1", 0))
            self.probe_port = self.probe.getsockname()[1]
            if self.probe_port not in self.udp_ports:
                break
            held.append(self.probe)
            self.probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in held:
            s.close()
        flt = " or ".join("udp port %d" % p for p in self.udp_ports + [self.probe_port])
        dumpcap = shutil.which("dumpcap")
        if dumpcap:
            argv = [dumpcap, "-q", "-i", "lo", "-P", "-f", flt, "-w", self.path]
        else:
            argv = ["tshark"] + TSHARK_COMMON + ["-q", "-i", "lo", "-F", "pcap", "-f", flt,
                                                 "-w", self.path]
        self.err_path = os.path.join(workdir, name + ".capture.stderr")
        self.err = open(self.err_path, "wb")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.err)

    def _size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def _probe_until_growth(self, timeout):
        """Sends UDP probes from the probe port to itself until the capture file grows."""
        start = self._size()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                return False
            self.probe.sendto(b"interop-probe", ("127.0.0.1", self.probe_port))
            time.sleep(0.1)
            if self._size() > max(start, 24):
                return True
        return False

    def start(self, timeout=8.0):
        if not self._probe_until_growth(timeout):
            raise RuntimeError("capture did not start: " + self.stderr_text().strip())

    def stop(self):
        if self.p.poll() is None:
            time.sleep(0.3)  # let the last packets reach the capture
            self._probe_until_growth(2.0)
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self.err.close()
        self.probe.close()

    def stderr_text(self):
        self.err.flush()
        with open(self.err_path, "rb") as f:
            return f.read().decode("latin-1")


def tshark_fields(pcap, sctp_ports, display_filter, fields):
    argv = ["tshark"] + TSHARK_COMMON + ["-n", "-r", pcap, "-o", "sctp.checksum:crc-32c",
                                           "-o", "sctp.ulp_dissection:FALSE"]
    for p in sctp_ports:
        argv += ["-d", "udp.port==%d,sctp" % p]
    argv += ["-Y", display_filter, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
             "-E", "aggregator=,"]
    for f in fields:
        argv += ["-e", f]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("tshark failed: " + r.stderr.decode("latin-1").strip()[-300:])
    return [l for l in r.stdout.decode("latin-1").splitlines() if l.strip()]


def check_pcap(pcap, sctp_ports):
    """Returns (ok, reason, stats). Decodes the given UDP ports as SCTP, verifies CRC32c."""
    ports_filter = " or ".join("udp.port == %d" % p for p in sctp_ports)
    rows = tshark_fields(pcap, sctp_ports, "(%s)" % ports_filter,
                         ["frame.number", "sctp.checksum.status", "sctp.checksum",
                          "sctp.chunk_type"])
    stats = {"packets": len(rows), "sctp": 0, "chunks": {}}
    problems = []
    for row in rows:
        cols = row.split("|")
        frame, status, csum, chunks = (cols + ["", "", "", ""])[:4]
        if not status:
            problems.append("frame %s: not decoded as SCTP" % frame)
            continue
        stats["sctp"] += 1
        for c in chunks.split(","):
            if c:
                stats["chunks"][c] = stats["chunks"].get(c, 0) + 1
        if status == "0":
            problems.append("frame %s: bad CRC32c (%s)" % (frame, csum))
        elif status != "1":
            problems.append("frame %s: checksum not verified (status %s)" % (frame, status))
        if csum in ("0x00000000", "0"):
            problems.append("frame %s: zero checksum" % frame)
    bad = tshark_fields(
        pcap, sctp_ports,
        "(%s) and (_ws.malformed or _ws.expert.severity == error or sctp.checksum_bad.expert)"
        % ports_filter,
        ["frame.number", "_ws.col.Info", "_ws.expert.message"])
    for row in bad:
        frame, info, expert = (row.split("|") + ["", ""])[:3]
        info = info if len(info) <= 50 else info[:47] + "..."
        problems.append("frame %s: malformed/expert error: %s [%s]" % (frame, expert, info))
    if stats["sctp"] == 0:
        problems.append("no SCTP packets captured")
    if problems:
        uniq = list(dict.fromkeys(problems))
        more = "" if len(uniq) <= 3 else " (+%d more)" % (len(uniq) - 3)
        return False, "; ".join(uniq[:3]) + more, stats
    return True, "%d SCTP packets ok" % stats["sctp"], stats


def chunk_summary(stats):
    names = {"0": "DATA", "1": "INIT", "2": "INIT_ACK", "3": "SACK", "4": "HB", "5": "HB_ACK",
             "6": "ABORT", "7": "SHUTDOWN", "8": "SHUTDOWN_ACK", "9": "ERROR", "10": "COOKIE_ECHO",
             "11": "COOKIE_ACK", "14": "SHUTDOWN_COMPLETE", "64": "I_DATA", "130": "RE_CONFIG",
             "192": "FORWARD_TSN"}
    return " ".join("%s=%d" % (names.get(k, k), v)
                    for k, v in sorted(stats["chunks"].items(), key=lambda kv: int(kv[0])))


# --------------------------------------------------------------------------- scenarios


class Failure(Exception):
    pass


class Ctx:
    def __init__(self, args, name, workdir):
        self.args = args
        self.name = name
        self.workdir = workdir
        self.procs = []
        self.notes = []
        self.deadline = time.monotonic() + args.scenario_timeout
        self.capture = None  # the scenario's Capture, for checks of its own
        self.udp = []  # UDP ports handed to the scenario up front
        self.pool = []  # spare UDP ports, captured too, handed out by take_port()
        self.taken = []

    def finished_capture(self):
        """Stops the capture (its end is then final) and returns its path; None without one."""
        if not self.capture:
            return None
        self.capture.stop()
        return self.capture.path

    def take_port(self):
        if not self.pool:
            raise Failure("scenario used more UDP ports than were reserved")
        port = self.pool.pop(0)
        self.taken.append(port)
        return port

    def sctp_ports(self):
        return sorted(set(self.udp + self.taken))

    def left(self, cap=None):
        left = max(0.5, self.deadline - time.monotonic())
        return min(left, cap) if cap else left

    def spawn(self, name, argv, stdin_data=None):
        p = Proc(name, argv, self.workdir, stdin_data)
        self.procs.append(p)
        return p

    def peer(self, name, *argv):
        return self.spawn(name, [self.args.peer] + [str(a) for a in argv])

    def pion(self, name, *argv):
        if not self.args.pion:
            raise Failure("--pion is required for this scenario")
        return self.spawn(name, [self.args.pion] + [str(a) for a in argv])

    def sctpp_peer(self, name, *argv):
        if not self.args.sctpp_peer:
            raise Failure("--sctpp-peer is required for this scenario")
        return self.spawn(name, [self.args.sctpp_peer] + [str(a) for a in argv])

    def sctpp(self, name, *argv, stdin_data=None):
        if not self.args.sctpp:
            raise Failure("--sctpp is required for this scenario")
        return self.spawn(name, [self.args.sctpp] + [str(a) for a in argv], stdin_data)

    def expect_listening(self, proc, timeout=8.0):
        if not proc.wait_line("listening", self.left(timeout)):
            rc = proc.p.poll()
            raise Failure("%s never printed 'listening' (rc=%s): %s"
                          % (proc.name, rc, last_line(proc.stderr_text())))

    def expect_exit(self, proc, want, timeout=None, what=None):
        rc = proc.wait(self.left(timeout))
        if rc is None:
            raise Failure("%s did not exit in time" % (what or proc.name))
        ok = (rc == want) if want is not None else (rc != 0)
        if not ok:
            raise Failure("%s exit %d (expected %s): %s" % (
                what or proc.name, rc, want if want is not None else "non-zero",
                last_line(proc.stderr_text()) or last_line("\n".join(proc.lines))))
        return rc

    def peer_errors(self, proc):
        errs = [l for l in proc.stderr_text().splitlines() if ": error:" in l]
        if errs:
            raise Failure("%s: %s" % (proc.name, errs[0]))

    def cleanup(self):
        for p in self.procs:
            p.kill()


def last_line(text):
    lines = [l for l in text.splitlines() if l.strip() and "dangerous" not in l]
    return lines[-1].strip() if lines else ""


def pattern_line(n, seed):
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(alphabet[(i * 7 + seed + i // 62) % 62] for i in range(n))


# ---- self: usrsctp against usrsctp


def self_scenario(client_args, server_args, server_rc=0):
    def run(ctx):
        (u_srv, u_cli), port = ctx.udp, sctp_port()
        srv = ctx.peer("server", "server", "--port", port, "--udp-port", u_srv,
                       "--remote-udp-port", u_cli, "--timeout", 30, *server_args)
        ctx.expect_listening(srv)
        cli = ctx.peer("client", "client", "--connect", "127.0.0.1:%d" % port, "--udp-port", u_cli,
                       "--remote-udp-port", u_srv, *client_args)
        ctx.expect_exit(cli, 0)
        ctx.notes.append(last_line("\n".join(cli.lines)))
        ctx.expect_exit(srv, server_rc, timeout=8)
        ctx.peer_errors(srv)
    return run


# ---- A: sctpp cat -> usrsctp server


def a_cat_run(ctx, srv_port, u_srv, label, lines, stream=0, ppid=0, unordered=False,
              replies=None, extra=()):
    u_cat = ctx.take_port()
    argv = ["cat", "--connect", "127.0.0.1:%d" % srv_port, "--remote-udp-port", u_srv,
            "--udp-port", u_cat, "--stream", stream, "--ppid", ppid,
            "--replies", len(lines) if replies is None else replies]
    if unordered:
        argv.append("--unordered")
    argv += list(extra)
    data = "".join(l + "\n" for l in lines).encode()
    return ctx.sctpp("cat-" + label, *argv, stdin_data=data)


def check_cat_output(proc, lines, unordered):
    got = proc.lines
    if (sorted(got) if unordered else got) != (sorted(lines) if unordered else lines):
        short = [g[:40] + ("..(%d)" % len(g) if len(g) > 40 else "") for g in got[:4]]
        raise Failure("%s: output differs from input: %d lines in, %d out, first out %s"
                      % (proc.name, len(lines), len(got), short))


def check_server_saw(ctx, srv, stream, ppid, unordered, count):
    mode = "unordered" if unordered else "ordered"
    want = "stream=%d ppid=%d %s" % (stream, ppid, mode)
    seen = [l for l in srv.stderr_text().splitlines() if "echoed message" in l and want in l]
    if len(seen) < count:
        raise Failure("%s saw %d messages with %s, expected %d"
                      % (srv.name, len(seen), want, count))


def mixed_cat_runs():
    """The `sctpp cat` runs of the A-mixed scenarios: (label, stream, PPID, unordered,
    lines), one association each."""
    return [
        ("s0-ordered", 0, 0, False, ["hello", "world", "x", "line with spaces", "last"]),
        ("s3-unordered", 3, 51, True, ["u%d-%s" % (i, pattern_line(20 + i * 50, i))
                                       for i in range(10)]),
        ("s7-ppidmax", 7, 0xFFFFFFFF, False, ["p%d-%s" % (i, pattern_line(1500, i))
                                              for i in range(4)]),
        ("big", 0, 0, False, [pattern_line(BIG, 3), "after-big"]),
    ]


def scenario_a_mixed(ctx):
    u_srv, = ctx.udp
    port = sctp_port()
    srv = ctx.peer("server", "server", "--port", port, "--udp-port", u_srv, "--loop",
                   "--expect-end", "shutdown", "--timeout", 60)
    ctx.expect_listening(srv)
    runs = mixed_cat_runs()
    for label, stream, ppid, unordered, lines in runs:
        cat = a_cat_run(ctx, port, u_srv, label, lines, stream, ppid, unordered)
        ctx.expect_exit(cat, 0, timeout=15, what="sctpp cat (%s)" % label)
        check_cat_output(cat, lines, unordered)
        check_server_saw(ctx, srv, stream, ppid, unordered, len(lines))
        ctx.peer_errors(srv)
    time.sleep(0.2)
    ctx.peer_errors(srv)


def scenario_a_peer_shutdown(ctx):
    u_srv, = ctx.udp
    port = sctp_port()
    srv = ctx.peer("server", "server", "--port", port, "--udp-port", u_srv, "--then", "shutdown",
                   "--after", 1, "--expect-end", "shutdown")
    ctx.expect_listening(srv)
    lines = ["only-line"]
    cat = a_cat_run(ctx, port, u_srv, "1", lines)
    ctx.expect_exit(cat, 0, timeout=15, what="sctpp cat")
    check_cat_output(cat, lines, False)
    ctx.expect_exit(srv, 0, timeout=5, what="usrsctp server")


def expect_cat_failure(ctx, cat):
    """`sctpp cat` must exit non-zero with its one-line error on stderr (design.md §3)."""
    ctx.expect_exit(cat, None, timeout=15, what="sctpp cat")
    err = [l for l in cat.stderr_text().splitlines() if l.strip()]
    if not err:
        raise Failure("sctpp cat exited non-zero without an error line on stderr")
    if len(err) > 1:
        ctx.notes.append("cat printed %d stderr lines (contract: one)" % len(err))
    ctx.notes.append("cat: " + err[-1][:80])


def scenario_a_peer_abort(ctx):
    u_srv, = ctx.udp
    port = sctp_port()
    srv = ctx.peer("server", "server", "--port", port, "--udp-port", u_srv, "--then", "abort",
                   "--after", 1)
    ctx.expect_listening(srv)
    # Two replies awaited for one line: cat is still waiting when the ABORT arrives.
    cat = a_cat_run(ctx, port, u_srv, "1", ["abort-me"], replies=2)
    expect_cat_failure(ctx, cat)
    ctx.expect_exit(srv, 0, timeout=5, what="usrsctp server")


# ---- B: usrsctp client -> sctpp echo


def start_echo(ctx, *extra):
    u_echo = ctx.udp[0]
    port = sctp_port()
    echo = ctx.sctpp("echo", "echo", "--listen", "127.0.0.1:%d" % port, "--udp-port", u_echo,
                     *extra)
    ctx.expect_listening(echo)
    return echo, port, u_echo


def b_client(ctx, label, port, u_echo, *argv):
    u_cli = ctx.take_port()
    return ctx.peer("client-" + label, "client", "--connect", "127.0.0.1:%d" % port,
                    "--udp-port", u_cli, "--remote-udp-port", u_echo, "--timeout", 15, *argv)


def stop_echo(ctx, echo):
    if not echo.alive():
        raise Failure("sctpp echo died (rc=%s): %s" % (echo.p.returncode,
                                                        last_line(echo.stderr_text())))
    echo.p.send_signal(signal.SIGTERM)
    ctx.expect_exit(echo, 0, timeout=8, what="sctpp echo after SIGTERM")


def scenario_b_mixed(ctx):
    echo, port, u_echo = start_echo(ctx)
    cli = b_client(ctx, "mixed", port, u_echo, "--builtin", "mixed", "--then", "shutdown")
    ctx.expect_exit(cli, 0, what="usrsctp client")
    ctx.notes.append(last_line("\n".join(cli.lines)))
    stop_echo(ctx, echo)


def scenario_b_one_to_many(ctx):
    # One-to-many on both sides: a usrsctp SOCK_SEQPACKET client against
    # `sctpp echo --one-to-many` (one PacketSocket for every association).
    echo, port, u_echo = start_echo(ctx, "--one-to-many")
    cli = b_client(ctx, "1tom", port, u_echo, "--builtin", "mixed", "--then", "shutdown",
                   "--seqpacket")
    ctx.expect_exit(cli, 0, what="usrsctp one-to-many client")
    ctx.notes.append(last_line("\n".join(cli.lines)))
    stop_echo(ctx, echo)


def scenario_a_one_to_many(ctx):
    # One-to-many on both sides: sctpp's C API example client (SOCK_SEQPACKET,
    # implicit setup, 4 streams, SCTP_EOF) against a usrsctp SOCK_SEQPACKET server.
    if not ctx.args.c_client:
        raise Failure("--c-client (examples/sctp_echo_client) is required for this scenario")
    u_srv, = ctx.udp
    port = sctp_port()
    srv = ctx.peer("server", "server", "--port", port, "--udp-port", u_srv, "--seqpacket",
                   "--expect-end", "shutdown", "--timeout", 30)
    ctx.expect_listening(srv)
    u_cli = ctx.take_port()
    cli = ctx.spawn("c-client", ["env", "SCTPP_UDP_PORT=%s" % u_cli,
                                 "SCTPP_REMOTE_UDP_PORT=%s" % u_srv, ctx.args.c_client,
                                 "127.0.0.1", str(port)])
    ctx.expect_exit(cli, 0, timeout=15, what="sctpp C one-to-many client")
    ctx.notes.append(last_line("\n".join(cli.lines)) if cli.lines else "client ok")
    ctx.expect_exit(srv, 0, timeout=10, what="usrsctp one-to-many server")


def scenario_b_client_abort(ctx):
    echo, port, u_echo = start_echo(ctx)
    cli = b_client(ctx, "abort", port, u_echo, "--builtin", "mixed", "--then", "abort")
    ctx.expect_exit(cli, 0, what="usrsctp client (abort)")
    time.sleep(0.5)
    if not echo.alive():
        raise Failure("sctpp echo died after the client's ABORT (rc=%s)" % echo.p.returncode)
    cli2 = b_client(ctx, "after-abort", port, u_echo, "--builtin", "mixed", "--then", "shutdown")
    ctx.expect_exit(cli2, 0, what="second usrsctp client after the ABORT")
    stop_echo(ctx, echo)


def scenario_b_server_shutdown(ctx):
    echo, port, u_echo = start_echo(ctx)
    cli = b_client(ctx, "hold", port, u_echo, "--builtin", "single", "--hold", 10)
    if not cli.wait_line("holding", ctx.left(10)):
        raise Failure("usrsctp client never reached 'holding': " + last_line(cli.stderr_text()))
    echo.p.send_signal(signal.SIGTERM)
    ctx.expect_exit(cli, 0, timeout=10, what="usrsctp client (expects graceful shutdown)")
    ctx.expect_exit(echo, 0, timeout=8, what="sctpp echo after SIGTERM")


# ---- the sctpp side starts the ABORT / the shutdown (sctpp_peer, on the C++ API)

ABORT_REASON = "sctpp-interop says goodbye"


def peer_abort_causes(proc):
    """The 'event: ABORT ... cause=N info=...' lines a usrsctp_peer logged."""
    return [l.split("event: ", 1)[1] for l in proc.stderr_text().splitlines()
            if "event: ABORT" in l]


def sctpp_peer_client(ctx, port, u_srv, then):
    """sctpp_peer client to the server at SCTP `port`, UDP `u_srv`: its echoes must check out,
    then it aborts or shuts down (`then`) and exits 0."""
    argv = ["client", "--connect", "127.0.0.1:%d" % port, "--remote-udp-port", u_srv,
            "--udp-port", ctx.take_port(), "--then", then]
    if then == "abort":
        argv += ["--reason", ABORT_REASON]
    cli = ctx.sctpp_peer("sctpp-client", *argv)
    ctx.expect_exit(cli, 0, timeout=15, what="sctpp_peer client (--then %s)" % then)
    if not any(l.startswith("echoes ok") for l in cli.lines):
        raise Failure("sctpp_peer client did not report 'echoes ok'")
    return cli


def a_sctpp_client(ctx, then, *extra):
    """usrsctp server (extra args) against sctpp_peer client --then THEN; both must exit 0."""
    u_srv, = ctx.udp
    port = sctp_port()
    srv = ctx.peer("server", "server", "--port", port, "--udp-port", u_srv, *extra)
    ctx.expect_listening(srv)
    cli = sctpp_peer_client(ctx, port, u_srv, then)
    ctx.expect_exit(srv, 0, timeout=5, what="usrsctp server")
    ctx.peer_errors(srv)
    # Every message of sctpp_peer's set must have reached usrsctp on its stream/PPID/flag.
    for stream, ppid, unordered, count in [(0, 0, False, 4), (1, 51, False, 4),
                                           (2, 0xFFFFFFFF, True, 4), (3, None, False, 4)]:
        mode = "unordered" if unordered else "ordered"
        want = "stream=%d " % stream + ("" if ppid is None else "ppid=%d " % ppid)
        seen = [l for l in srv.stderr_text().splitlines()
                if "echoed message" in l and want in l]
        if len(seen) < count:
            raise Failure("usrsctp server saw %d messages with %s(%s), expected at least %d"
                          % (len(seen), want, mode, count))
    ctx.notes.append(last_line("\n".join(cli.lines)))
    return srv, cli


def scenario_a_sctpp_abort(ctx):
    srv, _ = a_sctpp_client(ctx, "abort", "--expect-end", "abort",
                            "--expect-abort-reason", ABORT_REASON)
    causes = peer_abort_causes(srv)
    ctx.notes.append("usrsctp saw " + (causes[0] if causes else "no ABORT cause"))


def scenario_a_sctpp_shutdown(ctx):
    a_sctpp_client(ctx, "shutdown", "--expect-end", "shutdown")


def b_sctpp_server(ctx, then, after, client_args):
    """sctpp_peer server --then THEN --after N against a usrsctp client; both must exit 0."""
    u_srv = ctx.udp[0]
    port = sctp_port()
    argv = ["server", "--listen", "127.0.0.1:%d" % port, "--udp-port", u_srv, "--then", then,
            "--after", after]
    if then == "abort":
        argv += ["--reason", ABORT_REASON]
    srv = ctx.sctpp_peer("sctpp-server", *argv)
    ctx.expect_listening(srv)
    cli = b_client(ctx, then, port, u_srv, *client_args)
    ctx.expect_exit(cli, 0, what="usrsctp client")
    ctx.expect_exit(srv, 0, timeout=8, what="sctpp_peer server (--then %s)" % then)
    ctx.notes.append(last_line("\n".join(cli.lines)))
    return srv, cli


def scenario_b_sctpp_abort(ctx):
    # ABORT after 10 of the 35 'mixed' messages: the client is still sending (and the
    # 100 kB / 300 kB messages may be in flight) when it arrives.
    _, cli = b_sctpp_server(ctx, "abort", 10, ["--builtin", "mixed", "--expect-peer", "abort",
                                               "--expect-abort-reason", ABORT_REASON])
    causes = peer_abort_causes(cli)
    ctx.notes.append("usrsctp saw " + (causes[0] if causes else "no ABORT cause"))


def scenario_b_sctpp_shutdown(ctx):
    # Graceful shutdown right after the 35th echo was queued: the echoes still in flight
    # must be delivered first (SHUTDOWN-PENDING), then SHUTDOWN / SHUTDOWN-ACK / COMPLETE.
    b_sctpp_server(ctx, "shutdown", 35, ["--builtin", "mixed", "--hold", 10])


# ---- pion/sctp (Go, the Pion WebRTC stack's SCTP) instead of usrsctp: pion_peer
#
# pion's client always uses SCTP port 5000 on both ends (pion.Client: "Spec??"), so sctpp
# serves port 5000 for it; as a server pion answers on whatever port the INIT came to. One
# pion server process serves one association. pion_peer hides the INIT parameters pion 1.8.6
# cannot parse (Supported Address Types in sctpp's INIT) and logs each time it does: see
# tests/interop/README.md.

PION_SCTP_PORT = 5000


def pion_server(ctx, label, *extra):
    u_srv = ctx.take_port()
    srv = ctx.pion("pion-server-" + label, "server", "--listen", "127.0.0.1:%d" % u_srv,
                   "--timeout", int(ctx.left()) + 1, *extra)
    ctx.expect_listening(srv)
    return srv, u_srv


def pion_client(ctx, label, u_sctpp, *argv):
    u_cli = ctx.take_port()
    return ctx.pion("pion-client-" + label, "client", "--connect", "127.0.0.1:%d" % u_sctpp,
                    "--udp-port", u_cli, "--timeout", int(ctx.left()) + 1, *argv)


def pion_echo(ctx):
    echo = ctx.sctpp("echo", "echo", "--listen", "127.0.0.1:%d" % PION_SCTP_PORT,
                     "--udp-port", ctx.udp[0])
    ctx.expect_listening(echo)
    return echo


def pion_note(ctx, proc):
    lines = [l for l in proc.lines if l.startswith("echoes ok") or l.startswith("peer aborted")]
    if lines:
        ctx.notes.append(lines[-1])


def pion_b_session(ctx, label, what, *argv):
    """A pion client with `argv` against a fresh `sctpp echo`, which must succeed; returns
    both, the echo still running."""
    echo = pion_echo(ctx)
    cli = pion_client(ctx, label, ctx.udp[0], *argv)
    ctx.expect_exit(cli, 0, what=what)
    pion_note(ctx, cli)
    return echo, cli


def pion_b_serves_again(ctx, echo, builtin):
    """After a pion client's ABORT, `sctpp echo` is still up and serves a second pion client
    (`--builtin builtin`) to a graceful end."""
    time.sleep(0.3)
    if not echo.alive():
        raise Failure("sctpp echo died after pion's ABORT (rc=%s)" % echo.p.returncode)
    cli2 = pion_client(ctx, "after-abort", ctx.udp[0], "--builtin", builtin, "--then",
                       "shutdown")
    ctx.expect_exit(cli2, 0, what="second pion client after the ABORT")
    pion_note(ctx, cli2)


def pion_b_builtin(builtin, then="shutdown"):
    """pion client --builtin NAME against `sctpp echo`; then SIGTERM: echo exits 0."""
    def run(ctx):
        echo, _ = pion_b_session(ctx, builtin, "pion client (--builtin %s)" % builtin,
                                 "--builtin", builtin, "--then", then)
        stop_echo(ctx, echo)
    return run


def scenario_pion_b_loss(ctx):
    ctx.deadline += LOSS_EXTRA_TIME
    seed = loss_seed()
    echo, _ = pion_b_session(ctx, "loss", "pion client (--loss %s --seed %d)" % (LOSS_RATE, seed),
                             "--builtin", "mixed", "--then", "shutdown", "--loss", LOSS_RATE,
                             "--seed", seed)
    ctx.notes.append("--seed %d" % seed)
    stop_echo(ctx, echo)


def scenario_pion_b_stream_close(ctx):
    # pion's Stream.Close sends RE-CONFIG (RFC 6525) although sctpp never said it supports
    # it: sctpp must skip the chunk without a report (type 130, upper bits 10: RFC 9260
    # §3.2) and the association must carry on to a graceful end.
    echo, cli = pion_b_session(ctx, "close", "pion client (--close-streams)", "--builtin",
                               "small", "--close-streams", "--then", "shutdown")
    errors = [l for l in cli.stderr_text().splitlines() if "event: ERROR" in l]
    if errors:
        raise Failure("sctpp answered with an ERROR: " + errors[0])
    stop_echo(ctx, echo)
    pcap = ctx.finished_capture()
    if pcap and not tshark_fields(pcap, ctx.sctp_ports(), "sctp.chunk_type == 130",
                                  ["frame.number"]):
        raise Failure("pion sent no RE-CONFIG chunk: the scenario tested nothing")


def scenario_pion_b_abort_midway(ctx):
    # pion ABORTs after 5 echoes, with large messages in flight both ways; echo must drop
    # the association and serve the next client.
    echo, _ = pion_b_session(ctx, "abort5", "pion client (--abort-after 5)", "--builtin",
                             "mixed", "--abort-after", 5)
    pion_b_serves_again(ctx, echo, "mixed")
    stop_echo(ctx, echo)


def scenario_pion_b_shutdown_early(ctx):
    # pion shuts down right after queueing its messages: SHUTDOWN reaches sctpp while its
    # echoes are still outstanding, which it must deliver before its SHUTDOWN ACK (RFC 9260
    # §9.2). pion's SHUTDOWN also carries pion's own cumulative TSN ack point instead of
    # the last TSN it received: sctpp must not take it as an acknowledgement.
    echo, _ = pion_b_session(ctx, "early", "pion client (--then shutdown-now)", "--builtin",
                             "mixed", "--then", "shutdown-now")
    stop_echo(ctx, echo)


def scenario_pion_b_concurrent(ctx):
    # Four pion clients at once, each from its own loopback address (pion's SCTP port is
    # always 5000, so the address is what makes them four SCTP endpoints): four
    # associations on one `sctpp echo`, interleaved.
    echo = pion_echo(ctx)
    clients = [pion_client(ctx, "c%d" % i, ctx.udp[0], "--builtin", "mixed", "--then",
                           "shutdown", "--bind-ip", "127.0.0.%d" % (i + 2)) for i in range(4)]
    for cli in clients:
        ctx.expect_exit(cli, 0, what=cli.name)
    ups = [l for l in echo.stderr_text().splitlines() if " up: peer 127.0.0." in l]
    if len(ups) != 4:
        raise Failure("sctpp echo saw %d associations, expected 4" % len(ups))
    ctx.notes.append("4 associations, each " + clients[0].lines[0].split(" in ")[0]
                     if clients[0].lines else "4 associations")
    stop_echo(ctx, echo)


def scenario_pion_b_client_abort(ctx):
    # pion ABORTs after its exchange; echo must stay up and serve the next pion client (the
    # same SCTP port pair and IP: only the UDP port differs).
    echo = pion_echo(ctx)
    cli = pion_client(ctx, "abort", ctx.udp[0], "--builtin", "mixed", "--then", "abort",
                      "--reason", ABORT_REASON)
    ctx.expect_exit(cli, 0, what="pion client (abort)")
    pion_b_serves_again(ctx, echo, "small")
    if "reason: " + ABORT_REASON not in echo.stderr_text() and ABORT_REASON not in \
            echo.stderr_text():
        ctx.notes.append("echo did not log the ABORT reason")
    stop_echo(ctx, echo)


def scenario_pion_b_server_shutdown(ctx):
    # sctpp starts the graceful shutdown (SIGTERM to echo) while pion holds an idle
    # association; pion must see SHUTDOWN / SHUTDOWN ACK / SHUTDOWN COMPLETE.
    echo = pion_echo(ctx)
    cli = pion_client(ctx, "hold", ctx.udp[0], "--builtin", "small", "--then", "hold",
                      "--hold", 10, "--expect-peer", "shutdown")
    if not cli.wait_line("holding", ctx.left(10)):
        raise Failure("pion client never reached 'holding': " + last_line(cli.stderr_text()))
    echo.p.send_signal(signal.SIGTERM)
    ctx.expect_exit(cli, 0, timeout=10, what="pion client (expects a graceful shutdown)")
    ctx.expect_exit(echo, 0, timeout=8, what="sctpp echo after SIGTERM")


def scenario_pion_a_mixed(ctx):
    # Four `sctpp cat` runs, each against its own pion server (one association each).
    runs = mixed_cat_runs()
    for label, stream, ppid, unordered, lines in runs:
        srv, u_srv = pion_server(ctx, label, "--expect-end", "shutdown")
        cat = a_cat_run(ctx, PION_SCTP_PORT, u_srv, label, lines, stream, ppid, unordered)
        ctx.expect_exit(cat, 0, timeout=15, what="sctpp cat (%s)" % label)
        check_cat_output(cat, lines, unordered)
        ctx.expect_exit(srv, 0, timeout=5, what="pion server (%s)" % label)
        check_server_saw(ctx, srv, stream, ppid, unordered, len(lines))


def scenario_pion_a_frag(ctx):
    # Lines around both fragmentation points (pion: 1200 bytes of user data per DATA chunk;
    # sctpp: 1444 at its default path MTU 1500 over UDP/IPv4), ordered then unordered.
    sizes = [n + d for n in (1200, 1444, 2400, 2888, 3600, 4332) for d in (-2, -1, 0, 1, 2)]
    lines = ["f%d-%s" % (i, pattern_line(max(0, n - len("f%d-" % i)), i))
             for i, n in enumerate(sizes)]
    for label, unordered in (("frag", False), ("frag-u", True)):
        srv, u_srv = pion_server(ctx, label, "--expect-end", "shutdown")
        cat = a_cat_run(ctx, PION_SCTP_PORT, u_srv, label, lines, 5, 53, unordered)
        ctx.expect_exit(cat, 0, timeout=15, what="sctpp cat (%s)" % label)
        check_cat_output(cat, lines, unordered)
        ctx.expect_exit(srv, 0, timeout=5, what="pion server (%s)" % label)
        check_server_saw(ctx, srv, 5, 53, unordered, len(lines))


def check_peer_window(ctx, data_port, sack_port):
    """From the capture: the DATA sender on data_port never sent new data while what it had
    outstanding already filled the window the last SACK from sack_port advertised (RFC 9260
    §6.1 A; one packet of slack for a SACK on its way when the DATA left). Returns the
    number of SACKs that advertised a zero window (None without a capture)."""
    pcap = ctx.finished_capture()
    if not pcap:
        return None
    rows = tshark_fields(pcap, ctx.sctp_ports(),
                         "sctp.data_tsn_raw or sctp.sack_cumulative_tsn_ack_raw",
                         ["udp.srcport", "sctp.data_tsn_raw", "sctp.chunk_length",
                          "sctp.chunk_type", "sctp.sack_cumulative_tsn_ack_raw",
                          "sctp.sack_a_rwnd"])
    outstanding = {}  # TSN -> bytes
    cum = rwnd = None
    zero = 0
    for row in rows:
        src, tsns, lengths, types, cums, rwnds = (row.split("|") + [""] * 6)[:6]
        if int(src) == data_port and tsns:
            data_lengths = [int(l) - 16 for l, t in zip(lengths.split(","), types.split(","))
                            if t == "0"]
            for tsn, length in zip(tsns.split(","), data_lengths):
                tsn = int(tsn)
                new = tsn not in outstanding and (cum is None or (tsn - cum) % 2**32 < 2**31)
                before = sum(outstanding.values())
                if new and rwnd is not None and before > 0 and before >= rwnd + 1500:
                    raise Failure("TSN %d sent with %d bytes outstanding, peer window %d"
                                  % (tsn, before, rwnd))
                outstanding[tsn] = length
        elif int(src) == sack_port and cums:
            cum, rwnd = int(cums.split(",")[-1]), int(rwnds.split(",")[-1])
            zero += rwnd == 0
            for tsn in [t for t in outstanding if (cum - t) % 2**32 < 2**31]:
                del outstanding[tsn]
    return zero


def scenario_pion_a_window(ctx):
    # A small, slowly read receive buffer at pion (16 kB, 2 ms per message): sctpp's sends
    # are held by pion's advertised window, which the capture shows it never overran.
    lines = ["w%d-%s" % (i, pattern_line(1000, i)) for i in range(400)]
    srv, u_srv = pion_server(ctx, "window", "--expect-end", "shutdown", "--quiet", "--rwnd",
                             16384, "--read-delay", 0.002)
    cat = a_cat_run(ctx, PION_SCTP_PORT, u_srv, "window", lines, 4, 9, False)
    ctx.expect_exit(cat, 0, timeout=18, what="sctpp cat (window)")
    check_cat_output(cat, lines, False)
    ctx.expect_exit(srv, 0, timeout=5, what="pion server")
    u_cat = ctx.taken[-1]
    zero = check_peer_window(ctx, u_cat, u_srv)
    ctx.notes.append("window respected (%d zero-window SACKs)" % zero)


def loss_seed():
    """pion_peer --seed of the loss scenarios: SCTPP_INTEROP_SEED (to replay a run), else
    random (each run drops other packets); the scenario prints it."""
    return int(os.environ.get("SCTPP_INTEROP_SEED") or random.randint(1, 1 << 30))


# Loss costs whole RTOs (1 s at least, doubled when the chunk timed for RTT is lost
# again): the loss scenarios usually take 4-8 s, and get LOSS_EXTRA_TIME more than the
# others for the rare run with a chain of backed-off timeouts.
LOSS_RATE = 0.015
LOSS_EXTRA_TIME = 15.0


def scenario_pion_a_loss(ctx):
    # pion drops 1.5% of the DATA and SACK packets each way: sctpp retransmits (fast
    # retransmit from pion's Gap Ack Blocks, or T3-rtx) and repairs pion's losses.
    ctx.deadline += LOSS_EXTRA_TIME
    lines = ["l%d-%s" % (i, pattern_line((i * 397) % 6000, i)) for i in range(120)]
    seed = loss_seed()
    ctx.notes.append("--seed %d" % seed)
    srv, u_srv = pion_server(ctx, "loss", "--expect-end", "shutdown", "--quiet", "--loss",
                             LOSS_RATE, "--seed", seed)
    cat = a_cat_run(ctx, PION_SCTP_PORT, u_srv, "loss", lines, 2, 7, False)
    ctx.expect_exit(cat, 0, what="sctpp cat (loss)")
    check_cat_output(cat, lines, False)
    ctx.expect_exit(srv, 0, timeout=5, what="pion server")
    ctx.notes += [l.split("pion_peer: ", 1)[-1] for l in srv.stderr_text().splitlines()
                  if "loss: dropped" in l]


def scenario_pion_a_many(ctx):
    # 4000 lines of 1 kB in one go: pion's receive window (1 MiB) and sctpp's must pace it.
    lines = ["m%d-%s" % (i, pattern_line(1000, i)) for i in range(4000)]
    srv, u_srv = pion_server(ctx, "many", "--expect-end", "shutdown", "--quiet")
    cat = a_cat_run(ctx, PION_SCTP_PORT, u_srv, "many", lines, 2, 51, True)
    ctx.expect_exit(cat, 0, timeout=18, what="sctpp cat (many)")
    check_cat_output(cat, lines, True)
    ctx.expect_exit(srv, 0, timeout=5, what="pion server")


def scenario_pion_a_peer_shutdown(ctx):
    srv, u_srv = pion_server(ctx, "1", "--then", "shutdown", "--after", 1, "--expect-end",
                             "shutdown")
    lines = ["only-line"]
    cat = a_cat_run(ctx, PION_SCTP_PORT, u_srv, "1", lines)
    ctx.expect_exit(cat, 0, timeout=15, what="sctpp cat")
    check_cat_output(cat, lines, False)
    ctx.expect_exit(srv, 0, timeout=5, what="pion server")


def scenario_pion_a_peer_abort(ctx):
    srv, u_srv = pion_server(ctx, "1", "--then", "abort", "--after", 1, "--reason",
                             ABORT_REASON)
    cat = a_cat_run(ctx, PION_SCTP_PORT, u_srv, "1", ["abort-me"], replies=2)
    expect_cat_failure(ctx, cat)
    ctx.expect_exit(srv, 0, timeout=5, what="pion server")


def pion_a_sctpp_client(ctx, then):
    srv, u_srv = pion_server(ctx, "peer", "--expect-end", "abort" if then == "abort" else
                             "shutdown", *(["--expect-abort-reason", ABORT_REASON]
                                           if then == "abort" else []))
    cli = sctpp_peer_client(ctx, PION_SCTP_PORT, u_srv, then)
    ctx.expect_exit(srv, 0, timeout=5, what="pion server")
    ctx.notes.append(last_line("\n".join(cli.lines)))


def pion_b_sctpp_server(ctx, then, after, client_args):
    argv = ["server", "--listen", "127.0.0.1:%d" % PION_SCTP_PORT, "--udp-port", ctx.udp[0],
            "--then", then, "--after", after]
    if then == "abort":
        argv += ["--reason", ABORT_REASON]
    srv = ctx.sctpp_peer("sctpp-server", *argv)
    ctx.expect_listening(srv)
    cli = pion_client(ctx, then, ctx.udp[0], *client_args)
    ctx.expect_exit(cli, 0, what="pion client")
    ctx.expect_exit(srv, 0, timeout=8, what="sctpp_peer server (--then %s)" % then)
    pion_note(ctx, cli)


def scenario_pion_b_sctpp_abort(ctx):
    pion_b_sctpp_server(ctx, "abort", 10, ["--builtin", "mixed", "--then", "hold",
                                           "--expect-peer", "abort",
                                           "--expect-abort-reason", ABORT_REASON])


def scenario_pion_b_sctpp_shutdown(ctx):
    # sctpp shuts down right after queueing the 35th echo: every echo must still arrive.
    pion_b_sctpp_server(ctx, "shutdown", 35, ["--builtin", "mixed", "--then", "hold",
                                              "--hold", 10, "--expect-peer", "shutdown"])


# ---- extra scenarios from a JSON list


def extra_scenario(spec):
    """spec: {"name", "direction": "A"|"B", "command": [...], "expect_rc": 0 (or "nonzero"),
    "peer_args": [...], "stdin": "text", "timeout": s}. A: a usrsctp server is started with
    peer_args and the command is run against it. B: the command is the server (must print
    'listening'), a usrsctp client is run with peer_args against it and must exit 0.
    Placeholders in command/peer_args: {sctpp} {peer} {port} {peer_udp} {local_udp}."""
    def run(ctx):
        u_peer, u_local = ctx.udp
        port = sctp_port()
        subst = {"sctpp": ctx.args.sctpp or "", "peer": ctx.args.peer, "port": port,
                 "peer_udp": u_peer, "local_udp": u_local}
        cmd = [str(a).format(**subst) for a in spec["command"]]
        pargs = [str(a).format(**subst) for a in spec.get("peer_args", [])]
        want = spec.get("expect_rc", 0)
        want = None if want == "nonzero" else int(want)
        tmo = float(spec.get("timeout", 15))
        stdin = spec.get("stdin")
        if spec.get("direction", "A") == "A":
            srv = ctx.peer("server", "server", "--port", port, "--udp-port", u_peer, *pargs)
            ctx.expect_listening(srv)
            prog = ctx.spawn("command", cmd, stdin.encode() if stdin is not None else None)
            ctx.expect_exit(prog, want, timeout=tmo, what=spec["name"])
            ctx.expect_exit(srv, 0, timeout=5, what="usrsctp server")
            ctx.peer_errors(srv)
        else:
            srv = ctx.spawn("command", cmd)
            ctx.expect_listening(srv)
            cli = ctx.peer("client", "client", "--connect", "127.0.0.1:%d" % port, "--udp-port",
                           u_peer, "--remote-udp-port", u_local, *pargs)
            ctx.expect_exit(cli, 0, timeout=tmo, what="usrsctp client")
            if srv.alive():
                srv.p.send_signal(signal.SIGTERM)
            ctx.expect_exit(srv, want if want is not None else 0, timeout=8, what=spec["name"])
    return run


# name -> (direction, number of UDP ports allocated up front, function, needs): needs is
# False (usrsctp only), True (the sctpp tool), "sctpp_peer" (the tool and sctpp_peer),
# "pion" (the tool and pion_peer, no usrsctp) or "pion+sctpp_peer"; see needed_tools().
SCENARIOS = {
    "self-mixed": ("self", 2, self_scenario(
        ["--builtin", "mixed", "--then", "shutdown"], ["--expect-end", "shutdown"]), False),
    "self-client-abort": ("self", 2, self_scenario(
        ["--builtin", "mixed", "--then", "abort"], ["--expect-end", "abort"]), False),
    "self-server-shutdown": ("self", 2, self_scenario(
        ["--builtin", "single", "--hold", "10"],
        ["--then", "shutdown", "--after", "1", "--expect-end", "shutdown"]), False),
    "self-server-abort": ("self", 2, self_scenario(
        ["--builtin", "single", "--expect-peer", "abort"],
        ["--then", "abort", "--after", "1"]), False),
    "self-seqpacket": ("self", 2, self_scenario(
        ["--builtin", "mixed", "--then", "shutdown", "--seqpacket"],
        ["--seqpacket", "--expect-end", "shutdown"]), False),
    "A-mixed": ("A", 1, scenario_a_mixed, True),
    "A-peer-shutdown": ("A", 1, scenario_a_peer_shutdown, True),
    "A-peer-abort": ("A", 1, scenario_a_peer_abort, True),
    "B-mixed": ("B", 1, scenario_b_mixed, True),
    "B-client-abort": ("B", 1, scenario_b_client_abort, True),
    "B-one-to-many": ("B", 1, scenario_b_one_to_many, True),
    "A-one-to-many": ("A", 1, scenario_a_one_to_many, True),
    "B-server-shutdown": ("B", 1, scenario_b_server_shutdown, True),
    "A-sctpp-abort": ("A", 1, scenario_a_sctpp_abort, "sctpp_peer"),
    "A-sctpp-shutdown": ("A", 1, scenario_a_sctpp_shutdown, "sctpp_peer"),
    "B-sctpp-abort": ("B", 1, scenario_b_sctpp_abort, "sctpp_peer"),
    "B-sctpp-shutdown": ("B", 1, scenario_b_sctpp_shutdown, "sctpp_peer"),
    # pion/sctp instead of usrsctp (--pion): PA = sctpp client -> pion server,
    # PB = pion client -> sctpp server.
    "PA-mixed": ("PA", 1, scenario_pion_a_mixed, "pion"),
    "PA-frag": ("PA", 1, scenario_pion_a_frag, "pion"),
    "PA-window": ("PA", 1, scenario_pion_a_window, "pion"),
    "PA-loss": ("PA", 1, scenario_pion_a_loss, "pion"),
    "PA-many": ("PA", 1, scenario_pion_a_many, "pion"),
    "PA-peer-shutdown": ("PA", 1, scenario_pion_a_peer_shutdown, "pion"),
    "PA-peer-abort": ("PA", 1, scenario_pion_a_peer_abort, "pion"),
    "PA-sctpp-abort": ("PA", 1, lambda ctx: pion_a_sctpp_client(ctx, "abort"),
                       "pion+sctpp_peer"),
    "PA-sctpp-shutdown": ("PA", 1, lambda ctx: pion_a_sctpp_client(ctx, "shutdown"),
                          "pion+sctpp_peer"),
    "PB-mixed": ("PB", 1, pion_b_builtin("mixed"), "pion"),
    "PB-frag": ("PB", 1, pion_b_builtin("frag"), "pion"),
    "PB-many": ("PB", 1, pion_b_builtin("many"), "pion"),
    "PB-unordered": ("PB", 1, pion_b_builtin("unordered"), "pion"),
    "PB-streams": ("PB", 1, pion_b_builtin("streams"), "pion"),
    "PB-loss": ("PB", 1, scenario_pion_b_loss, "pion"),
    "PB-stream-close": ("PB", 1, scenario_pion_b_stream_close, "pion"),
    "PB-abort-midway": ("PB", 1, scenario_pion_b_abort_midway, "pion"),
    "PB-shutdown-early": ("PB", 1, scenario_pion_b_shutdown_early, "pion"),
    "PB-concurrent": ("PB", 1, scenario_pion_b_concurrent, "pion"),
    "PB-client-abort": ("PB", 1, scenario_pion_b_client_abort, "pion"),
    "PB-server-shutdown": ("PB", 1, scenario_pion_b_server_shutdown, "pion"),
    "PB-sctpp-abort": ("PB", 1, scenario_pion_b_sctpp_abort, "pion+sctpp_peer"),
    "PB-sctpp-shutdown": ("PB", 1, scenario_pion_b_sctpp_shutdown, "pion+sctpp_peer"),
}
SELF = [n for n in SCENARIOS if n.startswith("self-")]
SCTPP = [n for n in SCENARIOS if not n.startswith("self-")]


def needed_tools(needs):
    """The command-line options (without --) a scenario's `needs` field asks for."""
    return {False: ["peer"], True: ["peer", "sctpp"],
            "sctpp_peer": ["peer", "sctpp", "sctpp_peer"], "pion": ["pion", "sctpp"],
            "pion+sctpp_peer": ["pion", "sctpp", "sctpp_peer"]}[needs]


def load_extra(path):
    with open(path) as f:
        specs = json.load(f)
    for spec in specs:
        SCENARIOS[spec["name"]] = (spec.get("direction", "A"), 2, extra_scenario(spec), True)
        SCTPP.append(spec["name"])


def run_scenario(args, name):
    direction, nports, fn, _ = SCENARIOS[name]
    workdir = tempfile.mkdtemp(prefix="sctpp-interop-%s-" % name)
    ctx = Ctx(args, name, workdir)
    ctx.udp = free_udp_ports(nports)
    ctx.pool = free_udp_ports(10)  # PA-mixed: four pion servers and four cat clients
    ok, reason = False, ""
    cap = None
    try:
        if not args.no_capture:
            cap = Capture(workdir, ctx.udp + ctx.pool, name)
            cap.start()
            ctx.capture = cap
        fn(ctx)
        ok, reason = True, "; ".join(n for n in ctx.notes if n)
    except Failure as e:
        reason = str(e)
    except Exception as e:  # noqa: BLE001 - report anything as a scenario failure
        reason = "%s: %s" % (type(e).__name__, e)
    finally:
        ctx.cleanup()
        if cap:
            cap.stop()
    if cap:
        try:
            c_ok, c_reason, stats = check_pcap(cap.path, ctx.sctp_ports())
            if args.verbose:
                log("  %s capture: %s" % (name, chunk_summary(stats)))
            if not c_ok:
                ok = False
                reason = ("capture: " + c_reason + ("; " + reason if reason else ""))
            else:
                reason = (reason + "; " if reason else "") + "capture " + c_reason
        except Exception as e:  # noqa: BLE001
            ok = False
            reason = "capture check failed: %s; %s" % (e, reason)
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        reason += " [logs: %s]" % workdir
    print("%-22s %-4s %s %s" % (name, direction, "PASS" if ok else "FAIL", reason), flush=True)
    return ok


# --------------------------------------------------------------------------- checker self-test


def read_pcap(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise RuntimeError("not a little-endian classic pcap file")
    linktype = struct.unpack("<I", data[20:24])[0]
    packets = []  # (offset of packet bytes, length)
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        packets.append((off + 16, incl))
        off += 16 + incl
    return data, linktype, packets


def sctp_offset(data, linktype, pkt_off, ports):
    """Offset of the SCTP common header in an Ethernet/IPv4/UDP packet on lo to/from ports."""
    l2 = {1: 14, 0: 4, 113: 16}.get(linktype)
    if l2 is None:
        raise RuntimeError("unsupported link type %d" % linktype)
    ip = pkt_off + l2
    if data[ip] >> 4 != 4 or data[ip + 9] != 17:
        return None
    udp = ip + (data[ip] & 0x0F) * 4
    sport, dport = struct.unpack(">HH", data[udp:udp + 4])
    if sport not in ports and dport not in ports:
        return None
    return udp + 8


def checker_selftest(args):
    """A clean usrsctp capture must pass; one flipped byte, one broken chunk length and an
    empty capture must each fail."""
    args.keep = True
    workdir = tempfile.mkdtemp(prefix="sctpp-interop-checker-")
    results = []
    try:
        ctx = Ctx(args, "checker", workdir)
        ctx.udp = free_udp_ports(2)
        cap = Capture(workdir, ctx.udp, "clean")
        try:
            cap.start()
            self_scenario(["--builtin", "small", "--then", "shutdown"], [])(ctx)
        finally:
            ctx.cleanup()
            cap.stop()
        ports = ctx.udp
        ok, reason, stats = check_pcap(cap.path, ports)
        results.append(("clean capture passes", ok, reason))

        data, linktype, packets = read_pcap(cap.path)
        sctp_pkts = [(o, n) for o, n in packets
                     if sctp_offset(data, linktype, o, ports) is not None]
        # 1. one flipped byte in the last DATA-bearing packet's payload: bad CRC32c
        o, n = max(sctp_pkts, key=lambda p: p[1])
        flipped = bytearray(data)
        flipped[o + n - 5] ^= 0x20
        p1 = os.path.join(workdir, "flipped.pcap")
        with open(p1, "wb") as f:
            f.write(flipped)
        ok, reason, _ = check_pcap(p1, ports)
        results.append(("flipped byte fails with bad CRC32c", not ok and "bad CRC32c" in reason,
                        reason))
        # 2. first chunk's length set beyond the packet: malformed (CRC fixed up to isolate it)
        o, n = sctp_pkts[0]
        s = sctp_offset(data, linktype, o, ports)
        broken = bytearray(data)
        broken[s + 12 + 2:s + 12 + 4] = struct.pack(">H", 0xFFF0)
        fix_crc(broken, s, o + n)
        p2 = os.path.join(workdir, "badlength.pcap")
        with open(p2, "wb") as f:
            f.write(broken)
        ok, reason, _ = check_pcap(p2, ports)
        results.append(("bad chunk length fails as malformed/expert error",
                        not ok and "malformed" in reason, reason))
        # 3. no SCTP packet at all
        p3 = os.path.join(workdir, "empty.pcap")
        with open(p3, "wb") as f:
            f.write(data[:24])
        ok, reason, _ = check_pcap(p3, ports)
        results.append(("empty capture fails", not ok and "no SCTP" in reason, reason))
    except Failure as e:
        results.append(("kit runs", False, str(e)))
    all_ok = all(r[1] for r in results)
    for what, ok, reason in results:
        print("%-50s %s %s" % (what, "PASS" if ok else "FAIL", reason), flush=True)
    if all_ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print("logs: " + workdir)
    return all_ok


def crc32c(buf):
    crc = 0xFFFFFFFF
    for b in buf:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def fix_crc(data, sctp_start, end):
    data[sctp_start + 8:sctp_start + 12] = b"\0\0\0\0"
    c = crc32c(bytes(data[sctp_start:end]))
    data[sctp_start + 8:sctp_start + 12] = struct.pack("<I", c)


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description="sctpp <-> usrsctp interoperability driver")
    ap.add_argument("--sctpp", help="path to the sctpp tool")
    ap.add_argument("--peer", help="path to usrsctp_peer")
    ap.add_argument("--pion", help="path to pion_peer (pion/sctp), for the PA-*/PB-* scenarios")
    ap.add_argument("--c-client", default=None,
                    help="examples/sctp_echo_client (sctpp's C API, one-to-many)")
    ap.add_argument("--sctpp-peer",
                    help="path to sctpp_peer (default: next to usrsctp_peer, when built)")
    ap.add_argument("--scenario", action="append", default=[], help="scenario to run (repeat)")
    ap.add_argument("--all", action="store_true", help="every sctpp scenario (A-*, B-*, extra)")
    ap.add_argument("--self-test", action="store_true", help="usrsctp against usrsctp")
    ap.add_argument("--checker-selftest", action="store_true",
                    help="prove the capture checker fails on corrupted captures")
    ap.add_argument("--check-pcap", metavar="FILE", help="only check a capture file")
    ap.add_argument("--sctp-ports", help="UDP ports to decode as SCTP, for --check-pcap")
    ap.add_argument("--extra", default=os.environ.get("SCTPP_INTEROP_EXTRA"),
                    help="JSON list of extra scenarios")
    ap.add_argument("--list", action="store_true", help="list scenarios")
    ap.add_argument("--no-capture", action="store_true", help="skip the tshark capture check")
    ap.add_argument("--keep", action="store_true", help="keep logs and captures of passing runs")
    ap.add_argument("--scenario-timeout", type=float, default=SCENARIO_TIMEOUT)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    if args.extra:
        load_extra(args.extra)
    if args.list:
        for n, (d, _, _, _) in SCENARIOS.items():
            print("%-22s %s" % (n, d))
        return 0
    if args.check_pcap:
        if not args.sctp_ports:
            ap.error("--check-pcap needs --sctp-ports")
        ok, reason, stats = check_pcap(args.check_pcap,
                                       [int(p) for p in args.sctp_ports.split(",")])
        print("%s %s (%s)" % ("PASS" if ok else "FAIL", reason, chunk_summary(stats)))
        return 0 if ok else 1
    for opt in ("peer", "pion", "sctpp", "sctpp_peer"):
        if getattr(args, opt):
            setattr(args, opt, os.path.abspath(getattr(args, opt)))
    if not args.sctpp_peer and args.peer:
        guess = os.path.join(os.path.dirname(args.peer), "sctpp_peer")
        if os.access(guess, os.X_OK):
            args.sctpp_peer = guess
    if args.checker_selftest:
        if not args.peer:
            ap.error("--checker-selftest needs --peer")
        return 0 if checker_selftest(args) else 1

    def missing(n):
        return ["--" + t.replace("_", "-") for t in needed_tools(SCENARIOS[n][3])
                if not getattr(args, t)]

    names = list(args.scenario)
    if args.self_test:
        names += SELF
    if args.all:
        for n in SCTPP:
            if missing(n):
                print("%-22s %-4s SKIP needs %s" % (n, SCENARIOS[n][0], " ".join(missing(n))),
                      flush=True)
            else:
                names.append(n)
    if not names:
        ap.error("nothing to run: --scenario NAME, --all, --self-test or --checker-selftest")
    for n in names:
        if n not in SCENARIOS:
            ap.error("unknown scenario %s (--list shows them)" % n)
        if missing(n):
            ap.error("scenario %s needs %s (sctpp_peer is also looked for next to --peer)"
                     % (n, " ".join(missing(n))))
    results = [run_scenario(args, n) for n in names]
    passed = sum(results)
    print("interop: %d/%d scenarios passed" % (passed, len(results)), flush=True)
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
