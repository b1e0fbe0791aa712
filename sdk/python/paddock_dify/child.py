"""The Dify plugin's process: started on pipes, written to under a lock, ended like it ended."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

# What the bridge is told and the plugin must not see.
_PRIVATE = ("PADDOCK_RPC_FD", "PADDOCK_DIFY")
# One encoder for every message: json.dumps with options builds a new one each time.
_encode = json.JSONEncoder(separators=(",", ":")).encode


class DifyProcess:
    def __init__(self, process):
        self.process = process
        self.stdout = process.stdout
        self._stdin = process.stdin
        self._lock = threading.Lock()

    @classmethod
    def start(cls, entrypoint):
        """Starts `python -m ENTRYPOINT` in the current directory, speaking on
        stdin and stdout; stderr is the bridge's, which the host reads."""
        env = {k: v for k, v in os.environ.items() if k not in _PRIVATE}
        env["INSTALL_METHOD"] = "local"
        process = subprocess.Popen(
            [sys.executable, "-m", entrypoint],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True, env=env,
        )
        return cls(process)

    def send(self, message):
        """Writes one message as a line; False when the plugin is gone."""
        data = _encode(message).encode("ascii") + b"\n"
        try:
            with self._lock:
                self._stdin.write(data)
                self._stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def alive(self):
        return self.process.poll() is None

    def kill(self):
        """SIGKILL: a Dify plugin does not stop when its stdin closes."""
        try:
            self.process.kill()
        except OSError:
            pass

    def wait(self):
        return self.process.wait()


def end_like(status):
    """Ends the bridge as the plugin ended, so that the host classifies the
    death as a native plugin's: the same signal, or the same exit status
    (0 becomes 1: a plugin must not stop on its own). Main thread only."""
    sys.stdout.flush()
    sys.stderr.flush()
    if status < 0:
        number = -status
        with contextlib.suppress(OSError, ValueError):  # SIGKILL cannot be reset, nor needs to be
            signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        time.sleep(1)  # a signal whose default is to be ignored falls through
        os._exit(128 + number)
    os._exit(status or 1)
