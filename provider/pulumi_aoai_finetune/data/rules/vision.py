"""Vision: content given as a list of parts (text and ``image_url``), and the images' rules
(user messages only, a model with vision fine-tuning, https or base64 data URLs of JPEG, PNG or
WEBP, at most 10 MB each, ``detail`` low/high/auto). An image counts a fixed number of tokens
(see :mod:`..tokens`)."""

from __future__ import annotations

import binascii
import re
from typing import Any

from ..formats import IMAGE_MEDIA_TYPES, MAX_IMAGE_BYTES
from ..tokens import IMAGE_TOKENS_HIGH, IMAGE_TOKENS_LOW
from .common import Checker, MsgInfo, jtype, show

_DATA_URL = re.compile(r"^data:(image/[a-zA-Z0-9.+-]+);base64,", re.ASCII)


def _base64_problem(url: str, start: int) -> str | None:
    """What is wrong with the base64 data of a data URL from ``start`` on, or None. Strict, as a
    decoder of images expects it: the alphabet, the padding, nothing after it, no whitespace."""
    if start == len(url):
        return "is empty"
    try:
        binascii.a2b_base64(url[start:], strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: a character outside ASCII
        return f"is not valid ({exc})"
    return None


def check_parts(
    chk: Checker,
    parts: list[Any],
    ln: int,
    p: str,
    role: str | None,
    vision: bool,
    info: MsgInfo,
) -> str:
    """The parts of a content list at ``p``: their text joined (a system message's), the text
    and images counted in ``info``. ``vision``: the model has vision fine-tuning."""
    text_parts: list[str] = []
    if not parts:
        chk.add(
            "chat.content.empty",
            ln,
            f"{p}.content is an empty list; write the text or remove the message",
        )
    for j, part in enumerate(parts):
        q = f"{p}.content[{j}]"
        if not isinstance(part, dict):
            chk.add(
                "chat.content.part",
                ln,
                f'{q} is {jtype(part)}; use {{"type": "text", "text": ...}}'
                + (' or {"type": "image_url", ...}' if role == "user" else ""),
            )
            continue
        ptype = part.get("type")
        if ptype == "text":
            t = part.get("text")
            if not isinstance(t, str):
                chk.add("chat.content.part", ln, f'{q} needs a "text" string')
                continue
            for key in part:
                if key not in ("type", "text"):
                    chk.add("chat.content.part", ln, f'{q} has unknown key "{key}"')
            text_parts.append(t)
            info.texts.append(t)
        elif ptype == "image_url":
            check_image(chk, part, ln, q, role, vision, info)
        else:
            chk.add(
                "chat.content.part",
                ln,
                f"{q}.type is {show(ptype)}; use \"text\""
                + (' or "image_url"' if role == "user" else ""),
            )
    return "\n".join(text_parts)


def check_image(
    chk: Checker,
    part: dict[str, Any],
    ln: int,
    q: str,
    role: str | None,
    vision: bool,
    info: MsgInfo,
) -> None:
    info.images += 1
    if role != "user":
        chk.add(
            "chat.image.role",
            ln,
            f"{q} is an image in a {role or 'message'} message; images are only allowed in "
            "user messages",
        )
    if not vision:
        chk.add(
            "chat.image.unsupported_model",
            ln,
            f"{q} is an image, but {chk.spec.base} has no vision fine-tuning; use "
            "gpt-4o-2024-08-06 or gpt-4.1, or remove the image",
        )
    iu = part.get("image_url")
    if not isinstance(iu, dict) or not isinstance(iu.get("url"), str):
        chk.add(
            "chat.content.part",
            ln,
            f'{q} needs "image_url": {{"url": "https://..." or "data:image/png;base64,..."}}',
        )
        return
    detail = iu.get("detail", "auto")
    if detail not in ("low", "high", "auto"):
        chk.add(
            "chat.image.detail",
            ln,
            f"{q}.image_url.detail is {show(detail)}; use low, high or auto",
        )
    info.extra_tokens += IMAGE_TOKENS_LOW if detail == "low" else IMAGE_TOKENS_HIGH
    url: str = iu["url"]
    if url.startswith("data:"):
        m = _DATA_URL.match(url)
        if not m or m.group(1).lower().replace("image/jpg", "image/jpeg") not in (
            IMAGE_MEDIA_TYPES
        ):
            kind = m.group(1) if m else url[5:30].split(",")[0]
            chk.add(
                "chat.image.url",
                ln,
                f"{q}.image_url.url is a data URL of {show(kind)}; use "
                "data:image/jpeg|png|webp;base64,...",
            )
            return
        b64 = len(url) - m.end()
        size = b64 * 3 // 4
        if size > MAX_IMAGE_BYTES:
            chk.add(
                "chat.image.size",
                ln,
                f"{q} is an image of about {size / (1024 * 1024):.1f} MB; images must be at "
                "most 10 MB — scale or compress it",
            )
            return
        problem = _base64_problem(url, m.end())
        if problem:
            chk.add(
                "chat.image.url",
                ln,
                f"{q}.image_url.url is a data URL whose base64 data {problem}; encode the image "
                "file's bytes with standard base64 (A-Z a-z 0-9 + /, = padding, no spaces)",
            )
    elif not url.startswith("https://"):
        chk.add(
            "chat.image.url",
            ln,
            f"{q}.image_url.url is {show(url)}; use a public https:// URL or a base64 "
            "data URL (data:image/png;base64,...)",
        )


