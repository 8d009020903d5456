// Cross-check tokenizer.json with an independent implementation (npm @huggingface/tokenizers)
// against our Python encoder (bpe.py): identical ids on a text file, and exact round trips.
// Usage: node verify_tokenizer.mjs <node_modules dir> <tokenizer.json> <text file>
// (Python ids are computed by running bpe.py through /usr/bin/python3.)
import { createRequire } from "module";
import { readFileSync } from "fs";
import { execFileSync } from "child_process";
import path from "path";

const [nodeModules, tokPath, textPath] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(nodeModules), "x.js"));
const mod = await import(require.resolve("@huggingface/tokenizers"));  // resolves to the CJS build
const Tokenizer = mod.Tokenizer ?? mod.default.Tokenizer;

const tj = JSON.parse(readFileSync(tokPath, "utf8"));
// Raw decoding: no "clean up tokenization spaces" post-edit of the text.
const tok = new Tokenizer(tj, { clean_up_tokenization_spaces: false });
const text = readFileSync(textPath, "utf8");
const here = path.dirname(new URL(import.meta.url).pathname);
const pyIds = JSON.parse(execFileSync("/usr/bin/python3", ["-c",
  "import json,sys; sys.path.insert(0, sys.argv[1]); from bpe import Tokenizer; " +
  "print(json.dumps(Tokenizer(sys.argv[2]).encode(open(sys.argv[3], encoding='utf-8', newline='').read())))",
  here, tokPath, textPath], { maxBuffer: 1 << 28 }).toString());

let failures = 0;
const withSpecial = tok.encode(text).ids;
const bos = tj.added_tokens.find((t) => t.content === "<|begin_of_text|>").id;
if (withSpecial[0] !== bos) { console.log("post_processor did not add BOS"); failures++; }
const jsIds = tok.encode(text, { add_special_tokens: false }).ids;
if (jsIds.length !== pyIds.length || jsIds.some((v, i) => v !== pyIds[i])) {
  const i = jsIds.findIndex((v, k) => v !== pyIds[k]);
  console.log(`ids differ: js ${jsIds.length} python ${pyIds.length}, first at ${i}: ` +
    `${JSON.stringify(jsIds.slice(i, i + 5))} vs ${JSON.stringify(pyIds.slice(i, i + 5))}`);
  failures++;
}
if (tok.decode(jsIds) !== text) { console.log("whole-file decode round trip failed"); failures++; }
// Per-document round trips (documents are separated by blank lines).
let docs = 0;
for (const doc of text.split("\n\n")) {
  docs++;
  const ids = tok.encode(doc, { add_special_tokens: false }).ids;
  if (tok.decode(ids) !== doc) { console.log("round trip failed:", JSON.stringify(doc)); failures++; }
}
console.log(`${textPath}: ${text.length} chars, ${jsIds.length} ids, ${docs} documents, ` +
  `python==js ${failures === 0}, failures ${failures}`);
process.exit(failures ? 1 : 0);
