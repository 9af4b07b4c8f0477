import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root (this file is packages/cluster/test/helpers/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

/** The repository seen through a path every user can traverse. */
export interface WorldReadableView {
  /** `path` (inside the repository) as seen through the view. */
  map(path: string): string;
  close(): void;
}

/**
 * Bind-mounts the repository on a fresh 0755 folder, so that a process run as another user (a
 * replica under `--replica-user nobody`) can read its code and node_modules even when the clone
 * sits in a private folder (`mktemp -d`, mode 0700, or /root): the permission bits of the folders
 * above the clone no longer stand in the way, and nothing in the clone changes. Needs root.
 */
export function worldReadableView(): WorldReadableView {
  const dir = mkdtempSync(join(tmpdir(), "tsserve-view-"));
  chmodSync(dir, 0o755);
  execFileSync("mount", ["--bind", REPO_ROOT, dir]);
  return {
    map: (path) => join(dir, relative(REPO_ROOT, path)),
    close: () => {
      execFileSync("umount", [dir]);
      rmdirSync(dir);
    },
  };
}
