function (root, S) {
  // The phase explorer's two panels, drawn from the JSON state S (grokkit/widgets/phase.py).
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b"];
  /* svg.js */
  function panel(name) { return root.querySelector('[data-panel="' + name + '"]'); }
  var wd = root.querySelector("input.gk-phase-wd"), frac = root.querySelector("input.gk-phase-frac");
  // --- the phase diagram: columns weight decay, rows train fraction (largest on top) -----------------
  var ph = panel("phase"), nw = S.wds.length, nf = S.fracs.length;
  var L = 44, T = 40, W = 360 - L - 8, H = 230 - T - 34, cw = W / nw, chh = H / nf;
  el(ph, "text", {x: 200, y: 12, "text-anchor": "middle", "font-size": 12}, "grok step (yellow early, purple late)");
  el(ph, "text", {x: 200, y: 24, "text-anchor": "middle", "font-size": 9}, "no grok by " + S.budget.toLocaleString("en") + " steps (censored):");
  el(ph, "text", {x: 200, y: 35, "text-anchor": "middle", "font-size": 9}, "× memorised · … test rising · ~ train not kept · ! diverged");
  for (var i = 0; i < nw; i++) {
    el(ph, "text", {x: L + (i + 0.5) * cw, y: T + H + 13, "text-anchor": "middle", "font-size": 10}, S.wds[i]);
    for (var j = 0; j < nf; j++) {
      var c = S.phase[i + "," + j], y = T + (nf - 1 - j) * chh;
      var r = el(ph, "rect", {x: L + i * cw, y: y, width: cw - 1, height: chh - 1, fill: c.color, "data-cell": i + "," + j, style: "cursor:pointer"});
      r.addEventListener("click", (function (a, b) { return function () { wd.value = a; frac.value = b; show(); }; })(i, j));
      var dark = c.t && parseInt(c.color.slice(1, 3), 16) < 110;
      el(ph, "text", {x: L + (i + 0.5) * cw, y: y + chh / 2 + (c.spread ? -1 : 4), "text-anchor": "middle", "font-size": 10, fill: dark ? "#fff" : "#222", "pointer-events": "none"}, c.label);
      if (c.spread) el(ph, "text", {x: L + (i + 0.5) * cw, y: y + chh / 2 + 10, "text-anchor": "middle", "font-size": 8, fill: dark ? "#fff" : "#222", "pointer-events": "none"}, c.spread);
    }
  }
  for (var j2 = 0; j2 < nf; j2++) {
    el(ph, "text", {x: L - 4, y: T + (nf - 1 - j2 + 0.5) * chh + 4, "text-anchor": "end", "font-size": 10}, S.fracs[j2]);
  }
  el(ph, "text", {x: L + W / 2, y: 228, "text-anchor": "middle", "font-size": 11}, "weight decay");
  el(ph, "text", {x: 10, y: T + H / 2, "text-anchor": "middle", "font-size": 11, transform: "rotate(-90 10 " + (T + H / 2) + ")"}, "train fraction");
  var mark = el(ph, "rect", {width: cw - 1, height: chh - 1, fill: "none", stroke: "#d62728", "stroke-width": 3, "pointer-events": "none"});
  // --- the curves of the selected cell ----------------------------------------------------------------
  var cv = panel("curves"), M = {l: 34, r: 8, t: 24, b: 30}, CW = 360, CH = 230, lines = el(cv, "g", {}), title;
  function px(x) { return M.l + x * (CW - M.l - M.r); }
  function py(y) { return CH - M.b - y * (CH - M.t - M.b); }
  el(cv, "line", {x1: M.l, y1: py(0), x2: CW - M.r, y2: py(0), stroke: "#444"});
  el(cv, "line", {x1: M.l, y1: py(0), x2: M.l, y2: M.t, stroke: "#444"});
  S.ticks.forEach(function (t) { el(cv, "text", {x: px(t[0]), y: py(0) + 13, "text-anchor": "middle", "font-size": 10}, t[1]); });
  [0, 0.5, 1].forEach(function (v) { el(cv, "text", {x: M.l - 4, y: py(v) + 4, "text-anchor": "end", "font-size": 10}, v); });
  el(cv, "text", {x: CW / 2, y: CH - 2, "text-anchor": "middle", "font-size": 11}, "step (dashed: train, solid: test)");
  title = el(cv, "text", {x: CW / 2, y: 14, "text-anchor": "middle", "font-size": 12});
  function poly(xs, ys, attrs) {
    attrs.points = xs.map(function (x, k) { return px(x).toFixed(1) + "," + py(ys[k]).toFixed(1); }).join(" ");
    attrs.fill = "none";
    el(lines, "polyline", attrs);
  }
  function show() {
    var i = parseInt(wd.value), j = parseInt(frac.value), key = i + "," + j, c = S.phase[key];
    [wd, frac].forEach(function (s) {
      var out = s.parentNode.querySelector("output");
      out.textContent = JSON.parse(out.dataset.labels)[s.value];
    });
    mark.setAttribute("x", L + i * cw); mark.setAttribute("y", T + (nf - 1 - j) * chh);
    while (lines.firstChild) lines.removeChild(lines.firstChild);
    S.curves[key].forEach(function (run, k) {
      var col = COLORS[k % COLORS.length];
      poly(run.x, run.train, {stroke: col, "stroke-dasharray": "4 3", "stroke-width": 1.2});
      poly(run.x, run.test, {stroke: col, "stroke-width": 1.8});
    });
    var steps = c.steps.map(function (t, k) { return t === null ? "none (" + c.outcomes[k] + ")" : t.toLocaleString("en"); });
    title.textContent = "wd " + S.wds[i] + ", frac " + S.fracs[j] + ": grok step " + steps.join(", ");
  }
  wd.addEventListener("input", show); frac.addEventListener("input", show);
  show();
}
