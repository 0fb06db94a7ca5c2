"""Data docs that open with no network: CDN assets served from a committed, pinned copy.

GX 1.24 writes pages that load Bootstrap, jQuery, bootstrap-table, popper, vega, Font Awesome
and bootstrap-datepicker from CDNs, a logo from S3 (with the data context id in its URL) and a
newsletter footer. `localize_data_docs` copies the vendored packages (expectations/docs_assets,
refreshed by `make docs-assets` from the npm registry) into the site's static/vendor folder and
rewrites every page to relative paths, so no page references a remote URL.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "docs_assets"
VENDOR = "static/vendor"


@dataclass(frozen=True)
class Package:
    """An npm package pinned to one version, and the files the data docs need from it."""

    name: str
    version: str
    files: tuple[str, ...]
    # The package's licence file; None where the npm package ships none (then the licence
    # named in its package.json is recorded in LICENSE.npm.txt with the notice it carries).
    licence: str | None

    @property
    def folder(self) -> str:
        return f"{self.name.replace('/', '__')}@{self.version}"


PACKAGES = (
    Package(
        "bootstrap", "4.3.1", ("dist/css/bootstrap.min.css", "dist/js/bootstrap.min.js"), "LICENSE"
    ),
    Package("jquery", "3.7.1", ("dist/jquery.min.js",), "LICENSE.txt"),
    Package("popper.js", "1.12.9", ("dist/umd/popper.min.js",), None),
    Package(
        "bootstrap-table",
        "1.19.1",
        (
            "dist/bootstrap-table.min.css",
            "dist/bootstrap-table.min.js",
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
        ),
        "LICENSE",
    ),
    Package(
        "bootstrap-datepicker",
        "1.9.0",
        ("dist/css/bootstrap-datepicker.min.css", "dist/js/bootstrap-datepicker.min.js"),
        "LICENSE",
    ),
    Package(
        "@fortawesome/fontawesome-free", "6.6.0", ("css/all.min.css", "webfonts/"), "LICENSE.txt"
    ),
    Package(
        "@forevolve/bootstrap-dark", "1.1.0", ("dist/css/bootstrap-prefers-dark.css",), "LICENSE"
    ),
    Package("vega", "5.33.1", ("build/vega.min.js",), None),
    Package("vega-lite", "5.23.0", ("build/vega-lite.min.js",), "LICENSE"),
    Package("vega-embed", "6.29.0", ("build/vega-embed.min.js",), "LICENSE"),
)
_BY_NAME = {p.name: p for p in PACKAGES}


def _local(package: str, file: str) -> str:
    return f"{VENDOR}/{_BY_NAME[package].folder}/{file}"


# Each remote reference GX 1.24 writes -> the site-relative local file that replaces it.
URL_MAP: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": _local(
        "bootstrap", "dist/css/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": _local(
        "bootstrap", "dist/js/bootstrap.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": _local("jquery", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": _local(
        "popper.js", "dist/umd/popper.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": _local(
        "bootstrap-table", "dist/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": _local(
        "bootstrap-table", "dist/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": _local(
        "bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    # GX asks for 1.19.0's filter-control stylesheet (minified and not): 1.19.1's replaces both.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": _local(
        "bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": _local(
        "bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": _local(
        "bootstrap-datepicker", "dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": _local(
        "bootstrap-datepicker", "dist/js/bootstrap-datepicker.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": _local(
        "@fortawesome/fontawesome-free", "css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": _local(
        "@forevolve/bootstrap-dark", "dist/css/bootstrap-prefers-dark.css"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": _local("vega", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": _local("vega-lite", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": _local("vega-embed", "build/vega-embed.min.js"),
    # GX's logos on S3 (one carries the data context id): GX ships the same image locally.
    "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png": (
        "static/images/logo-long.png"
    ),
}
_S3_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/logo-long\.png[^\"')\s]*"
)
# Subresource-integrity and CORS attributes: a file:// page must not ask for CORS.
_SRI = re.compile(r'\s+(integrity="[^"]*"|crossorigin="[^"]*")')
_NEWSLETTER = re.compile(r"<footer>\s*<p>Stay current on everything GX.*?</footer>", re.S)
_EXTERNAL_LINK = re.compile(r'<a href="https?://[^"]*"([^>]*)>(.*?)</a>', re.S)
# Comments in inline SVG carry the tool's homepage (e.g. "Generator: Sketch ... https://sketch.com").
_COMMENT_URL = re.compile(r"<!--[^>]*?https?://.*?-->", re.S)
# What no page may contain once localized.
REMOTE_URL = re.compile(r"(?:https?:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.I)


def install_assets(site: Path, assets: Path = ASSETS_DIR) -> None:
    """Copy the vendored packages into `site`/static/vendor (files only where they changed)."""
    target = site / VENDOR
    for package in PACKAGES:
        source = assets / package.folder
        if not source.is_dir():
            raise FileNotFoundError(
                f"{source} is missing: run `make docs-assets` to vendor the data docs assets"
            )
        shutil.copytree(source, target / package.folder, dirs_exist_ok=True)


def localize_page(html: str, prefix: str) -> str:
    """Rewrite one page's remote references to `prefix` + the local file."""
    for url, local in URL_MAP.items():
        for quote in ('"', "'"):
            html = html.replace(f"{quote}{url}{quote}", f"{quote}{prefix}{local}{quote}")
    html = _S3_LOGO.sub(f"{prefix}static/images/logo-long.png", html)
    html = _SRI.sub("", html)
    html = _NEWSLETTER.sub("", html)
    html = _COMMENT_URL.sub("", html)
    return _EXTERNAL_LINK.sub(r"<span\1>\2</span>", html)


def localize_data_docs(site: Path, assets: Path = ASSETS_DIR) -> list[Path]:
    """Make the data docs site under `site` (the folder of index.html) work offline."""
    if not (site / "index.html").exists():
        return []
    install_assets(site, assets)
    pages = sorted(site.rglob("*.html"))
    for page in pages:
        depth = os.path.relpath(site, page.parent)
        prefix = "" if depth == "." else depth.replace(os.sep, "/") + "/"
        text = page.read_text(encoding="utf-8")
        localized = localize_page(text, prefix)
        if localized != text:
            page.write_text(localized, encoding="utf-8")
    for stylesheet in (site / "static").rglob("*.css"):
        if VENDOR in stylesheet.as_posix():
            continue
        text = stylesheet.read_text(encoding="utf-8")
        prefix = os.path.relpath(site, stylesheet.parent).replace(os.sep, "/") + "/"
        localized = localize_page(text, prefix)
        if localized != text:
            stylesheet.write_text(localized, encoding="utf-8")
    return pages


def remote_references(text: str) -> list[str]:
    """Remote URLs left in a page or stylesheet (should be none after localizing).

    XML namespace names (`xmlns="http://www.w3.org/2000/svg"`) are identifiers that nothing
    fetches, so they do not count.
    """
    return [
        m.group(0)
        for m in REMOTE_URL.finditer(text)
        if not re.search(r"xmlns(:\w+)?=[\"']$", text[max(0, m.start() - 16) : m.start()])
    ]
