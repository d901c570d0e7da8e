# Shared by the bench scripts: wall time of one command, medians, the machine line.

die() { echo "bench: $*" >&2; exit 2; }

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
header() {
    printf 'machine: %s, %s cores, kernel %s; %s interleaved rounds, medians\n' \
        "$(uname -m)" "$(nproc)" "$(uname -r)" "$1"
}
