#!/usr/bin/env python3
"""Train a small byte-level BPE (Llama 3 style) and write a Hugging Face tokenizer.json.

Vocabulary: 256 byte tokens (GPT-2 byte order), then one token per learned merge, then the
added special tokens <|begin_of_text|> and <|end_of_text|> as the last two ids.
model.ignore_merges is false: encoding is plain merge-rank BPE.
"""
import argparse
import collections
import json
import os

from bpe import BOS, EOS, BYTE_TO_CHAR, LLAMA3_PATTERN, pretokenize


def train_merges(word_counts, num_merges):
    """Standard BPE training with incremental pair statistics. Ties break on the pair text."""
    words = [list(w) for w in word_counts]
    counts = list(word_counts.values())
    pair_count = collections.Counter()
    pair_words = collections.defaultdict(set)
    for wi, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += counts[wi]
            pair_words[(a, b)].add(wi)

    merges = []
    for _ in range(num_merges):
        if not pair_count:
            break
        best = max(pair_count.items(), key=lambda kv: (kv[1], kv[0]))[0]
        if pair_count[best] < 2:
            break
        merges.append(best)
        new_tok = best[0] + best[1]
        for wi in list(pair_words[best]):
            w, c = words[wi], counts[wi]
            for a, b in zip(w, w[1:]):  # remove this word's old pairs
                pair_count[(a, b)] -= c
                if pair_count[(a, b)] <= 0:
                    del pair_count[(a, b)]
            merged, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and (w[i], w[i + 1]) == best:
                    merged.append(new_tok)
                    i += 2
                else:
                    merged.append(w[i])
                    i += 1
            words[wi] = merged
            for a, b in zip(merged, merged[1:]):  # add the new pairs
                pair_count[(a, b)] += c
                pair_words[(a, b)].add(wi)
        pair_words.pop(best, None)
    return merges


def tokenizer_json(merges):
    vocab = {}
    for ch in BYTE_TO_CHAR.values():
        vocab[ch] = len(vocab)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    bos_id, eos_id = len(vocab), len(vocab) + 1

    def added(content, i):
        return {"id": i, "content": content, "single_word": False, "lstrip": False,
                "rstrip": False, "normalized": False, "special": True}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added(BOS, bos_id), added(EOS, eos_id)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN},
             "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": False},
        ]},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": BOS, "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": BOS, "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": BOS, "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {BOS: {"id": BOS, "ids": [bos_id], "tokens": [BOS]}},
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default="/tmp/bitnet-tiny-work/train.txt")
    ap.add_argument("--vocab-size", type=int, default=3072, help="total, incl. bytes and specials")
    ap.add_argument("--out", default="/tmp/bitnet-tiny-work/tokenizer.json")
    args = ap.parse_args()

    with open(args.corpus, encoding="utf-8") as f:
        text = f.read()
    word_counts = collections.Counter(pretokenize(text))
    merges = train_merges(word_counts, args.vocab_size - 256 - 2)
    tj = tokenizer_json(merges)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, indent=1)
    print(f"{len(merges)} merges, vocab {len(tj['model']['vocab']) + 2} -> {args.out}")


if __name__ == "__main__":
    main()
