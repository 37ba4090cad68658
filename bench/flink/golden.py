#!/usr/bin/env python3
"""Regenerate the expected rows of the SQL golden files (tests/sql/*.sql-test) with Flink.

Usage:
    bench/flink/.venv/bin/python bench/flink/golden.py [--check] [FILE ...]

For each golden file (default: every tests/sql/*.sql-test), creates its tables in a
PyFlink streaming TableEnvironment at parallelism 1, each as a `filesystem` table over a
json-lines file holding the file's rows in arrival order, with the file's
`WATERMARK FOR ts AS ts - INTERVAL ...`; runs every case's query, collects the rows and
rewrites only the expected-rows section of each case (the lines after `----` up to the
next blank line): a provenance line naming the Flink version and this command, a comment
with the column names, a comment with their Flink types, then the rows in the canonical
text form of tests/sql/README.md (sorted, unless the case says `ordered`). Error cases (`error: ...`) are not sent to
Flink. With --check nothing is written: exit status 1 when a file's recorded rows differ
from what Flink returns now.

Deterministic lateness. The filesystem connector does not take watermark push-down, so
Flink plans a separate WatermarkAssigner operator after the scan. That operator emits a
watermark from processElement as soon as it has advanced by more than
`pipeline.auto-watermark-interval` ms, and also on a processing-time timer every interval.
With the interval at its default (200 ms) whether a row is late would depend on timing
(the timer) and on event-time gaps. We set `pipeline.auto-watermark-interval` to 0: the
timer is never registered, and the assigner emits the watermark after every row that
advances it (the row first, then the watermark), so each row is judged against the
watermark of the rows before it, whatever the machine's speed. (The table option
'scan.watermark.emit.strategy'='on-event' only applies to sources that take watermark
push-down, which the filesystem connector does not.) The json file is one split, read in
order by one reader; parallelism 1 keeps the order through the whole job.

Exit status 0 on success, 2 on bad input or a failed job, 1 when --check finds changes.
"""

import argparse
import datetime
import decimal
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(HERE, ".venv")
GOLDEN_DIR = os.path.join(REPO, "tests", "sql")
FLINK_VERSION = "2.3.0"
COMMAND = "bench/flink/.venv/bin/python bench/flink/golden.py"
PROVENANCE = "# expected rows from Apache Flink %s: %s" % (FLINK_VERSION, COMMAND)
TYPE_RE = re.compile(
    r"^(STRING|BOOLEAN|INT|BIGINT|FLOAT|DOUBLE|DATE|TIMESTAMP\(3\)|DECIMAL\(\d+,\s*\d+\))$",
    re.IGNORECASE)


class GoldenError(Exception):
    pass


def log(msg):
    print("golden.py: " + msg, file=sys.stderr, flush=True)


def fail(msg):
    print("golden.py: error: " + msg, file=sys.stderr, flush=True)
    sys.exit(2)


# ---- the golden file format (tests/sql/README.md) ----------------------------------------

class Table:
    def __init__(self, name, columns, line):
        self.name = name
        self.columns = columns  # [(name, TYPE)]
        self.event_time = None
        self.bound_ms = None
        self.rows = []  # [[cell text]] in arrival order
        self.line = line


class Case:
    def __init__(self, name, line):
        self.name = name
        self.line = line
        self.error = None
        self.ordered = False
        self.query = []
        self.expected_at = None  # index of the `----` line
        self.expected_end = None  # index after the last expected line


def split_top(text, sep=","):
    """Split at `sep` outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def parse(path, lines):
    """The tables and cases of one golden file; errors name file:line."""
    tables, cases = {}, []
    where = lambda i: "%s:%d" % (path, i + 1)  # noqa: E731
    i, last_table = 0, None
    while i < len(lines):
        line = lines[i].rstrip("\n")
        if not line.strip() or line.startswith("#"):
            i += 1
            continue
        if line.startswith("table "):
            m = re.match(r"^table\s+(\w+)\s*\((.*)\)\s*$", line)
            if not m:
                raise GoldenError("%s: expected `table NAME (col TYPE, ...)`" % where(i))
            cols = []
            for part in split_top(m.group(2)):
                bits = part.strip().split(None, 1)
                if len(bits) != 2 or not TYPE_RE.match(bits[1].strip()):
                    raise GoldenError("%s: bad column %r; expected `name TYPE` with TYPE one "
                                      "of STRING BOOLEAN INT BIGINT FLOAT DOUBLE DATE "
                                      "TIMESTAMP(3) DECIMAL(p,s)" % (where(i), part.strip()))
                cols.append((bits[0], bits[1].strip().upper().replace(" ", "")))
            last_table = Table(m.group(1), cols, i)
            tables[last_table.name] = last_table
            i += 1
        elif line.startswith("watermark "):
            m = re.match(r"^watermark\s+(\w+)\s*-\s*(\d+)\s*ms\s*$", line)
            if not m or last_table is None:
                raise GoldenError("%s: expected `watermark COLUMN - N ms` after a table"
                                  % where(i))
            last_table.event_time, last_table.bound_ms = m.group(1), int(m.group(2))
            i += 1
        elif line.startswith("rows "):
            name = line[5:].strip()
            if name not in tables:
                raise GoldenError("%s: rows for unknown table %r" % (where(i), name))
            t = tables[name]
            i += 1
            while i < len(lines) and lines[i].strip():
                if not lines[i].startswith("#"):
                    cells = [c.strip() for c in lines[i].rstrip("\n").split("|")]
                    if len(cells) != len(t.columns):
                        raise GoldenError("%s: %d values for the %d columns of %s"
                                          % (where(i), len(cells), len(t.columns), name))
                    t.rows.append(cells)
                i += 1
        elif line.startswith("case "):
            case = Case(line[5:].strip(), i)
            cases.append(case)
            i += 1
            while i < len(lines) and lines[i].strip() != "query":
                opt = lines[i].strip()
                if opt == "ordered":
                    case.ordered = True
                elif opt.startswith("error:"):
                    case.error = opt[6:].strip()
                elif (opt.startswith("known-difference:") or opt.startswith("known-type-difference:")
                      or opt.startswith("#") or not opt):
                    pass
                else:
                    raise GoldenError("%s: unknown case option %r" % (where(i), opt))
                i += 1
            i += 1
            while i < len(lines) and lines[i].strip() and lines[i].strip() != "----":
                if not lines[i].startswith("#"):
                    case.query.append(lines[i].rstrip("\n"))
                i += 1
            if not case.query:
                raise GoldenError("%s: case %s has no query" % (where(case.line), case.name))
            if case.error is None:
                if i >= len(lines) or lines[i].strip() != "----":
                    raise GoldenError("%s: case %s: the query must be followed by `----` "
                                      "and the expected rows" % (where(i), case.name))
                case.expected_at = i
                i += 1
                while i < len(lines) and lines[i].strip():
                    i += 1
                case.expected_end = i
        else:
            raise GoldenError("%s: unexpected line %r" % (where(i), line))
    return tables, cases


# ---- values --------------------------------------------------------------------------------

def json_value(cell, ty, where):
    """One input cell as a JSON value text for Flink's json format."""
    if cell == "NULL":
        return "null"
    try:
        if ty == "STRING":
            return json.dumps("" if cell == "(empty)" else cell)
        if ty == "BOOLEAN":
            if cell not in ("true", "false"):
                raise ValueError("expected true or false")
            return cell
        if ty in ("INT", "BIGINT"):
            return str(int(cell))
        if ty in ("FLOAT", "DOUBLE"):
            return repr(float(cell))
        if ty.startswith("DECIMAL"):
            return str(decimal.Decimal(cell))
        if ty == "DATE":
            return json.dumps(datetime.date.fromisoformat(cell).isoformat())
        if ty == "TIMESTAMP(3)":
            if not re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$", cell):
                raise ValueError("expected YYYY-MM-DD HH:MM:SS.mmm")
            return json.dumps(cell)
    except ValueError as e:
        raise GoldenError("%s: bad %s value %r: %s" % (where, ty, cell, e))
    raise GoldenError("%s: unknown type %s" % (where, ty))


def canonical_double(x):
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    r = float("%.12g" % x)
    s = repr(r)
    if "e" in s or "E" in s:
        s = format(decimal.Decimal(s), "f")
    if "." not in s:
        s += ".0"
    return s


def canonical(v):
    """A Flink result value in the canonical text form (tests/sql/README.md)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return canonical_double(v)
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (v.microsecond // 1000)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, str):
        if v == "":
            return "(empty)"
        if "|" in v or "\n" in v or v != v.strip():
            raise GoldenError("string %r cannot be written in a golden file" % v)
        return v
    raise GoldenError("no canonical form for %r (%s)" % (v, type(v).__name__))


def flink_type(data_type):
    """A result column's Flink type in the golden files' words (tests/sql/README.md):
    Flink's summary without nullability and time attribute; CHAR(n) and VARCHAR(n) are
    STRING, as Arrow has one string type."""
    text = data_type.getLogicalType().copy(True).asSummaryString()
    text = re.sub(r"\s*\*(ROWTIME|PROCTIME)\*$", "", text)
    if re.match(r"^(VAR)?CHAR\(\d+\)$", text):
        return "STRING"
    return text


def format_rows(names, types, rows):
    """The column names and types as comments, then the rows, as ` | `-separated lines
    with columns padded to a common width."""
    table = [names, types] + rows
    widths = [max(len(r[c]) for r in table) for c in range(len(names))]
    pad = lambda r: " | ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip()  # noqa: E731
    # rows indented by two, under the "# " of the column names
    return ["# " + pad(names), "# " + pad(types)] + ["  " + pad(r) for r in rows]


# ---- Flink -----------------------------------------------------------------------------------

def ensure_pyflink():
    try:
        import pyflink  # noqa: F401
        return
    except ImportError:
        pass
    venv_python = os.path.join(VENV, "bin", "python")
    if os.path.exists(venv_python) and not os.environ.get("WEIR_FLINK_REEXEC"):
        os.environ["WEIR_FLINK_REEXEC"] = "1"
        os.execv(venv_python, [venv_python, os.path.abspath(__file__)] + sys.argv[1:])
    fail("PyFlink is not installed for %s; run bench/flink/setup.sh first" % sys.executable)


def ensure_java():
    if "JAVA_HOME" in os.environ:
        return
    java = shutil.which("java")
    if java is None:
        fail("no `java` on PATH and JAVA_HOME is unset; PyFlink %s needs Java 11 or 17"
             % FLINK_VERSION)
    os.environ["JAVA_HOME"] = os.path.dirname(os.path.dirname(os.path.realpath(java)))


def make_env():
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    conf = Configuration()
    for k, v in {
        "execution.runtime-mode": "streaming",
        "parallelism.default": "1",
        "table.exec.resource.default-parallelism": "1",
        "taskmanager.numberOfTaskSlots": "1",
        "pipeline.auto-watermark-interval": "0",
        "table.local-time-zone": "UTC",
        "rest.bind-port": "0",
    }.items():
        conf.set_string(k, v)
    settings = EnvironmentSettings.new_instance().in_streaming_mode() \
        .with_configuration(conf).build()
    return TableEnvironment.create(settings)


def interval(ms):
    if ms % 1000 == 0:
        return "INTERVAL '%d' SECOND" % (ms // 1000)
    return "INTERVAL '%d.%03d' SECOND(2, 3)" % (ms // 1000, ms % 1000)


def create_table(t_env, table, tmp, path):
    data_dir = os.path.join(tmp, table.name)
    os.makedirs(data_dir)
    with open(os.path.join(data_dir, "rows.json"), "w", encoding="utf-8") as f:
        for n, row in enumerate(table.rows):
            where = "%s: row %d of %s" % (path, n + 1, table.name)
            fields = ['"%s": %s' % (c, json_value(v, ty, where))
                      for (c, ty), v in zip(table.columns, row)]
            f.write("{" + ", ".join(fields) + "}\n")
    cols = ["`%s` %s" % (c, ty) for c, ty in table.columns]
    if table.event_time:
        cols.append("WATERMARK FOR `%s` AS `%s` - %s"
                    % (table.event_time, table.event_time, interval(table.bound_ms)))
    t_env.execute_sql("DROP TEMPORARY TABLE IF EXISTS `%s`" % table.name)
    t_env.execute_sql("""CREATE TEMPORARY TABLE `%s` (%s) WITH (
  'connector' = 'filesystem', 'path' = 'file://%s', 'format' = 'json',
  'json.timestamp-format.standard' = 'SQL', 'json.ignore-parse-errors' = 'false')"""
                      % (table.name, ", ".join(cols), data_dir))


def short(e):
    lines = [ln for ln in str(e).splitlines()
             if ln.strip() and not ln.startswith("\tat ") and not ln.startswith("\t...")]
    causes = [ln for ln in lines if ln.startswith("Caused by:")]
    head = lines[0] if lines else str(e)
    return head + (" | root cause: " + causes[-1][10:] if causes else "")


def run_case(t_env, case):
    from pyflink.common import RowKind

    sql = "\n".join(case.query).strip().rstrip(";")
    result = t_env.execute_sql(sql)
    schema = result._j_table_result.getResolvedSchema()
    names = [str(n) for n in schema.getColumnNames()]
    types = [flink_type(t) for t in schema.getColumnDataTypes()]
    rows = []
    with result.collect() as it:
        for row in it:
            if row.get_row_kind() != RowKind.INSERT:
                raise GoldenError("Flink's result is a changelog (%s rows); golden files "
                                  "hold append-only results" % row.get_row_kind())
            rows.append([canonical(v) for v in list(row)])
    if not case.ordered:
        rows.sort()
    return names, types, rows


def regenerate(t_env, path, check):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    tables, cases = parse(path, lines)
    with tempfile.TemporaryDirectory(prefix="weir-golden-") as tmp:
        for t in tables.values():
            create_table(t_env, t, tmp, path)
        # replace from the last case up, so earlier indices stay valid
        for case in reversed(cases):
            if case.error is not None:
                continue
            log("%s: %s" % (os.path.relpath(path, REPO), case.name))
            try:
                names, types, rows = run_case(t_env, case)
            except GoldenError as e:
                raise GoldenError("%s: case %s: %s" % (path, case.name, e))
            except Exception as e:  # a Py4J error from planning or running the query
                raise GoldenError("%s: case %s: Flink failed: %s" % (path, case.name, short(e)))
            new = [PROVENANCE] + format_rows(names, types, rows)
            lines[case.expected_at + 1:case.expected_end] = new
        for t in tables.values():
            t_env.execute_sql("DROP TEMPORARY TABLE IF EXISTS `%s`" % t.name)
    text = "\n".join(lines)
    with open(path, encoding="utf-8") as f:
        old = f.read()
    if text == old:
        return False
    if not check:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return True


def main(argv):
    p = argparse.ArgumentParser(description="Regenerate tests/sql/*.sql-test expected rows "
                                            "with Apache Flink %s." % FLINK_VERSION)
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when a file's rows differ from Flink's")
    p.add_argument("files", nargs="*", help="golden files (default: tests/sql/*.sql-test)")
    args = p.parse_args(argv)
    files = [os.path.abspath(f) for f in args.files] or sorted(
        os.path.join(GOLDEN_DIR, f) for f in os.listdir(GOLDEN_DIR) if f.endswith(".sql-test"))
    for f in files:
        if not os.path.isfile(f):
            fail("no golden file %s" % f)
    ensure_pyflink()
    ensure_java()
    t_env = make_env()
    changed = []
    try:
        for f in files:
            if regenerate(t_env, f, args.check):
                changed.append(os.path.relpath(f, REPO))
    except GoldenError as e:
        fail(str(e))
    verb = "differ from Flink" if args.check else "rewritten"
    print("golden.py: %d file(s), %d %s%s" % (len(files), len(changed), verb,
                                              (": " + ", ".join(changed)) if changed else ""))
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
