// llama.cpp peer (prebuilt CPU build of @node-llama-cpp/linux-x64 through node-llama-cpp, no GPU, never
// builds): node llama_cpp.mjs MODEL.gguf IDS(comma-separated) THREADS DECODE_TOKENS [LOGITS_OUT.f32]
// Prints one JSON line: prompt tokens/s of one pass over IDS (a fresh sequence), decode tokens/s of
// DECODE_TOKENS single-token feeds after it, and (LOGITS_OUT) the raw logits after the last prompt token
// (that run with an f32 key/value cache).
// PEER_NPM: the folder whose node_modules holds the pinned packages (bench/llama_cpp_peer.sh installs them).
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(process.env.PEER_NPM + "/package.json");
const { getLlama } = await import(pathToFileURL(require.resolve("node-llama-cpp")).href);

const [modelPath, idsArg, threadsArg, decodeArg, logitsOut] = process.argv.slice(2);
const ids = idsArg.split(",").map(Number);
const threads = Number(threadsArg), decodeTokens = Number(decodeArg);

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error", maxThreads: threads });
const model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap: true });
const context = await model.createContext({
    contextSize: ids.length + decodeTokens + 8, batchSize: ids.length, sequences: 1, threads,
    // the logits run keeps keys and values in f32 as the engine does (llama.cpp's default F16 cache
    // rounds them); timed runs keep llama.cpp's defaults
    ...(logitsOut ? { experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32", flashAttention: false } : {}),
});
const seq = context.getSequence();

// warm-up feed: the first decode pays one-time costs (page faults of the mapped weights, buffers)
await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, 8));
await seq.clearHistory();

let t0 = performance.now();
let logits = null;
if (logitsOut) {
    const input = ids.slice(0, -1);
    input.push([ids[ids.length - 1], { generateNext: { logits: true } }]);
    const out = await seq.controlledEvaluate(input);
    logits = out[ids.length - 1]?.next?.logits ?? null;
} else {
    await seq.evaluateWithoutGeneratingNewTokens(ids);
}
const promptSeconds = (performance.now() - t0) / 1000;

t0 = performance.now();
for (let i = 0; i < decodeTokens; i++) await seq.evaluateWithoutGeneratingNewTokens([ids[i % ids.length]]);
const decodeSeconds = (performance.now() - t0) / 1000;

if (logitsOut && logits) {
    const vocab = Math.max(...logits.keys()) + 1;
    const buf = new Float32Array(vocab);
    for (const [tok, v] of logits) buf[tok] = v;
    writeFileSync(logitsOut, Buffer.from(buf.buffer));
}
console.log(JSON.stringify({
    prompt_tokens: ids.length, prompt_seconds: promptSeconds, prompt_tokens_per_second: ids.length / promptSeconds,
    decode_tokens: decodeTokens, decode_seconds: decodeSeconds,
    decode_tokens_per_second: decodeTokens ? decodeTokens / decodeSeconds : 0, threads,
}));
await context.dispose();
await model.dispose();
await llama.dispose();
