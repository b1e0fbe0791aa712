import os
import socket
from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage


def attempt(action) -> str:
    try:
        action()
        return "ok"
    except OSError as error:
        return f"errno {error.errno}"


def write(path: str) -> None:
    with open(path, "w") as file:
        file.write("x")


class ProbeTool(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage, None, None]:
        home = os.environ.get("HOME", "")
        yield self.create_json_message({
            "home": home,
            "home_writable": attempt(lambda: write(os.path.join(home, "probe.txt"))),
            "tmp_writable": attempt(lambda: write("/tmp/probe.txt")),
            "plugin_writable": attempt(lambda: write(os.path.join(os.getcwd(), "probe.txt"))),
            "inet_socket": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()),
            "inet6_socket": attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()),
            "environment": sorted(os.environ),
            "uid": os.getuid(),
        })
