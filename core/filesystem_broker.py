"""Celery's filesystem broker (the demo's, without Redis) with messages that appear whole.

kombu's filesystem transport creates a message file in the queue folder and writes it afterwards.
A worker polling the folder in between reads an empty file, and the JSONDecodeError it raises stops
the worker ("Unrecoverable error", celery/kombu#1551, still open). Here a message is written under a
name no reader lists and renamed into place, so it appears whole or not at all. A file that still
cannot be decoded (written by a stock kombu, or damaged) is left for the next poll and, once it has
stayed unreadable for UNREADABLE_AFTER_SECONDS, renamed aside with a warning: it never stops a worker.

settings.py selects it with CELERY_BROKER_TRANSPORT = "core.filesystem_broker:Transport" beside the
usual "filesystem://" URL; kombu's transport options (data_folder_in/out, processed_folder,
store_processed, control_folder) mean what they mean there.
"""

import logging
import os
import shutil
import time
import uuid
from contextlib import suppress
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

# kombu's producer writes right after it creates the file: one that is still empty or undecodable
# this long after its last write is not going to become a message.
UNREADABLE_AFTER_SECONDS = 30
# Readers take only names ending in ".<queue>.msg" (kombu: filename.partition(".")[2] == f"{queue}.msg"),
# so neither a file being written nor one set aside is ever listed as a message.
WRITING_SUFFIX = ".writing"
UNREADABLE_SUFFIX = ".unreadable"


class Channel(filesystem.Channel):
    """kombu's filesystem channel, with atomic publishing and reads that skip what they cannot decode."""

    def _put(self, queue, payload, **kwargs):
        """Write a message for `queue` under a hidden name, then rename it to the name readers look for."""
        # The name kombu gives it: readers sort by it, so messages keep their order.
        filename = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, filename)
        # Same folder, so the rename stays on one file system and is atomic.
        writing = os.path.join(self.data_folder_out, f".{filename}{WRITING_SUFFIX}")
        try:
            with open(writing, "xb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(writing, path)
        except OSError as exc:
            with suppress(OSError):
                os.remove(writing)
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc

    def _get(self, queue):
        """Take the oldest decodable message for `queue` out of the folder; raise Empty when there is none."""
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if filename.partition(".")[2] != wanted:
                continue
            path = os.path.join(self.data_folder_in, filename)
            # Read in place before taking it, so that a file that is not whole yet stays in the queue.
            try:
                with open(path, "rb") as f:
                    payload = f.read()
            except FileNotFoundError:
                continue  # another consumer took it
            except OSError as exc:
                raise ChannelError(f"Cannot read file {path!r} from queue.") from exc
            try:
                message = _decode(payload)
            except ValueError as exc:
                self._set_aside_if_abandoned(path, exc)
                continue
            if self._take(path, filename):
                return message
        raise Empty()

    def _take(self, path, filename):
        """Remove a message file from the queue folder; False if another consumer removed it first."""
        try:
            if self.store_processed:
                shutil.move(path, os.path.join(self.processed_folder, filename))
            else:
                # kombu moves it to the temp folder and deletes it there: a copy when /tmp is another
                # file system, which two consumers can both make. A removal succeeds for one only.
                os.remove(path)
        except OSError as exc:
            if not os.path.exists(path):
                return False
            raise ChannelError(f"Cannot take file {path!r} from queue.") from exc
        return True

    def _set_aside_if_abandoned(self, path, error):
        """Rename an undecodable message file aside once it is old enough not to be still being written."""
        try:
            age = time.time() - os.stat(path).st_mtime
        except FileNotFoundError:
            return
        if age < UNREADABLE_AFTER_SECONDS:
            return  # perhaps a stock kombu producer between creating and writing it: look again next poll
        try:
            os.replace(path, path + UNREADABLE_SUFFIX)
        except FileNotFoundError:
            return  # another consumer set it aside, or it was taken after all
        log.warning(
            "Set aside message file %s%s: still unreadable after %d s (%s)", path, UNREADABLE_SUFFIX, age, error
        )

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        # kombu creates a missing exchange table with open("wb") and locks it only afterwards, so a
        # process reading the table in between (every publish does) decodes an empty file. Create it
        # whole, empty, and let kombu add the binding under its lock.
        table = self._exchange_file(exchange)
        if not table.exists():
            self.control_folder.mkdir(exist_ok=True)
            writing = table.with_name(f".{table.name}.{uuid.uuid4()}{WRITING_SUFFIX}")
            try:
                writing.write_bytes(str_to_bytes(dumps([])))
                os.link(writing, table)  # unlike a rename, fails if another process created it meanwhile
            except FileExistsError:
                pass
            except OSError as exc:
                raise ChannelError(f"Cannot create {table}") from exc
            finally:
                with suppress(OSError):
                    os.remove(writing)
        super()._queue_bind(exchange, routing_key, pattern, queue)


class Transport(filesystem.Transport):
    """kombu's filesystem transport on the Channel above."""

    Channel = Channel


def _decode(payload):
    """The message in a file's bytes; ValueError if they are not a whole kombu message."""
    message = loads(bytes_to_str(payload))  # JSONDecodeError and UnicodeDecodeError are ValueErrors
    if not isinstance(message, dict):
        raise ValueError(f"not a message: {payload[:40]!r}")
    return message
