#!/usr/bin/env python3
"""CI gate on a run's kcidb.json: valid against the latest KCIDB I/O schema that the kcidb-io
package knows (kcidb_io.schema.LATEST.validate), one test per JUnit testcase, and every known
kernel bug (JUnit xfail) a FAIL test with an incident of its issue.
usage: check_kcidb.py RUN_DIR"""
import json
import sys
import xml.etree.ElementTree as ET

import kcidb_io


def main():
    run = sys.argv[1]
    data = json.load(open(f"{run}/kcidb.json"))
    kcidb_io.schema.LATEST.validate(data)
    root = ET.parse(f"{run}/junit.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    tests = {t["misc"]["case_id"]: t for t in data.get("tests", [])}
    problems = []
    if set(cases) != set(tests):
        problems.append(f"{len(cases)} JUnit cases but {len(tests)} KCIDB tests")
    incidents = {i["test_id"]: i for i in data.get("incidents", [])}
    for name, case in cases.items():
        skipped = case.find("skipped")
        if skipped is not None and skipped.get("type") == "xfail":
            t = tests.get(name, {})
            if t.get("status") != "FAIL" or not incidents.get(t.get("id"), {}).get("present"):
                problems.append(f"known kernel bug {name} is not a FAIL test with a present incident")
    for p in problems:
        print(f"check_kcidb: {p}", file=sys.stderr)
    v = kcidb_io.schema.LATEST
    print(f"check_kcidb: {run}/kcidb.json valid against KCIDB I/O schema v{v.major}.{v.minor}: "
          f"{len(tests)} tests, {len(data.get('issues', []))} issues, "
          f"{len(incidents)} incidents; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
