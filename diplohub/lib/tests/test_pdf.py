"""PDF from our HTML: data: URIs only, nothing fetched, DejaVu from the machine."""

from __future__ import annotations

import io
import urllib.request

import pytest
import segno
from pypdf import PdfReader

from diplohub.lib import pdf


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/logo.png",
        "https://example.org/font.woff2",
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "HTTP://127.0.0.1:9/",
    ],
)
def test_the_fetcher_refuses_anything_but_data(url):
    with pytest.raises(ValueError, match="disallowed protocol"):
        pdf.url_fetcher().fetch(url)


def test_the_fetcher_reads_data_uris():
    assert pdf.url_fetcher().fetch("data:text/plain,hello").read() == b"hello"


def test_it_renders_without_opening_any_address(monkeypatch):
    opened = []
    real_open = urllib.request.OpenerDirector.open

    def spy(self, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(getattr(url, "full_url", url))
        return real_open(self, url, *args, **kwargs)

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", spy)
    qr = segno.make("code", error="m").svg_data_uri()
    html = (
        '<html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        '<link rel="stylesheet" href="file:///etc/hostname"></head>'
        f'<body><p>Hello Àngels</p><img src="{qr}"><img src="http://127.0.0.1:9/x.png">'
        '<img src="file:///etc/hostname"><img src="/static/web/favicon.svg"></body></html>'
    )
    document = pdf.render_pdf(html)
    assert all(url.startswith("data:") for url in opened), opened
    reader = PdfReader(io.BytesIO(document))
    assert "Hello Àngels" in reader.pages[0].extract_text()


def test_it_draws_text_in_dejavu(tmp_path):
    css = tmp_path / "style.css"
    css.write_text('html { font-family: "DejaVu Sans", sans-serif; }')
    reader = PdfReader(io.BytesIO(pdf.render_pdf("<p>Hello</p>", stylesheets=[css])))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = [str(font.get_object()["/BaseFont"]) for font in fonts.values()]
    assert names and all("DejaVu" in name for name in names), names


def test_the_response_is_private():
    response = pdf.pdf_response(b"%PDF-1.7", filename="badges.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="badges.pdf"'
    assert response["Cache-Control"] == "private, no-store"
