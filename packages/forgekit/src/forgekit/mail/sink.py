"""The embedded mail backend: every message becomes an ``.eml`` file in a directory."""

from __future__ import annotations

import asyncio
import uuid
from email import policy
from email.message import EmailMessage
from pathlib import Path

from forgekit.db.base import utcnow
from forgekit.mail.base import Mailer


class FileSinkMailer(Mailer):
    """Writes messages to ``directory`` so a developer (or a test) can open them.

    File names sort by time of sending; each file is written under a temporary name and renamed,
    so a reader never sees half a message.
    """

    def __init__(self, directory: Path, sender: str) -> None:
        super().__init__(sender)
        self.directory = directory

    async def send_message(self, message: EmailMessage) -> None:
        """Write ``message`` as ``<utc timestamp>-<random>.eml``."""
        data = message.as_bytes(policy=policy.SMTP)
        name = f"{utcnow().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.eml"
        await asyncio.to_thread(self._write, name, data)

    def _write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(data)
        tmp.replace(self.directory / name)

    def messages(self) -> list[Path]:
        """The ``.eml`` files written so far, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.eml"))
