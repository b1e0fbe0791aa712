"""`python3 -m paddock_plugin ENTRYPOINT`: serve a plugin on PADDOCK_RPC_FD."""

import os
import sys

from .server import main

code = main(sys.argv[1:])
sys.stdout.flush()
sys.stderr.flush()
# Handler threads may still run: leave without waiting for them.
os._exit(code)
