#!/bin/sh
# /init of the emulated s390x machine that `kvm-conformance --emulate-s390` boots (busybox sh).
# The host wrote /kc/args (the suite's arguments, one per line), /kc/modules (modules to load,
# in order, with their parameters) and /kc/env (variables for the suite) into the initramfs.
# The SCLP line-mode console drops lines, so it carries only self-contained "@@kc" marker lines
# for the host's progress display; the results go out as a tar written raw onto the FBA DASD at
# device 0.0.0120 (no file system needed), which the host reads back.
export PATH=/bin:/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o size=1g tmp /tmp
O=/tmp/out
mkdir -p "$O"
say() { echo "@@kc $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

say "boot uptime=$(uptime_s) release=$(uname -r) cpus=$(grep -c '^processor' /proc/cpuinfo)"
uname -r > "$O/kernel_release"
# Classic-gmap kernels (6.x) need PGSTE page tables for a VM; the binary carries the PGSTE
# program header, and the sysctl (gone in 7.x) makes sure of it.
[ -e /proc/sys/vm/allocate_pgste ] && echo 1 > /proc/sys/vm/allocate_pgste
while read -r mod params; do
    [ -n "$mod" ] || continue
    # shellcheck disable=SC2086 # the parameters are words
    if insmod "/kc/$mod" $params 2>> "$O/modules.txt"; then
        say "module $mod loaded"
    else
        say "module $mod failed: $(tail -n1 "$O/modules.txt")"
    fi
done < /kc/modules
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/dasda ] && break; sleep 1; done
[ -b /dev/dasda ] || say "error no results disk (/dev/dasda): the DASD driver did not come up"
[ -e /dev/kvm ] || say "error no /dev/kvm after loading the modules"

set --
while IFS= read -r a; do set -- "$@" "$a"; done < /kc/args
while IFS= read -r kv; do [ -n "$kv" ] && export "${kv?}"; done < /kc/env

/kvm-conformance --emulated-facts > "$O/facts.txt" 2>&1
say "facts $(tr '\n' ' ' < "$O/facts.txt")"
total=$(/kvm-conformance --list "$@" 2>/dev/null | grep -c ': test$')
say "suite start uptime=$(uptime_s) total=$total"
(
    while sleep 10; do
        done_n=$(grep -c '^test .* \.\.\. ' "$O/stdout.txt" 2>/dev/null)
        failed_n=$(grep -c '^test .* \.\.\. FAILED' "$O/stdout.txt" 2>/dev/null)
        say "progress done=${done_n:-0} failed=${failed_n:-0} total=$total uptime=$(uptime_s)"
    done
) &
ticker=$!
/kvm-conformance "$@" --format pretty --color never --report-dir /tmp/rep > "$O/stdout.txt" 2> "$O/stderr.txt"
rc=$?
kill "$ticker" 2> /dev/null
echo "$rc" > "$O/rc"
cat /proc/sys/kernel/tainted > "$O/tainted"
dmesg > "$O/dmesg.txt"
say "suite end rc=$rc uptime=$(uptime_s)"
if [ -b /dev/dasda ]; then
    (cd /tmp && tar -cf - out rep) > /tmp/results.tar
    dd if=/tmp/results.tar of=/dev/dasda bs=65536 conv=fsync 2> /dev/null
    say "results written bytes=$(wc -c < /tmp/results.tar)"
fi
say "done rc=$rc"
sync
poweroff -f
