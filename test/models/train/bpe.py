"""Byte-level BPE pieces shared by the tokenizer trainer and the reference evaluator.

The Llama 3 pre-tokenizer regex uses \\p{L} / \\p{N}, which Python's `re` lacks. We emulate
it: letter = [^\\W\\d_] (Unicode word chars minus digits and underscore), number = \\d.
This equals \\p{L}/\\p{N} on ASCII and nearly everywhere else; tokenizer.json carries the real
pattern, and verify_tokenizer.mjs checks this encoder against an independent implementation.
"""
import json
import re

# Llama 3 pattern, written with Python-compatible classes.
_L = r"[^\W\d_]"            # \p{L}
_NOT_LN = r"(?:[^\w]|_)"     # [^\p{L}\p{N}]
PRETOKENIZE = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
    rf"|(?:[^\r\n\w]|_)?{_L}+"
    r"|\d{1,3}"
    r"| ?(?:[^\s\w]|_)+[\r\n]*"
    r"|\s*[\r\n]+"
    r"|\s+(?!\S)"
    r"|\s+"
)
# The exact pattern that goes into tokenizer.json (Llama 3 / BitNet 2B-4T).
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
BOS = "<|begin_of_text|>"
EOS = "<|end_of_text|>"


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode map (ByteLevel pre-tokenizer/decoder)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))  # insertion order = GPT-2 byte-token order


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pretokenize(text):
    """Split text like the Llama 3 Split pre-tokenizer, then map bytes to ByteLevel chars."""
    return ["".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))
            for piece in PRETOKENIZE.findall(text)]


class Tokenizer:
    """Encoder/decoder for the tokenizer.json written by train_tokenizer.py (ignore_merges false)."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        model = tj["model"]
        assert model["type"] == "BPE" and not model.get("ignore_merges", False)
        self.vocab = model["vocab"]
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        for added in tj["added_tokens"]:
            self.id_to_token[added["id"]] = added["content"]
        self.special = {a["content"]: a["id"] for a in tj["added_tokens"]}
        self.bos_id = self.special[BOS]
        self.eos_id = self.special[EOS]
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(model["merges"])}
        self.cache = {}

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            # Merge every occurrence of the best pair, left to right (HF semantics).
            pair = (parts[best], parts[best + 1])
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == pair:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text, add_bos=False):
        """Plain-text encode; special-token strings in the text are NOT recognised."""
        ids = [self.bos_id] if add_bos else []
        for word in pretokenize(text):
            ids.extend(self._bpe(word))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            tok = self.id_to_token[i]
            if tok in self.special:
                out += tok.encode("utf-8")
            else:
                out += bytes(CHAR_TO_BYTE[c] for c in tok)
        return out.decode("utf-8", errors="replace")
