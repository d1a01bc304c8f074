// The dashboard's browser code, as text to inline. It builds the DOM with textContent only (a run's
// command or log may hold markup) and leaves what it drew on window.offloadDashboard for tests.

import { CHARTS_SCRIPT } from "./script/charts.js";
import { COMMON_SCRIPT } from "./script/common.js";
import { COMPARE_SCRIPT } from "./script/compare.js";
import { ROUTER_SCRIPT } from "./script/router.js";
import { FACTS_SCRIPT } from "./script/run-facts.js";
import { RUN_SCRIPT } from "./script/run-page.js";
import { LIST_SCRIPT } from "./script/runs-list.js";

/** The parts in one closure, in this order: each later part uses what the earlier ones define. */
export const DASHBOARD_SCRIPT = `(function () {
${COMMON_SCRIPT}${CHARTS_SCRIPT}${LIST_SCRIPT}${FACTS_SCRIPT}${RUN_SCRIPT}${COMPARE_SCRIPT}${ROUTER_SCRIPT}})();
`;
