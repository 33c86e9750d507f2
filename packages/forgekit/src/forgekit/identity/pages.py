"""The small HTML pages the emailed links open (``GET /auth/verify-email?token=…`` and
``GET /auth/password-reset?token=…``).

The GET itself changes nothing: mail scanners and link previews fetch links, and a GET that
spent the token would burn it before the user clicks. The page POSTs the token only when the
user presses the button. ``Referrer-Policy: no-referrer`` keeps the token in the URL from
leaking to anything the page loads, and the CSP allows only the page's own inline script.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from fastapi.responses import HTMLResponse

_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@cache
def _page(name: str) -> tuple[str, str]:
    html = (resources.files("forgekit.identity") / "templates" / f"page_{name}.html").read_text()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _SCRIPT.findall(html)
    )
    csp = (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )
    return html, csp


def page(name: str) -> HTMLResponse:
    """The page ``templates/page_<name>.html`` with its security headers."""
    html, csp = _page(name)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": csp,
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
