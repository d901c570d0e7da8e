#!/usr/bin/env bash
# Build kvm-conformance (release, --locked) and run it against this host's kernel.
# Reports go to reports/<run-id>/ (junit.xml, results.ktap, summary.txt); reports/latest points
# at the newest. Arguments pass through to the binary (see --help). Exit: 0 nothing failed,
# 1 a case failed, 2 the run could not be done.
set -uo pipefail
cd "$(dirname "$0")" || exit 2

if ! command -v cargo >/dev/null 2>&1; then
    echo "run.sh: cargo not found: install the Rust toolchain (https://rustup.rs)" >&2
    exit 2
fi
if ! cargo build --release --locked --quiet -p suites; then
    echo "run.sh: build failed" >&2
    exit 2
fi

# Quiet unless the caller chose an output format: one character per case, details on failure.
quiet=(-q)
for a in "$@"; do
    case "$a" in
        -q | --quiet | --format | --format=* | --list | -h | --help | --version) quiet=() ;;
    esac
done

export KVM_CONFORMANCE_LAUNCHER=./run.sh
exec target/release/kvm-conformance "${quiet[@]}" "$@"
