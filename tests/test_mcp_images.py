"""Images in MCP tool results: a real server written with the SDK (tests/mcp_servers/pictures.py)
returns them over stdio; `glmcode exec` against the fake GLM shows what each model is sent:
the image itself after the tool messages (a model that sees), the vision model's words (a text
model), or a note (no vision model, or an image that cannot be sent)."""

from __future__ import annotations

import base64
import io
import json
import os
import sys
from pathlib import Path

import pytest
from conftest import run_glmcode
from PIL import Image as Pillow

from glmcode.agent.compaction import _fit, latest_prompt
from glmcode.agent.drive import drive
from glmcode.agent.loop import Agent
from glmcode.agent.tool_calls import ToolRunner
from glmcode.agent.tool_images import Returned, is_images_message, message, settle
from glmcode.events import ToolCallFinished
from glmcode.images.load import decode_image
from glmcode.llm.client import GLMClient
from glmcode.llm.content import has_images
from glmcode.llm.types import ClientConfig
from glmcode.mcp.images import checked
from glmcode.mcp.state import RemoteImage
from glmcode.permissions.policy import Policy
from glmcode.tools.base import ImagesSeen, Param, Tool, ToolContext, ToolError, ToolResult
from glmcode.tools.registry import Registry

PICTURES = Path(__file__).resolve().parent / "mcp_servers" / "pictures.py"
KEY = "test-key-mcp-images-7c2e"
DESCRIPTION = "A blue rectangle, 40x30, no text."
SLOW_START = 60  # a server written in Python takes seconds to import its SDK on a busy machine


def _chart_png() -> bytes:
    """What the server's `chart` draws, drawn the same way."""
    out = io.BytesIO()
    Pillow.new("RGB", (40, 30), "blue").save(out, "PNG")
    return out.getvalue()


def _config(extra: str = "") -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "glmcode" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"{extra}\n[mcp_servers.pictures]\ncommand = {json.dumps(sys.executable)}\n"
        f"args = [{json.dumps(str(PICTURES))}]\nstartup_timeout_s = {SLOW_START}\n"
    )


def _env(fake: object) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url}  # type: ignore[attr-defined]


def _call(tool: str, call_id: str = "c1") -> dict:
    return {"tool_calls": [{"name": f"mcp__pictures__{tool}", "arguments": {}, "id": call_id}]}


def _image_parts(messages: list[dict]) -> list[bytes]:
    found = []
    for m in messages:
        for part in m["content"] if isinstance(m["content"], list) else ():
            if part["type"] == "image_url":
                found.append(base64.b64decode(part["image_url"]["url"].split(",", 1)[1]))
    return found


def _png(size: tuple[int, int] = (8, 6)) -> bytes:
    out = io.BytesIO()
    Pillow.new("RGB", size, "green").save(out, "PNG")
    return out.getvalue()


# -- the parts --------------------------------------------------------------------------------


def test_each_image_is_checked_and_one_that_cannot_be_sent_becomes_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    good = base64.b64encode(_png()).decode()
    words = base64.b64encode(b"not a picture at all").decode()
    found = checked(
        [RemoteImage("image/png", good), RemoteImage("image/png", "%%%"), RemoteImage("image/png", words)], "mcp__s__t"
    )
    assert [i.label() for i in found.images] == ["[image 1 from mcp__s__t 8x6]"]
    assert found.notes == (
        "[image 2 of the result (image/png) is left out: its data is not valid base64]",
        "[image 3 of the result (image/png) is left out: it is not an image (PNG, JPEG, WebP or GIF)]",
    )
    wrapped = "\n".join(good[i:i + 76] for i in range(0, len(good), 76))  # base64 as mail writes it
    assert len(checked([RemoteImage("image/png", wrapped)], "t").images) == 1
    monkeypatch.setattr("glmcode.mcp.images.MAX_FILE_BYTES", 100)
    [too_big] = checked([RemoteImage("image/png", "A" * 400)], "t").notes
    assert "is left out: it is over" in too_big


def test_a_result_says_where_its_images_went() -> None:
    image = decode_image(_png(), "1 from mcp__s__t")
    result = ToolResult("a chart:", images=(image,))

    seen = settle(result, "mcp__s__t", True, None)
    assert seen.images == (image,) and seen.output == "a chart:\n[1 image returned (PNG 8x6); it follows in the next message]"

    asked: list[str] = []

    def see(images, context):  # type: ignore[no-untyped-def]
        asked.append(context)
        return ImagesSeen("[image 1 from mcp__s__t 8x6], described by glm-4.6v: green", 0.002)

    described = settle(result, "mcp__s__t", False, see)
    assert described.images == () and described.output.endswith("described by glm-4.6v: green")
    assert described.data == {"cost_usd": 0.002} and "mcp__s__t" in asked[0] and "a chart:" in asked[0]

    def broken(images, context):  # type: ignore[no-untyped-def]
        raise ToolError("glm-4.6v could not describe them: overloaded")

    failed = settle(result, "mcp__s__t", False, broken)
    assert failed.images == () and failed.output.endswith("left out: glm-4.6v could not describe them: overloaded]")
    noted = settle(result, "mcp__s__t", False, None)
    assert noted.images == () and "cannot see images and no vision model is set" in noted.output
    assert "vision_model" in noted.output and "--model glm-4.6v" in noted.output
    assert settle(ToolResult("text only"), "t", True, None) == ToolResult("text only")


def test_the_images_message_is_no_prompt_and_compaction_drops_its_images_first() -> None:
    image = decode_image(_png(), "1 from mcp__s__t")
    shown = message([Returned("mcp__s__t", (image,))])
    assert shown is not None and is_images_message(shown) and message([]) is None
    assert shown["content"][0] == {"type": "text", "text": "Images returned by tool mcp__s__t:"}
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "draw the chart"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "mcp__s__t", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "x" * 2000},
        shown,
        {"role": "assistant", "content": "A green chart."},
    ]
    assert latest_prompt(messages) == 1  # the user's request, not the images that followed a tool
    assert _fit(messages, 1, None, 3000, 3.0) == 1
    assert not has_images(messages[4]) and messages[4]["content"][0]["text"].startswith("Images returned by tool")
    assert messages[3]["content"] == "x" * 2000  # dropping the image was enough


def test_the_tool_line_says_how_many_images_came_back() -> None:
    from rich.console import Console

    from glmcode.ui.tui import tool_view

    event = ToolCallFinished("c1", "mcp__pictures__chart", "Sales by month:\n[2 images returned ...]", False, 0.2, images=2)
    out = io.StringIO()
    Console(file=out, width=100).print(tool_view.finished(event, {}))
    assert out.getvalue() == "● mcp__pictures__chart  Sales by month · 2 images returned\n"


# -- end to end -------------------------------------------------------------------------------


def test_a_model_that_sees_gets_the_image_right_after_the_tool_message(fake_glm, tmp_path: Path) -> None:
    _config()
    fake = fake_glm([_call("chart"), {"content": "The chart is blue."}])
    proc = run_glmcode(["exec", "--full-auto", "--model", "glm-4.6v", "-v", "show the chart"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "The chart is blue.\n"
    assert "mcp__pictures__chart ok (1 image returned): Sales by month" in proc.stderr
    messages = fake.requests[1].body["messages"]
    tool, shown = messages[-2:]
    assert tool["role"] == "tool" and tool["content"] == (
        "Sales by month, as a bar chart:\n[1 image returned (PNG 40x30); it follows in the next message]"
    )
    assert shown["role"] == "user"
    assert shown["content"][0] == {"type": "text", "text": "Images returned by tool mcp__pictures__chart:"}
    assert _image_parts([shown]) == [_chart_png()]


def test_an_image_embedded_as_a_resource_goes_on_as_the_image(fake_glm, tmp_path: Path) -> None:
    _config()
    fake = fake_glm([_call("snapshot"), {"content": "Blue."}])
    proc = run_glmcode(["exec", "--full-auto", "--model", "glm-4.6v", "show the snapshot"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    tool, shown = fake.requests[1].body["messages"][-2:]
    assert tool["content"] == "The snapshot:\n[1 image returned (PNG 40x30); it follows in the next message]"
    assert _image_parts([shown]) == [_chart_png()]


def test_a_text_model_gets_the_vision_models_description_in_the_result(fake_glm, tmp_path: Path) -> None:
    _config()
    fake = fake_glm([
        _call("chart"),
        {"by_model": {"glm-4.6v": {"content": DESCRIPTION}}},
        {"by_model": {"glm-4.6": {"content": "It is a blue chart."}}},
    ])
    proc = run_glmcode(["exec", "--full-auto", "-o", "stream-json", "show the chart"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    first, vision, last = (r.body for r in fake.requests)
    assert [first["model"], vision["model"], last["model"]] == ["glm-4.6", "glm-4.6v", "glm-4.6"]
    assert _image_parts(vision["messages"]) == [_chart_png()]
    assert "mcp__pictures__chart" in json.dumps(vision["messages"][-1])
    assert _image_parts(last["messages"]) == [] and last["messages"][-1]["role"] == "tool"
    result = last["messages"][-1]["content"]
    assert result.startswith("Sales by month, as a bar chart:\n[image 1 from mcp__pictures__chart 40x30], described by glm-4.6v")
    assert result.endswith(DESCRIPTION)
    [finished] = [e for e in map(json.loads, proc.stdout.splitlines()) if e["type"] == "tool_result"]
    assert finished["images"] == 1 and DESCRIPTION in finished["output"]
    assert finished["data"]["cost_usd"] > 0  # the vision model's request is counted in the session's cost


def test_when_the_vision_model_fails_a_text_model_gets_a_note(fake_glm, tmp_path: Path) -> None:
    _config()
    fake = fake_glm([
        _call("chart"),
        {"by_model": {"glm-4.6v": {"error": {"status": 400, "code": "1214", "message": "image too odd"}}}},
        {"content": "I could not see it."},
    ])
    proc = run_glmcode(["exec", "--full-auto", "show the chart"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "I could not see it.\n"
    result = fake.requests[2].body["messages"][-1]["content"]
    assert result.startswith("Sales by month, as a bar chart:\n[1 image returned (PNG 40x30), left out: glm-4.6v could not describe them:")
    assert "image too odd" in result and _image_parts(fake.requests[2].body["messages"]) == []


def _loop(fake: object, model: str, tmp_path: Path) -> Agent:
    """An agent whose two tools each return an image, with no vision model beside it."""
    image = decode_image(_png(), "1 from draw")

    def draw(args: dict, ctx: ToolContext) -> ToolResult:
        return ToolResult(f"drawn {args['what']}", images=(image,))

    registry = Registry([Tool("draw", "Draws.", (Param("what", "string", "What."),), "mcp", draw)])
    client = GLMClient(ClientConfig(api_key="k", base_url=fake.base_url, model=model), sleep=lambda s: None)  # type: ignore[attr-defined]
    runner = ToolRunner(registry, Policy("full-auto"), ToolContext(workspace=tmp_path), None)
    return Agent(client, runner, system_prompt="You test.", context_window=204_800, cost=lambda u: 0.0)


def test_one_message_carries_a_steps_images_and_without_a_vision_model_a_note_stays(fake_glm, tmp_path: Path) -> None:
    calls = {"tool_calls": [{"name": "draw", "arguments": {"what": "a"}, "id": "c1"}, {"name": "draw", "arguments": {"what": "b"}, "id": "c2"}]}
    fake = fake_glm([calls, {"content": "two charts"}, calls, {"content": "cannot see"}])
    events: list = []
    drive(_loop(fake, "glm-4.6v", tmp_path).run("draw two"), events.append)
    assert [e.images for e in events if isinstance(e, ToolCallFinished)] == [1, 1]
    messages = fake.requests[1].body["messages"]
    assert [m["role"] for m in messages[-3:]] == ["tool", "tool", "user"]
    assert [p.get("text") for p in messages[-1]["content"]] == [
        "Images returned by tool draw:", None, "Images returned by tool draw:", None,
    ]
    assert _image_parts(messages) == [_png(), _png()]

    drive(_loop(fake, "glm-4.6", tmp_path).run("draw two"), lambda e: None)
    messages = fake.requests[3].body["messages"]
    assert [m["role"] for m in messages[-3:]] == ["assistant", "tool", "tool"] and _image_parts(messages) == []
    assert messages[-1]["content"].startswith("drawn b\n[1 image returned (PNG 8x6), left out: the current model cannot see images")


def test_an_image_that_cannot_be_sent_becomes_a_note_even_for_a_model_that_sees(fake_glm, tmp_path: Path) -> None:
    _config()
    fake = fake_glm([_call("smudged", "c1"), _call("scribble", "c2"), {"content": "Both are broken."}])
    proc = run_glmcode(["exec", "--full-auto", "--model", "glm-4.6v", "look"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    messages = fake.requests[2].body["messages"]
    assert _image_parts(messages) == [] and not any(m["role"] == "user" and isinstance(m["content"], list) for m in messages)
    smudged, scribble = (m["content"] for m in messages if m["role"] == "tool")
    assert smudged == "A smudged picture:\n[image 1 of the result (image/png) is left out: its data is not valid base64]"
    assert scribble == "[image 1 of the result (image/png) is left out: it is not an image (PNG, JPEG, WebP or GIF)]"


def test_the_session_keeps_a_reference_and_resume_sends_the_image_again(fake_glm, tmp_path: Path) -> None:
    _config()
    state = Path(os.environ["XDG_STATE_HOME"])
    fake = fake_glm([_call("chart"), {"content": "Blue."}, {"content": "Still blue."}])
    first = run_glmcode(["exec", "--full-auto", "--model", "glm-4.6v", "-o", "json", "show the chart"], tmp_path, _env(fake))
    assert first.returncode == 0, first.stderr
    session_id = json.loads(first.stdout)["session_id"]
    [log] = list(state.rglob(f"{session_id}.jsonl"))
    text = log.read_text()
    assert "glmcode-image:" in text and base64.b64encode(_chart_png()).decode()[:40] not in text
    again = run_glmcode(["exec", "--full-auto", "--model", "glm-4.6v", "--resume", session_id, "and now?"], tmp_path, _env(fake))
    assert again.returncode == 0, again.stderr
    messages = fake.requests[2].body["messages"]
    roles = [m["role"] for m in messages]
    assert roles[-5:] == ["assistant", "tool", "user", "assistant", "user"]
    assert _image_parts([messages[-3]]) == [_chart_png()]
