// Runs an ONNX model with ONNX Runtime (onnxruntime-node, pinned in package.json, CPU execution
// provider): the peer that bitnetc's compiled ONNX models are compared against.
//
//   node ort_run.mjs MODEL.onnx [--ids 1,2,3 | --input NAME=FILE.npy ...] [--out FILE]
//        [--output-dir DIR] [--threads N] [--opt disabled|basic|extended|all]
//
// --ids feeds the model's first input as int64 [1, n] (a BitNet export's input_ids).
// --input NAME=FILE.npy feeds a named input from a .npy file (f32/f64/i8/u8/i16/u16/i32/u32/i64/
// u64/bool, C order). --out writes the first output: raw little-endian f32 if FILE ends in .f32
// (bitnet-run --logits-out's format), else .npy. --output-dir writes every output as NAME.npy.
// Prints each output's name, dtype and shape. --opt is ORT's graph optimization level (default
// all, ORT's own default); --threads the intra-op thread count (default 1: deterministic sums).
// Exits 1 with the error message of ORT (unsupported op, bad input, ...) on failure.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
if (!fs.existsSync(path.join(here, "node_modules", "onnxruntime-node"))) {
  console.error(`error: ${path.join(here, "node_modules")} lacks onnxruntime-node: ` +
    "run `npm ci --prefix test/peers` in the source tree");
  process.exit(1);
}
const ort = (await import("onnxruntime-node")).default;

// numpy dtype string (without byte order) <-> ORT tensor type and typed array.
const NPY = {
  f4: ["float32", Float32Array], f8: ["float64", Float64Array], i1: ["int8", Int8Array],
  u1: ["uint8", Uint8Array], i2: ["int16", Int16Array], u2: ["uint16", Uint16Array],
  i4: ["int32", Int32Array], u4: ["uint32", Uint32Array], i8: ["int64", BigInt64Array],
  u8: ["uint64", BigUint64Array], b1: ["bool", Uint8Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString("latin1", 1, 6) !== "NUMPY") throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString("latin1", start, start + hlen);
  const descr = /'descr':\s*'([<>|=])(\w+)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape) throw new Error(`${file}: unreadable header ${header}`);
  if (descr[1] === ">") throw new Error(`${file}: big-endian data is not supported`);
  if (order[1] === "True") throw new Error(`${file}: Fortran order is not supported`);
  const entry = NPY[descr[2]];
  if (!entry) throw new Error(`${file}: dtype ${descr[2]} is not supported`);
  const dims = shape[1].split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const [type, Arr] = entry;
  const bytes = buf.subarray(start + hlen);
  const data = new Arr(count);
  new Uint8Array(data.buffer).set(bytes.subarray(0, count * Arr.BYTES_PER_ELEMENT));
  return new ort.Tensor(type, type === "bool" ? Uint8Array.from(data) : data, dims);
}

function writeNpy(file, tensor) {
  const entry = Object.entries(NPY).find(([, [type]]) => type === tensor.type);
  if (!entry) throw new Error(`output type ${tensor.type} cannot be written as .npy`);
  const descr = (entry[0] === "i1" || entry[0] === "u1" || entry[0] === "b1" ? "|" : "<") + entry[0];
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";  // data 64-byte aligned
  const pre = Buffer.alloc(10);
  pre.write("\x93NUMPY", 0, "latin1");
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const data = tensor.data;
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, "latin1"), raw]));
}

function parseArgs(argv) {
  const a = { inputs: [], threads: 1, opt: "all" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (argv[i + 1] === undefined) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--ids") a.ids = value();
    else if (arg === "--input") a.inputs.push(value());
    else if (arg === "--out") a.out = value();
    else if (arg === "--output-dir") a.outputDir = value();
    else if (arg === "--threads") a.threads = Number(value());
    else if (arg === "--opt") a.opt = value();
    else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else if (a.model) throw new Error(`unexpected argument ${arg}`);
    else a.model = arg;
  }
  if (!a.model) throw new Error("usage: node ort_run.mjs MODEL.onnx [--ids 1,2,3 | --input NAME=FILE.npy] [--out FILE]");
  if (!["disabled", "basic", "extended", "all"].includes(a.opt)) throw new Error(`--opt ${a.opt}: not a level`);
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ["cpu"], graphOptimizationLevel: a.opt,
    intraOpNumThreads: a.threads, interOpNumThreads: 1,
  });
  const feeds = {};
  if (a.ids !== undefined) {
    const ids = a.ids.split(",").filter((s) => s.trim()).map((s) => BigInt(s.trim()));
    feeds[session.inputNames[0]] = new ort.Tensor("int64", BigInt64Array.from(ids), [1, ids.length]);
  }
  for (const spec of a.inputs) {
    const eq = spec.indexOf("=");
    if (eq < 0) throw new Error(`--input ${spec}: expected NAME=FILE.npy`);
    feeds[spec.slice(0, eq)] = readNpy(spec.slice(eq + 1));
  }
  const results = await session.run(feeds);
  for (const name of session.outputNames) {
    const t = results[name];
    console.log(`output ${name}: ${t.type} [${t.dims.join(", ")}]`);
  }
  if (a.out) {
    const first = results[session.outputNames[0]];
    if (a.out.endsWith(".f32")) {
      if (first.type !== "float32") throw new Error(`--out ${a.out}: output is ${first.type}, not float32`);
      fs.writeFileSync(a.out, Buffer.from(first.data.buffer, first.data.byteOffset, first.data.byteLength));
    } else {
      writeNpy(a.out, first);
    }
  }
  if (a.outputDir) {
    fs.mkdirSync(a.outputDir, { recursive: true });
    for (const name of session.outputNames)
      writeNpy(path.join(a.outputDir, name.replace(/[^A-Za-z0-9_.-]/g, "_") + ".npy"), results[name]);
  }
}

try {
  await main();
} catch (e) {
  console.error(`ort_run.mjs: ${e.message ?? e}`);
  process.exit(1);
}
