#!/usr/bin/env bash
# Build kvm-conformance (release, --locked) and run it against this host's kernel.
# Reports go to reports/<run-id>/ (junit.xml, results.ktap, summary.txt); reports/latest points
# at the newest. Arguments pass through to the binary (see --help). Exit: 0 nothing failed,
# 1 a case failed, 2 the run could not be done.
#
# With --emulate-s390 KERNEL it also installs what an emulated s390x run needs (the s390x
# cross toolchain, Debian's hercules), builds the suite's static s390x binary, and with
# HERCULES=hyperion builds SDL Hyperion from ../shared/emulators (once; cached in target/).
# `./run.sh build` builds and runs nothing; `./run.sh compare BASE NEW` compares two runs.
set -uo pipefail
cd "$(dirname "$0")" || exit 2

die() {
    echo "run.sh: $*" >&2
    exit 2
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root to install: ${*: -1} (or install it yourself)"; fi
}

# Debian packages, installed only when missing.
need_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    echo "run.sh: installing ${missing[*]}" >&2
    as_root apt-get update -qq >/dev/null 2>&1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
        die "could not install ${missing[*]}"
}

# SDL Hyperion from the pristine archive plus the hamaxpow patch (the emulated machine then
# reports a host address limit, as real machines do; see docs/emulated-s390.md). Cached by the
# archive's and the patch's checksums.
build_hyperion() {
    local shared=../shared/emulators archive patch key dir log
    archive=$(ls "$shared"/hyperion-*.tar.gz 2>/dev/null | head -n1)
    patch=$shared/hamaxpow.patch
    [ -f "$archive" ] && [ -f "$patch" ] || die "HERCULES=hyperion needs $shared/hyperion-*.tar.gz and $patch"
    archive=$(realpath "$archive") patch=$(realpath "$patch")
    key=$(cat "$archive" "$patch" | sha256sum | cut -c1-12)
    dir=$PWD/target/emulate/hyperion-$key
    if [ ! -x "$dir/bin/hercules" ]; then
        need_packages build-essential libltdl-dev
        echo "run.sh: building SDL Hyperion ($(basename "$archive") + hamaxpow.patch, about 5 min, once)" >&2
        rm -rf "$dir.src" && mkdir -p "$dir.src" || die "cannot create $dir.src"
        log=$dir.build.log
        (
            set -e
            tar -xzf "$archive" -C "$dir.src" --strip-components=1
            cd "$dir.src"
            patch -p1 < "$patch"
            chmod +x configure autoconf/* 2>/dev/null || true
            ./configure --prefix="$dir"
            make -j"$(nproc)"
            make install
        ) > "$log" 2>&1 || die "building SDL Hyperion failed; see $log"
        rm -rf "$dir.src"
    fi
    HERCULES=$dir/bin/hercules
    export HERCULES
}

prepare_emulated_s390() {
    local target=s390x-unknown-linux-gnu
    need_packages gcc-s390x-linux-gnu libc6-dev-s390x-cross xz-utils zstd
    if [ -z "${HERCULES:-}" ]; then
        need_packages hercules
    elif [ "$HERCULES" = hyperion ]; then
        build_hyperion
    fi
    if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
        rustup target add "$target" >/dev/null 2>&1 || die "rustup target add $target failed"
    fi
    # Static, so the guest needs no libc; the PGSTE program header comes from suites/build.rs.
    RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=target/s390x-static \
        cargo build --release --locked --quiet --target "$target" -p suites ||
        die "the static s390x build failed"
}

if ! command -v cargo >/dev/null 2>&1; then
    echo "run.sh: cargo not found: install the Rust toolchain (https://rustup.rs)" >&2
    exit 2
fi
if ! cargo build --release --locked --quiet -p suites; then
    echo "run.sh: build failed" >&2
    exit 2
fi

# The linker writes the executable in small pieces and the kernel keeps it cached so, in 4 KiB
# pages. Written again in one piece it is cached in large folios, and every case process (a fork
# of its worker's case server) then faults in and unmaps the program's code in far fewer pieces:
# 0.53 -> 0.39 ms a case (bench/runner.sh isolation, 2026-12-04). Done when cargo has just
# linked it (its output is then a hard link of the one under deps/).
recache() {
    local bin=$1 tmp=$1.recache.$$
    [ "$(stat -c %h "$bin" 2>/dev/null)" -gt 1 ] 2>/dev/null || return 0
    # A copy of its own (another run.sh may be at it too), renamed over the link: a run that
    # has the old file open keeps it.
    dd if="$bin" of="$tmp" bs=16M status=none &&
        chmod --reference="$bin" "$tmp" &&
        mv -f "$tmp" "$bin" || rm -f "$tmp"
}
recache target/release/kvm-conformance
# `./run.sh build` only builds (the benches build the program through here, as a run does).
[ "${1:-}" = build ] && exit 0

for a in "$@"; do
    case "$a" in
        --emulate-s390 | --emulate-s390=*) prepare_emulated_s390; break ;;
    esac
done

# Terse unless the caller chose an output format: a mark per case (a live progress line on a
# terminal), then the tables per suite, the failures with their rerun commands, the closing line.
quiet=(--format terse)
for a in "$@"; do
    case "$a" in
        -q | --quiet | --format | --format=* | --list | -h | --help | --version) quiet=() ;;
    esac
done

# `./run.sh compare BASE NEW` compares two runs (no build options, no quiet flag).
[ "${1:-}" = compare ] && exec target/release/kvm-conformance "$@"

export KVM_CONFORMANCE_LAUNCHER=./run.sh
exec target/release/kvm-conformance "${quiet[@]}" "$@"
