// The dashboard's browser code, as text to inline. It builds the DOM with textContent only (a run's
// command or log may hold markup) and leaves what it drew on window.offloadDashboard for tests.
export const DASHBOARD_SCRIPT = `(function () {
  "use strict";
  var token = window.offloadToken;
  var main = document.getElementById("main");
  var state = { charts: {}, points: {}, logOffset: 0, resumedFrom: null, ended: false };
  window.offloadDashboard = state;
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function api(path) {
    return fetch(path, { headers: { "x-offload-token": token } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
        return body;
      });
    });
  }
  function num(v) {
    if (v === null || v === undefined) return "-";
    if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }
  function duration(ms) {
    if (ms === null || ms === undefined) return "-";
    var s = Math.round(ms / 1000);
    if (s < 120) return s + "s";
    if (s < 7200) return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
    return Math.floor(s / 3600) + "h" + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + "m";
  }
  function statusCell(status) { return el("span", { className: "status status-" + status, text: status }); }
  function live(status) { return status === "running" || status === "launching"; }

  // ---- charts: one uPlot a metric, grown in place as points arrive -------------------------------
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

  // ---- runs list ----------------------------------------------------------------------------------
  function showList() {
    document.getElementById("where").textContent = "runs";
    var filter = el("input", { type: "search", id: "filter", placeholder: "filter: id, status, target, command" });
    var compare = el("button", { id: "compare", text: "Compare selected" });
    var table = el("table", { id: "runs" });
    main.appendChild(el("div", {}, [filter, document.createTextNode(" "), compare]));
    main.appendChild(table);
    var columns = [
      ["", null], ["run", "id"], ["name", "name"], ["tags", "tags"], ["status", "status"], ["target", "target"], ["time", "durationMs"],
      ["main metric (best)", "mainBest"], ["started", "startedAt"], ["command", "command"]
    ];
    var sort = { key: "startedAt", down: true };
    var rows = [];
    var picked = {};
    function render() {
      var words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var shown = rows.filter(function (r) {
        var text = [r.id, r.name || "", r.tags.join(" "), r.status, r.target, r.command].join(" ").toLowerCase();
        return words.every(function (w) { return text.indexOf(w) >= 0; });
      });
      shown.sort(function (a, b) {
        var x = sortValue(a, sort.key), y = sortValue(b, sort.key);
        var c = x < y ? -1 : x > y ? 1 : 0;
        return sort.down ? -c : c;
      });
      table.textContent = "";
      table.appendChild(el("thead", {}, [el("tr", {}, columns.map(function (c) {
        var th = el("th", { text: c[0] + (sort.key === c[1] ? (sort.down ? " ▼" : " ▲") : ""), "data-key": c[1] || "" });
        if (c[1]) th.addEventListener("click", function () {
          sort = { key: c[1], down: sort.key === c[1] ? !sort.down : false };
          render();
        });
        return th;
      }))]));
      var body = el("tbody");
      shown.forEach(function (r) {
        var box = el("input", { type: "checkbox", "data-run": r.id });
        box.checked = !!picked[r.id];
        box.addEventListener("change", function () { picked[r.id] = box.checked; });
        var link = el("a", { href: "/runs/" + encodeURIComponent(r.id), text: r.id });
        var metric = r.main ? r.main.name + " " + num(r.main.best) : "-";
        var tr = el("tr", { "data-run": r.id, "data-status": r.status }, [
          el("td", {}, [box]), el("td", { className: "mono" }, [link]), el("td", { text: r.name || "" }),
          el("td", { className: "tags", text: r.tags.join(" ") }), el("td", {}, [statusCell(r.status)]),
          el("td", { text: r.target }), el("td", { text: duration(r.durationMs) }), el("td", { text: metric }),
          el("td", { text: r.startedAt.replace("T", " ").slice(0, 19) }), el("td", { className: "cmd", text: r.command })
        ]);
        if (r.unknown) tr.title = "status unknown: " + r.unknown;
        body.appendChild(tr);
      });
      table.appendChild(body);
      state.shownRuns = shown.map(function (r) { return r.id; });
    }
    function sortValue(r, key) {
      if (key === "mainBest") return r.main && r.main.best !== null ? r.main.best : -Infinity;
      if (key === "tags") return r.tags.join(" ");
      var v = r[key];
      return v === null || v === undefined ? "" : v;
    }
    function load() {
      api("/api/runs").then(function (body) { rows = body.rows; state.rows = rows; render(); })
        .catch(function (e) { main.appendChild(el("p", { text: "could not list runs: " + e.message })); })
        .then(function () { setTimeout(load, 2000); });
    }
    filter.addEventListener("input", render);
    compare.addEventListener("click", function () {
      var ids = Object.keys(picked).filter(function (id) { return picked[id]; });
      if (ids.length > 0) location.href = "/compare?runs=" + ids.map(encodeURIComponent).join(",");
    });
    load();
  }

  // ---- one run ------------------------------------------------------------------------------------
  function factsTable(pairs) {
    return el("table", { className: "facts" }, pairs.filter(function (p) { return p[1] !== undefined && p[1] !== null && p[1] !== ""; })
      .map(function (p) { return el("tr", {}, [el("td", { text: p[0] }), el("td", { className: "mono", text: String(p[1]) })]); }));
  }
  function showRun(id) {
    document.getElementById("where").textContent = "run " + id;
    var title = el("h1", {}, [el("span", { className: "mono", text: id + " " }), el("span", { id: "status" })]);
    var stop = el("button", { id: "stop", className: "danger", text: "Stop" });
    stop.hidden = true;
    var charts = el("div", { id: "charts", className: "charts" }, [el("p", { className: "muted", text: "no metrics yet" })]);
    var log = el("pre", { id: "log" });
    var details = el("div", { id: "details" });
    main.appendChild(el("div", {}, [title, stop]));
    main.appendChild(el("h2", { text: "metrics" }));
    main.appendChild(charts);
    main.appendChild(el("h2", { text: "log" }));
    main.appendChild(log);
    main.appendChild(details);
    var statusNode = null;

    stop.addEventListener("click", function () {
      if (!confirm("Stop run " + id + "? Its processes get TERM, then KILL after the grace period.")) return;
      stop.disabled = true;
      fetch("/api/runs/" + encodeURIComponent(id) + "/stop", { method: "POST", headers: { "x-offload-token": token } })
        .then(function (r) { return r.json(); })
        .then(function (body) { stop.textContent = body.outcome ? "stop: " + body.outcome : "stop failed: " + body.error; });
    });

    function showDetails(body) {
      var r = body.record;
      var status = document.getElementById("status");
      status.textContent = "";
      status.appendChild(statusCell(r.status + (r.exitCode === null ? "" : " (exit " + r.exitCode + ")")));
      status.firstChild.className = "status status-" + r.status;
      status.setAttribute("data-status", r.status);
      stop.hidden = !live(r.status);
      details.textContent = "";
      details.appendChild(el("h2", { text: "command" }));
      details.appendChild(el("pre", { className: "cmd", id: "command", text: r.command.join(" ") }));
      if (body.metrics.length > 0) {
        details.appendChild(el("h2", { text: "final and best values" }));
        details.appendChild(el("table", { id: "values" }, [el("tr", {}, ["metric", "final", "best", "points"].map(function (h) { return el("th", { text: h }); }))]
          .concat(body.metrics.map(function (m) { return el("tr", {}, [el("td", { text: m.name }), el("td", { text: num(m.final) }), el("td", { text: num(m.best) + " (" + m.goal + ")" }), el("td", { text: String(m.count) })]); }))));
      }
      details.appendChild(el("h2", { text: "run" }));
      details.appendChild(factsTable([
        ["target", r.target.label], ["remote dir", r.target.remoteDir], ["workdir", r.workdir],
        ["started", r.startedAt], ["finished", r.finishedAt], ["env names", r.envNames.join(" ")],
        ["secret names", (r.secretNames || []).join(" ")], ["python env", r.environment ? r.environment.dir + " (" + r.environment.status + ")" : ""],
        ["downloads", r.download.map(function (d) { return d.pattern || (d.remote ? d.remote + " → " + d.local : (d.from || []).join(",") + " → " + d.to); }).join(", ")],
        ["sync", r.sync ? r.sync.tool + ", " + r.sync.transferred + " of " + r.sync.scanned + " files" : ""],
        ["phases", Object.keys(r.phases).map(function (k) { return k + " " + duration(r.phases[k]); }).join(", ")],
        ["error", r.error ? r.error.code + ": " + r.error.message : ""]
      ]));
      details.appendChild(el("h2", { text: "git" }));
      details.appendChild(r.git ? factsTable([["commit", r.git.commit], ["branch", r.git.branch], ["dirty", String(r.git.dirty)]]) : el("p", { className: "muted", text: "not a git repository" }));
      details.appendChild(el("h2", { text: "artifacts" }));
      var list = el("ul", { id: "artifacts" });
      body.artifacts.forEach(function (a) {
        var href = "/runs/" + encodeURIComponent(id) + "/artifacts/" + a.path.split("/").map(encodeURIComponent).join("/");
        list.appendChild(el("li", {}, [el("a", { href: href, download: "", text: a.path }), document.createTextNode(" (" + a.bytes + " bytes)")]));
      });
      details.appendChild(body.artifacts.length > 0 ? list : el("p", { className: "muted", text: "none downloaded yet" }));
      var h = r.host;
      details.appendChild(el("h2", { text: "host" }));
      details.appendChild(h ? factsTable([
        ["hostname", h.hostname], ["os", h.os + " " + h.kernel + " " + h.arch], ["cpus", h.cpus],
        ["memory", h.memTotalBytes ? (h.memTotalBytes / 1073741824).toFixed(1) + " GiB" : ""],
        ["free disk", h.diskFreeBytes ? (h.diskFreeBytes / 1073741824).toFixed(1) + " GiB in " + h.diskDir : ""],
        ["python", h.python ? h.python.version + " (" + h.python.path + ")" : ""],
        ["gpus", (h.gpus || []).map(function (g) { return g.name; }).join(", ")]
      ]) : el("p", { className: "muted", text: "no host facts recorded" }));
      return r;
    }
    function poll() {
      api("/api/runs/" + encodeURIComponent(id)).then(function (body) {
        var r = showDetails(body);
        if (live(r.status) || !state.ended) setTimeout(poll, 2000);
      }).catch(function (e) { details.textContent = "could not load the run: " + e.message; });
    }
    poll();

    // The log so far survives a reload in sessionStorage; the stream resumes at its byte offset.
    var key = "offload-log:" + id;
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (saved && typeof saved.offset === "number" && typeof saved.text === "string") {
      log.textContent = saved.text;
      state.logOffset = saved.offset;
      state.resumedFrom = saved.offset;
    }
    var note = el("p", { id: "log-note", className: "muted" });
    log.parentNode.insertBefore(note, log);
    var source = null;
    function connect() {
    source = new EventSource("/api/runs/" + encodeURIComponent(id) + "/stream?from=" + state.logOffset + "&token=" + encodeURIComponent(token));
    state.source = source;
    source.addEventListener("log", function (e) {
      var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      note.textContent = "";
      log.appendChild(document.createTextNode(JSON.parse(e.data)));
      state.logOffset = Number(e.lastEventId);
      if (atBottom) log.scrollTop = log.scrollHeight;
      var text = log.textContent;
      if (text.length < 4000000) {
        try { sessionStorage.setItem(key, JSON.stringify({ offset: state.logOffset, text: text })); } catch (err) { sessionStorage.removeItem(key); }
      } else sessionStorage.removeItem(key);
    });
    source.addEventListener("metrics", function (e) {
      var body = JSON.parse(e.data);
      addPoints(charts, body.points, body.reset);
    });
    source.addEventListener("end", function (e) {
      source.close();
      var body = JSON.parse(e.data);
      if (body.error) {
        // The server lost the host; it follows again a little later: ask again from where the log is.
        note.textContent = "lost the host: " + body.error + " (retrying)";
        state.followErrors = (state.followErrors || 0) + 1;
        setTimeout(connect, 6000);
        return;
      }
      note.textContent = "";
      state.ended = true;
      poll();
    });
    }
    connect();
  }

  // ---- compare ------------------------------------------------------------------------------------
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

  var path = location.pathname;
  var run = /^\\/runs\\/([^/]+)\\/?$/.exec(path);
  if (run) showRun(decodeURIComponent(run[1]));
  else if (path === "/compare") showCompare((new URLSearchParams(location.search).get("runs") || "").split(",").filter(Boolean));
  else showList();
  // The token stays out of the address bar (and out of screenshots and history) once the cookie has it.
  if (location.search.indexOf("token=") >= 0) {
    var params = new URLSearchParams(location.search);
    params.delete("token");
    history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
  }
})();
`;
