function (root, S) {
  // The step scrubber's panels, drawn from the JSON state S (grokkit/widgets/scrubber.py).
  /* svg.js */
  function bits(b64) {
    var raw = atob(b64), out = new Uint8Array(raw.length * 8);
    for (var i = 0; i < raw.length; i++) {
      var c = raw.charCodeAt(i);
      for (var j = 0; j < 8; j++) out[i * 8 + j] = (c >> (7 - j)) & 1;
    }
    return out;
  }
  function panel(name) { return root.querySelector('[data-panel="' + name + '"]'); }
  var M = {l: 38, r: 10, t: 22, b: 30}, W = 360, H = 220;
  function px(x) { return M.l + x * (W - M.l - M.r); }
  function py(y, h) { return (h || H) - M.b - y * ((h || H) - M.t - M.b); }
  function axes(svg, title, xlabel) {
    el(svg, "line", {x1: M.l, y1: py(0), x2: W - M.r, y2: py(0), stroke: "#444"});
    el(svg, "line", {x1: M.l, y1: py(0), x2: M.l, y2: M.t, stroke: "#444"});
    el(svg, "text", {x: W / 2, y: 14, "text-anchor": "middle", "font-size": 12}, title);
    el(svg, "text", {x: W / 2, y: H - 4, "text-anchor": "middle", "font-size": 11}, xlabel);
  }
  function line(svg, xs, ys, attrs) {
    var pts = xs.map(function (x, i) { return px(x).toFixed(1) + "," + py(ys[i]).toFixed(1); });
    attrs.points = pts.join(" "); attrs.fill = "none";
    el(svg, "polyline", attrs);
  }
  var curves = panel("curves"), cursor = null, label = null;
  if (curves) {
    axes(curves, "accuracy", "step");
    S.ticks.forEach(function (t) {
      el(curves, "text", {x: px(t[0]), y: py(0) + 13, "text-anchor": "middle", "font-size": 10}, t[1]);
    });
    [0, 0.5, 1].forEach(function (v) {
      el(curves, "text", {x: M.l - 4, y: py(v) + 4, "text-anchor": "end", "font-size": 10}, v);
    });
    line(curves, S.x, S.train, {stroke: "#1f77b4", "stroke-dasharray": "4 3", "stroke-width": 1.3});
    line(curves, S.x, S.test, {stroke: "#1f77b4", "stroke-width": 2});
    el(curves, "text", {x: M.l + 6, y: M.t + 10, "font-size": 10}, "dashed: train, solid: test");
    cursor = el(curves, "line", {y1: py(0), y2: M.t, stroke: "#d62728", "stroke-width": 1.5});
    label = el(curves, "text", {y: M.t + 24, "font-size": 10, fill: "#d62728"});
  }
  var spectrum = panel("spectrum"), bars = [];
  if (spectrum) {
    axes(spectrum, "embedding Fourier power (share)", "frequency k");
    var nk = S.spectrum[0].length, bw = (W - M.l - M.r) / nk;
    for (var k = 0; k < nk; k++) {
      var key = S.keys.indexOf(k + 1) >= 0;
      bars.push(el(spectrum, "rect", {x: M.l + k * bw + 0.5, width: Math.max(bw - 1, 1), fill: key ? "#d62728" : "#999"}));
      if ((k + 1) % 8 === 0) el(spectrum, "text", {x: M.l + (k + 0.5) * bw, y: py(0) + 13, "text-anchor": "middle", "font-size": 10}, k + 1);
    }
    el(spectrum, "text", {x: W - M.r, y: M.t + 10, "text-anchor": "end", "font-size": 10, fill: "#d62728"}, "red: key frequencies " + S.keys.join(", "));
  }
  var clock = panel("clock"), dots = [];
  if (clock) {
    S.clock_freqs.forEach(function (kk, j) {
      var cx = 90 + j * 180, g = el(clock, "g", {});
      el(g, "circle", {cx: cx, cy: 105, r: 80, fill: "none", stroke: "#ddd"});
      el(g, "text", {x: cx, y: 14, "text-anchor": "middle", "font-size": 12}, "clock, k = " + kk);
      var row = [];
      for (var a = 0; a < S.p; a++) {  // colour = k·a mod p: a rainbow ring once the embedding uses k
        row.push(el(g, "circle", {r: 2.6, fill: "hsl(" + (360 * ((kk * a) % S.p) / S.p).toFixed(0) + ",80%,45%)"}));
      }
      dots.push({cx: cx, row: row});
    });
  }
  var canvas = panel("answers"), train = bits(S.train_pairs);
  function show() {
    var i = parseInt(root.querySelector("input.gk-step").value), step = S.steps[i], acc = S.acc[i];
    var out = root.querySelector("output");
    out.textContent = step.toLocaleString("en") + (acc ? " · train " + Math.round(100 * acc[0]) + "% · test " + Math.round(100 * acc[1]) + "%" : "");
    if (cursor) {
      var x = px(S.cursor[i]).toFixed(1);
      cursor.setAttribute("x1", x); cursor.setAttribute("x2", x);
      var right = S.cursor[i] > 0.7;
      label.setAttribute("x", right ? +x - 3 : +x + 3); label.setAttribute("text-anchor", right ? "end" : "start");
      label.textContent = "step " + step.toLocaleString("en");
    }
    bars.forEach(function (b, k) {
      var v = S.spectrum[i][k] / S.spec_max;
      b.setAttribute("y", py(v).toFixed(1)); b.setAttribute("height", (py(0) - py(v)).toFixed(1));
    });
    dots.forEach(function (d, j) {
      var xy = S.clock[i][j];
      d.row.forEach(function (c, a) {
        c.setAttribute("cx", (d.cx + 80 * xy[2 * a]).toFixed(1)); c.setAttribute("cy", (105 - 80 * xy[2 * a + 1]).toFixed(1));
      });
    });
    if (canvas) {
      var ctx = canvas.getContext("2d"), img = ctx.createImageData(S.p, S.p), right = bits(S.answers[i]);
      for (var q = 0; q < S.p * S.p; q++) {
        var hex = S.colors["" + right[q] + train[q]];
        img.data[4 * q] = parseInt(hex.slice(1, 3), 16); img.data[4 * q + 1] = parseInt(hex.slice(3, 5), 16);
        img.data[4 * q + 2] = parseInt(hex.slice(5, 7), 16); img.data[4 * q + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      var n = 0;
      for (var q2 = 0; q2 < S.p * S.p; q2++) n += right[q2];
      root.querySelector(".gk-answers-title").textContent = "answers (row a, column b): " + (Math.round(1000 * n / (S.p * S.p)) / 10) + "% right";
    }
  }
  root.querySelector("input.gk-step").addEventListener("input", show);
  show();
}
