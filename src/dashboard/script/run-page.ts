// The dashboard script's run page: details polled, the log and metrics streamed (resumed by byte offset), Stop.
// Part of one closure (page-script.ts joins them): its functions see each other's.
export const RUN_SCRIPT = `  function showRun(id) {
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
    var machine = el("div", { id: "machine", className: "charts" }, [el("p", { className: "muted", text: "no machine samples yet" })]);
    main.appendChild(el("h2", { text: "machine" }));
    main.appendChild(machine);
    // What the run went through (phases, retries, stops, reconnects), as the stream tells it.
    var events = el("ul", { id: "events" });
    main.appendChild(el("h2", { text: "events" }));
    main.appendChild(events);
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
    // Each stream (re)opened tells the run's events from its start: the list is told afresh.
    source.addEventListener("open", function () { events.textContent = ""; });
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
    source.addEventListener("run-event", function (e) {
      var body = JSON.parse(e.data);
      events.appendChild(el("li", { className: "event event-" + body.kind, text: body.text }));
    });
    source.addEventListener("metrics", function (e) {
      var body = JSON.parse(e.data);
      addPoints(charts, body.points, body.reset);
    });
    source.addEventListener("machine", function (e) {
      var body = JSON.parse(e.data);
      addMachine(machine, body.samples, body.reset);
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

`;
