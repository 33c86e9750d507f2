"""Mail backends: the file sink, and SMTP against a real aiosmtpd server on loopback
(plain, STARTTLS with AUTH), reading back the delivered multipart message."""

import asyncio
import datetime as dt
import ipaddress
import ssl
from email import message_from_bytes, policy
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from forgekit.identity.testing import message_text, sink_messages
from forgekit.mail import FileSinkMailer, MailTemplates, SmtpMailer, build_message, create_mailer
from forgekit.settings import ForgeSettings
from forgekit.testing.servers import free_port


class Inbox:
    """An aiosmtpd handler keeping every delivered message."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.authenticated)
        )
        return "250 OK"




def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def _parse(content: bytes):
    return message_from_bytes(content, policy=policy.default)


async def test_smtp_mailer_delivers_multipart_text_and_html(smtp_server):
    controller, inbox = smtp_server
    mailer = SmtpMailer(
        host="127.0.0.1", port=controller.port, sender="Forge <noreply@forge.test>", starttls=False
    )
    await mailer.send("dev@example.com", "Hello ✓", "plain body\n", "<p>html <b>body</b></p>")
    [(mail_from, rcpts, content, _)] = inbox.messages
    assert mail_from == "noreply@forge.test" and rcpts == ["dev@example.com"]
    msg = _parse(content)
    assert msg["Subject"] == "Hello ✓" and msg["To"] == "dev@example.com"
    assert msg["Message-ID"] and msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message_text(msg).replace("\r\n", "\n") == "plain body\n"
    assert "<b>body</b>" in msg.get_body(preferencelist=("html",)).get_content()


async def test_smtp_mailer_starttls_and_auth(tmp_path):
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((mechanism, auth_data.login))
        ok = auth_data.login == b"mailer" and auth_data.password == b"pw"
        # handled=False lets aiosmtpd answer the failure itself (535).
        return AuthResult(success=ok, handled=False)

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        mailer = SmtpMailer(
            host="127.0.0.1", port=controller.port, sender="noreply@forge.test",
            username="mailer", password="pw", starttls=True, tls_context=client_ctx,
        )  # fmt: skip
        await mailer.send("dev@example.com", "Secure", "text only\n")
        [(_, _, content, authenticated)] = inbox.messages
        assert authenticated is True and logins and logins[0][1] == b"mailer"
        msg = _parse(content)
        assert msg.get_content_type() == "text/plain"

        bad = SmtpMailer(
            host="127.0.0.1", port=controller.port, sender="noreply@forge.test",
            username="mailer", password="wrong", starttls=True, tls_context=client_ctx,
            timeout_s=60,  # the refusal must be the answer, not a timeout on a busy machine
        )  # fmt: skip
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await bad.send("dev@example.com", "Nope", "x")
        # Without STARTTLS the server refuses to go on: the mailer never sends in clear.
        plain = SmtpMailer(
            host="127.0.0.1", port=controller.port, sender="a@b.c", starttls=False, timeout_s=60
        )
        with pytest.raises(Exception):  # noqa: B017
            await plain.send("dev@example.com", "Nope", "x")
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


async def test_file_sink_writes_eml(tmp_path):
    sink = FileSinkMailer(tmp_path / "mail", "Forge <noreply@forge.test>")
    await asyncio.gather(
        *(sink.send(f"u{i}@example.com", f"S{i}", f"body {i}\n", "<p>x</p>") for i in range(3))
    )
    files = sink.messages()
    assert len(files) == 3 and not list((tmp_path / "mail").glob(".*"))
    messages = sink_messages(tmp_path / "mail")
    assert sorted(m["To"] for m in messages) == [
        "u0@example.com",
        "u1@example.com",
        "u2@example.com",
    ]
    assert all(m.get_content_type() == "multipart/alternative" for m in messages)


def test_create_mailer_picks_backend(tmp_path):
    sink = create_mailer(ForgeSettings(_env_file=None, data_dir=tmp_path))
    assert isinstance(sink, FileSinkMailer) and sink.directory == tmp_path / "mail"
    smtp = create_mailer(
        ForgeSettings(
            _env_file=None,
            data_dir=tmp_path,
            smtp_host="mx.example.com",
            smtp_port=465,
            smtp_tls=True,
        )
    )
    assert isinstance(smtp, SmtpMailer)
    assert smtp.tls is True and smtp.starttls is False and smtp.port == 465
    default = create_mailer(
        ForgeSettings(_env_file=None, data_dir=tmp_path, smtp_host="mx.example.com")
    )
    assert isinstance(default, SmtpMailer) and default.starttls is True and default.tls is False


def test_header_injection_is_refused():
    with pytest.raises(ValueError):
        build_message(sender="a@b.c", to="x@y.z", subject="hi\r\nBcc: victim@example.com", text="x")


def test_identity_templates_render_text_and_escaped_html():
    mail = MailTemplates("forgekit.identity").render(
        "verify_email",
        app_name="Forge",
        username="<script>alert(1)</script>",
        link="https://forge.test/auth/verify-email?token=abc",
        valid_hours=24,
    )
    assert mail.subject == "Confirm your email address for Forge"
    assert "https://forge.test/auth/verify-email?token=abc" in mail.text
    assert "<script>" in mail.text  # text is not markup
    assert mail.html is not None and "<script>" not in mail.html and "&lt;script&gt;" in mail.html
