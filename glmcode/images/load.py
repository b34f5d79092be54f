"""Reading an image file into what the API takes: its kind, its size, and bytes within the
limits (scaled down first when it is larger)."""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif"})
# A file this large is refused before it is decoded.
MAX_FILE_BYTES = 30 * 1024 * 1024
# Decoded size beyond which a file is taken for a decompression bomb, not a screenshot.
MAX_PIXELS = 50_000_000
# What is sent: the longest side and the encoded size. GLM's vision models read detail well
# below these, and a larger image only costs tokens and upload time.
MAX_SIDE = 2048
MAX_SEND_BYTES = 5 * 1024 * 1024


class ImageError(ValueError):
    """The file cannot be sent as an image; the message says why, naming the file."""


@dataclass(frozen=True)
class Image:
    name: str  # as the user wrote it
    media_type: str
    width: int
    height: int
    data: bytes  # what is sent
    scaled_from: tuple[int, int] | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def label(self) -> str:
        return f"[image {self.name} {self.width}x{self.height}]"


def is_image_path(path: str | Path) -> bool:
    """Whether the name says image; the content is checked by `load_image`."""
    return Path(path).suffix.lower() in EXTENSIONS


def load_image(path: Path, name: str | None = None) -> Image:
    """The image in `path`, scaled down to the limits when needed. Raises ImageError for a
    missing file, a file that is not a PNG, JPEG, WebP or GIF, a corrupt one, or one too big."""
    shown = name or str(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ImageError(f"{shown} is a folder, not an image")
        if size > MAX_FILE_BYTES:
            raise ImageError(f"{shown} is {size / 1e6:.0f} MB; images over {MAX_FILE_BYTES // 2**20} MB are not sent")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{shown}: no such file") from None
    except OSError as exc:
        raise ImageError(f"{shown}: cannot read it ({exc.strerror or exc})") from None
    return decode_image(raw, shown)


def decode_image(raw: bytes, name: str) -> Image:
    from PIL import Image as Pillow
    from PIL import UnidentifiedImageError

    try:
        with Pillow.open(io.BytesIO(raw)) as probe:
            kind = probe.format or ""
            width, height = probe.size
            if kind not in MEDIA_TYPES:
                raise ImageError(f"{name} is a {kind or 'file of unknown kind'}; glmcode sends PNG, JPEG, WebP and GIF images")
            if width * height > MAX_PIXELS:
                raise ImageError(f"{name} is {width}x{height} pixels, too large to be a picture glmcode sends")
            probe.load()  # a truncated or corrupt file fails here, not at the API
            if max(width, height) <= MAX_SIDE and len(raw) <= MAX_SEND_BYTES:
                return Image(name, MEDIA_TYPES[kind], width, height, raw)
            return _scaled(probe, name, kind)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image (PNG, JPEG, WebP or GIF)") from None
    except (OSError, SyntaxError, ValueError, Pillow.DecompressionBombError) as exc:
        raise ImageError(f"{name} is a damaged image: {exc}") from None


def _scaled(image: object, name: str, kind: str) -> Image:
    """Down to MAX_SIDE on the longest side; PNG stays PNG (screenshots keep sharp text) unless
    that is still over the size limit, then JPEG."""
    from PIL import Image as Pillow

    assert isinstance(image, Pillow.Image)
    original = image.size
    frame = image.copy()
    frame.thumbnail((MAX_SIDE, MAX_SIDE))
    attempts = [("PNG", {"optimize": True})] if kind in ("PNG", "GIF") else []
    attempts += [("JPEG", {"quality": 85}), ("JPEG", {"quality": 65})]
    for fmt, options in attempts:
        out = io.BytesIO()
        picture = frame if fmt == "PNG" or frame.mode == "RGB" else frame.convert("RGB")
        picture.save(out, fmt, **options)
        if out.tell() <= MAX_SEND_BYTES:
            return Image(name, MEDIA_TYPES[fmt], frame.width, frame.height, out.getvalue(), scaled_from=original)
    raise ImageError(f"{name} stays over {MAX_SEND_BYTES // 2**20} MB even scaled down")
