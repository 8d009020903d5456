#!/usr/bin/env python3
"""Build the English corpus for the bundled tiny BitNet from Debian's `fortunes` package.

Each fortune (the text between `%` lines) is one document. Documents are cleaned,
deduplicated, and split deterministically by a hash of their text, so the split does not
depend on file order and a held-out document can never also appear in the training split.

Writes <workdir>/train.txt (regenerated, not committed: ~2.3 MB) and the committed
held-out file test/models/data/heldout.txt.
"""
import argparse
import hashlib
import os
import random
import re

FORTUNE_DIR = "/usr/share/games/fortunes"
# Pictures and non-English files are not prose; everything else in the package is.
EXCLUDED = {"art", "ascii-art", "translate-me"}
HELDOUT_MODULUS = 64  # ~1/64 of the documents (~40 KB) are held out
SHUFFLE_SEED = 1234

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_HELDOUT = os.path.join(HERE, "..", "data", "heldout.txt")


def fortune_files():
    names = []
    for name in sorted(os.listdir(FORTUNE_DIR)):
        path = os.path.join(FORTUNE_DIR, name)
        # Plain data files only: skip the .dat indexes and the .u8 symlinks.
        if "." in name or os.path.islink(path) or name in EXCLUDED:
            continue
        names.append(path)
    return names


def clean(doc):
    # Overstriking (x\bx for bold, _\bx for underline) -> keep the final character.
    doc = re.sub(r".\x08", "", doc)
    doc = doc.replace("\r", "")
    # Other control characters (except newline and tab) carry no text.
    doc = "".join(c for c in doc if c in "\n\t" or c >= " " and c != "\x7f")
    lines = []
    for line in doc.split("\n"):
        # Tabs and runs of spaces were layout (mostly indented attributions): one space.
        line = re.sub(r"[ \t\u00a0]+", " ", line).strip()
        lines.append(line)
    doc = "\n".join(lines)
    doc = re.sub(r"\n{3,}", "\n\n", doc)  # at most one blank line inside a document
    return doc.strip()


def read_documents():
    docs = []
    for path in fortune_files():
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        for raw in re.split(r"^%[ \t]*$", text, flags=re.M):
            doc = clean(raw)
            if doc:
                docs.append(doc)
    return docs


def is_heldout(doc):
    digest = hashlib.sha1(doc.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") % HELDOUT_MODULUS == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workdir", default="/tmp/bitnet-tiny-work")
    ap.add_argument("--heldout", default=DEFAULT_HELDOUT)
    args = ap.parse_args()

    seen, train, heldout = set(), [], []
    for doc in read_documents():
        if doc in seen:
            continue
        seen.add(doc)
        (heldout if is_heldout(doc) else train).append(doc)
    # Mix topics in the training stream; fixed seed keeps it reproducible.
    random.Random(SHUFFLE_SEED).shuffle(train)

    os.makedirs(args.workdir, exist_ok=True)
    train_path = os.path.join(args.workdir, "train.txt")
    with open(train_path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n\n".join(train) + "\n")
    os.makedirs(os.path.dirname(os.path.abspath(args.heldout)), exist_ok=True)
    with open(args.heldout, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n\n".join(heldout) + "\n")
    print(f"train: {len(train)} documents, {os.path.getsize(train_path)} bytes -> {train_path}")
    print(f"heldout: {len(heldout)} documents, {os.path.getsize(args.heldout)} bytes -> {args.heldout}")


if __name__ == "__main__":
    main()
