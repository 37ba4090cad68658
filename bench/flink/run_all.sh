#!/usr/bin/env bash
# Runs every Nexmark query in Flink at parallelism 1 and 2 over DATA_DIR/bid.jsonl and
# over Flink's datagen, one fresh JVM per run, and writes the JSON lines of run_flink.py
# as one JSON array to bench/results/nexmark-flink.json (or $OUT).
#
#   bench/flink/run_all.sh DATA_DIR [DATAGEN_ROWS]
#
# Environment: QUERIES (default "q0 q1 q2 q5 q7"), PARALLELISMS (default "1 2"),
# SOURCES (default "file datagen"), OUT (default bench/results/nexmark-flink.json),
# SPLIT_DIR (a directory holding bid.jsonl split into parts: also run each query over it
# at parallelism 2, so Flink has one file reader per subtask).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY="$HERE/.venv/bin/python"
DATA_DIR="${1:-}"
ROWS="${2:-10000000}"
QUERIES="${QUERIES:-q0 q1 q2 q5 q7}"
PARALLELISMS="${PARALLELISMS:-1 2}"
SOURCES="${SOURCES:-file datagen}"
OUT="${OUT:-$REPO/bench/results/nexmark-flink.json}"
SPLIT_DIR="${SPLIT_DIR:-}"

if [ ! -x "$PY" ]; then
    echo "run_all.sh: no $PY; run bench/flink/setup.sh first" >&2
    exit 2
fi
case " $SOURCES " in
    *" file "*)
        if [ -z "$DATA_DIR" ] || [ ! -f "$DATA_DIR/bid.jsonl" ]; then
            echo "run_all.sh: usage: run_all.sh DATA_DIR [DATAGEN_ROWS]; DATA_DIR must hold bid.jsonl" \
                 "(make it with: weir nexmark gen --events N --format json --out DATA_DIR)" >&2
            exit 2
        fi
        DATA_FILE="$(cd "$DATA_DIR" && pwd)/bid.jsonl"
        ;;
esac

if [ -n "$SPLIT_DIR" ] && [ ! -d "$SPLIT_DIR" ]; then
    echo "run_all.sh: SPLIT_DIR $SPLIT_DIR is not a directory" >&2
    exit 2
fi

LINES="$(mktemp)"
trap 'rm -f "$LINES"' EXIT
failed=0
run() {  # query source-spec parallelism
    echo "run_all.sh: $1 $2 parallelism $3" >&2
    local line
    if line="$("$PY" "$HERE/run_flink.py" --query "$1" --source "$2" --parallelism "$3")"; then
        echo "$line" >&2
        echo "$line" >> "$LINES"
    else
        echo "run_all.sh: $1 $2 parallelism $3 FAILED (see above)" >&2
        failed=1
    fi
}
for source in $SOURCES; do
    if [ "$source" = file ]; then spec="file:$DATA_FILE"; else spec="datagen:$ROWS"; fi
    for q in $QUERIES; do
        for p in $PARALLELISMS; do
            run "$q" "$spec" "$p"
        done
        if [ "$source" = file ] && [ -n "$SPLIT_DIR" ]; then
            run "$q" "file:$(cd "$SPLIT_DIR" && pwd)" 2
        fi
    done
done

mkdir -p "$(dirname "$OUT")"
python3 - "$LINES" "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
with open(sys.argv[2], "w") as f:
    json.dump(rows, f, indent=1)
    f.write("\n")
print("run_all.sh: %d results in %s" % (len(rows), sys.argv[2]), file=sys.stderr)
PY
exit $failed
