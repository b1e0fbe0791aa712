"""`python3 -m paddock_dify ENTRYPOINT`: serve a Dify plugin on PADDOCK_RPC_FD."""

import os
import sys

from .bridge import main

code = main(sys.argv[1:])
sys.stdout.flush()
sys.stderr.flush()
# Host calls may still wait on worker threads: leave without waiting for them.
os._exit(code)
