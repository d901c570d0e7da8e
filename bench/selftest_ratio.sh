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
. bench/lib.sh
rounds=${1:-7}
work=$PWD/target/bench
shared=../shared/tools
mkdir -p "$work"

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
./run.sh build || die "the build failed"
suite=target/release/kvm-conformance


declare -a st whole mem
for ((i = 0; i < rounds; i++)); do
    st+=("$(wall "$selftest")")
    whole+=("$(wall "$suite" -q --no-reports)")
    mem+=("$(wall "$suite" -q --no-reports set_user_memory_region::)")
done
m_st=$(printf '%s\n' "${st[@]}" | median)
m_whole=$(printf '%s\n' "${whole[@]}" | median)
m_mem=$(printf '%s\n' "${mem[@]}" | median)
header "$rounds"
printf '%-52s %8.3f s\n' "set_memory_region_test (kernel selftest, 6.12 source)" "$m_st"
printf '%-52s %8.3f s   ratio %sx\n' "kvm-conformance, whole live run (defaults)" "$m_whole" \
    "$(ratio "$m_whole" "$m_st")"
printf '%-52s %8.3f s   ratio %sx\n' "kvm-conformance set_user_memory_region::" "$m_mem" \
    "$(ratio "$m_mem" "$m_st")"
