"""What a handler gets besides its arguments: settings, logging, host calls."""

import threading

from .errors import Cancelled


class Context:
    def __init__(self, connection, call_id, settings, credentials):
        self._connection = connection
        self.call_id = call_id
        self.settings = settings
        self.credentials = credentials
        self._cancelled = threading.Event()
        self.storage = Storage(connection)
        self.tools = Tools(connection)
        self.models = Models(connection)

    @property
    def cancelled(self):
        """True once the host cancelled this call; long handlers should check it."""
        return self._cancelled.is_set()

    def check_cancelled(self):
        """Raises Cancelled when the host cancelled this call."""
        if self._cancelled.is_set():
            raise Cancelled()

    def log(self, message, level="info", **fields):
        """Sends a log line to the host, tied to this call."""
        self._connection.notify(
            "log", {"level": level, "message": str(message), "call": self.call_id, "fields": {k: str(v) for k, v in fields.items()}}
        )

    def stream(self, chunk):
        """Sends a partial result now (yielding from the handler does the same)."""
        self._connection.notify("stream.chunk", {"id": self.call_id, "chunk": chunk})


class Storage:
    """The plugin's key-value store on the host (needs permission.storage)."""

    def __init__(self, connection):
        self._connection = connection

    def get(self, key):
        return self._connection.call("storage.get", {"key": key})

    def set(self, key, value):
        return self._connection.call("storage.set", {"key": key, "value": value})

    def delete(self, key):
        return self._connection.call("storage.delete", {"key": key})

    def list(self, prefix="", cursor=None, limit=100):
        return self._connection.call("storage.list", {"prefix": prefix, "cursor": cursor, "limit": limit})

    def usage(self):
        return self._connection.call("storage.usage", {})


class Tools:
    """Other plugins' tools (needs permission.tools)."""

    def __init__(self, connection):
        self._connection = connection

    def invoke(self, plugin, tool, params=None):
        return self._connection.call("tool.invoke", {"plugin": plugin, "tool": tool, "params": params or {}})


class Models:
    """Model plugins (needs permission.llms)."""

    def __init__(self, connection):
        self._connection = connection

    def invoke(self, plugin, model, messages, params=None):
        return self._connection.call(
            "model.invoke", {"plugin": plugin, "model": model, "messages": messages, "params": params or {}}
        )
