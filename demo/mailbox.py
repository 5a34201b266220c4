"""The demo's mailbox: an SMTP sink on 127.0.0.1 that keeps every message it is given as a file.

`make run` starts it (`manage.py demo_mail`, Procfile.dev) and points Django's mail at it
(EMAIL_URL=smtp://127.0.0.1:1025 in the Makefile), so the alert emails of a demo outage, their
one-tap acknowledge links and any invitation or password-reset mail land in var/demo-mail/ as
<received>-<n>.eml, newest last by name, and on the "Demo mailbox" page (/demo/mailbox/).
Nothing leaves the machine: there is no relaying.
"""

import asyncio
import email
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.utils import getaddresses
from pathlib import Path

from django.conf import settings
from django.utils.html import escape, format_html, strip_tags
from django.utils.safestring import mark_safe

# A name for the EHLO greeting: without one aiosmtpd asks DNS for this machine's name (slow offline).
SINK_HOSTNAME = "demo-mail.localhost"


def mail_dir():
    """Where the sink stores messages and the mailbox page reads them: var/demo-mail/."""
    return Path(settings.VAR_DIR) / "demo-mail"


class MailSink:
    """aiosmtpd handler: stores each message as a file in `folder` and tells `on_stored(path, message)`."""

    def __init__(self, folder, on_stored=None):
        self.folder = Path(folder)
        self.on_stored = on_stored

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        # The envelope's recipients first, as aiosmtpd's own handlers do: Bcc never shows in the headers.
        head = f"X-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n".encode()
        path = store(self.folder, head + envelope.original_content)
        if self.on_stored is not None:
            self.on_stored(path, read_message(path))
        return "250 OK: stored"


def store(folder, raw, now=None):
    """Write one raw message into `folder` as <UTC time>-<n>.eml, whole or not at all; returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}"
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
    n = 1
    while True:
        path = folder / f"{stamp}-{n:03d}.eml"
        try:
            os.link(temporary, path)  # unlike rename, never replaces a message already there
            break
        except FileExistsError:
            n += 1
    os.unlink(temporary)
    return path


async def start_server(sink, host="127.0.0.1", port=1025):
    """Listen for SMTP on host:port in the running event loop; returns the asyncio server."""
    from aiosmtpd.smtp import SMTP  # requirements-demo.txt: only the sink needs it, not the mailbox page

    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(sink, hostname=SINK_HOSTNAME, enable_SMTPUTF8=True), host=host, port=port
    )


@dataclass(frozen=True)
class StoredMail:
    name: str
    to: str
    subject: str
    received: datetime
    body: str

    @property
    def body_html(self):
        return linkify(self.body)


def read_message(path):
    """One stored message: recipients, subject, when it arrived and its text."""
    path = Path(path)
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    to = message.get("X-RcptTo") or ", ".join(address for _, address in getaddresses(message.get_all("To", [])))
    return StoredMail(
        name=path.name,
        to=str(to),
        subject=str(message.get("Subject", "")),
        received=datetime.fromtimestamp(path.stat().st_mtime, UTC),
        body=_text_of(message),
    )


def _text_of(message):
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        text = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    if not isinstance(text, str):
        return ""
    return strip_tags(text) if part.get_content_subtype() == "html" else text


def read_mailbox(folder, limit=50):
    """(the newest `limit` messages, newest first; how many there are in all). A missing folder is empty."""
    try:
        names = sorted((p for p in Path(folder).glob("*.eml") if p.is_file()), key=lambda p: p.name, reverse=True)
    except OSError:
        return [], 0
    messages = []
    for path in names[:limit]:
        try:
            messages.append(read_message(path))
        except (OSError, ValueError):  # removed while we read the folder, or not a message at all
            continue
    return messages, len(names)


URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
TRAILING = ".,;:!?"


def linkify(text):
    """`text` escaped, with its http(s) URLs made links (nothing else: no bare domains, no mailto)."""
    pieces, at = [], 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(TRAILING)
        end = match.start() + len(url)
        pieces.append(escape(text[at : match.start()]))
        pieces.append(format_html('<a href="{}">{}</a>', url, url))
        at = end
    pieces.append(escape(text[at:]))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece was escaped above
