"""A small MCP server whose tools return images, on the SDK's own server API; serves stdio."""

from __future__ import annotations

import base64
import io

from mcp.server.mcpserver import Image, MCPServer
from mcp_types import BlobResourceContents, EmbeddedResource, ImageContent
from PIL import Image as Pillow

app = MCPServer("pictures")


@app.tool()
def chart() -> list[str | Image]:
    """Draws the sales chart: 40x30 pixels, blue."""
    out = io.BytesIO()
    Pillow.new("RGB", (40, 30), "blue").save(out, "PNG")
    return ["Sales by month, as a bar chart:", Image(data=out.getvalue(), format="png")]


@app.tool()
def snapshot() -> list[str | EmbeddedResource]:
    """Returns the chart as an embedded resource, as a screenshot tool might."""
    out = io.BytesIO()
    Pillow.new("RGB", (40, 30), "blue").save(out, "PNG")
    blob = BlobResourceContents(uri="shot://chart.png", mime_type="image/png", blob=base64.b64encode(out.getvalue()).decode())
    return ["The snapshot:", EmbeddedResource(type="resource", resource=blob)]


@app.tool()
def smudged() -> list[str | ImageContent]:
    """Returns a picture whose data is not base64."""
    return ["A smudged picture:", ImageContent(type="image", data="not base64 at all!", mime_type="image/png")]


@app.tool()
def scribble() -> list[Image]:
    """Returns text that calls itself a PNG."""
    return [Image(data=b"just some words, not a picture\n", format="png")]


if __name__ == "__main__":
    app.run()
