function (root, S) {
  // The in-page trainer (grokkit/widgets/browser.py): controls, the Web Worker (browser_worker.js), live panels.
  /* svg.js */
  var q = function (sel) { return root.querySelector(sel); };
  var status = q(".gk-train-status"), startB = q(".gk-train-start"), stopB = q(".gk-train-stop"), dlB = q(".gk-train-download");
  var opSel = q("select.gk-train-op"), beSel = q("select.gk-train-backend"), fields = ["weight_decay", "train_frac", "lr", "seed"];
  var slider = function (f) { return q('input[data-field="' + f + '"]'); };
  var value = function (f) { return S.options[f][parseInt(slider(f).value)]; };
  var runs = [], run = null, worker = null;
  var say = function (text, state) { status.textContent = text; if (state) root.dataset.state = state; };
  var pct = function (v) { return (100 * v).toFixed(1) + "%"; };
  // --- panels -------------------------------------------------------------------------------------------
  var M = {l: 38, r: 10, t: 24, b: 30}, W = 360, H = 230;
  var panel = function (name) { return q('[data-panel="' + name + '"]'); };
  function frame(svg, title, xlabel) {
    el(svg, "line", {x1: M.l, y1: H - M.b, x2: W - M.r, y2: H - M.b, stroke: "#444"});
    el(svg, "line", {x1: M.l, y1: H - M.b, x2: M.l, y2: M.t, stroke: "#444"});
    el(svg, "text", {x: W / 2, y: H - 4, "text-anchor": "middle", "font-size": 11}, xlabel);
    return el(svg, "text", {x: W / 2, y: 14, "text-anchor": "middle", "font-size": 12}, title);
  }
  var py = function (v) { return H - M.b - v * (H - M.t - M.b); };
  var cv = panel("curves"), cTitle = frame(cv, "accuracy (dashed: train, solid: test)", "step"), cLayer = el(cv, "g", {});
  [0, 0.5, 1].forEach(function (v) { el(cv, "text", {x: M.l - 4, y: py(v) + 4, "text-anchor": "end", "font-size": 10}, v); });
  var sp = panel("spectrum"), sTitle = frame(sp, "embedding Fourier power (share)", "frequency k"), sLayer = el(sp, "g", {});
  function drawCurves() {
    while (cLayer.firstChild) cLayer.removeChild(cLayer.firstChild);
    if (!run || !run.history.step.length) return;
    var h = run.history, last = h.step[h.step.length - 1], top = Math.max(500, Math.ceil(last * 1.2 / 500) * 500);
    var px = function (s) { return M.l + s / top * (W - M.l - M.r); };
    for (var t = 0; t <= top; t += top / 5) el(cLayer, "text", {x: px(t), y: H - M.b + 13, "text-anchor": t < top ? "middle" : "end", "font-size": 10}, t.toLocaleString("en"));
    [["train_acc", "4 3", 1.3], ["test_acc", "", 2]].forEach(function (m) {
      var pts = h.step.map(function (s, i) { var v = h[m[0]][i][0]; return px(s).toFixed(1) + "," + py(isFinite(v) ? v : 0).toFixed(1); });
      el(cLayer, "polyline", {points: pts.join(" "), fill: "none", stroke: "#1f77b4", "stroke-width": m[2], "stroke-dasharray": m[1]});
    });
    if (run.grok !== null && run.grok !== undefined) {
      el(cLayer, "line", {x1: px(run.grok), x2: px(run.grok), y1: py(0), y2: M.t, stroke: "#d62728", "stroke-dasharray": "2 2"});
      el(cLayer, "text", {x: px(run.grok) - 3, y: py(0.5), "text-anchor": "end", "font-size": 10, fill: "#d62728"}, "grok step " + run.grok.toLocaleString("en"));
    }
  }
  function drawSpectrum(power, keys) {
    while (sLayer.firstChild) sLayer.removeChild(sLayer.firstChild);
    var total = power.reduce(function (u, v) { return u + v; }, 0), sum = total || 1, top = Math.max(0.25, Math.max.apply(null, power) / sum);
    if (!isFinite(total)) return el(sLayer, "text", {x: W / 2, y: H / 2, "text-anchor": "middle", "font-size": 11}, "no spectrum: the weights are not finite");
    var bw = (W - M.l - M.r) / power.length;
    power.forEach(function (v, k) {
      var y = py(v / sum / top), key = keys.indexOf(k + 1) >= 0;
      el(sLayer, "rect", {x: M.l + k * bw + 0.5, y: y, width: Math.max(bw - 1, 1), height: py(0) - y, fill: key ? "#d62728" : "#999"});
      if ((k + 1) % 5 === 0 || k === 0) el(sLayer, "text", {x: M.l + (k + 0.5) * bw, y: H - M.b + 13, "text-anchor": "middle", "font-size": 10}, k + 1);
    });
    el(sLayer, "text", {x: M.l - 4, y: py(1) + 4, "text-anchor": "end", "font-size": 10}, top.toFixed(2));
    el(sLayer, "text", {x: W - M.r, y: M.t + 10, "text-anchor": "end", "font-size": 10, fill: "#d62728"}, "key frequencies k = " + keys.join(", "));
  }
  // --- Chapter 1's phase diagram (precomputed), the sliders' cell and the runs that landed on it -------------
  var ph = panel("phase"), P = S.phase, where = null, dots = null;
  if (ph) {
    var nw = P.wds.length, nf = P.fracs.length, L = 44, T = 30, PW = 360 - L - 8, PH = 230 - T - 34, cw = PW / nw, ch = PH / nf;
    el(ph, "text", {x: 200, y: 12, "text-anchor": "middle", "font-size": 12}, "Chapter 1's grid: grok step per cell");
    el(ph, "text", {x: 200, y: 25, "text-anchor": "middle", "font-size": 9}, "dashed ○: the sliders · ● your runs (× no grok by the budget, ! diverged)");
    P.wds.forEach(function (w, i) {
      el(ph, "text", {x: L + (i + 0.5) * cw, y: T + PH + 13, "text-anchor": "middle", "font-size": 10}, w);
      P.fracs.forEach(function (f, j) {
        var c = P.cells[i + "," + j], y = T + (nf - 1 - j) * ch, dark = c.t && parseInt(c.color.slice(1, 3), 16) < 110;
        el(ph, "rect", {x: L + i * cw, y: y, width: cw - 1, height: ch - 1, fill: c.color});
        el(ph, "text", {x: L + (i + 0.5) * cw, y: y + 10, "text-anchor": "middle", "font-size": 9, fill: dark ? "#fff" : "#222"}, c.label);
      });
    });
    P.fracs.forEach(function (f, j) { el(ph, "text", {x: L - 4, y: T + (nf - 1 - j + 0.5) * ch + 4, "text-anchor": "end", "font-size": 10}, f); });
    el(ph, "text", {x: L + PW / 2, y: 228, "text-anchor": "middle", "font-size": 11}, "weight decay");
    el(ph, "text", {x: 10, y: T + PH / 2, "text-anchor": "middle", "font-size": 11, transform: "rotate(-90 10 " + (T + PH / 2) + ")"}, "train fraction");
    // a value's place on an axis of cells: linear between the centres of the two cells around it
    var place = function (v, vals) {
      if (v <= vals[0]) return 0.5;
      for (var i = 0; i + 1 < vals.length; i++) if (v <= vals[i + 1]) return i + 0.5 + (v - vals[i]) / (vals[i + 1] - vals[i]);
      return vals.length - 0.5;
    };
    var at = function (wd, frac) { return [L + place(wd, P.wds) * cw, T + (nf - place(frac, P.fracs)) * ch + 2]; };
    where = el(ph, "circle", {r: 7, fill: "none", stroke: "#d62728", "stroke-width": 2, "stroke-dasharray": "3 2"});
    dots = el(ph, "g", {});
    var moveWhere = function () { var xy = at(value("weight_decay"), value("train_frac")); where.setAttribute("cx", xy[0]); where.setAttribute("cy", xy[1]); };
    var land = function (r) {
      var xy = at(r.config.weight_decay, r.config.train_frac), mark = r.outcome === "grokked" ? "" : r.outcome === "diverged" ? "!" : "×";
      el(dots, "circle", {cx: xy[0], cy: xy[1], r: 4.5, fill: mark ? "#fff" : "#222", stroke: "#222", "stroke-width": 1.5, "data-run": runs.length});
      el(dots, "text", {x: xy[0] + 6, y: xy[1] + 4, "font-size": 10, "font-weight": "bold", stroke: "#fff",
        "stroke-width": 3, "paint-order": "stroke"}, mark || (r.grok / 1000).toFixed(1) + "k");
    };
  }
  function showValues() {
    fields.forEach(function (f) { var o = slider(f).parentNode.querySelector("output"); o.textContent = JSON.parse(o.dataset.labels)[slider(f).value]; });
    if (where) moveWhere();
  }
  fields.forEach(function (f) { slider(f).addEventListener("input", showValues); });
  showValues();
  // --- the worker ---------------------------------------------------------------------------------------
  function lib() {  // the site's own copy, else lib_url, else jsDelivr (Jupyter, Colab)
    var base = S.lib_url ? new URL(S.lib_url, document.baseURI).href : null;
    var site = document.querySelector('script[src*="_static/"]');
    if (!base && site) base = site.src.slice(0, site.src.indexOf("_static/") + 8) + S.static_dir + "/";
    if (!base) return S.cdn;
    return {tf: base + "tf.min.js", wasm: base + "tf-backend-wasm.min.js", webgpu: base + "tf-backend-webgpu.min.js", wasmDir: base, where: base};
  }
  function start(extra) {  // extra (tests): {config: {...}, init, split, batches, backend}
    if (root.dataset.state === "running" || root.dataset.state === "unsupported") return;
    extra = extra || {};
    var c = Object.assign({}, S.config, {ops: [opSel.value]});
    fields.forEach(function (f) { c[f] = value(f); });
    Object.assign(c, extra.config || {});
    run = {config: c, history: {step: [], train_acc: [], test_acc: [], train_loss: [], test_loss: []}, power: {step: [], value: []}, grok: null, lib: lib()};
    if (!worker) {
      worker = new Worker(URL.createObjectURL(new Blob([S.worker], {type: "text/javascript"})));
      worker.onmessage = receive;
      worker.onerror = function (e) { fail(e.message || "the worker stopped"); };
    }
    startB.disabled = true; stopB.disabled = false; dlB.disabled = true;
    say("starting …", "running");
    worker.postMessage({type: "start", lib: run.lib, backend: extra.backend || beSel.value, config: c, init: extra.init, split: extra.split, batches: extra.batches});
  }
  function fail(msg) {
    startB.disabled = false; stopB.disabled = true;
    say("Could not train in the page: " + msg + " (TensorFlow.js " + S.version + " from " + (run ? run.lib.where : "?") + ")." +
      (S.phase ? " The phase diagram is precomputed and still works." : ""), "error");
  }
  function receive(e) {
    var m = e.data, h = run.history;
    if (m.type === "status") say(m.text);
    else if (m.type === "error") fail(m.message);
    else if (m.type === "backend") {
      run.backend = m.name; run.timings = m.timings; run.split = m.split;
      var t = Object.keys(m.timings).map(function (k) { return k + " " + m.timings[k].toFixed(0) + " ms/step"; });
      run.backendNote = m.name + (t.length ? " (timed: " + t.join(", ") + ")" : "");
    } else if (m.type === "eval") {
      h.step.push(m.step);
      ["train_acc", "test_acc", "train_loss", "test_loss"].forEach(function (k) { h[k].push([m.eval[k]]); });
      run.power.step.push(m.step); run.power.value.push(m.power);
      say("step " + m.step.toLocaleString("en") + " · train " + pct(m.eval.train_acc) + " · test " + pct(m.eval.test_acc) +
        " · loss " + m.eval.train_loss.toFixed(3) + " / " + m.eval.test_loss.toFixed(3) + " · " + (m.step / Math.max(m.wall, 1e-3)).toFixed(0) +
        " steps/s · " + run.backendNote);
      drawCurves(); drawSpectrum(m.power, m.keys);
    } else if (m.type === "done") finish(m);
  }
  function finish(m) {
    Object.assign(run, {outcome: m.reason, grok: m.grok_step, diverged_at: m.diverged_at, wall: m.wall, final_step: m.step, weights: m.weights, keys: m.keys});
    runs.push(run);
    var s = m.step.toLocaleString("en"), secs = m.wall.toFixed(1) + " s on " + m.backend;
    var text = {
      grokked: "grokked at step " + (m.grok_step || 0).toLocaleString("en") + " in " + secs + "; key frequencies k = " + m.keys.join(", "),
      diverged: "diverged at step " + (m.diverged_at || 0).toLocaleString("en") + ": a loss became NaN or inf, training stopped (" + secs + ")",
      stopped: "stopped at step " + s + " (" + secs + ")",
      budget: "no grok within " + s + " steps (" + secs + ")",
    }[m.reason];
    drawCurves(); drawSpectrum(m.power, m.keys);
    if (dots && m.reason !== "stopped") land(run);
    startB.disabled = false; stopB.disabled = true; dlB.disabled = false;
    say(text, "done");
  }
  function json(r) {  // what grokkit reads back: gk.widgets.load_browser_run(path)
    r = r || run;
    return {format: "grokkit.browser-run", version: 1, config: r.config, history: r.history, records: {fourier_power: r.power},
      split: {train_idx: r.split.train, test_idx: r.split.test}, weights: r.weights,
      info: {engine: "TensorFlow.js " + S.version, backend: r.backend, outcome: r.outcome, grok_step: r.grok, diverged_at: r.diverged_at,
        final_step: r.final_step, wall_time_s: r.wall, user_agent: navigator.userAgent}};
  }
  startB.addEventListener("click", function () { start(); });
  stopB.addEventListener("click", function () { if (worker) worker.postMessage({type: "stop"}); });
  dlB.addEventListener("click", function () {
    var a = document.createElement("a"), c = run.config;
    a.href = URL.createObjectURL(new Blob([JSON.stringify(json())], {type: "application/json"}));
    a.download = "grokkit-" + c.ops[0] + "-wd" + c.weight_decay + "-frac" + c.train_frac + "-lr" + c.lr + "-seed" + c.seed + ".json";
    document.body.appendChild(a); a.click(); a.remove();
  });
  root.gkTrain = {start: start, stop: function () { stopB.click(); }, runs: runs, json: json};
  if (typeof WebAssembly !== "object" || typeof Worker === "undefined") {
    startB.disabled = true;
    say("This browser has no WebAssembly" + (typeof Worker === "undefined" ? " or Web Workers" : "") + ", which training in the page needs. " +
      (S.phase ? "The phase diagram here and the explorer above are precomputed and still work." : ""), "unsupported");
  } else say("Set the sliders and press start: the model trains in this page (TensorFlow.js " + S.version + ").");
}
