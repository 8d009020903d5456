"""Checks print -> parse -> print for every .bir file under a folder.

For each file: first = `TOOL FILE`; second = `TOOL -` reading `first` on standard input, run in
the file's directory (so relative external weight paths resolve the same way); the two must be
byte-identical. Files whose RUN lines expect an error (`not bitnet-opt`) or that are marked
XFAIL-ROUNDTRIP are skipped. Exits 1 on any failure or when no file was checked.
"""
import argparse
import difflib
import os
import shlex
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--tool", default="bitnet-opt")
    args = parser.parse_args()
    tool = shlex.split(args.tool)

    files = []
    for dirpath, dirnames, filenames in os.walk(args.root):
        dirnames[:] = sorted(d for d in dirnames if d != "Output")
        files += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".bir")]

    checked, skipped, failures = 0, 0, []
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if "XFAIL-ROUNDTRIP" in text or "not bitnet-opt" in text:
            skipped += 1
            continue
        first = subprocess.run(tool + [path], capture_output=True)
        if first.returncode != 0:
            failures.append(f"{path}: the first print failed:\n{first.stderr.decode()}")
            continue
        second = subprocess.run(tool + ["-"], input=first.stdout, capture_output=True,
                                cwd=os.path.dirname(os.path.abspath(path)))
        if second.returncode != 0:
            failures.append(f"{path}: parsing the printed form failed:\n{second.stderr.decode()}")
            continue
        if first.stdout != second.stdout:
            diff = difflib.unified_diff(first.stdout.decode().splitlines(),
                                        second.stdout.decode().splitlines(),
                                        "first print", "second print", lineterm="")
            failures.append(f"{path}: the second print differs from the first\n" + "\n".join(diff))
            continue
        checked += 1

    for failure in failures:
        print(f"roundtrip: {failure}", file=sys.stderr)
    print(f"roundtrip: {checked} files byte-identical, {skipped} skipped, {len(failures)} failed")
    if failures or checked == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
