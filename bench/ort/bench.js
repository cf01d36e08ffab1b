// bench.js — the ONNX Runtime peer of bench/peers.sh (driven by bench/peers.py).
//
//   node bench.js MODEL.onnx IN.bin N,C,H,W OUT.bin
//
// Loads MODEL with the CPU provider and one intra-op (and inter-op) thread, runs it once on
// the little-endian f32 input IN.bin and writes the first output to OUT.bin (so the driver
// can check that ORT computes what PyTorch and the emitted C compute), then prints
// "ready LOAD_MS VERSION". After that each stdin line "N" runs N inferences and prints their
// latencies in ms on one line; "q" or end of input exits. The session stays loaded between
// requests, so the driver can interleave ORT with the other peers under the same load.
'use strict';
const fs = require('node:fs');
const readline = require('node:readline');
const ort = require('onnxruntime-node');

function readF32(path) {
  const b = fs.readFileSync(path);
  // Copy: a Float32Array view needs a 4-aligned offset, which a Buffer does not promise.
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

async function timeRuns(session, feeds, n) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return ms;
}

async function main() {
  const [model, inPath, dimText, outPath] = process.argv.slice(2);
  if (!outPath) {
    console.error('usage: node bench.js MODEL.onnx IN.bin N,C,H,W OUT.bin');
    process.exit(2);
  }
  const dims = dimText.split(',').map(Number);
  const opts = {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, opts);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', readF32(inPath), dims) };
  const out = await session.run(feeds);
  const y = out[session.outputNames[0]].data;
  fs.writeFileSync(outPath, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  console.log(`ready ${loadMs.toFixed(1)} ${ort.env.versions.node}`);
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const n = parseInt(line, 10);
    if (!(n > 0)) break;
    const ms = await timeRuns(session, feeds, n);
    console.log(ms.map((v) => v.toFixed(4)).join(' '));
  }
  rl.close();
}

main().catch((e) => {
  console.error(`bench.js: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
