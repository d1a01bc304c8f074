// What a requirements file points at on this machine, and how that reaches the env's key.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashEnvInputs } from "../../src/pyenv/inputs.js";
import { findLocalReferences } from "../../src/pyenv/requirements-refs.js";
import { collectEnvInputs } from "../../src/session/env-inputs.js";

describe("findLocalReferences", () => {
  it("finds includes, archives, wheel folders and local packages, as pip resolves them", () => {
    const text = [
      "# pinned for the cluster",
      "numpy==1.26  # inline comment",
      "-r base.txt",
      "--constraint=../constraints.txt",
      "-f ./wheels",
      "--find-links https://example.invalid/simple",
      "./dist/tinypkg-1.0-py3-none-any.whl",
      "-e ./src/mylib",
      "../outside.whl",
      "torch @ https://example.invalid/torch.whl",
      "./vendored \\",
      "  --no-deps",
    ].join("\n");
    expect(findLocalReferences(text, "reqs/train.txt")).toEqual([
      { path: "reqs/base.txt", kind: "requirements" },
      { path: "constraints.txt", kind: "requirements" },
      { path: "wheels", kind: "listing" },
      { path: "dist/tinypkg-1.0-py3-none-any.whl", kind: "file" },
      { path: "src/mylib", kind: "package" },
      { path: "vendored", kind: "package" },
    ]);
  });

  it("finds nothing in a file of names and pins", () => {
    expect(findLocalReferences("torch==2.3\nnumpy>=1.26; python_version>'3.9'\n", "r.txt")).toEqual(
      [],
    );
  });
});

describe("collectEnvInputs", () => {
  function project(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), "offload-env-inputs-"));
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    return root;
  }
  const keyOf = (root: string, requirements: string, text: string) =>
    hashEnvInputs(collectEnvInputs(root, requirements, Buffer.from(text)), "python3", false);

  it("changes the key when a referenced wheel, include or package file changes, not otherwise", () => {
    const text = "-r base.txt\n./wheels/tiny-1.0-py3-none-any.whl\n-e ./lib\n";
    const root = project({
      "base.txt": "numpy==1.26\n",
      "wheels/tiny-1.0-py3-none-any.whl": "wheel v1",
      "lib/pyproject.toml": "[project]\nname='lib'\n",
      "lib/lib.py": "x = 1\n",
    });
    const key = keyOf(root, "requirements.txt", text);
    expect(keyOf(root, "requirements.txt", text)).toBe(key);
    // Code of an editable package is seen live; only its packaging decides the env.
    writeFileSync(join(root, "lib/lib.py"), "x = 2\n");
    expect(keyOf(root, "requirements.txt", text)).toBe(key);
    const changes: [string, string][] = [
      ["wheels/tiny-1.0-py3-none-any.whl", "wheel v1, rebuilt"],
      ["base.txt", "numpy==2.0\n"],
      ["lib/pyproject.toml", "[project]\nname='lib'\ndependencies=['scipy']\n"],
    ];
    let previous = key;
    for (const [path, content] of changes) {
      writeFileSync(join(root, path), content);
      const next = keyOf(root, "requirements.txt", text);
      expect(next).not.toBe(previous);
      previous = next;
    }
  });

  it("follows includes once, even in a cycle, and reads a pyproject.toml as it is", () => {
    const root = project({ "a.txt": "-r b.txt\n", "b.txt": "-r a.txt\n" });
    expect(collectEnvInputs(root, "a.txt", Buffer.from("-r b.txt\n")).map((i) => i.path)).toEqual([
      "a.txt",
      "requirements:b.txt",
    ]);
    expect(collectEnvInputs(root, "pyproject.toml", Buffer.from("-r b.txt\n"))).toHaveLength(1);
  });
});
