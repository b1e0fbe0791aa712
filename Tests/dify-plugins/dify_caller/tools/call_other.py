from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage, ToolProviderType


class CallOtherTool(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage, None, None]:
        yield from self.session.tool.invoke(
            provider_type=ToolProviderType.BUILT_IN,
            provider="dify_messages",
            tool_name="showcase",
            parameters={"text": "x"},
        )
