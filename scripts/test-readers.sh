#!/usr/bin/env bash
# Installs the external readers that servedby-report's tests check their output with:
# pyarrow and duckdb (Parquet), followthemoney (FtM entities) and Debian's chromium
# (the HTML report, rendered headless). Idempotent: anything already present is left
# alone, so a second run costs a few seconds. Exits non-zero if an install fails.
#
# The tests find the readers on PATH (`python3`, `chromium`); with
# SERVEDBY_REQUIRE_READERS=1 a missing reader fails the test instead of skipping it.
set -euo pipefail

PYTHON="${PYTHON:-python3}"

have_py() {
    "$PYTHON" -c "import $1" >/dev/null 2>&1
}

missing_py=()
have_py pyarrow || missing_py+=(pyarrow)
have_py duckdb || missing_py+=(duckdb)
have_py followthemoney || missing_py+=(followthemoney)

if ((${#missing_py[@]})); then
    echo "test-readers: pip install ${missing_py[*]}" >&2
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "${missing_py[@]}"
fi
for module in pyarrow duckdb followthemoney; do
    if ! have_py "$module"; then
        echo "test-readers: $module still not importable by $PYTHON" >&2
        exit 1
    fi
done

if ! command -v chromium >/dev/null 2>&1; then
    echo "test-readers: apt-get install chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if ! command -v chromium >/dev/null 2>&1; then
    echo "test-readers: chromium still not on PATH" >&2
    exit 1
fi

echo "test-readers: pyarrow duckdb followthemoney chromium present" >&2
