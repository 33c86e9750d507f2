"""The :class:`Mailer` interface and the MIME message every backend sends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def build_message(
    *, sender: str, to: str, subject: str, text: str, html: str | None = None
) -> EmailMessage:
    """A MIME message: plain text alone, or ``multipart/alternative`` with an HTML part.

    The text part comes first so that clients which cannot render HTML show it, as RFC 2046
    orders alternatives from plainest to richest.
    """
    if "\n" in subject or "\r" in subject:
        # Header injection guard: a subject built from user input must stay one header.
        raise ValueError("an email subject cannot contain line breaks")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def _domain_of(address: str) -> str:
    addr = address.rsplit("<", 1)[-1].rstrip(">").strip()
    return addr.rsplit("@", 1)[-1] if "@" in addr else "localhost"


class Mailer(ABC):
    """Sends one email; implementations must be safe to call from concurrent tasks."""

    def __init__(self, sender: str) -> None:
        self.sender = sender

    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        """Send a message to ``to`` with a text body and an optional HTML alternative.

        Raises on failure so that the caller (usually an event consumer) retries.
        """
        message = build_message(sender=self.sender, to=to, subject=subject, text=text, html=html)
        await self.send_message(message)

    @abstractmethod
    async def send_message(self, message: EmailMessage) -> None:
        """Deliver a fully built message."""
