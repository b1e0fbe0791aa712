"""Paddock's Python plugin SDK (standard library only; Python 3.11+).

    from paddock_plugin import Plugin, PluginError

    plugin = Plugin()

    @plugin.tool("echo")
    def echo(params, context):
        return params

Paddock starts a plugin as `python3 -m paddock_plugin main.py` in its
directory, with the socket to the host in PADDOCK_RPC_FD.
"""

from .context import Context
from .errors import Cancelled, PluginError, UpstreamError
from .plugin import Plugin
from .request import Request

__all__ = ["Cancelled", "Context", "Plugin", "PluginError", "Request", "UpstreamError"]
