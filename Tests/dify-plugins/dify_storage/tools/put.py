from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage


class PutTool(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage, None, None]:
        key = str(tool_parameters["key"])
        value = str(tool_parameters.get("value", ""))
        self.session.storage.set(key, value.encode())
        yield self.create_text_message("stored")
