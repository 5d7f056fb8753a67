#!/usr/bin/env python3
"""Multi-homed association between sctpp and usrsctp over two loopback addresses.

In a private network namespace (its own loopback, so no port clashes and nothing
leaks to the host) with 127.0.0.2 added to lo:
  * `sctpp echo --listen 127.0.0.1,127.0.0.2:5000` (UDP encapsulation port 9899),
  * `usrsctp_peer client --bind 127.0.0.1,127.0.0.2 --connect 127.0.0.1:5000`
    (usrsctp_bindx: both addresses), which sends the `mixed` scenario (many streams,
    PPIDs, unordered, messages larger than the MTU), checks every echo and then holds
    the association open until sctpp ends it (SIGTERM: graceful shutdown).
Both ends therefore have both addresses. The capture (dumpcap on lo) must show:
  * INIT and INIT ACK each carrying both IPv4 address parameters,
  * HEARTBEATs to both of sctpp's addresses (from usrsctp) and to both of usrsctp's
    addresses (from sctpp), each answered by a HEARTBEAT ACK,
  * DATA in both directions, no malformed packet and no bad CRC32c.

    multihome_interop.py --sctpp build/tools/sctpp --peer build/tests/interop/usrsctp_peer

Needs root (network namespace); exits 77 (skipped) otherwise.
"""

import argparse
import os
import subprocess
import sys
import time

SKIP = 77


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sctpp", required=True)
    ap.add_argument("--peer", required=True)
    # Both stacks heartbeat a path only when it has been idle for HB.interval (30 s
    # by default, RFC 9260 §8.3); the primary carried the data, so hold past that.
    ap.add_argument("--hold", type=float, default=36.0,
                    help="seconds the association stays up after the echoes")
    ap.add_argument("--keep", help="copy the capture here")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespace)")
        return SKIP
    ns = f"sctppmh{os.getpid()}"
    pcap = f"/tmp/{ns}.pcapng"
    procs = []
    failures = []
    try:
        try:
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "addr", "add", "127.0.0.2/8", "dev", "lo")
        except subprocess.CalledProcessError as e:
            print(f"SKIP: cannot build a network namespace: {e.stderr.strip()}")
            return SKIP
        ex = ["ip", "netns", "exec", ns]
        cap = subprocess.Popen(ex + ["dumpcap", "-q", "-i", "lo", "-w", pcap],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(cap)
        time.sleep(1.0)
        echo = subprocess.Popen(ex + [a.sctpp, "echo", "--listen", "127.0.0.1,127.0.0.2:5000",
                                      "--udp-port", "9899"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(echo)
        line = echo.stdout.readline()
        if not line.startswith("listening"):
            failures.append(f"sctpp echo did not start: {line!r}")
            return 1
        client = subprocess.Popen(
            ex + [a.peer, "client", "--connect", "127.0.0.1:5000", "--bind", "127.0.0.1,127.0.0.2",
                  "--udp-port", "9900", "--remote-udp-port", "9899", "--builtin", "mixed",
                  "--hold", "120", "--quiet", "--timeout", "150",
                  # usrsctp heartbeats an idle path only when its timer, armed at
                  # setup, finds the path idle for a whole interval: with 30 s the
                  # primary may not be probed within the hold. sctpp keeps 30 s.
                  "--hb-interval", "2000"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(client)
        out = []
        for line in client.stdout:
            out.append(line.rstrip())
            if line.startswith("holding"):
                break
        time.sleep(a.hold)  # heartbeats on both paths while the association idles
        echo.terminate()    # graceful shutdown of every association
        rest, _ = client.communicate(timeout=30)
        out += rest.splitlines()
        echo.wait(timeout=10)
        print("\n".join("usrsctp: " + l for l in out))
        if client.returncode != 0 or not any(l.startswith("PASS") for l in out):
            failures.append(f"usrsctp client failed (exit {client.returncode})")
        if not any("PEER_ADDR_CHANGE 127.0.0.2" in l and "state=6" in l for l in out):
            failures.append("usrsctp did not confirm sctpp's second address 127.0.0.2")
        time.sleep(0.5)
        cap.terminate()
        cap.wait(timeout=10)

        # As run_interop.py: SCTP over UDP on both ports; no dissection of the payload
        # by PPID (the test's PPIDs would be taken for SIGTRAN protocols).
        decode = ["-o", "gui.console_open:NEVER", "-o", "sctp.ulp_dissection:FALSE",
                  "-d", "udp.port==9899,sctp", "-d", "udp.port==9900,sctp"]
        fields = sh("tshark", "-r", pcap, *decode, "-Y", "sctp", "-T", "fields",
                    "-E", "separator=|", "-e", "udp.srcport", "-e", "ip.src", "-e", "ip.dst",
                    "-e", "sctp.chunk_type", "-e", "sctp.parameter_ipv4_address").stdout
        hb, hback, data, inits = {}, {}, {}, {}
        for row in fields.splitlines():
            sport, src, dst, types, v4 = (row.split("|") + [""] * 5)[:5]
            who = "sctpp" if sport == "9899" else "usrsctp"
            for t in types.split(","):
                if t == "4":
                    hb[(who, dst)] = hb.get((who, dst), 0) + 1
                elif t == "5":
                    hback[(who, dst)] = hback.get((who, dst), 0) + 1
                elif t == "0":
                    data[who] = data.get(who, 0) + 1
                elif t in ("1", "2"):
                    inits[("INIT" if t == "1" else "INIT ACK", who)] = set(filter(None, v4.split(",")))
        print(f"INIT/INIT ACK address parameters: {inits}")
        print(f"HEARTBEATs (sender, destination): {hb}")
        print(f"HEARTBEAT ACKs (sender, destination): {hback}")
        print(f"DATA packets by sender: {data}")
        both = {"127.0.0.1", "127.0.0.2"}
        if inits.get(("INIT", "usrsctp")) != both:
            failures.append(f"usrsctp's INIT lacks an address: {inits.get(('INIT', 'usrsctp'))}")
        if inits.get(("INIT ACK", "sctpp")) != both:
            failures.append(f"sctpp's INIT ACK lacks an address: {inits.get(('INIT ACK', 'sctpp'))}")
        for who in ("sctpp", "usrsctp"):
            for dst in sorted(both):
                if not hb.get((who, dst)):
                    failures.append(f"no HEARTBEAT from {who} to {dst}")
            if not data.get(who):
                failures.append(f"no DATA from {who}")
            other = "usrsctp" if who == "sctpp" else "sctpp"
            if not any(k[0] == other for k in hback):
                failures.append(f"{other} answered no HEARTBEAT of {who}")
        chk = sh("tshark", "-n", "-r", pcap, *decode, "-o", "sctp.checksum:crc-32c",
                 "-Y", "sctp", "-T", "fields", "-e", "frame.number",
                 "-e", "sctp.checksum.status").stdout.splitlines()
        unverified = [l.split("\t")[0] for l in chk if l.split("\t")[-1] != "1"]
        if not chk or unverified:
            failures.append(f"tshark: CRC32c not verified good in frames {unverified[:10]}")
        bad = sh("tshark", "-n", "-r", pcap, *decode, "-o", "sctp.checksum:crc-32c", "-Y",
                 "_ws.malformed or _ws.expert.severity == error or sctp.checksum_bad.expert",
                 "-T", "fields", "-e", "frame.number").stdout.split()
        if bad:
            failures.append(f"tshark: {len(bad)} malformed packet(s): frames {bad[:10]}")
        if a.keep:
            sh("cp", pcap, a.keep)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        sh("ip", "netns", "del", ns, check=False)
        if os.path.exists(pcap):
            os.unlink(pcap)
        for f in failures:
            print("FAIL: " + f)
    if failures:
        return 1
    print("PASS: multi-homed sctpp <-> usrsctp association, both paths heartbeated, data both ways")
    return 0


if __name__ == "__main__":
    sys.exit(main())
