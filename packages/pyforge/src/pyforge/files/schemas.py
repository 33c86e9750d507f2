"""Request and response bodies of the files API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from forgekit.pagination import Page


class FileRead(BaseModel):
    """A file of a project's tree (metadata only)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    path: str
    size: int
    mime_type: str
    sha256: str
    version: int
    created_at: datetime
    updated_at: datetime


class FileContent(FileRead):
    """A file with its content: text when it is UTF-8, else base64; None above the cap."""

    encoding: Literal["utf-8", "base64"] | None
    content: str | None
    #: True when the file is larger than the inline cap (use ``download_url``).
    truncated: bool
    download_url: str


FilePage = Page[FileRead]
"""One page of a project's tree, sorted by path."""


class SourceView(BaseModel):
    """A text file as HTML lines, each a sequence of ``<span class="tok-…">`` tokens.

    Every character of the file is HTML-escaped; only the highlighter's spans are markup.
    """

    path: str
    file_id: uuid.UUID
    size: int
    #: True above the inline cap: no lines, download the file instead.
    truncated: bool
    language: str
    lines: list[str]


class UploadResult(BaseModel):
    """What an upload changed."""

    added: int
    updated: int
    unchanged: int
    deleted: int
    files: list[FileRead]
