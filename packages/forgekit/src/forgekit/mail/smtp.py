"""The production mail backend: SMTP through aiosmtplib, with STARTTLS or implicit TLS."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib

from forgekit.mail.base import Mailer


class SmtpMailer(Mailer):
    """Sends through one SMTP relay, one connection per message.

    A connection per message is simple and robust for the low volume of account mail
    (verification, password reset); a pooled sender is only worth it for bulk mail.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        tls: bool = False,
        timeout_s: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(sender)
        if starttls and tls:
            raise ValueError("choose either STARTTLS or implicit TLS for SMTP, not both")
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.tls = tls
        self.timeout_s = timeout_s
        #: None means the system's trust store with hostname checking (aiosmtplib's default);
        #: pass a context to trust a private CA.
        self.tls_context = tls_context

    async def send_message(self, message: EmailMessage) -> None:
        """Connect, upgrade to TLS as configured, log in when credentials are set, send."""
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username or None,
            password=self.password or None,
            use_tls=self.tls,
            # False rather than None: with STARTTLS off we never upgrade opportunistically,
            # and with it on a server that does not offer it is an error, not a silent
            # downgrade to plain text.
            start_tls=self.starttls,
            timeout=self.timeout_s,
            tls_context=self.tls_context,
        )
