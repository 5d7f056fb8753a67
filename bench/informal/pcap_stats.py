#!/usr/bin/env python3
"""Per-direction wire statistics of an SCTP-over-UDP capture (informal, for reading
interop captures; not part of the test suite).

    pcap_stats.py FILE.pcap PORT[=NAME] [PORT[=NAME] ...]

PORT: a UDP encapsulation port to decode as SCTP; NAME labels the endpoint bound to it.
Per sender: packets, IP packet sizes, chunks per packet, DATA chunks, retransmitted TSNs
(a TSN sent twice), SACKs (and DATA packets received per SACK sent), gap-ack blocks and
duplicate TSNs reported, smallest advertised window, ABORTs with their T bit, and every
Wireshark expert message of severity note or above.
"""
import collections
import subprocess
import sys


def tshark(pcap, ports, fields, extra=()):
    argv = ["tshark", "-o", "gui.console_open:NEVER", "-n", "-r", pcap,
            "-o", "sctp.checksum:crc-32c", "-o", "sctp.ulp_dissection:FALSE",
            "-o", "sctp.tsn_analysis:TRUE"]
    for p in ports:
        argv += ["-d", "udp.port==%d,sctp" % p]
    argv += list(extra) + ["-Y", "sctp", "-T", "fields", "-E", "separator=|",
                           "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        argv += ["-e", f]
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return [l.split("|") for l in out.stdout.decode("latin-1").splitlines() if l.strip()]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    pcap = sys.argv[1]
    names = {}
    for a in sys.argv[2:]:
        port, _, name = a.partition("=")
        names[int(port)] = name or port
    rows = tshark(pcap, names, ["frame.number", "frame.time_relative", "udp.srcport", "ip.len",
                                "sctp.chunk_type", "sctp.data_tsn", "sctp.sack_cumulative_tsn_ack",
                                "sctp.sack_number_of_gap_blocks",
                                "sctp.sack_number_of_duplicated_tsns", "sctp.sack_a_rwnd",
                                "sctp.abort_t_bit", "_ws.expert.severity", "_ws.expert.message"])
    st = collections.defaultdict(lambda: collections.defaultdict(int))
    sizes = collections.defaultdict(collections.Counter)
    seen_tsn = collections.defaultdict(set)
    retx = collections.defaultdict(list)
    min_rwnd = {}
    experts = collections.Counter()
    data_pkts_recv = collections.defaultdict(int)
    t_first, t_last = None, None
    for r in rows:
        r = (r + [""] * 13)[:13]
        frame, t, src, iplen, types, tsns, cum, gaps, dups, rwnd, tbit, sev, msg = r
        src = int(src)
        who = names.get(src, str(src))
        t = float(t)
        t_first = t if t_first is None else t_first
        t_last = t
        s = st[who]
        s["packets"] += 1
        s["bytes"] += int(iplen or 0)
        ctypes = [c for c in types.split(",") if c]
        s["chunks"] += len(ctypes)
        sizes[who][int(iplen or 0)] += 1
        if "0" in ctypes:
            s["data_packets"] += 1
            for other in names.values():
                if other != who:
                    data_pkts_recv[other] += 1
        for tsn in [x for x in tsns.split(",") if x]:
            s["data_chunks"] += 1
            if tsn in seen_tsn[who]:
                retx[who].append((frame, tsn, t))
            seen_tsn[who].add(tsn)
        if "3" in ctypes:
            s["sacks"] += ctypes.count("3")
            if ctypes == ["3"]:
                s["sack_only_packets"] += 1
            s["gap_blocks"] += sum(int(g) for g in gaps.split(",") if g)
            s["dup_tsns_reported"] += sum(int(d) for d in dups.split(",") if d)
            for w in [int(x) for x in rwnd.split(",") if x]:
                min_rwnd[who] = min(min_rwnd.get(who, w), w)
        if "6" in ctypes:
            for b in [x for x in tbit.split(",") if x]:
                s["abort_T%s" % ("1" if b in ("1", "True") else "0")] += 1
        for sv, m in zip(sev.split(","), msg.split(",")):
            if sv and m:
                experts[(who, sv, m)] += 1
    print("capture %s: %d SCTP packets in %.3f s" % (pcap, len(rows), (t_last or 0) - (t_first or 0)))
    for who, s in st.items():
        print("-- sent by %s" % who)
        keys = ["packets", "bytes", "chunks", "data_packets", "data_chunks", "sacks",
                "sack_only_packets", "gap_blocks", "dup_tsns_reported"]
        keys += sorted(k for k in s if k.startswith("abort"))
        print("   " + " ".join("%s=%d" % (k, s[k]) for k in keys))
        if s["sacks"]:
            print("   DATA packets received per SACK sent: %.2f; smallest a_rwnd %s"
                  % (data_pkts_recv[who] / s["sacks"], min_rwnd.get(who)))
        print("   retransmitted TSNs: %d%s" % (len(retx[who]), "" if not retx[who] else
              " e.g. " + ", ".join("tsn %s frame %s t=%.3f" % (x[1], x[0], x[2])
                                   for x in retx[who][:5])))
        top = sizes[who].most_common(6)
        print("   IP sizes (most common): " + ", ".join("%d x%d" % kv for kv in top))
    for (who, sv, m), n in sorted(experts.items()):
        print("   expert [%s] from %s x%d: %s" % (sv, who, n, m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
