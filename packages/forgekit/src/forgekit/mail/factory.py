"""Choose the mail backend from settings."""

from __future__ import annotations

from forgekit.mail.base import Mailer
from forgekit.mail.sink import FileSinkMailer
from forgekit.mail.smtp import SmtpMailer
from forgekit.settings import ForgeSettings


def create_mailer(settings: ForgeSettings) -> Mailer:
    """SMTP when ``smtp_host`` is set, else the file sink in ``settings.mail_sink_dir``."""
    if not settings.smtp_host:
        return FileSinkMailer(settings.mail_sink_dir, settings.effective_mail_from)
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.effective_mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(),
        # Implicit TLS (port 465) wins over STARTTLS when both are configured.
        starttls=settings.smtp_starttls and not settings.smtp_tls,
        tls=settings.smtp_tls,
    )
