// The dashboard script's shared part: state, DOM building (textContent only), the API call, number and duration formats.
// Part of one closure (page-script.ts joins them): its functions see each other's.
export const COMMON_SCRIPT = `  "use strict";
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

`;
