"""Jinja2 email templates: ``<name>.subject.txt``, ``<name>.txt`` and ``<name>.html``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, select_autoescape


@dataclass(frozen=True)
class RenderedMail:
    """A rendered message ready for :meth:`forgekit.mail.Mailer.send`."""

    subject: str
    text: str
    html: str | None


class MailTemplates:
    """Renders the templates shipped in ``<package>/<folder>``.

    HTML is autoescaped (a username is user input); the text and subject templates are not,
    since they are never interpreted as markup. Undefined variables raise instead of rendering
    empty, so a template and its caller cannot silently drift apart.
    """

    def __init__(self, package: str, folder: str = "templates") -> None:
        self.env = Environment(
            loader=PackageLoader(package, folder),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def render(self, name: str, **context: Any) -> RenderedMail:
        """Render ``name``'s subject, text and (when present) HTML templates."""
        subject = self.env.get_template(f"{name}.subject.txt").render(**context)
        text = self.env.get_template(f"{name}.txt").render(**context)
        try:
            html: str | None = self.env.get_template(f"{name}.html").render(**context)
        except TemplateNotFound:
            html = None
        return RenderedMail(subject=" ".join(subject.split()), text=text, html=html)
