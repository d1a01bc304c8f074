// Import rules, read from ARCHITECTURE.md's table so the map and the check cannot drift apart.
// Each row's first cell names a part of src/ (`src/x/` or `src/x.ts`); its "may import" cell lists, in
// backticks, the parts it may import (`everything`, `all but cli`, `nothing`, or part names such as
// `session`, `errors.ts`). A part may always import itself. `npm run check` runs `depcruise`.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

/** Part name of a table cell: `src/session/` → "session", `src/create.ts` → "create.ts". */
function toPart(cell) {
  const match = /`src\/([^`/]+)\/?`/.exec(cell);
  return match ? match[1] : undefined;
}

function readTable() {
  // The rules test points this at an edited copy to prove a broken rule fails the check.
  const file = process.env.OFFLOAD_ARCHITECTURE_MD ?? join(__dirname, "ARCHITECTURE.md");
  const text = readFileSync(file, "utf8");
  const rows = [];
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    if (cells.length < 5) continue;
    const part = toPart(cells[1]);
    if (part === undefined) continue;
    const allowed = [...cells[3].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    rows.push({ part, allowed });
  }
  if (rows.length === 0) throw new Error("ARCHITECTURE.md: no `src/…` rows found in the table");
  return rows;
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const pathOf = (part) => `^src/${escape(part)}${part.endsWith(".ts") ? "$" : "/"}`;

function toRules(rows) {
  const parts = rows.map((row) => row.part);
  return rows.map(({ part, allowed }) => {
    let targets;
    if (allowed.includes("everything")) targets = parts;
    else if (allowed.includes("all but cli")) targets = parts.filter((p) => p !== "cli");
    else {
      for (const name of allowed) {
        if (name !== "nothing" && !parts.includes(name)) {
          throw new Error(`ARCHITECTURE.md: ${part} may import \`${name}\`, which has no row`);
        }
      }
      targets = allowed.filter((name) => name !== "nothing");
    }
    return {
      from: { path: pathOf(part) },
      to: { path: [part, ...targets].map(pathOf) },
    };
  });
}

const rows = readTable();

module.exports = {
  forbidden: [
    {
      name: "only-transport-spawns",
      comment: "Only src/transport/ starts processes (STYLE.md).",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/transport/" },
      to: { path: "^(node:)?child_process$", dependencyTypes: ["core"] },
    },
    {
      name: "pure-modules",
      comment: "Script builders and log parsers take data and return data: no fs, process or network.",
      severity: "error",
      from: { path: "^src/(remote|progress|shell|host|pyenv)/" },
      to: {
        path: "^(node:)?(fs|fs/promises|child_process|net|http|https|dgram)$",
        dependencyTypes: ["core"],
      },
    },
    {
      name: "no-cycles",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "unmapped",
      comment: "Every file of src/ belongs to a row of ARCHITECTURE.md's table.",
      severity: "error",
      from: { path: "^src/", pathNot: rows.map((row) => pathOf(row.part)) },
      to: {},
    },
  ],
  allowedSeverity: "error",
  allowed: [
    // Outside src/ (npm packages, Node's own modules) is not ours to layer.
    { from: { path: "^src/" }, to: { dependencyTypesNot: ["local", "type-only", "aliased"] } },
    { from: { path: "^src/" }, to: { pathNot: "^src/" } },
    ...toRules(rows),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
