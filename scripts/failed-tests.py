#!/usr/bin/env python3
"""Prints each test that did not pass in meson's testlog JSON files, with the end of its output.

test.sh calls it when a stage fails, so that the end of a long CI log names the failing tests and
shows why, however much of the log above it a reader can see.
    scripts/failed-tests.py BUILD_DIR/meson-logs/testlog*.json
"""
import json
import sys

PASSED = {"OK", "SKIP", "EXPECTEDFAIL"}
TAIL_LINES = 40


def tail(text, lines=TAIL_LINES):
    return "\n".join((text or "").rstrip("\n").splitlines()[-lines:])


def main(paths):
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as log:
                records = [json.loads(line) for line in log if line.strip()]
        except (OSError, ValueError) as error:
            print(f"failed-tests: cannot read {path}: {error}")
            continue
        for record in records:
            if record.get("result") in PASSED:
                continue
            print(f"--- {record.get('name')}: {record.get('result')} after "
                  f"{record.get('duration', 0):.1f} s (exit {record.get('returncode')}; log {path})")
            for stream in ("stdout", "stderr"):
                if record.get(stream):
                    print(f"    last {TAIL_LINES} lines of {stream}:")
                    print(tail(record[stream]))


if __name__ == "__main__":
    main(sys.argv[1:])
