"""Model cards: Markdown rendered to HTML that keeps formatting and never carries script."""

from html.parser import HTMLParser

import httpx
import pytest
from modelhub.cards.service import render_markdown

from forgekit.identity.testing import register_and_login, set_user
from forgekit.runtime import Runtime


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _tags(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _assert_inert(html: str) -> None:
    for tag, attrs in _tags(html):
        assert tag not in {"script", "iframe", "object", "embed", "style", "svg", "form"}, html
        assert not any(name.startswith("on") for name in attrs), html
        for name in ("href", "src"):
            url = attrs.get(name, "").strip().lower()
            assert url.startswith(("http://", "https://", "mailto:", "#")) or not url, html


ATTACKS = [
    "<script>alert(1)</script>",
    "Hello <script src=https://evil.example/x.js></script> world",
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<div onclick="alert(1)">raw html</div>',
    '<iframe src="https://evil.example"></iframe>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pic](javascript:alert(1))",
    '[t](https://ok.example "title" onmouseover="alert(1)")',
    "<svg onload=alert(1)>",
    "```html\n<script>alert(1)</script>\n```",
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("markdown", ATTACKS)
def test_scripts_handlers_javascript_links_and_raw_html_are_neutralised(markdown: str) -> None:
    html = render_markdown(markdown)
    _assert_inert(html)
    assert "<script" not in html.lower() and "<div" not in html.lower()


def test_raw_html_is_shown_as_text_not_dropped_silently() -> None:
    html = render_markdown('<b onclick="x()">bold?</b>')
    assert "&lt;b" in html and "<b" not in html


def test_ordinary_markdown_is_kept() -> None:
    card = "\n".join([
        "# Sentiment", "", "Classifies **English** text, see [the paper](https://arxiv.org/abs/1).",
        "", "## Usage", "", "```python", "print(model(x) < 1)", "```", "",
        "| input | output |", "|:------|-------:|", "| text | label |", "",
        "- fast", "- small", "", "> quoted", "", "Inline `code` and ~~old~~.",
    ])  # fmt: skip
    html = render_markdown(card)
    tags = _tags(html)
    names = [t for t, _ in tags]
    for expected in ("h1", "h2", "strong", "a", "pre", "code", "table", "thead", "th", "td",
                     "ul", "li", "blockquote", "s"):  # fmt: skip
        assert expected in names, (expected, html)
    link = next(attrs for tag, attrs in tags if tag == "a")
    assert link["href"] == "https://arxiv.org/abs/1"
    assert set(link["rel"].split()) == {"noopener", "noreferrer", "nofollow"}
    assert ("code", {"class": "language-python"}) in tags
    # Code keeps its text, escaped (never markup).
    assert "print(model(x) &lt; 1)" in html
    assert 'style="text-align:right"' in html.replace(": ", ":")
    _assert_inert(html)


async def test_card_endpoint_serves_safe_html(client: httpx.AsyncClient, runtime: Runtime) -> None:
    pub = await register_and_login(client)
    await set_user(runtime, pub, role="publisher", is_verified=True)
    description = "# Adder\n\n<script>alert(1)</script>\n\n[docs](javascript:alert(1))"
    resp = await client.post("/api/v1/models", headers=pub.headers, json={
        "name": "adder", "title": "Adder", "description": description, "task": "regression",
        "framework": "onnx", "license": "mit", "visibility": "public"})  # fmt: skip
    assert resp.status_code == 201
    base = f"/api/v1/models/{pub.username}/adder"
    await client.post(f"{base}/publish", headers=pub.headers)
    consumer = await register_and_login(client)
    card = await client.get(f"{base}/card", headers=consumer.headers)
    assert card.status_code == 200, card.text
    body = card.json()
    assert body["description"] == description
    assert body["description_html"].startswith("<h1>Adder</h1>")
    _assert_inert(body["description_html"])
    assert body["rating"] == {"average": None, "count": 0,
                              "histogram": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}  # fmt: skip
    # The model page carries the same safe HTML and rating next to the model's fields.
    page = (await client.get(base, headers=consumer.headers)).json()
    assert page["description_html"] == body["description_html"]
    assert page["rating"] == body["rating"] and page["slug"] == f"{pub.username}/adder"
