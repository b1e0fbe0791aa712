import struct
import zlib
from collections.abc import Generator
from typing import Any
from urllib.parse import quote

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage


def _square_png(size: int = 96) -> bytes:
    """A size x size RGB gradient square, stored uncompressed (about 27 KiB),
    so that the blob spans several 8 KiB blob chunks."""
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type: none
        for x in range(size):
            rows += bytes((x * 255 // (size - 1), y * 255 // (size - 1), 160))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 0))
        + chunk(b"IEND", b"")
    )


SQUARE_PNG = _square_png()


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


class ShowcaseTool(Tool):
    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage, None, None]:
        text = str(tool_parameters.get("text", ""))
        count = tool_parameters.get("count")
        count = 2 if count in (None, "") else min(5, max(1, int(float(count))))
        loud = _flag(tool_parameters.get("loud", False))
        style = tool_parameters.get("style") or "plain"
        if style not in ("plain", "fancy"):
            raise ValueError(f"unknown style {style!r}")
        token = tool_parameters.get("token")

        shown = text.upper() if loud else text
        if style == "fancy":
            shown = f"*~ {shown} ~*"

        yield self.create_text_message(" ".join([shown] * count))
        yield self.create_json_message(
            {
                "text": text,
                "count": count,
                "loud": loud,
                "style": style,
                "has_token": bool(token),
                "region": self.runtime.credentials.get("region") or "eu",
            }
        )
        yield self.create_link_message(f"https://example.com/dify_messages?text={quote(text)}")
        yield self.create_image_message("https://example.com/dify_messages/square.png")
        yield self.create_variable_message("shown", shown)
        yield self.create_blob_message(
            blob=SQUARE_PNG,
            meta={"mime_type": "image/png", "filename": "square.png"},
        )
