"""The plugin's stdout: bounded lines, each JSON messages or plain text."""

import json
import os
import re

# The longest line kept; a longer one is dropped (a blob travels in 8 KiB chunks).
MAX_LINE = 32 << 20
# A pipe holds 64 KiB: one read takes all there is.
_READ = 1 << 16

# Where a message of the SDK starts: its writer and its logger both put `event` first.
_MESSAGE = re.compile(r'\{"event"\s*:')
# A longer line that is not JSON is text: searching it for messages could take long.
_SPLIT_LIMIT = 1 << 20
# A session's stream item, as the SDK writes it (the bridge's session ids are 32 hex digits).
_STREAM = re.compile(rb'\{"event":"session","session_id":"([0-9a-f]{32})","data":\{"type":"stream","data":')
_decoder = json.JSONDecoder()


class Overlong:
    """A line past MAX_LINE: only its start is kept, to tell whose it was."""

    def __init__(self, head):
        self.head = head


def read_batches(fd, limit=MAX_LINE):
    """Yields, for each read of `fd`, the lines it completed (bytes without
    their newline, or an Overlong for a line past `limit`), until EOF."""
    partial = bytearray()  # the start of a line not yet ended
    dropping = False  # the rest of an overlong line is read and dropped
    while True:
        data = os.read(fd, _READ)
        if not data:
            if partial:
                yield [bytes(partial)]
            return
        lines, start = [], 0
        while (end := data.find(b"\n", start)) >= 0:
            if dropping:
                dropping = False
            elif partial:
                partial += data[start:end]
                lines.append(bytes(partial) if len(partial) <= limit else Overlong(bytes(partial[:512])))
                partial.clear()
            else:
                lines.append(data[start:end])
            start = end + 1
        if not dropping:
            partial += data[start:]
            if len(partial) > limit:
                lines.append(Overlong(bytes(partial[:512])))
                partial.clear()
                dropping = True
        yield lines


def decode(line):
    """The messages on one line, as (message, raw) pairs, and the text around
    them (a line is usually one message; a `print` from another thread may
    share it). `raw` is the JSON of a stream item exactly as the plugin wrote
    it, to pass on without encoding it again; None for other messages."""
    stream = _stream_message(line)
    if stream is not None:
        return [stream], ""
    try:
        value = loads(line)
    except ValueError:
        if len(line) > _SPLIT_LIMIT:
            return [], line.decode("utf-8", "replace").strip()
        messages, text = _split(line.decode("utf-8", "replace"))
        return [(message, None) for message in messages], text
    if isinstance(value, dict):
        return [(value, None)], ""
    return [], line.decode("utf-8", "replace").strip()


def _stream_message(line):
    """A line that is exactly one stream message: its item is then parsed
    alone, which also proves that its text is one JSON value."""
    match = _STREAM.match(line)
    if match is None:
        return None
    end = len(line)
    while end and line[end - 1] in b" \t\r\n":
        end -= 1
    if line[end - 2 : end] != b"}}":
        return None
    raw = line[match.end() : end - 2]
    try:
        item = loads(raw)
    except ValueError:
        return None
    if not isinstance(item, dict):
        return None
    message = {"event": "session", "session_id": match.group(1).decode("ascii"), "data": {"type": "stream", "data": item}}
    return message, raw


def _split(text):
    messages, rest, position = [], [], 0
    for match in _MESSAGE.finditer(text):
        if match.start() < position:
            continue
        try:
            value, end = _decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        messages.append(value)
        rest.append(text[position : match.start()])
        position = end
    rest.append(text[position:])
    return messages, "".join(rest).strip()


def loads(data):
    """json.loads of UTF-8 bytes; decoding first skips json's encoding detection (a third of a small message's cost)."""
    return json.loads(data.decode("utf-8"))


def session_of(head):
    """The session id named at the start of a message, or None."""
    found = re.search(rb'"session_id"\s*:\s*"([0-9a-f]{1,64})"', head)
    return found.group(1).decode("ascii") if found else None
