"""What a handler gets besides its arguments: settings, logging, host calls."""

import base64
import hashlib
import json
import threading

from .errors import Cancelled, PluginError


class Context:
    def __init__(self, connection, call_id, settings, credentials, tenant=None, request_id=None):
        self._connection = connection
        self.call_id = call_id
        self.tenant = tenant  # the tenant the call is made for, or None
        # The outside request the call serves (the gateway's X-Request-Id), or None.
        self.request_id = request_id
        self.settings = settings
        self.credentials = credentials
        self._cancelled = threading.Event()
        self.storage = Storage(connection, tenant)
        self.tools = Tools(connection, tenant)
        self.models = Models(connection, tenant)
        self.apps = Apps(connection, tenant)
        self.files = Files(connection, tenant)
        self.flows = Flows(connection, tenant)

    @property
    def cancelled(self):
        """True once the host cancelled this call; long handlers should check it."""
        return self._cancelled.is_set()

    def check_cancelled(self):
        """Raises Cancelled when the host cancelled this call."""
        if self._cancelled.is_set():
            raise Cancelled()

    def log(self, message, level="info", **fields):
        """Sends a log line to the host, tied to this call and the outside request it serves."""
        self._connection.notify("log", self.log_params(level, message, fields))

    def log_params(self, level, message, fields=None):
        """The params of a `log` notification for this call."""
        fields = {k: str(v) for k, v in (fields or {}).items()}
        params = {"level": level, "message": str(message), "call": self.call_id, "fields": fields}
        if self.request_id is not None:
            params["request_id"] = self.request_id
        return params

    def stream(self, chunk):
        """Sends a partial result now (yielding from the handler does the same)."""
        self._connection.notify("stream.chunk", {"id": self.call_id, "chunk": chunk})


class Storage:
    """The plugin's key-value store on the host (needs permission.storage).

    Values are bytes (a str is stored as UTF-8); they travel in base64.
    """

    # The largest blob piece the host moves in one call.
    PIECE = 4 << 20

    def __init__(self, connection, tenant=None):
        self._connection = connection
        self._tenant = tenant

    def _call(self, method, params):
        if self._tenant:
            params = dict(params, tenant=self._tenant)
        return self._connection.call(method, params) or {}

    def get(self, key):
        """The value of `key` as bytes, or None."""
        value = self._call("storage.get", {"key": key}).get("value")
        return None if value is None else _decode(value)

    def get_text(self, key, default=None):
        """The value of `key` decoded as UTF-8, or `default`."""
        value = self.get(key)
        return default if value is None else value.decode("utf-8")

    def get_json(self, key, default=None):
        """The value of `key` parsed as JSON, or `default`."""
        value = self.get(key)
        return default if value is None else json.loads(value)

    def set(self, key, value, if_absent=False, expected=None):
        """Stores `value`; False when `if_absent` found a value or `expected`
        (compare-and-set: the bytes last read) did not match. 205 over quota."""
        params = {"key": key, "value": _encode(value)}
        if if_absent:
            params["if_absent"] = True
        if expected is not None:
            params["expected"] = _encode(expected)
        return bool(self._call("storage.set", params).get("stored"))

    def set_json(self, key, obj, if_absent=False, expected=None):
        """`set` with `obj` as compact JSON; `expected` is raw bytes or an object encoded the same way."""
        if expected is not None and not isinstance(expected, (bytes, bytearray, memoryview)):
            expected = _json_bytes(expected)
        return self.set(key, _json_bytes(obj), if_absent=if_absent, expected=expected)

    def delete(self, key):
        """Removes `key`; False when there was none."""
        return bool(self._call("storage.delete", {"key": key}).get("deleted"))

    def list(self, prefix="", cursor=None, limit=100, values=False):
        """One page: {"items": [{"key", "size", "value"?: bytes}], "cursor": next or None}."""
        params = {"prefix": prefix, "limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        if values:
            params["values"] = True
        result = dict(self._call("storage.list", params))
        items = []
        for item in result.get("items") or []:
            item = dict(item)
            if item.get("value") is not None:
                item["value"] = _decode(item["value"])
            items.append(item)
        result["items"] = items
        result.setdefault("cursor", None)
        return result

    def keys(self, prefix="", page_size=1000):
        """Every key starting with `prefix`, in byte order, page by page."""
        cursor = None
        while True:
            page = self.list(prefix, cursor=cursor, limit=page_size)
            for item in page["items"]:
                yield item["key"]
            if page["cursor"] is None or page["cursor"] == cursor:
                return
            cursor = page["cursor"]

    def usage(self):
        """{"bytes": used, "quota": declared}."""
        return self._call("storage.usage", {})

    def put_blob(self, name, data, chunk_size=1 << 20, algorithm="md5"):
        """Uploads `data` (bytes, str or a seekable binary file) in chunks,
        resuming an interrupted upload; returns {"name", "size", algorithm}."""
        if algorithm not in ("md5", "sha256"):
            raise ValueError("algorithm must be 'md5' or 'sha256'")
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        chunk_size = min(chunk_size, self.PIECE)
        source = _BlobSource(data)
        digest = hashlib.new(algorithm, usedforsecurity=False)
        for piece in source.pieces(0, chunk_size):
            digest.update(piece)
        begun = self.blob_begin(name, source.size, **{algorithm: digest.hexdigest()})
        upload, received = begun["upload"], int(begun.get("received") or 0)
        stalls = 0
        while received < source.size:
            piece = source.read(received, chunk_size)
            try:
                now = self.blob_append(upload, received, piece)
            except PluginError as error:
                # The host says where it stands (e.g. another worker resumed the upload): go on from there.
                if error.code != 102 or "expected_offset" not in error.details:
                    raise
                now = int(error.details["expected_offset"])
            stalls = stalls + 1 if now <= received else 0
            if stalls > 3 or now > source.size:
                raise PluginError(202, f"the upload of {name} does not advance (host at byte {now} of {source.size})")
            received = now
        return self.blob_commit(upload)

    def blob_begin(self, name, size, md5=None, sha256=None):
        """Starts (or, with the same name, size and checksum, resumes) an
        upload: {"upload": id, "received": bytes already acknowledged}."""
        if (md5 is None) == (sha256 is None):
            raise ValueError("give the blob's md5 or its sha256")
        checksum = {"md5": md5} if md5 is not None else {"sha256": sha256}
        return self._call("storage.blob.begin", {"name": name, "size": size, **checksum})

    def blob_append(self, upload, offset, data):
        """Sends the chunk starting at `offset`; returns the bytes received so far."""
        return int(self._call("storage.blob.append", {"upload": upload, "offset": offset, "data": _encode(data)})["received"])

    def blob_commit(self, upload):
        """Checks size and checksum (202 on a mismatch, nothing kept) and
        makes the upload the blob of its name: {"name", "size", algorithm}."""
        return self._call("storage.blob.commit", {"upload": upload})

    def get_blob(self, name):
        """The whole blob as bytes (read in pieces of at most 4 MiB), or None."""
        for _ in range(3):
            pieces, offset, size = [], 0, None
            while True:
                answer = self._call("storage.blob.get", {"name": name, "offset": offset, "length": self.PIECE})
                if answer.get("data") is None:
                    return None
                total = int(answer.get("size") or 0)
                if size is not None and total != size:
                    break  # replaced while we read it: start again
                size = total
                piece = _decode(answer["data"])
                pieces.append(piece)
                offset += len(piece)
                if offset >= size:
                    return b"".join(pieces)
                if not piece:
                    raise PluginError(202, f"blob {name} ended at byte {offset} of {size}")
        raise PluginError(202, f"blob {name} kept changing while it was read")

    def delete_blob(self, name):
        """Removes the blob `name`; False when there was none."""
        return bool(self._call("storage.blob.delete", {"name": name}).get("deleted"))


class _BlobSource:
    """Bytes or a seekable binary file, read by offset."""

    def __init__(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        if isinstance(data, (bytes, bytearray, memoryview)):
            self.data, self.file = memoryview(data).cast("B"), None
            self.size = len(self.data)
        else:
            self.data, self.file = None, data
            self.start = data.tell()
            self.size = data.seek(0, 2) - self.start

    def read(self, offset, length):
        if self.file is None:
            return bytes(self.data[offset : offset + length])
        self.file.seek(self.start + offset)
        return self.file.read(min(length, self.size - offset))

    def pieces(self, offset, length):
        while offset < self.size:
            piece = self.read(offset, length)
            if not piece:
                raise PluginError(302, f"the file ended at byte {offset} of {self.size}")
            yield piece
            offset += len(piece)


def _encode(value):
    """bytes or str (UTF-8) as the wire's base64 string."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"storage values are bytes or str, not {type(value).__name__}")
    return base64.b64encode(value).decode("ascii")


def _decode(text):
    return base64.b64decode(text)


def _json_bytes(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


class _Scoped:
    """Host calls made for the tenant of the call being served, if any."""

    def __init__(self, connection, tenant=None):
        self._connection = connection
        self._tenant = tenant

    def _call(self, method, params):
        if self._tenant:
            params = dict(params, tenant=self._tenant)
        return self._connection.call(method, params)


class Tools(_Scoped):
    """Other plugins' tools (needs permission.tools)."""

    def invoke(self, plugin, tool, params=None):
        return self._call("tool.invoke", {"plugin": plugin, "tool": tool, "params": params or {}})


class Models(_Scoped):
    """Model plugins (needs permission.llms)."""

    def invoke(self, plugin, model, messages, params=None):
        return self._call("model.invoke", {"plugin": plugin, "model": model, "messages": messages, "params": params or {}})


class Files(_Scoped):
    """The tenant's files: those a caller passed in a `file` parameter (a
    description with "id", "name", "size", "content_type", "md5", "sha256"),
    and files the plugin makes for its result. Only while serving a call for a tenant."""

    PIECE = 4 << 20

    def read(self, file, offset=0, length=None):
        """The file's bytes (from `offset`, `length` of them or to the end); `file` is its description or id.
        A large file is better read piece by piece with `pieces`: the plugin's memory is capped."""
        return b"".join(self.pieces(file, offset, length))

    def pieces(self, file, offset=0, length=None):
        """Yields the file's bytes in pieces of at most 4 MiB."""
        file_id = file["id"] if isinstance(file, dict) else file
        position = offset
        while length is None or position < offset + length:
            want = self.PIECE if length is None else min(self.PIECE, offset + length - position)
            answer = self._call("file.read", {"id": file_id, "offset": position, "length": want})
            data = base64.b64decode(answer.get("data", ""))
            if not data:
                return
            yield data
            position += len(data)
            if position >= answer.get("size", 0):
                return

    def create(self, name, data, content_type=None):
        """Stores `data` (bytes, at most 8 MiB) as a new file of the tenant; its description (return its "id")."""
        params = {"name": name, "data": base64.b64encode(bytes(data)).decode("ascii")}
        if content_type:
            params["content_type"] = content_type
        return self._call("file.create", params)


class Flows(_Scoped):
    """The flows of the tenant the call is for (needs permission.flows)."""

    def run(self, flow, input=None):
        """Runs the tenant's flow `flow` with `input` (an object): {"run", "status", "output"}."""
        return self._call("flow.run", {"id": flow, "input": input or {}})


class Apps(_Scoped):
    """The installed plugins ("apps"): list and get need permission.apps read, invoke write."""

    def list(self):
        """[{"id", "type", "version", "label", "description", "state"}]."""
        return self._connection.call("app.list", {})

    def get(self, id):
        """One app with its tools, models and endpoints."""
        return self._connection.call("app.get", {"id": id})

    def invoke(self, id, method, path, query=None, body=b""):
        """Calls the app's endpoint; {"status", "headers", "body": bytes}."""
        params = {"id": id, "method": method.upper(), "path": path}
        if query:
            params["query"] = {str(k): str(v) for k, v in query.items()}
        if body:
            params["body"] = _encode(body)
        result = dict(self._call("app.invoke", params) or {})
        result["body"] = _decode(result.get("body") or "")
        return result
