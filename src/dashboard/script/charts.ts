// The dashboard script's metric charts: one uPlot a metric, grown in place as points arrive.
// Part of one closure (page-script.ts joins them): its functions see each other's.
export const CHARTS_SCRIPT = `  // ---- charts: one uPlot a metric, grown in place as points arrive -------------------------------
  function increasing(values) {
    if (values.length === 0) return false;
    var prev = -Infinity;
    for (var i = 0; i < values.length; i++) { if (values[i] === undefined || !(values[i] > prev)) return false; prev = values[i]; }
    return true;
  }
  function xOf(points) {
    var steps = points.map(function (p) { return p.step; });
    if (increasing(steps)) return { kind: "step", x: steps };
    var epochs = points.map(function (p) { return p.epoch; });
    if (increasing(epochs)) return { kind: "epoch", x: epochs };
    return { kind: "index", x: points.map(function (_, i) { return i + 1; }) };
  }
  function chartWidth(root) { return Math.max(320, Math.min(560, (root.clientWidth || 1100) / 2 - 12)); }
  function drawMetric(root, name) {
    var points = state.points[name];
    var axis = xOf(points);
    var data = [axis.x, points.map(function (p) { return p.value; })];
    var chart = state.charts[name];
    if (chart && chart.xKind === axis.kind) { chart.plot.setData(data); return; }
    if (chart) { chart.plot.destroy(); chart.box.remove(); }
    var box = el("section", { className: "chart", "data-metric": name }, [el("h3", { text: name })]);
    root.appendChild(box);
    var plot = new uPlot({
      width: chartWidth(root), height: 220, scales: { x: { time: false } },
      axes: [{ label: axis.kind }, {}],
      series: [{ label: axis.kind }, { label: name, stroke: palette[0], width: 2, spanGaps: true }]
    }, data, box);
    state.charts[name] = { plot: plot, box: box, xKind: axis.kind };
  }
  function addPoints(root, points, reset) {
    if (reset) state.points = {};
    var touched = {};
    points.forEach(function (p) {
      (state.points[p.name] = state.points[p.name] || []).push(p);
      touched[p.name] = true;
    });
    Object.keys(reset ? state.points : touched).forEach(function (name) { drawMetric(root, name); });
    var empty = root.querySelector(".muted");
    if (empty && Object.keys(state.points).length > 0) empty.remove();
  }


  // ---- machine: the host's CPU, memory and GPUs in percent over the run's seconds, one uPlot ------
  function pct(used, total) { return used === undefined || !total ? null : Math.round(1000 * used / total) / 10; }
  function machineSeries(samples) {
    var gpus = [];
    samples.forEach(function (s) { s.gpus.forEach(function (g) { if (gpus.indexOf(g.index) < 0) gpus.push(g.index); }); });
    gpus.sort(function (a, b) { return a - b; });
    var t0 = samples.length > 0 ? samples[0].time : 0;
    var series = [
      { label: "cpu %", y: samples.map(function (s) { return s.cpuPercent === undefined ? null : s.cpuPercent; }) },
      { label: "memory %", y: samples.map(function (s) { return pct(s.memoryUsedBytes, s.memoryTotalBytes); }) }
    ];
    gpus.forEach(function (i) {
      var rows = samples.map(function (s) { return s.gpus.filter(function (g) { return g.index === i; })[0]; });
      series.push({ label: "gpu" + i + " %", y: rows.map(function (g) { return g && g.utilizationPercent !== undefined ? g.utilizationPercent : null; }) });
      series.push({ label: "gpu" + i + " memory %", y: rows.map(function (g) { return g ? pct(g.memoryUsedMiB, g.memoryTotalMiB) : null; }) });
    });
    return { x: samples.map(function (s) { return Math.round((s.time - t0) / 100) / 10; }), series: series };
  }
  function addMachine(root, samples, reset) {
    if (reset || !state.machine) state.machine = [];
    state.machine = state.machine.concat(samples);
    if (state.machine.length === 0) return;
    var m = machineSeries(state.machine);
    var data = [m.x].concat(m.series.map(function (s) { return s.y; }));
    var chart = state.machineChart;
    if (chart && chart.labels === m.series.length) { chart.plot.setData(data); return; }
    if (chart) { chart.plot.destroy(); chart.box.remove(); }
    var empty = root.querySelector(".muted");
    if (empty) empty.remove();
    var box = el("section", { className: "chart machine", "data-machine": "" });
    root.appendChild(box);
    var plot = new uPlot({
      width: Math.max(320, Math.min(1100, (root.clientWidth || 1100) - 12)), height: 220,
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ label: "seconds" }, { label: "%" }],
      series: [{ label: "s" }].concat(m.series.map(function (s, i) { return { label: s.label, stroke: palette[i % palette.length], width: 2, spanGaps: true }; }))
    }, data, box);
    state.machineChart = { plot: plot, box: box, labels: m.series.length };
  }
`;
