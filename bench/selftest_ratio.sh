#!/usr/bin/env bash
# Side by side on this machine: the kernel's own KVM selftest set_memory_region_test (built from
# Debian's linux-source-6.12, which checks one of the seven ioctls) against the suite's whole
# live run and its memslot suite. Runs interleaved, prints medians and the ratios the README's
# "Measured" section quotes. A benchmark, not a test: nothing fails on a slow machine.
#
# usage: bench/selftest_ratio.sh [ROUNDS]   (default 7; needs /dev/kvm; builds what it needs
#        under target/bench/: the Debian source tree, its uapi headers, the selftest)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
work=$PWD/target/bench
shared=../shared/tools
mkdir -p "$work"

die() { echo "bench: $*" >&2; exit 2; }
[ -r /dev/kvm ] && [ -w /dev/kvm ] || die "needs read-write /dev/kvm"

tree=$(ls -d "$work"/src/linux-source-6.12 2>/dev/null || true)
if [ -z "$tree" ]; then
    echo "bench: fetching Debian's linux-source-6.12 (once)" >&2
    "$shared/get-linux-source.sh" "$work/src" 6.12 >/dev/null
    tree=$work/src/linux-source-6.12
fi
if [ ! -f "$tree/usr/include/linux/kvm.h" ]; then
    command -v rsync >/dev/null || apt-get install -y -qq rsync >/dev/null || die "headers_install needs rsync"
    echo "bench: make headers_install (once)" >&2
    make -s -C "$tree" ARCH=x86 headers_install INSTALL_HDR_PATH="$tree/usr" >/dev/null
fi
selftest=$work/selftest/set_memory_region_test
if [ ! -x "$selftest" ]; then
    echo "bench: building set_memory_region_test (once)" >&2
    "$shared/bench/build_selftest.sh" "$tree" "$work/selftest" \
        "$tree/tools/testing/selftests/kvm/set_memory_region_test.c" >/dev/null
fi
cargo build --release --locked --quiet -p suites
suite=target/release/kvm-conformance

# Wall time of one command in seconds (its output discarded; a failing command stops the bench).
wall() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || die "failed: $*"
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", (b - a) / 1e9}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -a st whole mem
for ((i = 0; i < rounds; i++)); do
    st+=("$(wall "$selftest")")
    whole+=("$(wall "$suite" -q --no-reports)")
    mem+=("$(wall "$suite" -q --no-reports set_user_memory_region::)")
done
m_st=$(printf '%s\n' "${st[@]}" | median)
m_whole=$(printf '%s\n' "${whole[@]}" | median)
m_mem=$(printf '%s\n' "${mem[@]}" | median)
printf 'machine: %s, %s cores, kernel %s; %s interleaved rounds, medians\n' \
    "$(uname -m)" "$(nproc)" "$(uname -r)" "$rounds"
printf '%-52s %8.3f s\n' "set_memory_region_test (kernel selftest, 6.12 source)" "$m_st"
printf '%-52s %8.3f s   ratio %sx\n' "kvm-conformance, whole live run (defaults)" "$m_whole" \
    "$(ratio "$m_whole" "$m_st")"
printf '%-52s %8.3f s   ratio %sx\n' "kvm-conformance set_user_memory_region::" "$m_mem" \
    "$(ratio "$m_mem" "$m_st")"
