// Peer check of bitnet-tokenize against Hugging Face's independent JavaScript implementation
// of tokenizer.json (@huggingface/tokenizers, pinned in package.json).
//
//   node compare-tokenizer.mjs --tool BITNET_TOKENIZE --tokenizer tokenizer.json
//        --corpus corpus.jsonl [--text-lines FILE] [--random N] [--seed S] --workdir DIR
//
// Encodes every corpus line (a JSON string), every line of the plain text FILE and the whole of
// it as one string, and N seeded random strings with both, compares
// the ids line by line, then decodes those ids and random id sequences with both and compares
// the text. Prints the first difference and exits 1 on any mismatch.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const peerDir = path.join(here, "node_modules", "@huggingface", "tokenizers");
if (!fs.existsSync(peerDir)) {
  console.error(`error: ${path.join(here, "node_modules")} is missing the peer tokenizer: ` +
    "run `npm ci --prefix test/peers` in the source tree");
  process.exit(1);
}
const { Tokenizer } = await import("@huggingface/tokenizers");

function parseArgs(argv) {
  const args = { random: 0, seed: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (argv[i + 1] === undefined) throw new Error(`${argv[i]} needs a value`);
    args[key] = ["random", "seed"].includes(key) ? Number(argv[i + 1]) : argv[i + 1];
  }
  for (const key of ["tool", "tokenizer", "corpus", "workdir"])
    if (!args[key]) throw new Error(`--${key} is required`);
  return args;
}

// mulberry32: a small seeded PRNG, so the random strings are the same on every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Pieces random strings are made of. Only long-assigned code points (Unicode versions differ
// between PCRE2 and V8 for recent ones), and no U+0085 / U+FEFF, which the peer's ByteLevel
// regex classifies differently from Oniguruma (see docs/TOKENIZER.md).
const RANGES = [
  [0x61, 0x7a], [0x41, 0x5a], [0x30, 0x39], [0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60],
  [0x7b, 0x7e], [0xc0, 0xff], [0x100, 0x17f], [0x300, 0x36f], [0x391, 0x3c9], [0x410, 0x44f],
  [0x5d0, 0x5ea], [0x621, 0x64a], [0x660, 0x669], [0x905, 0x939], [0x966, 0x96f],
  [0x3041, 0x3096], [0x30a1, 0x30fa], [0x4e00, 0x9fa5], [0xac00, 0xd7a3], [0x2000, 0x200a],
  [0x2010, 0x2027], [0x20a0, 0x20b5], [0x2150, 0x2182], [0x1f600, 0x1f64f], [0x1f300, 0x1f5ff],
  [0x20000, 0x2a6d6], [0x1d400, 0x1d44f], [0xff01, 0xff5e], [0x3000, 0x3000], [0xa0, 0xa0],
];
const WORDS = [" ", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n ", "'s", "'S", "'ll", "'LL",
  "'re", "'VE", "'d", "'M", "'t", "the", " the", "Hello", "world", "12", "123", "1234567",
  "3.14159", "e\u0301", "n\u0303", "\u{1F44D}\u{1F3FD}", "\u{1F468}\u200d\u{1F469}", "<|endoftext|>",
  "<|begin_of_text|>", "<|end", "[MASK]", "word", "New York", "<sep>", "http://x.org/a?b=1", "()", "{}",
  "==", "->", "...", "—"];

function randomString(next) {
  const parts = [];
  const count = 1 + Math.floor(next() * 12);
  for (let i = 0; i < count; i++) {
    if (next() < 0.4) {
      parts.push(WORDS[Math.floor(next() * WORDS.length)]);
      continue;
    }
    const [lo, hi] = RANGES[Math.floor(next() * RANGES.length)];
    const run = 1 + Math.floor(next() * 6);
    for (let j = 0; j < run; j++) parts.push(String.fromCodePoint(lo + Math.floor(next() * (hi - lo + 1))));
  }
  return parts.join("");
}

function firstDifference(a, b) {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const args = parseArgs(process.argv.slice(2));
const name = path.basename(path.dirname(args.tokenizer)) + "/" + path.basename(args.tokenizer);
const tokenizerJson = JSON.parse(fs.readFileSync(args.tokenizer, "utf8"));
// Rust's decode does no clean-up of spaces; the JS default does (a transformers.py habit).
const peer = new Tokenizer(tokenizerJson, { clean_up_tokenization_spaces: false });
fs.mkdirSync(args.workdir, { recursive: true });

const corpus = fs.readFileSync(args.corpus, "utf8").split("\n").filter((l) => l.length > 0)
  .map((l) => JSON.parse(l));
if (args["text-lines"]) {
  const text = fs.readFileSync(args["text-lines"], "utf8");
  corpus.push(...text.split("\n"), text);
}
const next = rng(args.seed);
const strings = corpus.concat(Array.from({ length: args.random }, () => randomString(next)));

function runTool(option, lines, file) {
  const input = path.join(args.workdir, file);
  fs.writeFileSync(input, lines.join("\n") + "\n");
  let out;
  try {
    out = execFileSync(args.tool, [args.tokenizer, option, input],
      { encoding: "utf8", maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    console.error(`error: ${args.tool} ${option} failed on ${name}: ${e.stderr || e.message}`);
    process.exit(1);
  }
  return out.split("\n").slice(0, lines.length);
}

let failures = 0;
function report(what, index, input, ours, theirs) {
  failures++;
  if (failures > 1) return;
  console.log(`MISMATCH ${name}: ${what} #${index + 1} of ${JSON.stringify(input)}`);
  console.log(`  bitnet-tokenize: ${ours}`);
  console.log(`  peer:            ${theirs}`);
}

// 1. Encode.
const ourIds = runTool("--lines", strings.map((s) => JSON.stringify(s)), "encode.jsonl")
  .map((l) => (l === "" ? [] : l.split(",").map(Number)));
strings.forEach((s, i) => {
  const theirs = peer.encode(s, { add_special_tokens: false }).ids;
  const at = firstDifference(ourIds[i], theirs);
  if (at >= 0) {
    report("encode", i, s, ourIds[i].join(","), theirs.join(","));
    if (failures === 1) {
      const tok = (id) => JSON.stringify(peer.id_to_token(id));
      console.log(`  first difference at position ${at}: ${ourIds[i][at]} ${tok(ourIds[i][at])} vs ` +
        `${theirs[at]} ${tok(theirs[at])}`);
    }
  }
});

// 2. Decode: the ids of every string, and random id sequences (which may cut UTF-8 characters).
const ids = Object.values(tokenizerJson.model.vocab)
  .concat((tokenizerJson.added_tokens ?? []).map((t) => t.id));
const sequences = ourIds.concat(Array.from({ length: args.random }, () =>
  Array.from({ length: 1 + Math.floor(next() * 8) }, () => ids[Math.floor(next() * ids.length)])));
const ourText = runTool("--decode-lines", sequences.map((s) => s.join(",")), "decode.txt")
  .map((l) => JSON.parse(l));
sequences.forEach((seq, i) => {
  const theirs = seq.length === 0 ? "" : peer.decode(seq, { clean_up_tokenization_spaces: false });
  if (ourText[i] !== theirs)
    report("decode", i, seq.join(","), JSON.stringify(ourText[i]), JSON.stringify(theirs));
});

const round = strings.filter((s, i) => ourText[i] === s).length;
console.log(`${name}: encoded ${strings.length} strings (${corpus.length} corpus lines, ` +
  `${args.random} random), decoded ${sequences.length} id sequences, ` +
  `${failures === 0 ? "all identical to the peer" : failures + " MISMATCHES"}; ` +
  `decode(encode(s)) == s for ${round}/${strings.length}`);
process.exit(failures === 0 ? 0 : 1);
