"""Refresh expectations/docs_assets from the npm registry (`make docs-assets`).

For each pinned package of `offline_docs.PACKAGES`: `npm pack NAME@VERSION`, then keep the
files the data docs load plus the package's licence and package.json (name, version, licence
as published). Writes MANIFEST.md with what came from where. Needs `npm`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from expectations.offline_docs import ASSETS_DIR, PACKAGES, Package


def fetch(package: Package, into: Path, work: Path) -> list[str]:
    spec = f"{package.name}@{package.version}"
    out = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(work)],
        check=True,
        capture_output=True,
        text=True,
        cwd=work,
    )
    tarball = work / out.stdout.strip().splitlines()[-1]
    target = into / package.folder
    shutil.rmtree(target, ignore_errors=True)
    kept: list[str] = []
    wanted = (*package.files, *([package.licence] if package.licence else []), "package.json")
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name.removeprefix("package/")
            if any(name == w or (w.endswith("/") and name.startswith(w)) for w in wanted):
                dest = target / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, dest.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                kept.append(name)
    missing = [w for w in wanted if not any(k == w or k.startswith(w) for k in kept)]
    if missing:
        raise SystemExit(f"{spec}: not in the package: {', '.join(missing)}")
    if package.licence is None:
        meta = json.loads((target / "package.json").read_text())
        (target / "LICENSE.npm.txt").write_text(
            f"{spec} ships no licence file. Its package.json declares the licence "
            f"{meta.get('license')!r} (author: {meta.get('author')!r}, repository: "
            f"{meta.get('repository')!r}); the copyright notice is the one in the files' headers "
            "where they carry one, and the licence text is the standard one of that SPDX id.\n"
        )
        kept.append("LICENSE.npm.txt")
    return kept


def main() -> int:
    ASSETS_DIR.mkdir(exist_ok=True)
    lines = [
        "# Data docs assets (vendored)",
        "",
        "Served to the GX data docs instead of CDNs (expectations/offline_docs.py).",
        "Refresh with `make docs-assets` (npm registry, the pinned versions below); each folder",
        "keeps the package's licence and package.json as published.",
        "",
        "| package | version | licence file | files |",
        "|---|---|---|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for package in PACKAGES:
            kept = fetch(package, ASSETS_DIR, Path(tmp))
            licence = package.licence or "LICENSE.npm.txt"
            lines.append(f"| {package.name} | {package.version} | {licence} | {len(kept)} |")
            print(f"{package.name}@{package.version}: {len(kept)} files")
    (ASSETS_DIR / "MANIFEST.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
