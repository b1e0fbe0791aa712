"""Runs an unmodified Dify plugin as a Paddock plugin (standard library only; Python 3.11+).

Paddock starts it, in the Dify plugin's directory, as

    python3 -m paddock_dify main

with the socket to the host in PADDOCK_RPC_FD and what the plugin declares in
PADDOCK_DIFY. The bridge starts the plugin as `python -m main`, speaks Dify's
local stdio protocol with it, and answers Paddock's protocol for it.
"""

VERSION = "0.1.0"
SDK = f"paddock-dify/{VERSION}"
