#!/usr/bin/env bash
# What the runner itself costs, on this machine's kernel. A benchmark, not a test: it prints
# medians of interleaved rounds and fails only when a run fails.
#
#   bench/runner.sh isolation [ROUNDS]  per-case cost of a process per case: the memslot rows
#                                       (without the fill and the property), one thread, each
#                                       in its own process vs all in one (--in-process)
#   bench/runner.sh threads [ROUNDS]    the whole live run at 1, 2, 3, 4, 6 and 8 threads (the
#                                       default is runner::default_threads)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
mode=${1:-}
rounds=${2:-15}
[ -r /dev/kvm ] && [ -w /dev/kvm ] || die "needs read-write /dev/kvm"
./run.sh build || die "the build failed"
suite=target/release/kvm-conformance


case $mode in
isolation)
    sel=(set_user_memory_region:: --skip fill --skip property)
    # The cases that run (the skips the runner decides cost nothing in either mode).
    n=$("$suite" -q --no-reports --test-threads 1 --in-process "${sel[@]}" 2>/dev/null |
        sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' | awk '{print $1 + $2}')
    [ "${n:-0}" -gt 0 ] || die "no case ran"
    declare -a own one
    for ((i = 0; i < rounds; i++)); do
        own+=("$(wall "$suite" -q --no-reports --test-threads 1 "${sel[@]}")")
        one+=("$(wall "$suite" -q --no-reports --test-threads 1 --in-process "${sel[@]}")")
    done
    m_own=$(printf '%s\n' "${own[@]}" | median)
    m_one=$(printf '%s\n' "${one[@]}" | median)
    header "$rounds"
    printf '%-48s %8.3f s\n' "$n memslot cases, a process each" "$m_own"
    printf '%-48s %8.3f s\n' "$n memslot cases, --in-process" "$m_one"
    awk -v a="$m_own" -v b="$m_one" -v n="$n" \
        'BEGIN {printf "isolation: %.3f ms a case\n", (a - b) * 1000 / n}'
    ;;
threads)
    counts=(1 2 3 4 6 8)
    declare -A t
    for ((i = 0; i < rounds; i++)); do
        for c in "${counts[@]}"; do
            t[$c]+="$(wall "$suite" -q --no-reports --test-threads "$c") "
        done
    done
    header "$rounds"
    for c in "${counts[@]}"; do
        printf 'whole live run, %s threads: %8.3f s\n' "$c" "$(tr ' ' '\n' <<<"${t[$c]}" | grep . | median)"
    done
    ;;
*) die "usage: bench/runner.sh isolation|threads [ROUNDS]" ;;
esac
