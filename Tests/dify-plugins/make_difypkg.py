#!/usr/bin/env python3
"""Pack a Dify plugin directory into a .difypkg, as `dify plugin package` does.

    make_difypkg.py DIR OUT.difypkg [--traversal]

Like the CLI (dify-plugin-daemon pkg/plugin_packager): a zip of the files
under DIR, named relative to DIR with forward slashes, sorted by name,
deflated, with no directory entries; paths matched by the patterns in DIR's
.difyignore (or, failing that, .gitignore) are left out, and so is every
__pycache__ directory. The CLI, like this, reads negated ("!") patterns
but never re-includes anything with them.

--traversal writes a hostile package: the same entries plus one named
../../escaped.txt and one named /tmp/absolute.txt (names written as they
are, through zipfile.ZipInfo), for testing that an installer refuses it.
Standard library only.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import zipfile

EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed, so that packing twice gives the same bytes


def ignore_patterns(root: str) -> list[tuple[str, bool, bool]]:
    """(pattern, anchored, directories only) for each line of .difyignore or .gitignore."""
    for name in (".difyignore", ".gitignore"):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            break
    else:
        return []
    patterns = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        patterns.append((line.lstrip("/").replace("**/", "*").replace("/**", "/*"), anchored, dir_only))
    return patterns


def ignored(rel: str, is_dir: bool, patterns: list[tuple[str, bool, bool]]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    if is_dir and name == "__pycache__":
        return True
    for pattern, anchored, dir_only in patterns:
        if dir_only and not is_dir:
            continue
        if fnmatch.fnmatchcase(rel if anchored else name, pattern):
            return True
    return False


def collect(root: str, out_path: str) -> list[tuple[str, bytes]]:
    patterns = ignore_patterns(root)
    out_real = os.path.realpath(out_path)
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in dirnames if not ignored(rel_dir + d, True, patterns)]
        for filename in filenames:
            rel = rel_dir + filename
            path = os.path.join(dirpath, filename)
            if ignored(rel, False, patterns) or os.path.realpath(path) == out_real:
                continue
            with open(path, "rb") as f:
                files.append((rel, f.read()))
    files.sort()
    return files


def entry(name: str) -> zipfile.ZipInfo:
    # the CLI's entries carry no mode (Go's zip.Writer.Create); zipfile would
    # give 0600 to such an entry, so say plainly 0644
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("plugin", help="plugin directory (with manifest.yaml)")
    ap.add_argument("out", help="the .difypkg to write")
    ap.add_argument("--traversal", action="store_true", help="add ../../escaped.txt and /tmp/absolute.txt entries")
    opts = ap.parse_args()
    if not os.path.isfile(os.path.join(opts.plugin, "manifest.yaml")):
        ap.error(f"{opts.plugin}: no manifest.yaml")

    files = collect(opts.plugin, opts.out)
    with zipfile.ZipFile(opts.out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            z.writestr(entry(name), data)
        if opts.traversal:
            z.writestr(entry("../../escaped.txt"), b"escaped from the plugin directory\n")
            z.writestr(entry("/tmp/absolute.txt"), b"written at an absolute path\n")
    print(f"{opts.out}: {len(files) + 2 * opts.traversal} entries", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
