// The in-page trainer's Web Worker (grokkit/widgets/browser.py): grokkit's model and training rule in
// TensorFlow.js, so the page stays responsive while it trains. Messages in: {type: "start", lib, backend,
// config, init?, split?, batches?} and {type: "stop"}; out: "status", "backend", "eval", "done", "error".
// `config` is a grokkit Config as a dict; `init` (parameter name -> flat values), `split` ({train, test}
// pair indices) and `batches` (pair indices per step) replace the worker's own draws (the PyTorch test).
/* global tf, importScripts */
var stopped = false;
onmessage = function (e) {
  if (e.data.type === "stop") stopped = true;
  if (e.data.type === "start") run(e.data).catch(function (err) { postMessage({type: "error", message: String(err && err.message || err)}); });
};

// --- Python's random.Random(seed) (MT19937, init_by_array, _randbelow): the worker's split is grokkit's ---
function MT(key) {
  var mt = new Uint32Array(624), i = 1, j = 0, k;
  mt[0] = 19650218;
  for (i = 1; i < 624; i++) mt[i] = (Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i) >>> 0;
  i = 1;
  for (k = Math.max(624, key.length); k; k--) {
    mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + key[j] + j) >>> 0;
    i++; j++;
    if (i >= 624) { mt[0] = mt[623]; i = 1; }
    if (j >= key.length) j = 0;
  }
  for (k = 623; k; k--) {
    mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i) >>> 0;
    i++;
    if (i >= 624) { mt[0] = mt[623]; i = 1; }
  }
  mt[0] = 0x80000000;
  var idx = 624;
  function next() {
    if (idx >= 624) {
      for (var n = 0; n < 624; n++) {
        var y = (mt[n] & 0x80000000) | (mt[(n + 1) % 624] & 0x7fffffff);
        mt[n] = mt[(n + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      idx = 0;
    }
    var x = mt[idx++];
    x ^= x >>> 11; x ^= (x << 7) & 0x9d2c5680; x ^= (x << 15) & 0xefc60000; x ^= x >>> 18;
    return x >>> 0;
  }
  return {
    below: function (n) {  // uniform in 0..n-1 (n < 2^32)
      var bits = 32 - Math.clz32(n), r;
      do { r = bits === 32 ? next() : next() >>> (32 - bits); } while (r >= n);
      return r;
    },
    uniform: function () { return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992; },
  };
}
function seedKey(seed) { return seed < 4294967296 ? [seed >>> 0] : [seed % 4294967296, Math.floor(seed / 4294967296)]; }

// --- the task: pairs in lexicographic order, labels, grokkit's split ----------------------------------
var OPS = {
  add: function (a, b, p) { return (a + b) % p; },
  sub: function (a, b, p) { return ((a - b) % p + p) % p; },
  mul: function (a, b, p) { return (a * b) % p; },
  x2_y2: function (a, b, p) { return (a * a + b * b) % p; },
  x2_xy_y2: function (a, b, p) { return (a * a + a * b + b * b) % p; },
  x3_xy: function (a, b, p) { return (a * a * a + a * b) % p; },
};
function task(c, split) {
  if (!OPS[c.ops[0]] || c.ops.length !== 1) throw new Error("one operation of " + Object.keys(OPS).join(", ") + ", not " + c.ops);
  var p = c.p, op = c.ops[0], lo = op === "mul" ? 1 : 0, a = [], b = [], y = [];
  for (var i = lo; i < p; i++) for (var j = lo; j < p; j++) { a.push(i); b.push(j); y.push(OPS[op](i, j, p)); }
  var n = a.length, train = [], test = [];
  if (split) { train = split.train.slice(); test = split.test.slice(); }
  else {
    var order = [], rng = MT(seedKey(c.data_seed === null || c.data_seed === undefined ? c.seed : c.data_seed));
    for (i = 0; i < n; i++) order.push(i);
    for (i = n - 1; i > 0; i--) { j = rng.below(i + 1); var t = order[i]; order[i] = order[j]; order[j] = t; }
    var cut = Math.floor(c.train_frac * n), num = function (u, v) { return u - v; };
    train = order.slice(0, cut).sort(num); test = order.slice(cut).sort(num);
  }
  var tokens = new Int32Array(2 * n);
  for (i = 0; i < n; i++) { tokens[2 * i] = a[i]; tokens[2 * i + 1] = b[i]; }
  return {n: n, tokens: tokens, labels: Int32Array.from(y), train: train, test: test};
}

// --- the model's parameters: grokkit's names, shapes ((out, in) weights) and initial distributions -----
function shapes(c) {
  var d = c.d_model, s = [["embed.weight", [c.p, d]], ["pos", [2, d]]];
  for (var l = 0; l < c.n_layers; l++) {
    var B = "blocks." + l + ".";
    s.push([B + "attn.in_proj_weight", [3 * d, d]], [B + "attn.in_proj_bias", [3 * d]], [B + "attn.out_proj.weight", [d, d]],
      [B + "attn.out_proj.bias", [d]], [B + "mlp.linear1.weight", [c.d_ff, d]], [B + "mlp.linear1.bias", [c.d_ff]],
      [B + "mlp.linear2.weight", [d, c.d_ff]], [B + "mlp.linear2.bias", [d]], [B + "ln1.weight", [d]], [B + "ln1.bias", [d]],
      [B + "ln2.weight", [d]], [B + "ln2.bias", [d]]);
  }
  s.push(["ln_f.weight", [d]], ["ln_f.bias", [d]], ["heads.0.weight", [c.p, d]], ["heads.0.bias", [c.p]]);
  return s;
}
function initial(c) {  // PyTorch's defaults (grokkit/model.py); block l > 0 copies block 0 when tied_init
  var rng = MT(seedKey(c.seed).concat([0x6772])), d = c.d_model, out = {};
  var normal = function () { return Math.sqrt(-2 * Math.log(1 - rng.uniform())) * Math.cos(2 * Math.PI * rng.uniform()); };
  var fill = function (n, f) { var a = new Float32Array(n); for (var i = 0; i < n; i++) a[i] = f(); return a; };
  var uni = function (n, bound) { return fill(n, function () { return (2 * rng.uniform() - 1) * bound; }); };
  shapes(c).forEach(function (s) {
    var name = s[0], n = s[1].reduce(function (u, v) { return u * v; }, 1), m = /^blocks\.(\d+)\.(.*)$/.exec(name);
    if (m && m[1] !== "0" && c.tied_init) { out[name] = out["blocks.0." + m[2]].slice(); return; }
    var leaf = m ? m[2] : name, fanIn = s[1].length > 1 ? s[1][1] : 0;
    if (name === "embed.weight") out[name] = fill(n, normal);
    else if (name === "pos") out[name] = fill(n, function () { return normal() / Math.sqrt(d); });
    else if (leaf === "attn.in_proj_weight") out[name] = uni(n, Math.sqrt(6 / (4 * d)));
    else if (/^ln.*weight$/.test(leaf)) out[name] = fill(n, function () { return 1; });
    else if (/^ln|in_proj_bias|out_proj\.bias/.test(leaf)) out[name] = new Float32Array(n);
    else if (/bias$/.test(leaf)) out[name] = uni(n, 1 / Math.sqrt(name.indexOf("linear2") >= 0 ? c.d_ff : d));
    else out[name] = uni(n, 1 / Math.sqrt(fanIn));  // nn.Linear: kaiming_uniform(a=sqrt(5))
  });
  return out;
}

// --- forward pass: pre-LayerNorm blocks, two-token attention, GELU MLP, read-out at position 0 ---------
var ln = null;
function layerNorm(x, g, b) {  // over the last axis, eps 1e-5 (PyTorch's); its gradient written out (fewer ops)
  ln = ln || tf.customGrad(function (x, g, b, save) {
    var xc = x.sub(x.mean(-1, true)), r = xc.square().mean(-1, true).add(1e-5).rsqrt(), xh = xc.mul(r);
    save([xh, r, g]);
    return {value: xh.mul(g).add(b), gradFunc: function (dy, s) {
      var dxh = dy.mul(s[2]), lead = dy.shape.slice(0, -1).map(function (_, i) { return i; });
      var dx = dxh.sub(dxh.mean(-1, true)).sub(s[0].mul(dxh.mul(s[0]).mean(-1, true))).mul(s[1]);
      return [dx, dy.mul(s[0]).sum(lead), dy.sum(lead)];
    }};
  });
  return ln(x, g, b);
}
// TensorFlow.js's Wasm matMul is ~8x slower on a transposed operand, and its gradient multiplies by
// transposes: this gradient transposes explicitly first (same values; every matMul here is untransposed)
function matmulGradient() {
  tf.registerGradient({kernelName: "BatchMatMul", inputsToSave: ["a", "b"], gradFunc: function (dy, saved, attrs) {
    if (attrs.transposeA || attrs.transposeB) throw new Error("only untransposed matMul is differentiated here");
    return {a: function () { return tf.matMul(dy, saved[1].transpose()); }, b: function () { return tf.matMul(saved[0].transpose(), dy); }};
  }});
}
function linear(x, W, b) { return tf.matMul(x, W.transpose()).add(b); }  // x (n, in), W (out, in) as in PyTorch
function logits(P, c, tokens, B) {  // tokens: int32 (B*2,) -> (B, p)
  var d = c.d_model, H = c.n_heads, dh = d / H;
  var x = tf.matMul(tf.oneHot(tokens, c.p), P["embed.weight"]).reshape([B, 2, d]).add(P.pos);
  for (var l = 0; l < c.n_layers; l++) {
    var q = function (name) { return P["blocks." + l + "." + name]; }, last = l === c.n_layers - 1;
    var h = layerNorm(x, q("ln1.weight"), q("ln1.bias")).reshape([B * 2, d]);
    var qkv = linear(h, q("attn.in_proj_weight"), q("attn.in_proj_bias")).reshape([B, 2, 3 * d]);
    var Q = qkv.slice([0, 0, 0], [B, last ? 1 : 2, d]), K = qkv.slice([0, 0, d], [B, 2, d]), V = qkv.slice([0, 0, 2 * d], [B, 2, d]);
    var T = last ? 1 : 2;  // the last block is needed only where the head reads (position 0)
    if (last) x = x.slice([0, 0, 0], [B, 1, d]);
    // two keys: softmax(s0, s1) = (sigmoid(s0 - s1), ...), out = v1 + w0 (v0 - v1) per head
    var k0 = K.slice([0, 0, 0], [B, 1, d]), k1 = K.slice([0, 1, 0], [B, 1, d]);
    var v0 = V.slice([0, 0, 0], [B, 1, d]), v1 = V.slice([0, 1, 0], [B, 1, d]);
    var s = Q.mul(k0.sub(k1)).reshape([B, T, H, dh]).sum(-1, true).div(Math.sqrt(dh));
    var att = v1.reshape([B, 1, H, dh]).add(tf.sigmoid(s).mul(v0.sub(v1).reshape([B, 1, H, dh]))).reshape([B * T, d]);
    x = x.add(linear(att, q("attn.out_proj.weight"), q("attn.out_proj.bias")).reshape([B, T, d]));
    var u = linear(layerNorm(x, q("ln2.weight"), q("ln2.bias")).reshape([B * T, d]), q("mlp.linear1.weight"), q("mlp.linear1.bias"));
    u = u.mul(tf.erf(u.mul(Math.SQRT1_2)).add(1)).mul(0.5);  // exact GELU
    x = x.add(linear(u, q("mlp.linear2.weight"), q("mlp.linear2.bias")).reshape([B, T, d]));
  }
  var hf = layerNorm(x.slice([0, 0, 0], [B, 1, d]).reshape([B, d]), P["ln_f.weight"], P["ln_f.bias"]);
  return linear(hf, P["heads.0.weight"], P["heads.0.bias"]);
}
function crossEntropy(z, labels, p) {  // per example; z (n, p), labels int32 (n,)
  return tf.logSoftmax(z).mul(tf.oneHot(labels, p)).sum(-1).neg();
}

// --- one run ----------------------------------------------------------------------------------------
var trainers = 0, onHost = function () { return ["wasm", "cpu"].indexOf(tf.getBackend()) >= 0; };
function Trainer(c, init, data) {
  var self = this, sh = shapes(c), names = sh.map(function (s) { return s[0]; }), P = {}, uid = "t" + trainers++ + "/";
  var sizes = sh.map(function (s) { return s[1].reduce(function (u, v) { return u * v; }, 1); });
  var total = sizes.reduce(function (u, v) { return u + v; }, 0);
  sh.forEach(function (s) { P[s[0]] = tf.variable(tf.tensor(init[s[0]], s[1]), true, uid + s[0]); });
  // AdamW's state and the decay mask live in flat vectors: a dozen ops a step instead of a dozen per parameter
  var M = tf.variable(tf.zeros([total]), false), V = tf.variable(tf.zeros([total]), false);
  var decays = function (n) { return !(c.decay_exclude || []).some(function (f) { return n.indexOf(f) >= 0; }); };
  var keep = tf.concat(names.map(function (n, i) { return tf.fill([sizes[i]], decays(n) ? 1 - c.lr * c.weight_decay : 1); }));
  var allTok = tf.tensor1d(data.tokens, "int32"), allY = tf.tensor1d(data.labels, "int32");
  var mask = new Float32Array(data.n); data.train.forEach(function (i) { mask[i] = 1; });
  var trainMask = tf.tensor1d(mask), testMask = tf.scalar(1).sub(trainMask);
  var vars = names.map(function (n) { return P[n]; });
  var flat = function (d) { return tf.concat(names.map(function (n) { return d[n].reshape([-1]); })); };
  self.t = 0;
  self.step = function (batch) {  // forward, loss, backward, clip the global norm, AdamW (decoupled decay)
    tf.tidy(function () {
      var B = batch.length, tok = new Int32Array(2 * B), y = new Int32Array(B);
      for (var i = 0; i < B; i++) { tok[2 * i] = data.tokens[2 * batch[i]]; tok[2 * i + 1] = data.tokens[2 * batch[i] + 1]; y[i] = data.labels[batch[i]]; }
      var tokT = tf.tensor1d(tok, "int32"), yT = tf.tensor1d(y, "int32"), g = {};
      var raw = tf.variableGrads(function () { return crossEntropy(logits(P, c, tokT, B), yT, c.p).mean(); }, vars).grads;
      names.forEach(function (n) { g[n] = raw[uid + n]; });
      g = flat(g);
      if (c.grad_clip !== null) g = g.mul(tf.minimum(tf.scalar(c.grad_clip).div(g.square().sum().sqrt().add(1e-6)), 1));
      self.t += 1;
      var b1 = c.betas[0], b2 = c.betas[1], bc1 = 1 - Math.pow(b1, self.t), bc2 = 1 - Math.pow(b2, self.t);
      var m = M.mul(b1).add(g.mul(1 - b1)), v = V.mul(b2).add(g.square().mul(1 - b2));
      M.assign(m); V.assign(v);
      var theta = flat(P).mul(keep).sub(m.div(v.sqrt().div(Math.sqrt(bc2)).add(c.eps)).mul(c.lr / bc1));
      if (onHost()) {  // Wasm's 1-D slices are slow; its memory is the host's: cut there
        var h = theta.dataSync(), o = 0;
        names.forEach(function (n, i) { P[n].assign(tf.tensor(h.subarray(o, o + sizes[i]), sh[i][1])); o += sizes[i]; });
      } else tf.split(theta, sizes).forEach(function (t, i) { P[names[i]].assign(t.reshape(sh[i][1])); });
    });
  };
  self.evaluate = function () {  // every pair in one pass: train/test accuracy and mean cross-entropy
    var out = tf.tidy(function () {
      var z = logits(P, c, allTok, data.n), right = z.argMax(-1).equal(allY).toFloat(), ce = crossEntropy(z, allY, c.p);
      var mean = function (v, w) { return v.mul(w).sum().div(w.sum()); };
      return tf.stack([mean(right, trainMask), mean(right, testMask), mean(ce, trainMask), mean(ce, testMask)]);
    });
    var v = out.dataSync(); out.dispose();
    return {train_acc: v[0], test_acc: v[1], train_loss: v[2], test_loss: v[3]};
  };
  self.read = function (name) { return P[name].dataSync(); };
  self.weights = function () {
    var w = {};
    names.forEach(function (n) { w[n] = {shape: P[n].shape, data: Array.from(P[n].dataSync(), function (x) { return +x.toPrecision(9); })}; });
    return w;
  };
  self.dispose = function () {
    names.forEach(function (n) { P[n].dispose(); });
    [M, V, keep, allTok, allY, trainMask, testMask].forEach(function (t) { t.dispose(); });
  };
}

// the embedding's Fourier power at k = 1..p//2 (grokkit.geometry.fourier_power) and its key frequencies
function spectrum(W, p, d) {
  var power = [];
  for (var k = 1; k <= Math.floor(p / 2); k++) {
    var tot = 0;
    for (var j = 0; j < d; j++) {
      var re = 0, im = 0;
      for (var a = 0; a < p; a++) { var w = W[a * d + j], ang = 2 * Math.PI * k * a / p; re += w * Math.cos(ang); im -= w * Math.sin(ang); }
      tot += re * re + im * im;
    }
    power.push(tot);
  }
  var order = power.map(function (_, i) { return i; }).sort(function (u, v) { return power[v] - power[u]; });
  var sum = power.reduce(function (u, v) { return u + v; }, 0), cum = 0, keys = [];
  for (var i = 0; i < order.length; i++) { keys.push(order[i] + 1); cum += power[order[i]]; if (cum / sum >= 0.5) break; }
  return {power: power, keys: keys};
}

// --- loading TensorFlow.js and choosing a backend ------------------------------------------------------
var loaded = false;
function load(lib) {
  if (loaded) return;
  importScripts(lib.tf, lib.wasm);
  try { importScripts(lib.webgpu); } catch (err) { /* WebGPU's backend is optional */ }
  tf.wasm.setWasmPaths(lib.wasmDir);
  tf.enableProdMode();
  matmulGradient();
  loaded = true;
}
function batchStream(c, data, batches) {
  if (batches) return function (t) { if (t >= batches.length) throw new Error("the given batches end at step " + t); return batches[t]; };
  var rng = MT(seedKey(c.seed).concat([0x6261]));
  return function () {
    var b = new Array(c.batch_size);
    for (var i = 0; i < c.batch_size; i++) b[i] = data.train[rng.below(data.train.length)];
    return b;
  };
}
async function timeBackend(name, c, init, data) {  // ms per step, or null if it cannot run
  try { if (!(await tf.setBackend(name))) return null; } catch (err) { return null; }
  if (name === "webgl" && !tf.env().getBool("WEBGL_RENDER_FLOAT32_CAPABLE")) return null;  // float16 textures: no
  var tr = new Trainer(c, init, data), next = batchStream(c, data, null), t0 = performance.now();
  try {
    tr.step(next(0)); tr.evaluate();
    if (performance.now() - t0 > 5000) return null;  // a software renderer
    t0 = performance.now();
    for (var i = 0; i < 5; i++) tr.step(next(i));
    tr.evaluate();
    return (performance.now() - t0) / 5;
  } catch (err) { return null; } finally { tr.dispose(); }
}
var auto = null;  // the backend "auto" chose (timed once per worker)
async function chooseBackend(want, c, init, data) {
  if (want === "auto" && auto) { await tf.setBackend(auto.name); return auto; }
  if (want !== "auto") {
    if (!(await tf.setBackend(want))) throw new Error("the " + want + " backend is not available in this browser");
    return {name: want, timings: {}};
  }
  var timings = {}, best = null;
  var candidates = ["webgpu", "webgl", "wasm"].filter(function (n) { return tf.findBackendFactory(n); });
  for (var i = 0; i < candidates.length; i++) {
    var ms = await timeBackend(candidates[i], c, init, data);
    if (ms !== null) { timings[candidates[i]] = ms; if (best === null || ms < timings[best]) best = candidates[i]; }
  }
  best = best || "cpu";
  await tf.setBackend(best);
  auto = {name: best, timings: timings};
  return auto;
}
var pause = function () { return new Promise(function (ok) { setTimeout(ok, 0); }); };

async function run(m) {
  stopped = false;
  var c = m.config;
  postMessage({type: "status", text: "loading TensorFlow.js …"});
  load(m.lib);
  var data = task(c, m.split), init = m.init || initial(c);
  postMessage({type: "status", text: "choosing a backend …"});
  var be = await chooseBackend(m.backend || "auto", c, init, data);
  postMessage({type: "backend", name: be.name, timings: be.timings, split: {train: data.train, test: data.test}});
  var tr = new Trainer(c, init, data), next = batchStream(c, data, m.batches), d = c.d_model;
  var streak = 0, stopAt = null, grok = null, diverged = null, t0 = performance.now(), step = 0;
  var report = function () {
    var e = tr.evaluate(), sp = spectrum(tr.read("embed.weight"), c.p, d);
    var wall = (performance.now() - t0) / 1000;
    if (![e.train_loss, e.test_loss].every(isFinite) && diverged === null) diverged = step;
    if (stopAt === null && c.stop_threshold !== null) {
      streak = e.test_acc >= c.stop_threshold ? streak + 1 : 0;
      if (streak >= c.stop_patience) { grok = step; stopAt = step + (c.steps_after_stop || 0); }
    }
    postMessage({type: "eval", step: step, eval: e, power: sp.power, keys: sp.keys, wall: wall});
  };
  report();
  while (!stopped && step < Math.min(stopAt === null ? c.max_steps : stopAt, c.max_steps) && diverged === null) {
    tr.step(next(step));
    step += 1;
    if (step % c.eval_every === 0) { report(); await pause(); }  // lets a "stop" message in
  }
  var wall = (performance.now() - t0) / 1000, sp = spectrum(tr.read("embed.weight"), c.p, d), weights = tr.weights();
  var finite = Object.keys(weights).every(function (n) { return weights[n].data.every(isFinite); });
  if (!finite && diverged === null) diverged = step;  // a divergence after the last evaluation
  var reason = diverged !== null ? "diverged" : stopped ? "stopped" : grok !== null ? "grokked" : "budget";
  postMessage({type: "done", reason: reason, step: step, grok_step: grok, diverged_at: diverged, wall: wall,
    steps_per_s: step / wall, backend: be.name, keys: sp.keys, power: sp.power, weights: weights});
  tr.dispose();
}
