"""Outgoing email: SMTP in production, ``.eml`` files in a sink directory when embedded.

Code that sends mail depends only on :class:`Mailer`; :func:`create_mailer` picks the backend
from settings (an empty ``smtp_host`` means the file sink under ``settings.mail_sink_dir``).
Message bodies come from Jinja2 templates with a text and an HTML part (:class:`MailTemplates`).
"""

from forgekit.mail.base import Mailer, build_message
from forgekit.mail.factory import create_mailer
from forgekit.mail.sink import FileSinkMailer
from forgekit.mail.smtp import SmtpMailer
from forgekit.mail.templates import MailTemplates, RenderedMail

__all__ = [
    "FileSinkMailer",
    "MailTemplates",
    "Mailer",
    "RenderedMail",
    "SmtpMailer",
    "build_message",
    "create_mailer",
]
