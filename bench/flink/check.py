#!/usr/bin/env python3
"""Check the Flink peer's query results against an independent Python computation.

Usage:
    check.py --file /abs/path/bid.jsonl [--queries q0,q1,q2,q5,q7] [--parallelism 1,2]
             [--datagen N]

First checks that each sql/qN.sql is the statement of bench/nexmark/qN.ron (up to
comments, white space and back-quotes). Then, for each query and parallelism, runs `run_flink.py --sink collect` over the file and
compares the rows Flink returns with the same query computed here in plain Python over
the same json lines (q0, q1, q2: the multiset of rows; q5, q7: the one row per window,
ties broken as the SQL says). With --datagen N it also checks that Flink's datagen table
yields exactly N rows (q0, collect) at each parallelism. Keep the file small (~10k bids):
collect mode is slow. Prints a summary to stdout; exit status 1 if anything differs.
"""

import argparse
import collections
import datetime
import decimal
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "run_flink.py")
VENV_PYTHON = os.path.join(HERE, ".venv", "bin", "python")
MS = datetime.timedelta(milliseconds=1)
EPOCH = datetime.datetime(1970, 1, 1)


def ts(text):
    """A timestamp string ("YYYY-MM-DD HH:MM:SS[.fff...]") as epoch milliseconds."""
    d = datetime.datetime.fromisoformat(text).replace(tzinfo=None)
    return (d - EPOCH) // MS


def load_bids(path):
    bids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                b = json.loads(line)
                b["ts"] = ts(b["dateTime"])
                bids.append(b)
    return bids


def late_count(bids, bound_ms, slide_ms):
    """Records a strict watermark (max ts so far - bound) would drop from some window:
    those whose first-closing window (or Flink slice), ending at the next multiple of
    `slide_ms`, is already closed when they arrive."""
    wm = None
    late = 0
    for b in bids:
        if wm is not None:
            if b["ts"] - b["ts"] % slide_ms + slide_ms - 1 <= wm:
                late += 1
        wm = b["ts"] - bound_ms if wm is None else max(wm, b["ts"] - bound_ms)
    return late


def windows(t, size_ms, slide_ms):
    start = t - t % slide_ms
    while start > t - size_ms:
        yield start, start + size_ms
        start -= slide_ms


def reference(query, bids):
    """Rows as tuples, in a canonical form comparable with normalise()."""
    if query == "q0":
        return [(b["auction"], b["bidder"], b["price"], b["ts"], b["extra"]) for b in bids]
    if query == "q1":
        k = decimal.Decimal("0.908")
        return [(b["auction"], b["bidder"], k * b["price"], b["ts"], b["extra"]) for b in bids]
    if query == "q2":
        return [(b["auction"], b["price"]) for b in bids if b["auction"] % 123 == 0]
    if query == "q5":
        counts = collections.Counter()
        for b in bids:
            for w in windows(b["ts"], 10000, 2000):
                counts[(w, b["auction"])] += 1
        best = {}
        for (w, auction), num in counts.items():
            key = (-num, auction)
            if w not in best or key < best[w][0]:
                best[w] = (key, (auction, num, w[0], w[1]))
        return [row for _, row in best.values()]
    if query == "q7":
        top = {}
        for b in bids:
            for w in windows(b["ts"], 10000, 10000):
                g = (w, b["auction"], b["bidder"])
                top[g] = max(top.get(g, b["price"]), b["price"])
        best = {}
        for (w, auction, bidder), price in top.items():
            key = (-price, auction, bidder)
            if w not in best or key < best[w][0]:
                best[w] = (key, (auction, bidder, price, w[0], w[1]))
        return [row for _, row in best.values()]
    raise ValueError("no reference for " + query)


def normalise(query, rec):
    if query in ("q0", "q1"):
        price = decimal.Decimal(rec["price"]) if query == "q1" else rec["price"]
        return (rec["auction"], rec["bidder"], price, ts(rec["dateTime"]), rec["extra"])
    if query == "q2":
        return (rec["auction"], rec["price"])
    if query == "q5":
        return (rec["auction"], rec["num"], ts(rec["window_start"]), ts(rec["window_end"]))
    if query == "q7":
        return (rec["auction"], rec["bidder"], rec["price"], ts(rec["window_start"]),
                ts(rec["window_end"]))
    raise ValueError(query)


def same_sql_as_weir(query):
    """Whether sql/<query>.sql is the Sql statement of bench/nexmark/<query>.ron, up to
    comments, white space and the back-quotes Flink needs around `dateTime`. None when
    the .ron file does not exist."""
    ron = os.path.join(HERE, "..", "nexmark", query + ".ron")
    if not os.path.isfile(ron):
        return None
    with open(ron, encoding="utf-8") as f:
        m = re.search(r'Sql\(.*?query:\s*r#"(.*?)"#', f.read(), re.S)
    with open(os.path.join(HERE, "sql", query + ".sql"), encoding="utf-8") as f:
        flink = "\n".join(ln for ln in f.read().splitlines() if not ln.strip().startswith("--"))

    def canon(sql):
        return " ".join(sql.replace("`", "").replace(";", " ").split())

    return m is not None and canon(m.group(1)) == canon(flink)


def run_collect(source, query, parallelism, out):
    python = VENV_PYTHON if os.path.exists(VENV_PYTHON) else sys.executable
    cmd = [python, RUN, "--query", query, "--source", source, "--parallelism",
           str(parallelism), "--sink", "collect", "--out", out]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-5:])
        raise RuntimeError("%s exited %d:\n%s" % (" ".join(cmd), p.returncode, tail))
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--file", required=True)
    ap.add_argument("--queries", default="q0,q1,q2,q5,q7")
    ap.add_argument("--parallelism", default="1,2")
    ap.add_argument("--datagen", type=int, default=0)
    args = ap.parse_args(argv)
    path = os.path.abspath(args.file)
    if not os.path.isfile(path):
        print("check.py: error: %s does not exist" % path, file=sys.stderr)
        return 2
    bids = load_bids(path)
    late = late_count(bids, 4000, 2000)
    print("check.py: %s: %d bids; %d would be late under a strict 4 s watermark%s"
          % (path, len(bids), late, "" if late == 0 else " (window results may differ)"))
    ok = True
    for query in args.queries.split(","):
        same = same_sql_as_weir(query)
        if same is not None:
            ok = ok and same
            print("%s: sql/%s.sql %s bench/nexmark/%s.ron's statement"
                  % (query, query, "is" if same else "is NOT", query))
    with tempfile.TemporaryDirectory() as tmp:
        for query in args.queries.split(","):
            want = collections.Counter(reference(query, bids))
            for p in (int(x) for x in args.parallelism.split(",")):
                out = os.path.join(tmp, "%s-p%d.jsonl" % (query, p))
                rec = run_collect("file:" + path, query, p, out)
                got = collections.Counter()
                with open(out, encoding="utf-8") as f:
                    for line in f:
                        r = json.loads(line)
                        if r.pop("_kind") != "+I":
                            got[("non-insert row",) + tuple(r.values())] += 1
                        else:
                            got[normalise(query, r)] += 1
                same = got == want
                ok = ok and same
                print("%s p%d: flink %d rows, reference %d rows: %s"
                      % (query, p, sum(got.values()), sum(want.values()),
                         "same" if same else "DIFFERENT"))
                if not same:
                    for row in list((got - want).elements())[:3]:
                        print("  only in flink:     %r" % (row,))
                    for row in list((want - got).elements())[:3]:
                        print("  only in reference: %r" % (row,))
                sys.stdout.flush()
                del rec
        if args.datagen:
            for p in (int(x) for x in args.parallelism.split(",")):
                out = os.path.join(tmp, "datagen-p%d.jsonl" % p)
                rec = run_collect("datagen:%d" % args.datagen, "q0", p, out)
                same = rec["rows_out"] == args.datagen and rec["retractions_out"] == 0
                ok = ok and same
                print("datagen:%d q0 p%d: flink %d rows: %s"
                      % (args.datagen, p, rec["rows_out"], "same" if same else "DIFFERENT"))
    print("check.py: %s" % ("all results equal the reference" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
