"""Images: real PNG and JPEG files, read and routed to a model that can see them, against the
fake GLM server; the requests show which model got what."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image as Pillow

from conftest import run_glmcode
from glmcode.images.load import MAX_SIDE, ImageError, load_image
from glmcode.images.store import from_references, to_references
from glmcode.llm.content import has_images
from glmcode.llm.request import build_body
from glmcode.llm.types import ClientConfig

KEY = "test-key-images-5e1c"
DESCRIPTION = "A terminal. Red text, verbatim: TypeError: cannot read 'x' of undefined (app.js:12)"


def _png(path: Path, size: tuple[int, int] = (320, 200), colour: str = "red") -> Path:
    Pillow.new("RGB", size, colour).save(path, "PNG")
    return path


def _jpeg(path: Path) -> Path:
    Pillow.new("RGB", (64, 48), "blue").save(path, "JPEG")
    return path


def _env(fake: object, **extra: str) -> dict[str, str]:
    return {"ZAI_API_KEY": KEY, "GLMCODE_BASE_URL": fake.base_url, **extra}  # type: ignore[attr-defined]


def _image_parts(body: dict) -> list[bytes]:
    """The decoded bytes of every image part in a request."""
    found = []
    for message in body["messages"]:
        if isinstance(message["content"], list):
            for part in message["content"]:
                if part["type"] == "image_url":
                    header, data = part["image_url"]["url"].split(",", 1)
                    assert header.startswith("data:image/") and header.endswith(";base64")
                    found.append(base64.b64decode(data))
    return found


# -- reading ----------------------------------------------------------------------------------


def test_png_and_jpeg_are_read_as_they_are(tmp_path: Path) -> None:
    png = load_image(_png(tmp_path / "shot.png"), name="shot.png")
    assert (png.media_type, png.width, png.height, png.scaled_from) == ("image/png", 320, 200, None)
    assert png.data == (tmp_path / "shot.png").read_bytes()
    assert png.label() == "[image shot.png 320x200]"
    jpeg = load_image(_jpeg(tmp_path / "photo.jpg"))
    assert jpeg.media_type == "image/jpeg" and (jpeg.width, jpeg.height) == (64, 48)


def test_a_large_image_is_scaled_down_before_it_is_sent(tmp_path: Path) -> None:
    image = load_image(_png(tmp_path / "wide.png", (4000, 1000)))
    assert image.scaled_from == (4000, 1000)
    assert (image.width, image.height) == (MAX_SIDE, 512)
    with Pillow.open(io.BytesIO(image.data)) as sent:
        assert sent.size == (MAX_SIDE, 512)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.png", b"just some text, not a picture\n", "is not an image"),
        ("broken.png", None, "damaged image"),
        ("icon.bmp", None, "glmcode sends PNG, JPEG, WebP and GIF"),
    ],
)
def test_files_that_are_no_image_glmcode_sends_are_refused_clearly(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if name == "broken.png":
        whole = _png(tmp_path / "whole.png", (200, 200)).read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif name == "icon.bmp":
        Pillow.new("RGB", (8, 8)).save(path, "BMP")
    else:
        path.write_bytes(content or b"")
    with pytest.raises(ImageError, match=message) as info:
        load_image(path, name=name)
    assert name in str(info.value)


def test_a_missing_image_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="missing.png: no such file"):
        load_image(tmp_path / "missing.png", name="missing.png")


# -- the wire ---------------------------------------------------------------------------------


def _with_image(url: str = "data:image/png;base64,AAAA") -> list[dict]:
    return [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": url}}]},
    ]


def test_a_text_model_is_never_sent_an_image_part() -> None:
    config = ClientConfig(api_key="k", base_url="http://127.0.0.1:1")
    body = build_body(config, _with_image(), None, stream=True)
    assert not any(has_images(m) for m in body["messages"])
    assert body["messages"][1]["content"][1] == {"type": "text", "text": "[an image was attached here; this model cannot see images]"}
    seeing = build_body(ClientConfig(api_key="k", base_url="http://127.0.0.1:1", model="glm-4.6v"), _with_image(), None, stream=True)
    assert has_images(seeing["messages"][1])


def test_the_fake_server_refuses_images_for_a_text_model(fake_glm) -> None:
    import httpx

    fake = fake_glm([{"content": "seen"}])
    body = {"model": "glm-4.6", "messages": _with_image(), "stream": False}
    reply = httpx.post(fake.base_url + "/chat/completions", json=body, headers={"Authorization": "Bearer k"})
    assert reply.status_code == 400 and "does not take image input" in reply.text
    reply = httpx.post(fake.base_url + "/chat/completions", json={**body, "model": "glm-4.6v"}, headers={"Authorization": "Bearer k"})
    assert reply.status_code == 200


def test_stored_images_turn_into_references_and_back(tmp_path: Path) -> None:
    data = _png(tmp_path / "a.png").read_bytes()
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    message = _with_image(url)[1]
    stored = to_references(message, tmp_path / "images")
    ref = stored["content"][1]["image_url"]["url"]
    assert ref.startswith("glmcode-image:") and "base64" not in json.dumps(stored)
    assert [p.read_bytes() for p in (tmp_path / "images").iterdir()] == [data]
    assert from_references(stored, tmp_path / "images") == message
    for p in (tmp_path / "images").iterdir():
        p.unlink()
    gone = from_references(stored, tmp_path / "images")
    assert not has_images(gone) and "is gone" in gone["content"][1]["text"]


# -- exec -------------------------------------------------------------------------------------


def test_exec_image_is_described_by_the_vision_model_for_the_main_model(fake_glm, tmp_path: Path) -> None:
    shot = _png(tmp_path / "error.png")
    fake = fake_glm([
        {"by_model": {"glm-4.6v": {"content": DESCRIPTION}}},
        {"by_model": {"glm-4.6": {"content": "Because x is undefined on line 12."}}},
    ])
    proc = run_glmcode(["exec", "--image", "error.png", "why does this fail?"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Because x is undefined on line 12.\n"
    vision, main = fake.requests
    assert vision.body["model"] == "glm-4.6v"
    assert _image_parts(vision.body) == [shot.read_bytes()]
    assert "why does this fail?" in json.dumps(vision.body["messages"][-1])
    assert main.body["model"] == "glm-4.6" and _image_parts(main.body) == []
    user = main.body["messages"][-1]["content"]
    assert user.startswith("why does this fail?") and DESCRIPTION in user and "[image error.png 320x200]" in user


def test_exec_with_a_vision_model_sends_the_image_itself(fake_glm, tmp_path: Path) -> None:
    shot = _jpeg(tmp_path / "mock.jpg")
    fake = fake_glm([{"content": "A blue rectangle."}])
    proc = run_glmcode(["exec", "--model", "glm-4.6v", "--image", str(shot), "what is this?"], tmp_path, _env(fake))
    assert proc.returncode == 0, proc.stderr
    [request] = fake.requests
    assert request.body["model"] == "glm-4.6v" and _image_parts(request.body) == [shot.read_bytes()]


def test_native_mode_runs_the_turn_on_the_vision_model_with_tools(fake_glm, tmp_path: Path) -> None:
    _png(tmp_path / "ui.png")
    (tmp_path / "app.css").write_text("button { color: red }\n")
    config = tmp_path / "home" / ".config" / "glmcode"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('image_mode = "native"\n')
    fake = fake_glm([
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.css"}}]},
        {"content": "The button is red because of app.css."},
    ])
    env = _env(fake, HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"))
    proc = run_glmcode(["exec", "--image", "ui.png", "why is the button red?"], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert [r.body["model"] for r in fake.requests] == ["glm-4.6v", "glm-4.6v"]
    assert "button { color: red }" in json.dumps(fake.requests[1].body["messages"])
    assert all(len(_image_parts(r.body)) == 1 for r in fake.requests)
    assert "tools" in fake.requests[0].body


@pytest.mark.parametrize(("image", "said"), [("missing.png", "missing.png: no such file"), ("notes.txt", "is not an image")])
def test_exec_with_a_bad_image_exits_2_and_sends_nothing(fake_glm, tmp_path: Path, image: str, said: str) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    fake = fake_glm([{"content": "never"}])
    proc = run_glmcode(["exec", "--image", image, "x"], tmp_path, _env(fake))
    assert proc.returncode == 2
    assert said in proc.stderr and "nothing was sent" in proc.stderr
    assert fake.requests == []


def test_the_session_file_holds_a_reference_and_resume_brings_the_image_back(fake_glm, tmp_path: Path) -> None:
    shot = _png(tmp_path / "s.png")
    state = tmp_path / "state"
    fake = fake_glm([{"content": "seen"}, {"content": "still seen"}])
    env = _env(fake, XDG_STATE_HOME=str(state))
    first = run_glmcode(["exec", "--model", "glm-4.6v", "--image", "s.png", "look", "-o", "json"], tmp_path, env)
    assert first.returncode == 0, first.stderr
    session_id = json.loads(first.stdout)["session_id"]
    [log] = list(state.rglob(f"{session_id}.jsonl"))
    assert "base64" not in log.read_text() and "glmcode-image:" in log.read_text()
    assert [p.read_bytes() for p in (state / "glmcode" / "images").glob("*.png")] == [shot.read_bytes()]
    again = run_glmcode(["exec", "--model", "glm-4.6v", "--resume", session_id, "and now?"], tmp_path, env)
    assert again.returncode == 0, again.stderr
    assert _image_parts(fake.requests[1].body) == [shot.read_bytes()]


def test_read_file_on_an_image_gets_it_in_words(fake_glm, tmp_path: Path) -> None:
    from glmcode.images.viewer import ImageViewer
    from glmcode.tools.base import ToolContext
    from glmcode.tools.read_file import TOOL

    _png(tmp_path / "diagram.png")
    fake = fake_glm([{"by_model": {"glm-4.6v": {"content": "Two boxes joined by an arrow."}}}])
    config = ClientConfig(api_key="k", base_url=fake.base_url)
    ctx = ToolContext(workspace=tmp_path, see_image=ImageViewer(config, "glm-4.6v"))
    result = TOOL.run({"path": "diagram.png", "offset": 1, "limit": 2000}, ctx)
    assert result.output.startswith("[image diagram.png 320x200], described by glm-4.6v")
    assert "Two boxes joined by an arrow." in result.output
    assert _image_parts(fake.requests[0].body) == [(tmp_path / "diagram.png").read_bytes()]


def test_mentions_and_pasted_paths_attach_images(tmp_path: Path) -> None:
    from glmcode.ui.tui.mentions import expand_mentions

    _png(tmp_path / "shot.png")
    spaced = _png(tmp_path / "Screen Shot 1.png")
    expanded = expand_mentions(f"see @shot.png and '{spaced}' please", tmp_path)
    assert [name for name, _ in expanded.images] == [str(spaced), "shot.png"]
    assert "<attached" not in expanded.message


def test_the_interactive_session_shows_the_chip_and_the_description(fake_glm, tmp_path: Path) -> None:
    from tui_harness import Term

    project = tmp_path / "project"
    project.mkdir()
    _png(project / "bug.png")
    fake = fake_glm([
        {"by_model": {"glm-4.6v": {"content": DESCRIPTION}}},
        {"by_model": {"glm-4.6": {"content": "It is the undefined x."}}},
    ])
    term = Term([], project, fake.base_url)
    try:
        term.wait(lambda _: "(shift-tab)" in term.bottom())
        term.send("what is wrong in @bug.png\r")
        screen = term.wait("It is the undefined x.")
        assert "attached [image bug.png 320x200]" in screen
        assert "glm-4.6v described [image bug.png 320x200]" in screen, screen
        assert [r.body["model"] for r in fake.requests] == ["glm-4.6v", "glm-4.6"]
        assert _image_parts(fake.requests[1].body) == []
    finally:
        term.close()


def _imported(stderr: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_a_turn_without_images_and_version_never_import_pillow(fake_glm, tmp_path: Path) -> None:
    fake = fake_glm([{"content": "ok"}])
    turn = run_glmcode(["exec", "hi"], tmp_path, _env(fake, PYTHONPROFILEIMPORTTIME="1"))
    version = run_glmcode(["--version"], tmp_path, {"PYTHONPROFILEIMPORTTIME": "1"})
    for proc in (turn, version):
        assert proc.returncode == 0, proc.stderr[-2000:]
        modules = _imported(proc.stderr)
        assert "glmcode" in modules
        assert not any(m == "PIL" or m.startswith("PIL.") for m in modules)


def test_compaction_drops_old_images_before_old_text() -> None:
    from glmcode.agent.compaction import _fit

    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": [{"type": "text", "text": "the old screenshot"}, image]},
        {"role": "assistant", "content": "I see a red button."},
        {"role": "tool", "tool_call_id": "1", "content": "x" * 2000},
        {"role": "user", "content": [{"type": "text", "text": "and this one?"}, image]},
    ]
    assert _fit(messages, 1, None, 6000, 3.0) == 1
    assert not has_images(messages[1]) and messages[1]["content"][0]["text"] == "the old screenshot"
    assert messages[3]["content"] == "x" * 2000  # the old text stays while dropping the image was enough
    assert has_images(messages[4])  # the latest request keeps its image
