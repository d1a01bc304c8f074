// The dashboard script's runs list: filter, sort, pick runs to compare, refreshed every 2 s.
// Part of one closure (page-script.ts joins them): its functions see each other's.
export const LIST_SCRIPT = `  // ---- runs list ----------------------------------------------------------------------------------
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

`;
