"""PDF documents from our own HTML templates, with WeasyPrint, and nothing fetched.

The HTML and its stylesheets are ours; the only images are data: URIs (QR codes). Any
other address, on the network or on the disk, is refused, so text typed into the
directory can never make the server fetch anything. Fonts come from fontconfig: the
stylesheets name DejaVu (Debian's fonts-dejavu-core), so the output is the same on
every machine. WeasyPrint needs Pango (libpango-1.0-0, libpangoft2-1.0-0), which
`make run` and `make test` install when missing; it is imported on first use, so
the rest of the site runs without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.http import HttpResponse

ALLOWED_SCHEMES = frozenset({"data"})


def url_fetcher() -> Any:
    """A WeasyPrint URL fetcher that reads data: URIs and refuses every other URL."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=ALLOWED_SCHEMES, allow_redirects=False, timeout=1)


def render_pdf(html: str, *, stylesheets: Sequence[Path] = ()) -> bytes:
    from weasyprint import CSS, HTML

    fetcher = url_fetcher()
    document = HTML(string=html, base_url=None, url_fetcher=fetcher)
    styles = [CSS(filename=str(path), url_fetcher=fetcher) for path in stylesheets]
    return document.write_pdf(stylesheets=styles)


def pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    """The PDF, opened in the browser (inline), never kept by a shared cache."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
