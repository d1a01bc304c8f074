// The dashboard script's fact tables of a run page (name and value a row).
// Part of one closure (page-script.ts joins them): its functions see each other's.
export const FACTS_SCRIPT = `  // ---- one run ------------------------------------------------------------------------------------
  function factsTable(pairs) {
    return el("table", { className: "facts" }, pairs.filter(function (p) { return p[1] !== undefined && p[1] !== null && p[1] !== ""; })
      .map(function (p) { return el("tr", {}, [el("td", { text: p[0] }), el("td", { className: "mono", text: String(p[1]) })]); }));
  }
`;
