// The dashboard script's entry: which page the address names, and the token out of the address bar.
// Part of one closure (page-script.ts joins them): its functions see each other's.
export const ROUTER_SCRIPT = `  var path = location.pathname;
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
`;
