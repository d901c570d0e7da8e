#!/usr/bin/env bash
# The project's uapi (fixtures/examples/abi.rs) against the kernel's own s390x headers
# (kvm_abi.c, built with s390x-linux-gnu-gcc against linux-libc-dev-s390x-cross), both run
# big-endian under qemu-user; items newer than those headers against expected-newer.txt; and
# the project's values built for x86_64 against the same values built for s390x.
# Needs: the s390x rust target, gcc-s390x-linux-gnu, libc6-dev-s390x-cross,
# linux-libc-dev-s390x-cross, qemu-user-static (.ci/s390x.sh tools installs them).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE=.ci/abi
TARGET=s390x-unknown-linux-gnu
SYSROOT=/usr/s390x-linux-gnu
QEMU=(qemu-s390x-static -L "$SYSROOT")
TDIR=${CARGO_TARGET_DIR:-target}

say() { printf '[abi] %s\n' "$*"; }
die() { printf '[abi] FAILED: %s\n' "$*" >&2; exit 1; }

for t in s390x-linux-gnu-gcc qemu-s390x-static cargo; do
    command -v "$t" >/dev/null || die "$t not found (run .ci/s390x.sh tools)"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvm-abi.XXXXXX")
keep=0
trap '[ "$keep" = 1 ] || rm -rf "$WORK"' EXIT

# 1. the kernel's side: <linux/kvm.h> of the s390x cross headers
s390x-linux-gnu-gcc -O0 -Wall -Wextra -Werror -o "$WORK/kvm_abi" "$HERE/kvm_abi.c"
"${QEMU[@]}" "$WORK/kvm_abi" >"$WORK/kernel.txt"

# 2. the project's side, for s390x (under qemu) and natively
cargo build -q --locked --target "$TARGET" -p fixtures --example abi
cargo build -q --locked -p fixtures --example abi
"${QEMU[@]}" "$TDIR/$TARGET/debug/examples/abi" >"$WORK/project-s390x.txt"
"$TDIR/debug/examples/abi" >"$WORK/project-native.txt"

say "kernel headers: $(head -n1 "$WORK/kernel.txt" | sed 's/^# //')"
say "project (s390x): $(head -n1 "$WORK/project-s390x.txt" | sed 's/^# //')"
say "project (native): $(head -n1 "$WORK/project-native.txt" | sed 's/^# //')"
grep -q 'endian=big' "$WORK/kernel.txt" || die "kvm_abi did not run big-endian"
grep -q 'target_endian=big' "$WORK/project-s390x.txt" || die "abi example did not run big-endian"

# 3. join on names: every project item needs ground truth, every kernel item a project value
compare() { # $1 project file; prints the mismatches, returns their count through the exit status
    awk -v newer="$HERE/expected-newer.txt" '
        FNR == 1 { file++ }
        /^#/ || NF == 0 { next }
        file == 1 { kernel[$1] = $2; korder[++nk] = $1; next }
        file == 2 { expect[$1] = $2; next }
        {
            name = $1; val = $2; seen[name] = 1; n++
            if (name ~ /^roundtrip\./) { printf "  %-55s the accessor does not read back what it wrote\n", name; bad++; next }
            if (name in kernel) {
                if (kernel[name] != val) { printf "  %-55s project %-12s kernel headers %s\n", name, val, kernel[name]; bad++ }
                else ok++
            } else if (name in expect) {
                if (expect[name] != val) { printf "  %-55s project %-12s expected (expected-newer.txt) %s\n", name, val, expect[name]; bad++ }
                else newer_ok++
            } else { printf "  %-55s project %-12s no ground truth (add it to kvm_abi.c or expected-newer.txt)\n", name, val; bad++ }
        }
        END {
            for (i = 1; i <= nk; i++) if (!(korder[i] in seen)) { printf "  %-55s missing from the project output (kernel headers %s)\n", korder[i], kernel[korder[i]]; bad++ }
            printf "SUMMARY %d items: %d equal to the kernel headers, %d equal to expected-newer.txt, %d differ\n", n, ok, newer_ok, bad
            exit bad > 0
        }' "$WORK/kernel.txt" <(sed 's/[[:space:]]*#.*//' "$HERE/expected-newer.txt") "$1"
}

rc=0
if out=$(compare "$WORK/project-s390x.txt"); then
    say "s390x: ${out##*SUMMARY }"
else
    say "s390x: ${out##*SUMMARY }; the differences:"
    printf '%s\n' "$out" | grep -v '^SUMMARY'
    printf '[abi] FAILED: the project (fixtures::raw::uapi / ioctl.rs) differs from the s390x kernel uapi, see above\n' >&2
    rc=1
fi

# 4. native vs. s390x: ioctl numbers (and everything else) must not depend on the arch
ioctls() { grep -E '^KVM[A-Z0-9_]* 0x[0-9a-f]{8}$' "$1" | grep -vE '^KVM_S390_(SIGP|PROGRAM|RESTART|INT|MCHK)' || true; }
if diff <(ioctls "$WORK/project-native.txt") <(ioctls "$WORK/project-s390x.txt") >"$WORK/ioctl.diff"; then
    say "ioctl numbers: $(ioctls "$WORK/project-native.txt" | wc -l) equal on $(uname -m) and s390x"
else
    cat "$WORK/ioctl.diff"
    printf '[abi] FAILED: ioctl numbers differ between %s (<) and s390x (>), see above\n' "$(uname -m)" >&2
    rc=1
fi
if diff <(grep -v '^#' "$WORK/project-native.txt") <(grep -v '^#' "$WORK/project-s390x.txt") >"$WORK/all.diff"; then
    say "all $(grep -vc '^#' "$WORK/project-native.txt") project items equal on $(uname -m) and s390x"
else
    cat "$WORK/all.diff"
    printf '[abi] FAILED: project items differ between %s (<) and s390x (>), see above\n' "$(uname -m)" >&2
    rc=1
fi

if [ "$rc" -ne 0 ]; then
    keep=1
    say "outputs kept in $WORK (kernel.txt, project-s390x.txt, project-native.txt)"
    exit 1
fi
say "OK"
