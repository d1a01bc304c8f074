// The dashboard script's compare page: final and best values, what differs, overlaid curves.
// Part of one closure (page-script.ts joins them): its functions see each other's.
export const COMPARE_SCRIPT = `  // ---- compare ------------------------------------------------------------------------------------
  function showCompare(ids) {
    document.getElementById("where").textContent = "compare " + ids.join(", ");
    main.appendChild(el("h1", { text: "compare " + ids.length + " runs" }));
    api("/api/compare?runs=" + ids.map(encodeURIComponent).join(",")).then(function (c) {
      var head = el("tr", {}, [el("th", { text: "" })].concat(c.runs.map(function (r, i) {
        return el("th", { className: "mono", style: "color:" + palette[i % palette.length] }, [el("a", { href: "/runs/" + encodeURIComponent(r.id), text: r.id })]);
      })));
      main.appendChild(el("h2", { text: "final / best" }));
      main.appendChild(el("table", { id: "compare-values" }, [head.cloneNode(true)].concat(c.values.map(function (v) {
        return el("tr", { "data-metric": v.name }, [el("td", { text: v.name + " (" + (v.goal === "min" ? "lower" : "higher") + " is better)" })].concat(v.final.map(function (f, i) {
          return el("td", { text: num(f) + " / " + num(v.best[i]) });
        })));
      }))));
      main.appendChild(el("h2", { text: "what differs" }));
      main.appendChild(c.differences.length === 0 ? el("p", { className: "muted", text: "nothing recorded differs" }) :
        el("table", { id: "differences" }, [head.cloneNode(true)].concat(c.differences.map(function (d) {
          return el("tr", { "data-what": d.what }, [el("td", { text: d.what })].concat(d.values.map(function (v) { return el("td", { className: "mono", text: v === null ? "-" : v }); })));
        }))));
      main.appendChild(el("h2", { text: "curves" }));
      var root = el("div", { id: "charts", className: "charts" });
      main.appendChild(root);
      state.compare = c;
      c.charts.forEach(function (chart) {
        var box = el("section", { className: "chart", "data-metric": chart.name }, [el("h3", { text: chart.name })]);
        root.appendChild(box);
        var plot = new uPlot({
          width: chartWidth(root), height: 240, scales: { x: { time: false } }, axes: [{ label: chart.xKind }, {}],
          series: [{ label: chart.xKind }].concat(chart.series.map(function (s, i) { return { label: s.run, stroke: palette[i % palette.length], width: 2, spanGaps: true }; }))
        }, [chart.x].concat(chart.series.map(function (s) { return s.y; })), box);
        state.charts[chart.name] = { plot: plot, box: box, xKind: chart.xKind };
      });
    }).catch(function (e) { main.appendChild(el("p", { text: "could not compare: " + e.message })); });
  }

`;
