// The dashboard's one page (runs list, run page, compare), chosen by its path in the browser: the
// shell with uPlot inlined and the token the page sends back with each request. Plain ES2017.
import { DASHBOARD_SCRIPT } from "./page-script.js";

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
header { background: #24292f; color: #fff; padding: 8px 16px; display: flex; gap: 16px; align-items: baseline; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
main { padding: 12px 16px; max-width: 1200px; }
h1 { font-size: 18px; margin: 8px 0; } h2 { font-size: 15px; margin: 20px 0 6px; }
table { border-collapse: collapse; } td, th { padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
#runs th { cursor: pointer; user-select: none; border-bottom: 1px solid #ccc; }
#runs tr:hover td { background: #f6f8fa; }
.mono, pre, .cmd { font-family: ui-monospace, monospace; font-size: 12px; }
pre#log { background: #0d1117; color: #e6edf3; padding: 8px; max-height: 480px; overflow: auto; white-space: pre-wrap; }
.status-running, .status-launching { color: #0969da; } .status-succeeded { color: #1a7f37; }
.status-failed, .status-error, .status-lost { color: #cf222e; } .status-stopped, .status-unknown { color: #9a6700; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .chart h3 { font-size: 13px; margin: 4px 0; }
button { font: inherit; padding: 3px 10px; } button.danger { color: #fff; background: #cf222e; border: 0; border-radius: 4px; }
.facts td:first-child { color: #666; } .muted { color: #777; }
input[type=search] { font: inherit; padding: 3px 6px; width: 280px; }
`;

function embedRaw(code: string, tag: "script" | "style"): string {
  return code.replace(new RegExp(`</${tag}`, "gi"), `<\\/${tag}`);
}

export function renderDashboardPage(token: string, assets: { js: string; css: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>offload</title>
<style>${embedRaw(assets.css, "style")}</style>
<style>${STYLE}</style>
</head>
<body>
<header><a href="/" id="home">offload</a><span id="where"></span></header>
<main id="main"></main>
<script>${embedRaw(assets.js, "script")}</script>
<script>window.offloadToken = ${JSON.stringify(token)};</script>
<script>${embedRaw(DASHBOARD_SCRIPT, "script")}</script>
</body>
</html>
`;
}
