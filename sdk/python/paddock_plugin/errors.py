"""Coded errors a handler may raise; the catalog is Paddock's README."""


class PluginError(Exception):
    """An error with a Paddock catalog code, e.g. 201 for a failing third-party API."""

    def __init__(self, code, message, details=None):
        super().__init__(message)
        self.code = int(code)
        self.message = str(message)
        self.details = {str(k): str(v) for k, v in (details or {}).items()}


class UpstreamError(PluginError):
    """A third-party API call failed (201)."""

    def __init__(self, message, details=None):
        super().__init__(201, message, details)


class Cancelled(PluginError):
    """The host cancelled the call (its deadline passed)."""

    def __init__(self):
        super().__init__(204, "the call was cancelled")
