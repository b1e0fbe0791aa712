"""One host call served by one Dify session: what it collected, within bounds.

A tool's messages are kept as the JSON the plugin wrote, and its answer is
built around them: a message is never encoded again on its way to the host.
"""

import base64
import binascii
import json

# An answer travels in one frame of at most 16 MiB: leave room for its envelope.
MAX_ANSWER = (16 << 20) - (64 << 10)
# The largest blob a tool may return (its base64 must fit in a frame).
MAX_BLOB = 12 << 20


class Refused(Exception):
    """The call's answer would not fit in a frame: 202."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Call:
    """A `tool.invoke`, `credentials.validate` or `endpoint.invoke` in flight."""

    def __init__(self, request_id, kind, tenant=None, stream=True):
        self.id = request_id
        self.stream = stream  # whether the host takes the call's chunks
        self.id_json = json.dumps(request_id).encode("ascii")
        self.kind = kind  # "tool", "validate" or "endpoint"
        self.tenant = tenant
        self.error = None  # the session's Dify error, answered at its end
        self.answered = False
        self._messages = []  # JSON bytes
        self._size = 0
        self._blobs = {}
        self._status, self._headers, self._body = 200, {}, []

    def add(self, item, raw):
        """Collects one stream item (`raw`: its JSON); returns the JSON of
        the message to stream to the host now, if any. Raises Refused."""
        if self.kind == "tool":
            return self._add_message(item, raw)
        if self.kind == "endpoint":
            self._add_endpoint(item)
        return None

    def answer(self):
        """The JSON of the call's result, once its session ended without an error."""
        if self.kind == "tool":
            return b'{"messages":[' + b",".join(self._messages) + b"]}"
        if self.kind == "validate":
            return b'{"valid":true}'
        body = base64.b64encode(b"".join(self._body)).decode("ascii")
        return json.dumps({"status": self._status, "headers": self._headers, "body": body}).encode("ascii")

    def _add_message(self, item, raw):
        if item.get("type") == "blob_chunk":
            raw = self._blob_chunk(item)
            if raw is None:
                return None
        self._grow(len(raw))
        self._messages.append(raw)
        return raw

    def _blob_chunk(self, item):
        """Joins the chunks of one blob; returns the whole blob message at its end."""
        chunk = item.get("message") or {}
        # binascii directly: base64's wrappers cost a third more, on the hot path.
        data = binascii.a2b_base64(chunk.get("blob") or "")
        buffer = self._blobs.setdefault(chunk.get("id"), bytearray())
        buffer += data
        if len(buffer) > MAX_BLOB or int(chunk.get("total_length") or 0) > MAX_BLOB:
            raise Refused(f"the tool returned a blob over {MAX_BLOB >> 20} MiB")
        self._grow(len(data))  # held until the blob ends, then counted as its message
        if not chunk.get("end"):
            return None
        del self._blobs[chunk.get("id")]
        self._size -= len(buffer)
        meta = json.dumps(item.get("meta")).encode("ascii")
        return b'{"type":"blob","message":{"blob":"' + binascii.b2a_base64(buffer, newline=False) + b'"},"meta":' + meta + b"}"

    def _add_endpoint(self, item):
        """The first item has the status and headers; each may carry body bytes in hex."""
        if "status" in item:
            self._status = int(item["status"])
            self._headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
        if item.get("result"):
            data = bytes.fromhex(item["result"])
            self._grow(len(data) // 3 * 4 + 4)
            self._body.append(data)

    def _grow(self, size):
        self._size += size
        if self._size > MAX_ANSWER:
            raise Refused(f"the call's answer passed {MAX_ANSWER} bytes")
