#!/usr/bin/env bash
# Cross-build kvm-conformance for s390x on an x86_64 Debian 12 machine and prove it under
# qemu-user: tests run big-endian, the uapi ABI matches the s390x kernel headers, the binary
# carries PT_S390_PGSTE, and the suite runs against the simulated kernel.
#
# Usage: .ci/s390x.sh [STAGE...]     (default: all stages, in this order)
#   tools  install what is missing (rustup target, Debian cross gcc/glibc/headers, qemu-user)
#   build  cross-build the release binary, the tests and the abi example
#   pgste  check the binary has the PT_S390_PGSTE program header
#   test   cargo test --workspace under qemu-user (big-endian)
#   abi    .ci/abi/compare.sh: project ABI vs. the s390x C headers, x86_64 vs. s390x ioctls
#   suite  run kvm-conformance under qemu-user against the simulated kernel (in-process, and
#          with a child process per case started through qemu-user)
# Idempotent; needs root (or sudo) only when Debian packages are missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARGET=s390x-unknown-linux-gnu
SYSROOT=/usr/s390x-linux-gnu
QEMU=(qemu-s390x-static -L "$SYSROOT")
BIN=${CARGO_TARGET_DIR:-target}/$TARGET/release/kvm-conformance
PKGS=(gcc-s390x-linux-gnu libc6-dev-s390x-cross linux-libc-dev-s390x-cross qemu-user-static)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

log() { printf '[s390x] %s\n' "$*"; }
die() { printf '[s390x] ERROR: %s\n' "$*" >&2; exit 1; }

# Runs one stage and prints one line with its wall time (also when it fails). A failing
# tools/build stage stops the script; a failing check stage (pgste, test, abi, suite) is
# recorded, the remaining checks still run, and the script exits 1 at the end.
TIMES=()
FAILED=()
stage() {
    local name=$1 fatal=$2; shift 2
    local t0 t1 rc=0
    log "stage $name: start"
    t0=$(date +%s.%N)
    # A subshell with its own errexit: `"$@" || rc=$?` would switch errexit off inside "$@".
    set +e
    (set -e; "$@")
    rc=$?
    set -e
    t1=$(date +%s.%N)
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" -eq 0 ]; then
        log "stage $name: ok in ${secs}s"
        TIMES+=("$name ${secs}s")
    else
        log "stage $name: FAILED (exit $rc) after ${secs}s"
        TIMES+=("$name FAILED ${secs}s")
        FAILED+=("$name")
        if [ "$fatal" = fatal ]; then
            log "stopping: the later stages need $name"
            exit "$rc"
        fi
    fi
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root to run: $*"; fi
}

tools() {
    command -v rustup >/dev/null || die "rustup not found (the rustup toolchain is required)"
    if rustup target list --installed | grep -qx "$TARGET"; then
        log "rust target $TARGET already installed"
    else
        rustup target add "$TARGET"
    fi
    local missing=() p
    for p in "${PKGS[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "Debian packages already installed: ${PKGS[*]}"
    else
        log "installing: ${missing[*]}"
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    local t
    for t in s390x-linux-gnu-gcc s390x-linux-gnu-readelf qemu-s390x-static; do
        command -v "$t" >/dev/null || die "$t not on PATH after install"
    done
    [ -f "$SYSROOT/include/linux/kvm.h" ] || die "$SYSROOT/include/linux/kvm.h missing (linux-libc-dev-s390x-cross)"
}

build() {
    cargo build --locked --release --target "$TARGET" -p suites
    cargo test --locked --workspace --target "$TARGET" --no-run
    cargo build --locked --target "$TARGET" -p fixtures --example abi
}

pgste() {
    [ -x "$BIN" ] || die "$BIN not built"
    local hdrs
    hdrs=$(s390x-linux-gnu-readelf -lW "$BIN")
    # PT_S390_PGSTE is p_type 0x70000000 (PT_LOPROC + 0); binutils 2.40 readelf prints it as
    # "S390_PGSTE", a readelf that does not know it as "LOPROC+0" or the number.
    if grep -Eq '^[[:space:]]*(S390_PGSTE|LOPROC\+(0x)?0|0x70000000)[[:space:]]' <<<"$hdrs"; then
        log "PT_S390_PGSTE present in $BIN:"
        grep -E '^[[:space:]]*(S390_PGSTE|LOPROC\+(0x)?0|0x70000000)[[:space:]]' <<<"$hdrs" | sed 's/^/[s390x]   /'
    else
        printf '%s\n' "$hdrs" >&2
        die "$BIN has no PT_S390_PGSTE program header: -Wl,--s390-pgste from suites/build.rs was not applied; KVM_CREATE_VM would fail with EINVAL on a real s390x host"
    fi
}

tests() {
    # The runner from .cargo/config.toml (qemu-s390x-static) executes every test binary: all
    # unit tests run big-endian. The end-to-end tests start the s390x kvm-conformance binary
    # themselves; without binfmt_misc they prefix it with $KVM_CONFORMANCE_TEST_RUNNER (and
    # pass that on as --child-runner). The mutation tests (suites/tests/simulated.rs, ~30 full
    # simulated runs) run natively only: under emulation they would take many minutes, and the
    # suite run under qemu below covers the simulated kernel on s390x.
    export KVM_CONFORMANCE_TEST_RUNNER="${QEMU[*]}"
    cargo test --locked --workspace --target "$TARGET" --no-fail-fast --lib --bins
    cargo test --locked --target "$TARGET" --no-fail-fast -p suites --test e2e
}

abi() {
    bash .ci/abi/compare.sh
}

# One run of the suite under qemu-user against the simulated kernel; must exit 0 and write reports.
run_suite() {
    local what=$1; shift
    local dir rc=0
    dir=$(mktemp -d "${TMPDIR:-/tmp}/kvm-conformance-s390x.XXXXXX")
    log "kvm-conformance (s390x, simulated, $what): $BIN --backend simulated $* --report-dir $dir"
    "${QEMU[@]}" "$BIN" --backend simulated "$@" --report-dir "$dir" || rc=$?
    [ "$rc" -eq 0 ] || die "kvm-conformance (s390x, simulated, $what) exited $rc; reports in $dir"
    if [ -z "$(find "$dir" -type f -name junit.xml -size +0c -print -quit)" ]; then
        die "kvm-conformance (s390x, simulated, $what) wrote no junit.xml in $dir"
    fi
    log "reports in $dir: $(cd "$dir" && find . -type f | sort | tr '\n' ' ')"
}

suite() {
    [ -x "$BIN" ] || die "$BIN not built"
    # --in-process: there is no binfmt_misc here, so a case cannot re-exec /proc/self/exe.
    run_suite "in-process" --in-process
    # The per-case child processes too, each started through qemu-user. One case at a time:
    # qemu-user forking a multi-threaded guest can deadlock the child before its exec (seen
    # once here as a 30 s timeout of a trivial case); with one test thread the parent forks
    # with no other case thread running.
    run_suite "child process per case" --child-runner "${QEMU[*]}" --test-threads 1
}

ALL=(tools build pgste test abi suite)
STAGES=("$@")
[ "${#STAGES[@]}" -gt 0 ] || STAGES=("${ALL[@]}")
for s in "${STAGES[@]}"; do
    case $s in
        tools) stage tools fatal tools ;;
        build) stage build fatal build ;;
        pgste) stage pgste check pgste ;;
        test) stage test check tests ;;
        abi) stage abi check abi ;;
        suite) stage suite check suite ;;
        *) die "unknown stage '$s' (known: ${ALL[*]})" ;;
    esac
done
if [ "${#FAILED[@]}" -gt 0 ]; then
    log "FAILED stages: ${FAILED[*]} (times: $(IFS=,; echo "${TIMES[*]}"))"
    exit 1
fi
log "all stages passed (times: $(IFS=,; echo "${TIMES[*]}"))"
