#!/usr/bin/env bash
# Installs PyFlink (apache-flink from PyPI) into bench/flink/.venv.
# Idempotent: does nothing when the right version is already installed.
set -euo pipefail

FLINK_VERSION="${FLINK_VERSION:-2.3.0}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3.11}"

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    PYTHON=python3
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "setup.sh: no python3.11 or python3 on PATH; install CPython 3.9-3.12 and re-run" >&2
    exit 1
fi
if ! command -v java >/dev/null 2>&1; then
    echo "setup.sh: no 'java' on PATH; PyFlink $FLINK_VERSION needs Java 11 or 17 (e.g. apt-get install openjdk-17-jre-headless)" >&2
    exit 1
fi
echo "setup.sh: java is $(readlink -f "$(command -v java)")"

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup.sh: creating venv $VENV with $PYTHON ($("$PYTHON" --version 2>&1))"
    "$PYTHON" -m venv "$VENV"
else
    echo "setup.sh: venv $VENV exists"
fi

installed="$("$VENV/bin/python" -m pip show apache-flink 2>/dev/null | sed -n 's/^Version: //p' || true)"
if [ "$installed" = "$FLINK_VERSION" ]; then
    echo "setup.sh: apache-flink $FLINK_VERSION already installed; nothing to do"
else
    if [ -n "$installed" ]; then
        echo "setup.sh: apache-flink $installed installed; replacing with $FLINK_VERSION"
    fi
    echo "setup.sh: pip install apache-flink==$FLINK_VERSION (downloads ~300 MB of jars on first install)"
    "$VENV/bin/python" -m pip install --upgrade pip >&2
    "$VENV/bin/python" -m pip install "apache-flink==$FLINK_VERSION" >&2
fi

echo "setup.sh: checking that PyFlink imports"
"$VENV/bin/python" -c 'import pyflink, sys; print("setup.sh: pyflink at", pyflink.__path__[0], file=sys.stderr)'
echo "setup.sh: done; run e.g. $VENV/bin/python $HERE/run_flink.py --query q0 --source datagen:1000000 --parallelism 1"
