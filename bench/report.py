#!/usr/bin/env python3
"""Turns bench/run.sh's raw.jsonl into the table (stdout), results.json and chart.png.

usage: report.py RAW.jsonl OUTDIR "machine description"
Medians over runs; ratios are sctpp/other from the same run set; pass/miss per target
line of issue 5.
"""
import json
import re
import statistics
import sys
import textwrap
from collections import defaultdict

raw, outdir, machine = sys.argv[1], sys.argv[2], sys.argv[3]
vals = defaultdict(lambda: defaultdict(list))  # cell -> impl -> [result]
order = []
raw_rows = []
for line in open(raw):
    r = json.loads(line)
    raw_rows.append(r)
    if r["cell"] not in order:
        order.append(r["cell"])
    vals[r["cell"]][r["impl"]].append(r["result"])


def med(cell, impl, key):
    xs = [r[key] for r in vals[cell][impl] if r and r.get(key) is not None and not r.get("errors")]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b else None


def by_run(cell, impl):
    """MB/s of one (cell, impl) pair per run: {run: MB/s}."""
    runs = [r["run"] for r in raw_rows if r["cell"] == cell and r["impl"] == impl and r["result"]]
    res = [r["result"] for r in raw_rows if r["cell"] == cell and r["impl"] == impl and r["result"]]
    return {run: x.get("mbytes_per_s") for run, x in zip(runs, res) if not x.get("errors")}


def paired_ratios(num, den):
    """Ratios within each run, in run order. `num` and `den` are (cell, impl) pairs or
    {run: MB/s} dicts."""
    a = num if isinstance(num, dict) else by_run(*num)
    b = den if isinstance(den, dict) else by_run(*den)
    return [ratio(a[k], b[k]) for k in sorted(a) if k in b]


def run_by_run(num, den):
    """The lines that compare two cells move with the machine's phase, and the median
    hides how far apart the runs are: their ratios run by run."""
    rs = paired_ratios(num, den)
    if len(rs) < 2:
        return ""
    return "run by run: " + ", ".join("-" if r is None else f"{r:.2f}" for r in rs)


def f(x, nd=1):
    return "-" if x is None else f"{x:,.{nd}f}"


def rf(x):
    return "-" if x is None else f"{x:.2f}x"


# The issue's second MTU is 65535 (loopback); bench/run.sh runs those cells at the largest
# MTU usrsctp can send over UDP (BIG_MTU), and the cell names carry the MTU actually used.
ISSUE_BIG_MTU = 65535
cell_mtu = {c: int(m.group(1)) for c in order if (m := re.search(r"mtu(\d+)$", c))}
substitute = sorted({m for m in cell_mtu.values() if m not in (1500, ISSUE_BIG_MTU)})
notes = []
for m in substitute:
    notes.append(
        f"mtu{m} stands in for the issue's mtu{ISSUE_BIG_MTU}: usrsctp 0.9.5 over UDP "
        f"encapsulation cannot send full {ISSUE_BIG_MTU}-byte packets of these workloads. "
        "sctp_userspace_ip_output() (usrsctplib/user_socket.c) passes a packet to sendmsg() "
        "as at most MAXLEN_MBUF_CHAIN = 32 iovecs, one per mbuf, and drops a longer chain; "
        "data sits in 2048-byte clusters (MCLBYTES), so a packet of 1 KiB messages or the "
        "first fragment of a 64 KiB message needs 33 mbufs at 65535 (32 up to ~63400). "
        "bench/run.sh's default BIG_MTU, 61440, keeps every packet of these cells within 31 "
        f"mbufs, one to spare. sctpp, usrsctp and TCP all run these cells at {m}.")
server_mtus = {(c, r["mtu"], r["server_mtu"]) for c in order for r in vals[c]["usrsctp"]
               if r and r.get("server_mtu") is not None and r["server_mtu"] < r["mtu"]}
if server_mtus:
    lows = sorted({sm for _, _, sm in server_mtus})
    notes.append(
        "usrsctp's receiving end sends its own packets (SACKs, control messages) at path MTU "
        f"{'/'.join(map(str, lows))} in the cells with a larger MTU: usrsctp starts an "
        "accepted association at 1500 and cannot raise it; the data (client to server) "
        "flows at the cell's MTU.")
bufs = sorted({r["udp_buffer"] for c in order for r in vals[c]["usrsctp"]
               if r and r.get("udp_buffer")})
notes.append("usrsctp's UDP socket buffers: " +
             (f"{'/'.join(map(str, bufs))} bytes (--udp-buffer), as sctpp's" if bufs else
              "usrsctp's own (SB_RAW, 128 KiB; 256 KiB in Linux)"))

udp_sendto = med("udp 1472B", "udp-sendto", "mbytes_per_s")
udp_gso = med("udp 1472B", "udp-gso", "mbytes_per_s")
udp_gso_checked = med("udp 1472B", "udp-gso-checked", "mbytes_per_s")
udp_floor = med("udp 1472B", "udp-floor", "mbytes_per_s")
rows, targets = [], []


def target(name, value, limit, higher_is_better=True):
    if value is None:
        ok = None
    else:
        ok = value >= limit if higher_is_better else value <= limit
    targets.append({"target": name, "value": value, "limit": limit,
                    "op": ">=" if higher_is_better else "<=",
                    "result": "n/a" if ok is None else ("pass" if ok else "miss")})

print(f"\nsctpp bench — {machine}")
print("throughput in MB/s (10^6 payload bytes/s at the receiver); TCP runs 1 byte stream "
      "with TCP_MAXSEG = MTU-40; UDP = 1472-byte datagrams")
for n in notes:
    print(textwrap.fill(n, 100, initial_indent="note: ", subsequent_indent="      "))
print()
hdr = f"{'cell':30} {'sctpp':>9} {'usrsctp':>9} {'TCP':>9} {'s/usrsctp':>10} {'s/TCP':>7} {'s/UDP':>7}"
print(hdr)
print("-" * len(hdr))
for cell in order:
    if not cell.startswith("tput"):
        continue
    s, u, t = (med(cell, i, "mbytes_per_s") for i in ("sctpp", "usrsctp", "tcp"))
    row = {"cell": cell, "sctpp": s, "usrsctp": u, "tcp": t, "sctpp_over_usrsctp": ratio(s, u),
           "sctpp_over_tcp": ratio(s, t), "sctpp_over_udp_sendto": ratio(s, udp_sendto)}
    rows.append(row)
    print(f"{cell:30} {f(s):>9} {f(u):>9} {f(t):>9} {rf(ratio(s, u)):>10} {rf(ratio(s, t)):>7} "
          f"{rf(ratio(s, udp_sendto)):>7}")
    stands_in = f" (issue: mtu{ISSUE_BIG_MTU})" if cell_mtu.get(cell) in substitute else ""
    target(f"{cell}: sctpp >= 3x usrsctp{stands_in}", ratio(s, u), 3.0)
print(f"{'udp sendto 1472B (ceiling)':30} {f(udp_sendto):>9}")
# Two sendmmsg+GSO/GRO blasters run: one whose receiver only counts what it reads, and
# one whose receiver also copies and checks it. The second has usually come out faster
# (its receiver sleeps less, and each sleep costs the sender a wake-up), so "the best
# UDP blaster" of the issue is the faster of the two, run by run.
gso_plain, gso_checked = by_run("udp 1472B", "udp-gso"), by_run("udp 1472B", "udp-gso-checked")
gso_best_by_run = {k: max(v for v in (gso_plain.get(k), gso_checked.get(k)) if v is not None)
                   for k in set(gso_plain) | set(gso_checked)}
udp_gso_best = statistics.median(gso_best_by_run.values()) if gso_best_by_run else None
s64 = med("tput 65536B mtu1500", "sctpp", "mbytes_per_s")
print(f"{'udp sendmmsg+GSO 1472B':30} {f(udp_gso):>9}   receiver reads and counts")
print(f"{'  receiver copies + checks':30} {f(udp_gso_checked):>9}   "
      f"{rf(ratio(udp_gso_checked, udp_gso))} of the first")
print(f"{'  best of the two, per run':30} {f(udp_gso_best):>9}   "
      f"sctpp 64 KiB mtu1500 = {rf(ratio(s64, udp_gso_best))} of this")
# The blaster doing only the per-byte work every SCTP stack of this shape must do
# (udp_floor.cpp): the 0.5x line cannot be above what this reaches.
print(f"{'  + copies, CRC32c, acks':30} {f(udp_floor):>9}   "
      f"{rf(ratio(udp_floor, udp_gso_best))} of best; sctpp 64 KiB mtu1500 = "
      f"{rf(ratio(s64, udp_floor))} of this")
target("64 KiB at MTU 1500: sctpp >= 1.0x UDP sendto blaster", ratio(s64, udp_sendto), 1.0)
# bench/run.sh measures the blasters right after this cell, seconds apart, while runs are
# minutes apart and the machine's speed moves in between: the ratio is taken within each
# run, and the line uses their median (the issue: "each a ratio from the same run").
s64_by_run = by_run("tput 65536B mtu1500", "sctpp")
gso_pairs = [r for r in paired_ratios(s64_by_run, gso_best_by_run) if r is not None]
gso_ratio = statistics.median(gso_pairs) if gso_pairs else ratio(s64, udp_gso_best)
target("64 KiB at MTU 1500: sctpp >= 0.5x the best UDP sendmmsg+GSO blaster", gso_ratio, 0.5)
if line := run_by_run(s64_by_run, gso_best_by_run):
    print(f"  sctpp 64 KiB mtu1500 / best, {line} (the line: their median)")

print()
lat = "latency 64B"
p = {i: (med(lat, i, "rtt_p50_us"), med(lat, i, "rtt_p99_us")) for i in ("sctpp", "usrsctp", "tcp")}
print(f"{'64 B ping-pong RTT (us)':30} {'sctpp':>9} {'usrsctp':>9} {'TCP':>9} {'s/usrsctp':>10} {'s/TCP':>7}")
for k, name in ((0, "p50"), (1, "p99")):
    s, u, t = p["sctpp"][k], p["usrsctp"][k], p["tcp"][k]
    rows.append({"cell": f"latency 64B {name} us", "sctpp": s, "usrsctp": u, "tcp": t,
                 "sctpp_over_usrsctp": ratio(s, u), "sctpp_over_tcp": ratio(s, t)})
    print(f"{'  ' + name:30} {f(s):>9} {f(u):>9} {f(t):>9} {rf(ratio(s, u)):>10} {rf(ratio(s, t)):>7}")
target("64 B ping-pong p50 <= 0.8x usrsctp", ratio(p["sctpp"][0], p["usrsctp"][0]), 0.8, False)
target("64 B ping-pong p99 <= 1.0x usrsctp", ratio(p["sctpp"][1], p["usrsctp"][1]), 1.0, False)

c = {i: med("connect", i, "assoc_per_s") for i in ("sctpp", "usrsctp", "tcp")}
rows.append({"cell": "setups+shutdowns per s", "sctpp": c["sctpp"], "usrsctp": c["usrsctp"],
             "tcp": c["tcp"], "sctpp_over_usrsctp": ratio(c["sctpp"], c["usrsctp"]),
             "sctpp_over_tcp": ratio(c["sctpp"], c["tcp"])})
print(f"{'setups+shutdowns /s':30} {f(c['sctpp'], 0):>9} {f(c['usrsctp'], 0):>9} {f(c['tcp'], 0):>9} "
      f"{rf(ratio(c['sctpp'], c['usrsctp'])):>10} {rf(ratio(c['sctpp'], c['tcp'])):>7}")
target("setups+shutdowns/s >= 3x usrsctp", ratio(c["sctpp"], c["usrsctp"]), 3.0)

# Many associations on one one-to-many server socket (bench/many_assoc.cpp).
print(f"\n{'one one-to-many server socket':30} {'sctpp':>9} {'usrsctp':>9} {'s/usrsctp':>10}")
mem = {}
for n in (1000, 10000):
    s, u = (med(f"many idle {n}", i, "bytes_per_assoc") for i in ("sctpp", "usrsctp"))
    mem[n] = s
    rows.append({"cell": f"bytes per idle association at {n}", "sctpp": s, "usrsctp": u,
                 "sctpp_over_usrsctp": ratio(s, u)})
    print(f"{f'  bytes per idle assoc, {n:,}':30} {f(s, 0):>9} {f(u, 0):>9} {rf(ratio(s, u)):>10}")
many_tput = {}
for n in (1, 100, 10000):
    s = med(f"many tput 1024B {n}", "sctpp", "mbytes_per_s")
    many_tput[n] = s
    rows.append({"cell": f"1 KiB throughput, {n} associations active", "sctpp": s,
                 "sctpp_over_one": ratio(s, many_tput[1])})
    print(f"{f'  MB/s, 1 KiB, {n:,} active':30} {f(s):>9} {'-':>9} {'-':>10}"
          f"   {rf(ratio(s, many_tput[1]))} of 1 association")
# Not targets: the same event-loop client passing MSG_MORE (all but a turn's last send).
more_tput = {n: med(f"many tput 1024B more {n}", "sctpp", "mbytes_per_s") for n in (1, 10000)}
for n in (1, 10000):
    rows.append({"cell": f"1 KiB throughput, {n} associations active, MSG_MORE",
                 "sctpp": more_tput[n], "sctpp_over_one": ratio(more_tput[n], more_tput[1])})
    print(f"{f'  same with MSG_MORE, {n:,}':30} {f(more_tput[n]):>9} {'-':>9} {'-':>10}"
          f"   {rf(ratio(more_tput[n], more_tput[1]))} of 1 association")
target("<= 2 KiB per idle association at 10,000 (bytes)", mem[10000], 2048, False)
target("10,000 active associations >= 0.8x one", ratio(many_tput[10000], many_tput[1]), 0.8)
if line := run_by_run(("many tput 1024B 10000", "sctpp"), ("many tput 1024B 1", "sctpp")):
    print(f"  10,000 active / 1 active, {line}")

print("\ntargets (issue 5)")
for t in targets:
    v = "-" if t["value"] is None else f"{t['value']:.2f}"
    what = "value" if "bytes" in t["target"] else "ratio"
    print(f"  {t['result']:5} {t['target']}  ({what} {v}, needs {t['op']} {t['limit']})")
npass = sum(t["result"] == "pass" for t in targets)
nmiss = sum(t["result"] == "miss" for t in targets)
print(f"  {npass} pass, {nmiss} miss, {len(targets) - npass - nmiss} n/a")

json.dump({"machine": machine, "notes": notes, "udp_sendto_mbytes_per_s": udp_sendto,
           "udp_gso_mbytes_per_s": udp_gso, "udp_gso_checked_mbytes_per_s": udp_gso_checked,
           "udp_gso_best_mbytes_per_s": udp_gso_best,
           "udp_floor_mbytes_per_s": udp_floor,
           "rows": rows, "targets": targets,
           "raw": {c: dict(v) for c, v in vals.items()}},
          open(f"{outdir}/results.json", "w"), indent=1)

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("(no python3-matplotlib: chart skipped)")
    sys.exit(0)
tp = [r for r in rows if r["cell"].startswith("tput")]
fig, axes = plt.subplots(1, 5, figsize=(22, 5.5), gridspec_kw={"width_ratios": [5, 1.2, 1.2, 1.4, 1.4]})
ax = axes[0]
w = 0.27
xs = range(len(tp))
for k, (impl, col) in enumerate((("sctpp", "tab:blue"), ("usrsctp", "tab:orange"), ("tcp", "tab:gray"))):
    ax.bar([x + (k - 1) * w for x in xs], [r[impl] or 0 for r in tp], w, label=impl, color=col)
if udp_sendto:
    ax.axhline(udp_sendto, color="tab:red", ls="--", lw=1, label="UDP sendto 1472 B")
ax.set_xticks(list(xs))
ax.set_xticklabels([r["cell"].replace("tput ", "") for r in tp], rotation=35, ha="right", fontsize=8)
ax.set_ylabel("MB/s")
ax.set_title("throughput (loopback)")
ax.legend(fontsize=8)
for ax, cell_rows, title in ((axes[1], [r for r in rows if r["cell"].startswith("latency")], "64 B RTT (us)"),
                             (axes[2], [r for r in rows if r["cell"].startswith("setups")], "setups+shutdowns/s")):
    for k, (impl, col) in enumerate((("sctpp", "tab:blue"), ("usrsctp", "tab:orange"), ("tcp", "tab:gray"))):
        ax.bar([x + (k - 1) * w for x in range(len(cell_rows))], [r[impl] or 0 for r in cell_rows], w, color=col)
    ax.set_xticks(list(range(len(cell_rows))))
    ax.set_xticklabels([r["cell"].split()[-2] if "latency" in r["cell"] else "" for r in cell_rows])
    ax.set_title(title)
ax = axes[3]
for k, (impl, col) in enumerate((("sctpp", "tab:blue"), ("usrsctp", "tab:orange"))):
    ys = [med(f"many idle {n}", impl, "bytes_per_assoc") or 0 for n in (1000, 10000)]
    ax.bar([x + (k - 0.5) * w for x in range(2)], ys, w, color=col)
ax.axhline(2048, color="tab:red", ls="--", lw=1)
ax.set_xticks([0, 1])
ax.set_xticklabels(["1,000", "10,000"])
ax.set_title("bytes per idle association")
ax = axes[4]
ax.bar(range(3), [many_tput[n] or 0 for n in (1, 100, 10000)], 0.5, color="tab:blue")
if many_tput[1]:
    ax.axhline(0.8 * many_tput[1], color="tab:red", ls="--", lw=1)
ax.set_xticks(range(3))
ax.set_xticklabels(["1", "100", "10,000"])
ax.set_title("MB/s, 1 KiB, N associations")
fig.suptitle(f"sctpp bench — {machine}", fontsize=9)
fig.tight_layout()
fig.savefig(f"{outdir}/chart.png", dpi=110)
print(f"wrote {outdir}/results.json and {outdir}/chart.png")
