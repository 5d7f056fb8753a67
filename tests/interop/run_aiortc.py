#!/usr/bin/env python3
"""Interoperability driver: sctpp against aiortc's SCTP over UDP encapsulation (RFC 6951).

The aiortc side is aiortc_peer.py (aiortc's RTCSctpTransport on a plain UDP socket), run with
Debian's /usr/bin/python3 (python3-aiortc) unless --python names another interpreter. The
machinery (processes, free ports, per-scenario capture and the tshark packet checker) is
run_interop.py's, imported, so every aiortc scenario is captured and checked exactly like the
usrsctp ones.

Directions: B = aiortc client -> sctpp server (`sctpp echo`, or sctpp_peer where sctpp itself
must ABORT or shut down); A = sctpp client (`sctpp cat`, sctpp_peer) -> aiortc server;
self = aiortc -> aiortc (proves the kit).

    run_aiortc.py --sctpp PATH [--sctpp-peer PATH] --scenario aiortc-B-mixed [--scenario ...]
    run_aiortc.py --sctpp PATH [--sctpp-peer PATH] --all
    run_aiortc.py --list
"""

import argparse
import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree by the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_interop as ri  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "aiortc_peer.py")


def aio(ctx, name, *argv):
    return ctx.spawn(name, [ctx.args.python, PEER] + [str(a) for a in argv])


def aio_server(ctx, *argv):
    u_srv = ctx.udp[0]
    port = ri.sctp_port()
    srv = aio(ctx, "aiortc-server", "server", "--port", port, "--udp-port", u_srv,
              "--timeout", ctx.args.scenario_timeout, *argv)
    ctx.expect_listening(srv)
    return srv, port, u_srv


def aio_client(ctx, label, port, u_srv, *argv):
    return aio(ctx, "aiortc-client-" + label, "client", "--connect", "127.0.0.1:%d" % port,
               "--udp-port", ctx.take_port(), "--remote-udp-port", u_srv,
               "--sctp-port", ri.sctp_port(), "--timeout", 15, *argv)


def aio_errors(proc):
    errs = [l for l in proc.stderr_text().splitlines() if ": error:" in l]
    if errs:
        raise ri.Failure("%s: %s" % (proc.name, errs[0]))


def echo_ok(proc):
    lines = [l for l in proc.lines if l.startswith("echoes ok")]
    if not lines:
        raise ri.Failure("%s did not report 'echoes ok'" % proc.name)
    return lines[0]


def aiortc_saw(srv, count, stream=None, ppid=None, unordered=None):
    """The aiortc server's log must show `count` echoes on stream/PPID/U flag (None: any)."""
    want = []
    if stream is not None:
        want.append("stream=%d " % stream)
    if ppid is not None:
        want.append("ppid=%d " % ppid)
    if unordered is not None:
        want.append(" unordered " if unordered else " ordered ")
    n = sum(1 for l in srv.stderr_text().splitlines()
            if "echoed message" in l and all(w in l for w in want))
    if n < count:
        raise ri.Failure("aiortc server logged %d messages with %s, expected %d"
                         % (n, "".join(want).strip() or "any", count))


# ---- self: aiortc against aiortc


def scenario_self(ctx):
    srv, port, u_srv = aio_server(ctx, "--expect-end", "shutdown", "--quiet")
    cli = aio_client(ctx, "mixed", port, u_srv, "--builtin", "mixed")
    ctx.expect_exit(cli, 0, what="aiortc client")
    ctx.expect_exit(srv, 0, timeout=5, what="aiortc server")
    ctx.notes.append(echo_ok(cli))


# ---- B: aiortc client -> sctpp echo


def b_echo(builtin, *extra, then="shutdown", ok_line="echoes ok"):
    """aiortc client sends a set, checks the echoes, shuts down gracefully (§9.2, done by the
    peer for aiortc); then sctpp echo must exit 0 on SIGTERM."""
    def run(ctx):
        echo, port, u_echo = ri.start_echo(ctx)
        cli = aio_client(ctx, builtin, port, u_echo, "--builtin", builtin, "--then", then,
                         *extra)
        ctx.expect_exit(cli, 0, what="aiortc client (%s)" % builtin)
        done = [l for l in cli.lines if l.startswith(ok_line)]
        if not done:
            raise ri.Failure("aiortc client did not report '%s'" % ok_line)
        ctx.notes.append(done[0])
        if "association 1 closed" not in echo.stderr_text():
            time.sleep(0.3)
        closed = [l for l in echo.stderr_text().splitlines() if "association 1 closed" in l]
        if not closed or "shut down by peer" not in closed[0]:
            raise ri.Failure("sctpp echo did not see a graceful shutdown: %s"
                             % (closed[0] if closed else "no 'closed' line"))
        ri.stop_echo(ctx, echo)
    return run


def scenario_b_abort_midway(ctx):
    # aiortc ABORTs with DATA in flight both ways (after 200 of 3000 echoes); echo lives on.
    echo, port, u_echo = ri.start_echo(ctx)
    cli = aio_client(ctx, "abort", port, u_echo, "--builtin", "flood", "--abort-after", 200)
    ctx.expect_exit(cli, 0, what="aiortc client (abort midway)")
    if not any(l.startswith("aborted after") for l in cli.lines):
        raise ri.Failure("aiortc client did not ABORT midway: "
                         + ri.last_line("\n".join(cli.lines)))
    ctx.notes.append(cli.lines[-1])
    time.sleep(0.3)
    if not echo.alive():
        raise ri.Failure("sctpp echo died after aiortc's ABORT (rc=%s)" % echo.p.returncode)
    cli2 = aio_client(ctx, "after-abort", port, u_echo, "--builtin", "streams")
    ctx.expect_exit(cli2, 0, what="second aiortc client after the ABORT")
    ri.stop_echo(ctx, echo)


def scenario_b_restart(ctx):
    # An aiortc client dies without a word (SIGKILL) and a new one comes back from the same
    # address and ports with new tags: sctpp must take its INIT/COOKIE ECHO as a restart of
    # the association (RFC 9260 §5.2.2, §5.2.4 action A) and serve it.
    echo, port, u_echo = ri.start_echo(ctx)
    u_cli, s_cli = ctx.take_port(), ri.sctp_port()

    def client(label, *argv):
        return aio(ctx, "aiortc-client-" + label, "client", "--connect", "127.0.0.1:%d" % port,
                   "--udp-port", u_cli, "--remote-udp-port", u_echo, "--sctp-port", s_cli,
                   "--timeout", 15, *argv)

    first = client("first", "--builtin", "mixed", "--then", "hold")
    if not first.wait_line("echoes ok", ctx.left(10)):
        raise ri.Failure("first aiortc client never got its echoes: "
                         + ri.last_line(first.stderr_text()))
    first.kill()  # SIGKILL: no ABORT, no SHUTDOWN
    second = client("second", "--builtin", "streams")
    ctx.expect_exit(second, 0, what="aiortc client restarting the association")
    ctx.notes.append(echo_ok(second))
    ri.stop_echo(ctx, echo)


def scenario_b_client_abort(ctx):
    # aiortc's own stop() ABORTs (no cause); echo must live on and serve the next client.
    echo, port, u_echo = ri.start_echo(ctx)
    cli = aio_client(ctx, "abort", port, u_echo, "--builtin", "mixed", "--then", "abort")
    ctx.expect_exit(cli, 0, what="aiortc client (abort)")
    time.sleep(0.5)
    if not echo.alive():
        raise ri.Failure("sctpp echo died after aiortc's ABORT (rc=%s)" % echo.p.returncode)
    if not any("association 1 closed" in l and "abort" in l.lower()
               for l in echo.stderr_text().splitlines()):
        raise ri.Failure("sctpp echo did not report association 1 aborted: "
                         + ri.last_line(echo.stderr_text()))
    cli2 = aio_client(ctx, "after-abort", port, u_echo, "--builtin", "frag")
    ctx.expect_exit(cli2, 0, what="second aiortc client after the ABORT")
    ri.stop_echo(ctx, echo)


def b_server_shutdown(*then):
    """SIGTERM to sctpp echo with an idle association: sctpp's SHUTDOWN, aiortc's SHUTDOWN
    ACK; with 'collide', aiortc's own SHUTDOWN crosses sctpp's first (RFC 9260 §9.2)."""
    return lambda ctx: scenario_b_server_shutdown(ctx, *then)


def scenario_b_server_shutdown(ctx, *then):
    echo, port, u_echo = ri.start_echo(ctx)
    cli = aio_client(ctx, "hold", port, u_echo, "--builtin", "single",
                     *(then or ("--then", "hold", "--expect-peer", "shutdown")))
    if not cli.wait_line("echoes ok", ctx.left(10)):
        raise ri.Failure("aiortc client never got its echo: " + ri.last_line(cli.stderr_text()))
    echo.p.send_signal(signal.SIGTERM)
    ctx.expect_exit(cli, 0, timeout=10, what="aiortc client (expects graceful shutdown)")
    ctx.expect_exit(echo, 0, timeout=8, what="sctpp echo after SIGTERM")


def b_sctpp_server(then, after, builtin, expect, all_echoes=False):
    """sctpp_peer server --then abort|shutdown --after N against an aiortc client holding."""
    def run(ctx):
        u_srv = ctx.udp[0]
        port = ri.sctp_port()
        argv = ["server", "--listen", "127.0.0.1:%d" % port, "--udp-port", u_srv, "--then",
                then, "--after", after]
        if then == "abort":
            argv += ["--reason", ri.ABORT_REASON]
        srv = ctx.sctpp_peer("sctpp-server", *argv)
        ctx.expect_listening(srv)
        cli = aio_client(ctx, then, port, u_srv, "--builtin", builtin, "--then", "hold",
                         "--expect-peer", expect)
        # With --then abort, sctpp ABORTs while aiortc still waits for echoes; the client
        # then passes if the echoes so far were intact and the end was that ABORT.
        ctx.expect_exit(cli, 0, what="aiortc client")
        ctx.expect_exit(srv, 0, timeout=8, what="sctpp_peer server (--then %s)" % then)
        if then == "abort":
            causes = ri.peer_abort_causes(cli)
            if not any(ri.ABORT_REASON in c for c in causes):
                raise ri.Failure("aiortc saw no ABORT carrying %r: %s"
                                 % (ri.ABORT_REASON, causes))
            ctx.notes.append("aiortc saw " + causes[0][:70])
        elif all_echoes:
            ctx.notes.append(echo_ok(cli))
        else:
            ctx.notes.append(cli.lines[-1] if cli.lines else "")
    return run


# ---- A: sctpp client -> aiortc server


def scenario_a_cat(ctx):
    srv, port, u_srv = aio_server(ctx, "--loop", "--expect-end", "shutdown")
    runs = [
        ("s0-ordered", 0, 0, False, ["hello", "world", "x", "line with spaces", "last"]),
        ("s3-unordered", 3, 51, True, ["u%d-%s" % (i, ri.pattern_line(20 + i * 50, i))
                                       for i in range(10)]),
        ("s7-ppidmax", 7, 0xFFFFFFFF, False, ["p%d-%s" % (i, ri.pattern_line(1500, i))
                                              for i in range(4)]),
        ("big", 0, 0, False, [ri.pattern_line(ri.BIG, 3), "after-big"]),
    ]
    for label, stream, ppid, unordered, lines in runs:
        cat = ri.a_cat_run(ctx, port, u_srv, label, lines, stream, ppid, unordered)
        ctx.expect_exit(cat, 0, timeout=15, what="sctpp cat (%s)" % label)
        ri.check_cat_output(cat, lines, unordered)
        aiortc_saw(srv, len(lines), stream, ppid, unordered)
    srv.p.send_signal(signal.SIGTERM)
    ctx.expect_exit(srv, 0, timeout=5, what="aiortc server (every association shut down)")
    aio_errors(srv)


def scenario_a_frag(ctx):
    # Lines around sctpp's fragmentation point (1444 bytes of user data per DATA chunk at
    # path MTU 1500 over UDP) and aiortc's (1200), in one association, stream 1, PPID 7.
    srv, port, u_srv = aio_server(ctx, "--expect-end", "shutdown")
    sizes = sorted({p + d for p in (1200, 1444, 2400, 2888, 4332) for d in (-1, 0, 1)})
    lines = ["%d:%s" % (n, ri.pattern_line(n - len("%d:" % n), n)) for n in sizes]
    cat = ri.a_cat_run(ctx, port, u_srv, "frag", lines, 1, 7)
    ctx.expect_exit(cat, 0, timeout=15, what="sctpp cat (frag)")
    ri.check_cat_output(cat, lines, False)
    aiortc_saw(srv, len(lines), 1, 7, False)
    ctx.expect_exit(srv, 0, timeout=5, what="aiortc server")


def scenario_a_streams(ctx):
    # Several cat runs on different streams and PPIDs, some unordered, each its own
    # association to one aiortc server.
    srv, port, u_srv = aio_server(ctx, "--loop", "--expect-end", "shutdown")
    for stream, ppid, unordered in [(1, 46, False), (5, 53, True), (9, 0x7FFFFFFF, False)]:
        lines = ["s%d-%d-%s" % (stream, i, ri.pattern_line(10 + 300 * i, i)) for i in range(8)]
        cat = ri.a_cat_run(ctx, port, u_srv, "s%d" % stream, lines, stream, ppid, unordered)
        ctx.expect_exit(cat, 0, timeout=10, what="sctpp cat (stream %d)" % stream)
        ri.check_cat_output(cat, lines, unordered)
        aiortc_saw(srv, len(lines), stream, ppid, unordered)
    srv.p.send_signal(signal.SIGTERM)
    ctx.expect_exit(srv, 0, timeout=5, what="aiortc server (every association shut down)")


def scenario_a_loss(ctx):
    # sctpp_peer's 24 messages against an aiortc server that drops 3 % of DATA and SACK
    # datagrams each way: both stacks' retransmissions, gap reports and fast retransmits
    # meet the other's.
    srv, port, u_srv = aio_server(ctx, "--expect-end", "shutdown", "--loss", 0.03,
                                  "--seed", 7)
    cli = ctx.sctpp_peer("sctpp-client", "client", "--connect", "127.0.0.1:%d" % port,
                         "--remote-udp-port", u_srv, "--udp-port", ctx.take_port(),
                         "--then", "shutdown")
    ctx.expect_exit(cli, 0, timeout=18, what="sctpp_peer client (3 % loss)")
    if not any(l.startswith("echoes ok") for l in cli.lines):
        raise ri.Failure("sctpp_peer client did not report 'echoes ok'")
    ctx.expect_exit(srv, 0, timeout=5, what="aiortc server")
    aio_errors(srv)
    ctx.notes.append(ri.last_line("\n".join(cli.lines)))


def scenario_a_peer_shutdown(ctx):
    # aiortc (by the peer's hand: aiortc cannot start a shutdown) shuts down after 1 echo.
    srv, port, u_srv = aio_server(ctx, "--then", "shutdown", "--after", 1,
                                  "--expect-end", "shutdown")
    lines = ["only-line"]
    cat = ri.a_cat_run(ctx, port, u_srv, "1", lines)
    ctx.expect_exit(cat, 0, timeout=15, what="sctpp cat")
    ri.check_cat_output(cat, lines, False)
    ctx.expect_exit(srv, 0, timeout=5, what="aiortc server")


def scenario_a_peer_abort(ctx):
    # aiortc's stop() ABORTs after 1 echo while cat still waits for a second reply.
    srv, port, u_srv = aio_server(ctx, "--then", "abort", "--after", 1)
    cat = ri.a_cat_run(ctx, port, u_srv, "1", ["abort-me"], replies=2)
    ctx.expect_exit(cat, None, timeout=15, what="sctpp cat")
    err = [l for l in cat.stderr_text().splitlines() if l.strip()]
    if not err:
        raise ri.Failure("sctpp cat exited non-zero without an error line on stderr")
    ctx.notes.append("cat: " + err[-1][:80])
    ctx.expect_exit(srv, 0, timeout=5, what="aiortc server")


def a_sctpp_client(then):
    """sctpp_peer client (24 messages on streams 0-3, unordered ones, up to 100 kB, every echo
    checked) against an aiortc server, then sctpp ABORTs or shuts down."""
    def run(ctx):
        srv, port, u_srv = aio_server(ctx, "--expect-end", then)
        argv = ["client", "--connect", "127.0.0.1:%d" % port, "--remote-udp-port", u_srv,
                "--udp-port", ctx.take_port(), "--then", then]
        if then == "abort":
            argv += ["--reason", ri.ABORT_REASON]
        cli = ctx.sctpp_peer("sctpp-client", *argv)
        ctx.expect_exit(cli, 0, timeout=15, what="sctpp_peer client (--then %s)" % then)
        if not any(l.startswith("echoes ok") for l in cli.lines):
            raise ri.Failure("sctpp_peer client did not report 'echoes ok'")
        ctx.expect_exit(srv, 0, timeout=5, what="aiortc server")
        aio_errors(srv)
        # sctpp_peer's set: 24 messages, every third unordered, stream 2 with PPID 0xFFFFFFFF
        aiortc_saw(srv, 24)
        aiortc_saw(srv, 8, unordered=True)
        aiortc_saw(srv, 6, 2, 0xFFFFFFFF)
        if then == "abort":
            causes = ri.peer_abort_causes(srv)
            if not any(ri.ABORT_REASON in c for c in causes):
                raise ri.Failure("aiortc saw no ABORT carrying %r: %s"
                                 % (ri.ABORT_REASON, causes))
        ctx.notes.append(ri.last_line("\n".join(cli.lines)))
    return run


# name -> (direction, UDP ports up front, function, needs): as run_interop.SCENARIOS.
SCENARIOS = {
    "aiortc-self": ("self", 1, scenario_self, False),
    "aiortc-B-mixed": ("B", 1, b_echo("mixed"), True),
    "aiortc-B-frag": ("B", 1, b_echo("frag"), True),
    "aiortc-B-streams": ("B", 1, b_echo("streams"), True),
    "aiortc-B-flood": ("B", 1, b_echo("flood"), True),
    "aiortc-B-big": ("B", 1, b_echo("big"), True),
    # 3 % of DATA/SACK datagrams lost each way, at the aiortc end.
    "aiortc-B-loss": ("B", 1, b_echo("mixed", "--loss", 0.03, "--seed", 5), True),
    # SHUTDOWN as soon as aiortc's data is acknowledged, sctpp's echoes still in flight.
    "aiortc-B-shutdown-early": ("B", 1, b_echo("flood", then="shutdown-early",
                                                ok_line="shutdown complete"), True),
    # RE-CONFIG and FORWARD TSN, which sctpp does not implement (RFC 9260 §3.2).
    "aiortc-B-extensions": ("B", 1, b_echo("mixed", "--extensions", ok_line="extensions ok"),
                            True),
    "aiortc-B-abort-midway": ("B", 1, scenario_b_abort_midway, True),
    # aiortc announces 8 outbound streams and sends on 9, 10, 100, 1000, 9999 too (§6.5).
    "aiortc-B-invalid-stream": ("B", 1, b_echo("streams", "--outbound-streams", 8), True),
    "aiortc-B-restart": ("B", 1, scenario_b_restart, True),
    "aiortc-B-client-abort": ("B", 1, scenario_b_client_abort, True),
    "aiortc-B-server-shutdown": ("B", 1, b_server_shutdown(), True),
    "aiortc-B-shutdown-collision": ("B", 1, b_server_shutdown("--then", "collide"), True),
    "aiortc-A-cat": ("A", 1, scenario_a_cat, True),
    "aiortc-A-frag": ("A", 1, scenario_a_frag, True),
    "aiortc-A-streams": ("A", 1, scenario_a_streams, True),
    "aiortc-A-peer-shutdown": ("A", 1, scenario_a_peer_shutdown, True),
    "aiortc-A-peer-abort": ("A", 1, scenario_a_peer_abort, True),
    "aiortc-A-loss": ("A", 1, scenario_a_loss, "sctpp_peer"),
    "aiortc-A-sctpp-abort": ("A", 1, a_sctpp_client("abort"), "sctpp_peer"),
    "aiortc-A-sctpp-shutdown": ("A", 1, a_sctpp_client("shutdown"), "sctpp_peer"),
    "aiortc-B-sctpp-abort": ("B", 1, b_sctpp_server("abort", 10, "mixed", "abort"),
                             "sctpp_peer"),
    "aiortc-B-sctpp-shutdown": ("B", 1, b_sctpp_server("shutdown", 35, "mixed", "shutdown",
                                                       all_echoes=True),
                                "sctpp_peer"),
    # sctpp shuts down after 10 echoes while aiortc is still sending: sctpp (SHUTDOWN-SENT)
    # must answer each DATA with SHUTDOWN (§9.2) and take all of it before the end.
    "aiortc-B-sctpp-shutdown-midway": ("B", 1, b_sctpp_server("shutdown", 10, "flood",
                                                              "shutdown"), "sctpp_peer"),
}


def main():
    ap = argparse.ArgumentParser(description="sctpp <-> aiortc interoperability driver")
    ap.add_argument("--sctpp", help="path to the sctpp tool")
    ap.add_argument("--sctpp-peer", help="path to sctpp_peer (sctpp ABORTs / shuts down)")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter with aiortc (default Debian's, python3-aiortc)")
    ap.add_argument("--scenario", action="append", default=[], help="scenario to run (repeat)")
    ap.add_argument("--all", action="store_true", help="every scenario")
    ap.add_argument("--list", action="store_true", help="list scenarios")
    ap.add_argument("--no-capture", action="store_true", help="skip the tshark capture check")
    ap.add_argument("--keep", action="store_true", help="keep logs and captures of passing runs")
    ap.add_argument("--scenario-timeout", type=float, default=ri.SCENARIO_TIMEOUT)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.list:
        for n, (d, _, _, _) in SCENARIOS.items():
            print("%-26s %s" % (n, d))
        return 0
    args.peer = PEER  # run_interop's Ctx wants one; the aiortc peer is spawned through aio()
    args.sctpp = os.path.abspath(args.sctpp) if args.sctpp else None
    args.sctpp_peer = os.path.abspath(args.sctpp_peer) if args.sctpp_peer else None
    names = list(args.scenario) + (list(SCENARIOS) if args.all else [])
    if not names:
        ap.error("nothing to run: --scenario NAME or --all")
    for n in names:
        if n not in SCENARIOS:
            ap.error("unknown scenario %s (--list shows them)" % n)
        if SCENARIOS[n][3] and not args.sctpp:
            ap.error("scenario %s needs --sctpp" % n)
        if SCENARIOS[n][3] == "sctpp_peer" and not args.sctpp_peer:
            ap.error("scenario %s needs --sctpp-peer" % n)
    ri.SCENARIOS.update(SCENARIOS)
    results = [ri.run_scenario(args, n) for n in names]
    passed = sum(results)
    print("interop (aiortc): %d/%d scenarios passed" % (passed, len(results)), flush=True)
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
