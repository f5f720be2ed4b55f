"""Markdown from staff and hosts: the formatting survives, anything active does not."""

import re

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeString
from hypothesis import given
from hypothesis import strategies as st

from diplohub.lib.markdown import render_markdown


def test_it_renders_the_formatting_we_allow():
    html = render_markdown(
        "## Agenda\n\n*Welcome* by **the director**.\n\n- one\n- two\n\n"
        '> quoted\n\n`code`\n\n---\n\n[The centre](https://example.org/ "Site")'
    )
    assert isinstance(html, SafeString)
    assert "<h2>Agenda</h2>" in html
    assert "<em>Welcome</em>" in html
    assert "<strong>the director</strong>" in html
    assert "<ul>" in html and "<li>one</li>" in html
    assert "<blockquote>" in html
    assert "<code>code</code>" in html
    assert "<hr>" in html
    assert (
        '<a href="https://example.org/" title="Site" rel="noopener noreferrer">The centre</a>'
        in html
    )


def test_it_renders_nothing_for_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ("Hello <script>alert(1)</script> there", "alert(1)</script"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">click</a>', "javascript:"),
        ("[click](JaVaScRiPt:alert(1))", "alert"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<img src="x" onerror="alert(1)">', "<img"),
        ('<p onclick="steal()">hi</p>', "onclick"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ("<style>body{display:none}</style>", "<style"),
        ('<a href="https://ok.example" style="position:fixed">x</a>', "style="),
        ('<form action="https://evil.example"><input name=p></form>', "<form"),
        ("<!-- a comment -->", "<!--"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "data:"),
        ("<h1>Big</h1>", "<h1"),
    ],
)
def test_it_neutralises_malicious_input(source, forbidden):
    html = render_markdown(source)
    assert forbidden.lower() not in html.lower()


def test_raw_html_tags_outside_the_allow_list_are_dropped_but_their_text_is_kept():
    html = render_markdown('<div class="x"><span>Dress code: business</span></div>')
    assert "<div" not in html and "<span" not in html
    assert "Dress code: business" in html


def test_links_written_in_raw_html_also_get_rel():
    html = render_markdown('<a href="https://example.org" target="_blank" rel="opener">x</a>')
    assert 'rel="noopener noreferrer"' in html
    assert "target" not in html
    assert 'rel="opener"' not in html


def test_the_template_filter_renders_and_sanitises():
    template = Template("{% load hub %}{{ text|markdown }}")
    html = template.render(Context({"text": "**Bold** <script>x()</script>"}))
    assert "<strong>Bold</strong>" in html
    assert "<script" not in html


PIECES = st.sampled_from(
    [
        "<script>",
        "</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">',
        "[x](javascript:alert(1))",
        "<svg onload=alert(1)>",
        '<p style="x" onclick="y">',
        "<iframe>",
        "**bold**",
        "\n\n",
        "- item\n",
        "<",
        ">",
        '"',
        "text ",
    ]
)


@given(st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=12).map("".join))
def test_no_input_gets_active_content_through(source):
    html = render_markdown(source).lower()
    assert "<script" not in html
    assert "<iframe" not in html
    assert "<svg" not in html
    assert "<img" not in html
    assert not re.search(r"<[^>]*\shref\s*=\s*[\"']?\s*javascript:", html)  # as text it is harmless
    assert not re.search(r"<[^>]*\son\w+\s*=", html)
    assert not re.search(r"<[^>]*\sstyle\s*=", html)
