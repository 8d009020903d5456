#!/usr/bin/env python3
"""Writes the small tokenizer.json fixtures of the tokenizer tests (run from anywhere).

Each has the 256 byte tokens in GPT-2 order (id = position: '!' 0 .. '~' 93, 'Ġ' (space) 220,
'Ċ' (newline) 198) and a few hand-chosen merges; merge k creates token 256 + k. The JSON
structure follows the real files: GPT-2 (ByteLevel pre-tokenizer, "a b" merges) and Llama 3 /
BitNet 2B-4T (Split + ByteLevel, ["a", "b"] merges, ignore_merges, special tokens).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "models", "train"))
from bpe import bytes_to_unicode  # noqa: E402

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                  r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def byte_chars():
    """The 256 byte tokens in GPT-2 token order (the trainer's map, one definition)."""
    return list(bytes_to_unicode().values())


def vocab_with(merges, extra=()):
    vocab = {c: i for i, c in enumerate(byte_chars())}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    for token in extra:  # tokens reachable only through ignore_merges
        vocab[token] = len(vocab)
    return vocab


def added(content, i, special=True, **flags):
    token = {"id": i, "content": content, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": not special, "special": special}
    token.update(flags)
    return token


def bpe(vocab, merges, as_pairs, ignore_merges):
    return {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
            "ignore_merges": ignore_merges, "vocab": vocab,
            "merges": [[a, b] if as_pairs else f"{a} {b}" for a, b in merges]}


GPT2_MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("e", "r"),
               ("l", "l"), ("o", "r"), ("Ġ", "w"), ("Ġw", "or"), ("l", "d"), ("Ġwor", "ld"),
               ("Ġ", "Ġ"), ("1", "2"), ("'", "s"), ("H", "e"), ("He", "ll"), ("Hell", "o")]


def gpt2_style():
    vocab = vocab_with(GPT2_MERGES)
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added("<|endoftext|>", len(vocab))],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": bpe(vocab, GPT2_MERGES, as_pairs=False, ignore_merges=False),
    }


LLAMA3_MERGES = [("Ġ", "Ġ"), ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("e", "r"),
                 ("1", "2"), ("12", "3"), ("'", "s"), ("Ġ", "a"), ("l", "l"), ("Ċ", "Ċ"),
                 ("Ġ", "h"), ("Ġh", "e"), ("l", "o")]


def llama3_style():
    # "Ġhello" is in the vocab but no merge path builds it: only ignore_merges emits it.
    vocab = vocab_with(LLAMA3_MERGES, extra=["Ġhello"])
    n = len(vocab)
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|reserved_special_token_1|>"]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(s, n + i) for i, s in enumerate(specials)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN}, "behavior": "Isolated",
             "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": False}]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
             "use_regex": True},
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                      {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
                      {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [n],
                                                      "tokens": ["<|begin_of_text|>"]}}}]},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": bpe(vocab, LLAMA3_MERGES, as_pairs=True, ignore_merges=True),
    }


def added_tokens_style():
    """GPT-2 style, with added tokens of every kind: overlapping contents (longest wins),
    a non-special normalized one, lstrip/rstrip ones. (The peer ignores single_word: the unit
    tests cover it.)"""
    t = gpt2_style()
    n = len(t["model"]["vocab"])
    t["added_tokens"] = [
        added("<|endoftext|>", n),
        added("<|end", n + 1),                          # shorter overlap of <|endoftext|>
        added("[MASK]", n + 2, lstrip=True, rstrip=True),
        added("word", n + 3, special=False),           # inside words too (no single_word)
        added("New York", n + 4, special=False),        # normalized, non-special
        added("<sep>", n + 5, rstrip=True),
    ]
    return t


def main():
    for name, make in [("gpt2-style.json", gpt2_style), ("llama3-style.json", llama3_style),
                       ("added-tokens.json", added_tokens_style)]:
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            json.dump(make(), f, ensure_ascii=False, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
