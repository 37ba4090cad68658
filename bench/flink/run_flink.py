#!/usr/bin/env python3
"""Run one Nexmark query in Flink SQL (PyFlink, streaming mode) and time the job.

Usage:
    run_flink.py --query q0|q1|q2|q5|q7 --source file:/abs/path/bid.jsonl|datagen:N
                 --parallelism 1|2 [--warmup|--no-warmup] [--sink blackhole|collect]
                 [--out FILE]

The TableEnvironment (which starts the JVM) and the tables are created first; that is
`startup_seconds`. Then `execute_sql("INSERT INTO sink ...").wait()` is timed; that is
`job_seconds`, and `events_per_sec = events / job_seconds`. By default (--warmup) the
same job runs once, untimed, in the same JVM before the timed run, so the timed run is
warm (JIT-compiled operators and generated code classes); --no-warmup times a cold job.

Exactly one JSON line goes to stdout; everything else (ours, PyFlink's, the JVM's) goes
to stderr. Exit status 0 on success, 2 on bad input or a failed job.
"""

import argparse
import json
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(HERE, ".venv")
SQL_DIR = os.path.join(HERE, "sql")
NEXMARK_DIR = os.path.join(REPO, "bench", "nexmark")
QUERIES = ("q0", "q1", "q2", "q5", "q7")
FLINK_VERSION = "2.3.0"
DEFAULT_WATERMARK_MS = 4000
# Datagen event time: starts where weir's generator does (2026-03-01 00:00:00 UTC) and
# runs at --datagen-rate events (all kinds; 46 in 50 are bids) per second of event time,
# weir's default `--event-rate`, with weir's default out-of-orderness.
DATAGEN_BASE_MS = 1772323200000
DEFAULT_DATAGEN_RATE = 100000
DEFAULT_DATAGEN_OOO_MS = 1000
# Letters that `extra` and the url are cut from (fixed, so runs are comparable). Kept
# short: cutting from a 1024-letter literal halved datagen's rate (measured), 128 does not.
LETTERS = "".join(chr(97 + (i * 7919 + (i * i) % 101) % 26) for i in range(128))
DEFAULT_JVM_ARGS = "-Xms4g -Xmx4g"

BID_COLUMNS = """
  auction BIGINT,
  bidder BIGINT,
  price BIGINT,
  channel STRING,
  url STRING,
  `dateTime` TIMESTAMP(3),
  extra STRING"""


def log(msg):
    print("run_flink.py: " + msg, file=sys.stderr, flush=True)


def short(e):
    """The message of an exception without the Java stack trace."""
    text = str(e)
    lines = [ln for ln in text.splitlines()
             if ln.strip() and not ln.startswith("\tat ") and not ln.startswith("\t...")]
    causes = [ln for ln in lines if ln.startswith("Caused by:")]
    head = lines[1] if len(lines) > 1 and lines[0].startswith("An error occurred") else \
        (lines[0] if lines else text)
    if causes:
        head += " | root cause: " + causes[-1][len("Caused by: "):]
    return head.lstrip(": ").strip()


def fail(msg):
    print("run_flink.py: error: " + msg, file=sys.stderr, flush=True)
    sys.exit(2)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run one Nexmark query in Flink SQL and print one JSON line of timings.")
    p.add_argument("--query", required=True, help="one of " + ", ".join(QUERIES))
    p.add_argument("--source", required=True,
                   help="file:/abs/path/bid.jsonl (json lines; a directory of such files "
                        "also works, one reader per file) or datagen:N (N rows)")
    p.add_argument("--parallelism", type=int, default=1, help="1 or 2 (default 1)")
    p.add_argument("--warmup", dest="warmup", action="store_true", default=True,
                   help="run the same job once, untimed, in the same JVM first (default)")
    p.add_argument("--no-warmup", dest="warmup", action="store_false",
                   help="time the first (cold) run")
    p.add_argument("--sink", default="blackhole", choices=("blackhole", "collect"),
                   help="blackhole (default, for timing) or collect (rows back to Python, "
                        "for correctness checks)")
    p.add_argument("--out", help="with --sink collect: write the result rows here as json lines")
    p.add_argument("--watermark-ms", type=int, default=None,
                   help="out-of-orderness bound; default: watermark_ms of "
                        "bench/nexmark/<query>.ron if present, else %d" % DEFAULT_WATERMARK_MS)
    p.add_argument("--datagen-rate", type=int, default=DEFAULT_DATAGEN_RATE,
                   help="datagen only: events per second of event time, all kinds, 46 in "
                        "50 are bids (default %d, as weir nexmark gen)" % DEFAULT_DATAGEN_RATE)
    p.add_argument("--datagen-ooo-ms", type=int, default=DEFAULT_DATAGEN_OOO_MS,
                   help="datagen only: each bid's time moves back by 0..this many ms "
                        "(default %d, as weir nexmark gen)" % DEFAULT_DATAGEN_OOO_MS)
    args = p.parse_args(argv)

    if args.query not in QUERIES:
        fail("unknown query %r; expected one of %s" % (args.query, ", ".join(QUERIES)))
    if args.parallelism < 1:
        fail("--parallelism must be at least 1, got %d" % args.parallelism)
    if args.out and args.sink != "collect":
        fail("--out needs --sink collect")
    if args.datagen_rate < 1:
        fail("--datagen-rate must be at least 1, got %d" % args.datagen_rate)
    if args.datagen_ooo_ms < 0:
        fail("--datagen-ooo-ms must not be negative, got %d" % args.datagen_ooo_ms)

    if args.source.startswith("file:"):
        path = args.source[len("file:"):]
        if path.startswith("//"):
            path = path[2:]
        path = os.path.abspath(path)
        if os.path.isdir(path):
            # Flink's filesystem source reads every file of a directory except hidden
            # ones (names starting with '.' or '_'); one split, so one reader, per file.
            files = sorted(os.path.join(path, f) for f in os.listdir(path)
                           if not f.startswith((".", "_"))
                           and os.path.isfile(os.path.join(path, f)))
            if not files:
                fail("source directory %s holds no data files" % path)
        elif os.path.isfile(path):
            files = [path]
        else:
            fail("source file %s does not exist (generate it with "
                 "`weir nexmark gen --out DIR --format json`)" % path)
        args.kind, args.path, args.files, args.rows = "file", path, files, None
    elif args.source.startswith("datagen:"):
        n = args.source[len("datagen:"):].replace("_", "")
        if not n.isdigit() or int(n) < 1:
            fail("bad --source %r: datagen:N needs a positive row count N" % args.source)
        args.kind, args.path, args.files, args.rows = "datagen", None, [], int(n)
    else:
        fail("bad --source %r: expected file:/abs/path/bid.jsonl or datagen:N" % args.source)
    return args


def ensure_pyflink():
    """Import pyflink, re-executing under bench/flink/.venv/bin/python if needed."""
    try:
        import pyflink  # noqa: F401
        return
    except ImportError:
        pass
    venv_python = os.path.join(VENV, "bin", "python")
    if os.path.exists(venv_python) and not os.environ.get("WEIR_FLINK_REEXEC"):
        os.environ["WEIR_FLINK_REEXEC"] = "1"
        os.execv(venv_python, [venv_python, os.path.abspath(__file__)] + sys.argv[1:])
    fail("PyFlink is not installed for %s; run bench/flink/setup.sh first "
         "(it creates %s), then run this script with %s"
         % (sys.executable, VENV, venv_python))


def ensure_java():
    if "JAVA_HOME" in os.environ:
        return
    java = shutil.which("java")
    if java is None:
        fail("no `java` on PATH and JAVA_HOME is unset; PyFlink %s needs Java 11 or 17"
             % FLINK_VERSION)
    # .../jvm/java-17-openjdk-amd64/bin/java -> .../jvm/java-17-openjdk-amd64
    os.environ["JAVA_HOME"] = os.path.dirname(os.path.dirname(os.path.realpath(java)))


def watermark_ms_for(query):
    """The out-of-orderness bound of the weir job for `query`, if its .ron file exists."""
    for name in ("%s.ron" % query, "nexmark_%s.ron" % query):
        path = os.path.join(NEXMARK_DIR, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                m = re.search(r"watermark_ms\s*:\s*(\d+)", f.read())
            if m:
                return int(m.group(1)), path
    return DEFAULT_WATERMARK_MS, None


def load_query(query):
    path = os.path.join(SQL_DIR, query + ".sql")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        fail("cannot read %s: %s" % (path, e))
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("--")]
    sql = "\n".join(lines).strip().rstrip(";").strip()
    if not sql:
        fail("%s holds no SELECT statement" % path)
    return sql


def count_lines(path):
    """Non-empty lines in a json-lines file (the number of bids)."""
    n = 0
    last = b"\n"
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 24)
            if not chunk:
                break
            n += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        n += 1
    return n


def interval(ms):
    if ms % 1000 == 0:
        return "INTERVAL '%d' SECOND" % (ms // 1000)
    return "INTERVAL '%d.%03d' SECOND(2, 3)" % (ms // 1000, ms % 1000)


def bid_ddl(args, watermark_ms):
    wm = "WATERMARK FOR `dateTime` AS `dateTime` - %s" % interval(watermark_ms)
    if args.kind == "file":
        return """CREATE TEMPORARY TABLE bid (%s,
  %s
) WITH (
  'connector' = 'filesystem',
  'path' = 'file://%s',
  'format' = 'json',
  'json.timestamp-format.standard' = 'SQL',
  'json.ignore-parse-errors' = 'false'
)""" % (BID_COLUMNS, wm, args.path)
    # datagen: Nexmark-like bids, computed from a sequence number `seq` (0..N-1, the bid
    # number) and a few bounded random integers, after the reference generator (and weir's,
    # crates/engine/src/nexmark/generator.rs): bid `seq` is event n = seq*50/46 (46 bids in
    # every 50 events); half of the bids go to the current hot auction, the others to one
    # of the ~110 open auctions; 3 in 4 come from the hot bidder, the others from one of the
    # last ~1000 persons; price = round(10^(6u) * 100), u uniform; 9 in 10 bids on one of 4
    # hot channels; extra = 54..82 letters; event time = base + n*1000/rate, moved back by
    # 0..ooo ms. The legacy datagen source interleaves a sequence over its subtasks
    # (subtask i emits i, i+P, ...), so all subtasks walk the same event-time range.
    n = args.rows
    hot_channels = "CASE MOD(r_c, 4) WHEN 0 THEN 'Google' WHEN 1 THEN 'Facebook' " \
        "WHEN 2 THEN 'Baidu' ELSE 'Apple' END"
    randoms = [("r_hot", 0, 1), ("r_a", 0, 110), ("r_hb", 0, 3), ("r_b", 0, 1009),
               ("r_p", 0, 999999), ("r_c", 0, 99999), ("r_o", 0, len(LETTERS) - 83),
               ("r_len", 0, 28), ("r_shift", 0, args.datagen_ooo_ms)]
    options = ["'fields.%s.kind' = 'random', 'fields.%s.min' = '%d', 'fields.%s.max' = '%d'"
               % (f, f, lo, f, hi) for f, lo, hi in randoms]
    return """CREATE TEMPORARY TABLE bid (
  seq BIGINT,
  %s,
  auction AS CAST(1000 + CASE WHEN r_hot = 0 THEN ((seq / 46) * 3 + 2) / 100 * 100
                  ELSE GREATEST((seq / 46) * 3 + 2 - 100, 0) + r_a END AS BIGINT),
  bidder AS CAST(1000 + CASE WHEN r_hb < 3 THEN (seq / 46) / 100 * 100 + 1
                 ELSE GREATEST(seq / 46 + 1 - 1000, 0) + r_b END AS BIGINT),
  price AS CAST(ROUND(POWER(10e0, CAST(r_p AS DOUBLE) * 6e-6) * 100) AS BIGINT),
  channel AS CASE WHEN r_c < 90000 THEN %s
             ELSE CONCAT('channel-', CAST(MOD(r_c, 10000) AS STRING)) END,
  url AS CONCAT('https://www.nexmark.com/', SUBSTRING('%s', r_o + 1, 8),
                '/item.htm?query=1&channel_id=', CAST(MOD(r_c, 10000) AS STRING)),
  extra AS SUBSTRING('%s', r_o + 1, 54 + r_len),
  `dateTime` AS CAST(TO_TIMESTAMP_LTZ(%d + (seq * 50 / 46) * 1000 / %d - r_shift, 3)
                     AS TIMESTAMP(3)),
  %s
) WITH (
  'connector' = 'datagen',
  'number-of-rows' = '%d',
  'rows-per-second' = '1000000000000',
  'fields.seq.kind' = 'sequence',
  'fields.seq.start' = '0',
  'fields.seq.end' = '%d',
  %s
)""" % (",\n  ".join("%s INT" % f for f, _, _ in randoms), hot_channels, LETTERS, LETTERS,
        DATAGEN_BASE_MS, args.datagen_rate, wm, n, n - 1, ",\n  ".join(options))


def make_env(parallelism):
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    conf = Configuration()
    settings_used = {
        "execution.runtime-mode": "streaming",
        "parallelism.default": str(parallelism),
        "table.exec.resource.default-parallelism": str(parallelism),
        "taskmanager.numberOfTaskSlots": str(parallelism),
        "pipeline.object-reuse": "true",
        "table.exec.mini-batch.enabled": "false",
        "table.local-time-zone": "UTC",
        "taskmanager.memory.managed.size": "512m",
        "taskmanager.memory.network.min": "256m",
        "taskmanager.memory.network.max": "256m",
        "rest.bind-port": "0",
    }
    for k, v in settings_used.items():
        conf.set_string(k, v)
    settings = EnvironmentSettings.new_instance().in_streaming_mode() \
        .with_configuration(conf).build()
    return TableEnvironment.create(settings), settings_used


def sink_ddl(t_env, select):
    """A blackhole table with exactly the columns of `select`."""
    cols = t_env.sql_query(select)._j_table.getResolvedSchema().getColumns()
    parts = []
    for i in range(cols.size()):
        c = cols.get(i)
        parts.append("  `%s` %s" % (c.getName(),
                                    c.getDataType().getLogicalType().asSerializableString()))
    return "CREATE TEMPORARY TABLE sink (\n%s\n) WITH ('connector' = 'blackhole')" \
        % ",\n".join(parts)


def run_blackhole(t_env, insert):
    t0 = time.perf_counter()
    result = t_env.execute_sql(insert)
    submit = time.perf_counter() - t0
    result.wait()
    wall = time.perf_counter() - t0
    net = None
    try:
        client = result.get_job_client()
        if client is not None:
            net = client.get_job_execution_result().result().get_net_runtime() / 1000.0
    except Exception as e:  # the figure is informative only
        log("could not read the job's net runtime: %s" % short(e))
    return wall, net, submit


def to_jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def run_collect(t_env, select, out_path):
    from pyflink.common import RowKind

    t0 = time.perf_counter()
    result = t_env.execute_sql(select)
    names = result.get_resolved_schema().get_column_names()
    inserts, retractions = 0, 0
    out = open(out_path, "w", encoding="utf-8") if out_path else None
    try:
        with result.collect() as rows:
            for row in rows:
                kind = row.get_row_kind()
                if kind == RowKind.INSERT:
                    inserts += 1
                else:
                    retractions += 1
                if out is not None:
                    rec = {n: to_jsonable(v) for n, v in zip(names, list(row))}
                    rec["_kind"] = str(kind).rsplit(".", 1)[-1]
                    out.write(json.dumps(rec) + "\n")
    finally:
        if out is not None:
            out.close()
    return time.perf_counter() - t0, inserts, retractions


def main(argv):
    args = parse_args(argv)
    ensure_pyflink()
    ensure_java()
    os.environ.setdefault("JVM_ARGS", DEFAULT_JVM_ARGS)

    # Keep stdout for the one JSON line: PyFlink and the JVM (which inherits fd 1) write
    # to stderr from here on.
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    if args.watermark_ms is None:
        args.watermark_ms, ron = watermark_ms_for(args.query)
        log("watermark: %d ms out-of-orderness (%s)"
            % (args.watermark_ms, ron or "default; no bench/nexmark/%s.ron" % args.query))
    select = load_query(args.query)

    if args.kind == "file":
        t0 = time.perf_counter()
        events = sum(count_lines(f) for f in args.files)
        log("%s: %d bids in %d file(s) (counted in %.2f s)"
            % (args.path, events, len(args.files), time.perf_counter() - t0))
        if events == 0:
            fail("source file %s is empty" % args.path)
    else:
        events = args.rows

    t_start = time.perf_counter()
    try:
        t_env, settings_used = make_env(args.parallelism)
        log("flink settings: " + json.dumps(settings_used) + " JVM_ARGS=" + os.environ["JVM_ARGS"])
        t_env.execute_sql(bid_ddl(args, args.watermark_ms))
        if args.sink == "blackhole":
            t_env.execute_sql(sink_ddl(t_env, select))
    except Exception as e:
        fail("could not set up Flink for %s over %s: %s" % (args.query, args.source, short(e)))
    startup = time.perf_counter() - t_start
    log("startup (JVM, TableEnvironment, tables): %.2f s" % startup)

    record = {
        "engine": "flink",
        "flink_version": FLINK_VERSION,
        "query": args.query,
        "source": args.kind,
        "parallelism": args.parallelism,
        "events": events,
    }
    if args.kind == "file" and len(args.files) > 1:
        record["files"] = len(args.files)
    try:
        if args.sink == "blackhole":
            insert = "INSERT INTO sink\n" + select
            if args.warmup:
                w, _, _ = run_blackhole(t_env, insert)
                log("warm-up run: %.3f s (%.0f events/s)" % (w, events / w))
            load = os.getloadavg()[0]
            job, net, submit = run_blackhole(t_env, insert)
            record.update({
                "job_seconds": round(job, 4),
                "events_per_sec": round(events / job, 1),
                "startup_seconds": round(startup, 3),
                "submit_seconds": round(submit, 3),
                "net_runtime_seconds": net,
                "warmup": args.warmup,
                "watermark_ms": args.watermark_ms,
                "load_avg_1m_before": round(load, 2),
            })
        else:
            job, inserts, retractions = run_collect(t_env, select, args.out)
            record.update({
                "job_seconds": round(job, 4),
                "events_per_sec": round(events / job, 1),
                "startup_seconds": round(startup, 3),
                "sink": "collect",
                "rows_out": inserts,
                "retractions_out": retractions,
                "watermark_ms": args.watermark_ms,
            })
    except Exception as e:
        fail("Flink job %s over %s at parallelism %d failed: %s"
             % (args.query, args.source, args.parallelism, short(e)))
    log("%s: %d events in %.3f s = %.0f events/s"
        % (args.query, events, record["job_seconds"], record["events_per_sec"]))
    os.write(real_stdout, (json.dumps(record) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
