from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

STEP = 50 * 1024 * 1024


class HogTool(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage, None, None]:
        hoard = []
        while True:
            # filled, not just reserved: every page is written, so it counts
            # against resident memory and not only the address space
            hoard.append(bytearray(b"\x5a") * STEP)
