"""Dify's session errors in Paddock's catalog."""

import json
import re

# The SDK's exceptions that say the credentials were refused.
_CREDENTIAL_ERRORS = frozenset({
    "ToolProviderCredentialValidationError",
    "CredentialsValidateFailedError",
    "DatasourceCredentialValidationError",
    "TriggerProviderCredentialValidationError",
})

# How the bridge words a failed host call to the plugin (see backwards.py);
# the SDK raises it as a plain Exception, which a tool may let through.
_HOST_ERROR = re.compile(r"\(paddock error ([1-3]\d\d)\)$")


def host_error_text(message, code):
    """A failed host call as the plugin's SDK will raise it."""
    return f"{message} (paddock error {code})"


def coded(error):
    """The (code, message, details) of a Dify error: {"error_type", "message", "args"}."""
    kind = str(error.get("error_type") or "Exception")
    message = str(error.get("message") or "")
    if kind == "MemoryError":
        return 301, "MemoryError: the plugin ran out of memory", {}
    if "File too large" in message or "No space left" in message:
        return 302, f"{kind}: {message}", {}
    if kind in _CREDENTIAL_ERRORS:
        return 101, message or kind, {"error_type": kind}
    host = _HOST_ERROR.search(message) if kind == "Exception" else None
    if host is not None:
        return int(host.group(1)), message, {"error_type": kind}
    args = json.dumps(error.get("args") or {}, ensure_ascii=False, default=str)
    return 203, f"{kind}: {message}" if message else kind, {"error_type": kind, "args": args}
