#!/usr/bin/env python3
"""CI gate on an emulated s390x run's JUnit report: it must say it ran live on s390x on an
emulated machine, execute at least --min-executed cases, fail none, and show as known kernel
bugs (xfail) exactly the ids given with --xfail (none if not given).
usage: check_emulated_reports.py JUNIT --min-executed N [--xfail ID ...]"""
import argparse
import sys
import xml.etree.ElementTree as ET


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("junit")
    ap.add_argument("--min-executed", type=int, required=True)
    ap.add_argument("--xfail", action="append", default=[])
    a = ap.parse_args()
    root = ET.parse(a.junit).getroot()
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    problems = []
    if props.get("backend") != "live":
        problems.append(f"backend is {props.get('backend')!r}, not live")
    if props.get("arch") != "s390x":
        problems.append(f"arch is {props.get('arch')!r}, not s390x")
    if not (props.get("machine") or "").startswith("emulated: "):
        problems.append(f"machine is {props.get('machine')!r}, not an emulated one")
    executed, xfail = 0, set()
    for case in root.iter("testcase"):
        name = case.get("name")
        for bad in ("failure", "error"):
            el = case.find(bad)
            if el is not None:
                problems.append(f"{bad}: {name}: {el.get('message')}")
        skipped = case.find("skipped")
        if skipped is None:
            executed += 1
        elif skipped.get("type") == "xfail":
            executed += 1
            xfail.add(name)
    if executed < a.min_executed:
        problems.append(f"only {executed} cases executed, fewer than {a.min_executed}")
    want = set(a.xfail)
    for extra in sorted(xfail - want):
        problems.append(f"unexpected known-bug outcome: {extra}")
    for gone in sorted(want - xfail):
        problems.append(f"expected known-bug outcome missing: {gone}")
    for p in problems:
        print(f"check_emulated_reports: {p}", file=sys.stderr)
    print(f"check_emulated_reports: {props.get('kernel_release')} on {props.get('machine')}: "
          f"{executed} executed, {len(xfail)} known kernel bugs; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
