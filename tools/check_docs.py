#!/usr/bin/env python3
"""Keep the documentation true: run by `meson test docs`.

In README.md and docs/*.md, a fenced block right after `<!-- file: PATH -->` must equal PATH
exactly (the docs show tested code, not a copy that drifts), and a block right after
`<!-- run -->` is executed with bash -euo pipefail from the source root and must succeed.
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"<!-- (file: (?P<file>\S+)|run) -->\n```[a-z]*\n(?P<body>.*?)```", re.S)


def main() -> int:
    build = pathlib.Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / "build"
    failures, checked = [], 0
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for m in BLOCK.finditer(doc.read_text(encoding="utf-8")):
            checked += 1
            where = f"{doc.relative_to(ROOT)}:{doc.read_text(encoding='utf-8')[:m.start()].count(chr(10)) + 1}"
            if m.group("file"):
                target = ROOT / m.group("file")
                if not target.exists() or target.read_text(encoding="utf-8") != m.group("body"):
                    failures.append(f"{where}: block differs from {m.group('file')}")
                continue
            # commands are written against ./build; point them at the build under test
            script = m.group("body").replace("build/", f"{build}/")
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                failures.append(f"{where}: exit {r.returncode}\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    for f in failures:
        print("FAIL", f)
    print(f"check_docs: {checked} blocks checked, {len(failures)} failed")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
