// Folds one layer's bucket settings (`results`, `inputs`, `storage`) and `retry` into the effective ones.
import { sourceOf } from "./merge-fields.js";
import type { EffectiveSettings, InputSpec, SettingsLayer, Source } from "./settings.js";

/** `s3://b/k|dest`, `s3://b/k -> dest`, `s3://b/k → dest`, `{from, to}`; no dest: the remote dir's root. */
export function toInputSpec(entry: string | { from: string; to?: string | undefined }): InputSpec {
  if (typeof entry !== "string") return { url: entry.from, to: entry.to ?? "" };
  const [url = "", to = ""] = entry.split(/\s*(?:\||->|→)\s*/, 2);
  return { url: url.trim(), to: to.trim() };
}

export function mergeStorage(
  settings: EffectiveSettings,
  sources: Record<string, Source>,
  layer: SettingsLayer,
): void {
  const { results, inputs, storage, retry } = layer.data;
  if (results !== undefined) {
    settings.results =
      typeof results === "string"
        ? { url: results }
        : { url: results.url, ...(results.every === undefined ? {} : { every: results.every }) };
    sources.results = sourceOf(layer, "results");
  }
  // Inputs add up like the other lists: the user's datasets and the project's both arrive.
  (inputs ?? []).forEach((entry, index) => {
    sources[`inputs[${settings.inputs.length}]`] = sourceOf(layer, `inputs[${index}]`);
    settings.inputs.push(toInputSpec(entry));
  });
  if (storage?.endpoint !== undefined) {
    settings.storage.endpoint = storage.endpoint;
    sources["storage.endpoint"] = sourceOf(layer, "storage.endpoint");
  }
  if (storage?.region !== undefined) {
    settings.storage.region = storage.region;
    sources["storage.region"] = sourceOf(layer, "storage.region");
  }
  if (retry?.attempts !== undefined) {
    settings.retry.attempts = retry.attempts;
    sources["retry.attempts"] = sourceOf(layer, "retry.attempts");
  }
  if (retry?.on !== undefined) {
    settings.retry.on = [...new Set(retry.on)];
    sources["retry.on"] = sourceOf(layer, "retry.on");
  }
  if (retry?.backoff !== undefined) {
    settings.retry.backoffSeconds = retry.backoff;
    sources["retry.backoff"] = sourceOf(layer, "retry.backoff");
  }
}
