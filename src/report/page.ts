// The report page's own style and script, as text to inline: draws one uPlot chart a metric.

export const PAGE_STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 960px; padding: 0 16px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 24px 0 8px; }
.meta, .cmd, small { color: #777; font-weight: normal; }
.cmd { font-family: ui-monospace, monospace; font-size: 12px; }
table.summary { border-collapse: collapse; margin: 16px 0; min-width: 50%; }
table.machine-summary { border-collapse: collapse; margin: 8px 0; }
table.machine-summary td, table.machine-summary th { padding: 2px 12px 2px 0; text-align: left; }
h3 { font-size: 14px; margin: 16px 0 4px; }
table.summary td, table.summary th { padding: 3px 12px 3px 0; text-align: left; vertical-align: top; }
table.summary tr.run th { padding-top: 12px; border-bottom: 1px solid #ddd; }
.status-succeeded { color: #1a7f37; } .status-failed, .status-error, .status-lost { color: #cf222e; }
#charts .empty { color: #777; font-style: italic; }
`;

// Plain ES2017 for any browser; it reads window.offloadReport and leaves the charts on
// window.offloadCharts, so a test (or a curious user in the console) can look at what was drawn.
export const PAGE_SCRIPT = `(function () {
  var report = window.offloadReport;
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  var root = document.getElementById("charts");
  var charts = [];
  // Steps, epochs and report numbers are whole: no tick at epoch 1.5.
  var INTEGER_STEPS = [];
  for (var p = 1; p <= 1e9; p *= 10) INTEGER_STEPS.push(p, 2 * p, 5 * p);
  function width() { return Math.max(320, Math.min(900, root.clientWidth || 900)); }
  if (report.charts.length === 0) {
    var none = document.createElement("p");
    none.className = "empty";
    none.textContent = "No metrics were recorded for " + (report.runs.length === 1 ? "this run." : "these runs.");
    root.appendChild(none);
  }
  report.charts.forEach(function (chart) {
    var box = document.createElement("section");
    box.className = "chart";
    box.setAttribute("data-metric", chart.name);
    var title = document.createElement("h2");
    title.textContent = chart.name + " (" + (chart.goal === "min" ? "lower is better" : "higher is better") + ")";
    box.appendChild(title);
    root.appendChild(box);
    var series = [{ label: chart.xKind }].concat(chart.series.map(function (s, i) {
      return { label: s.run, stroke: palette[i % palette.length], width: 2, spanGaps: true };
    }));
    var integers = chart.x.every(function (x) { return Math.floor(x) === x; });
    var opts = {
      width: width(),
      height: 260,
      scales: { x: { time: false } },
      axes: [integers ? { label: chart.xKind, incrs: INTEGER_STEPS } : { label: chart.xKind }, {}],
      series: series
    };
    var data = [chart.x].concat(chart.series.map(function (s) { return s.y; }));
    charts.push(new uPlot(opts, data, box));
  });
  window.offloadCharts = charts;
  // The host's load (CPU, memory, GPUs in percent) over the run's seconds, one chart a sampled run.
  var machine = [];
  (report.machine || []).forEach(function (m) {
    var box = document.querySelector('.machine-chart[data-run="' + m.run + '"]');
    if (!box) return;
    var series = [{ label: "s" }].concat(m.series.map(function (s, i) {
      return { label: s.label, stroke: palette[i % palette.length], width: 2, spanGaps: true };
    }));
    var opts = {
      width: width(),
      height: 220,
      scales: { x: { time: false }, y: { range: [0, 100] } },
      axes: [{ label: "seconds" }, { label: "%" }],
      series: series
    };
    machine.push(new uPlot(opts, [m.x].concat(m.series.map(function (s) { return s.y; })), box));
  });
  window.offloadMachineCharts = machine;
  window.addEventListener("resize", function () {
    charts.concat(machine).forEach(function (u) { u.setSize({ width: width(), height: u.height }); });
  });
})();
`;
