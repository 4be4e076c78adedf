"""Reading the XML bodies of actions and updates: what is asked for, or a 400 naming what not."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from fastapi import HTTPException, Request


async def parse(request: Request, root: str) -> ET.Element:
    raw = await request.body()
    if not raw.strip():
        return ET.Element(root)
    try:
        el = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise HTTPException(400, f"the request body is not XML: {exc}") from None
    if el.tag != root:
        raise HTTPException(400, f"expected an <{root}> document, got <{el.tag}>")
    return el


def text(el: ET.Element | None, tag: str) -> str | None:
    found = None if el is None else el.find(tag)
    return None if found is None or found.text is None else found.text.strip()


def flag(el: ET.Element, tag: str) -> bool:
    value = text(el, tag)
    return value is not None and value.lower() == "true"


def refuse_unknown(el: ET.Element, understood: set[str], what: str) -> None:
    """Elements this engine cannot honour are an error, never silently dropped."""
    extra = sorted({c.tag for c in el if c.tag not in understood and _meaningful(c)})
    if extra:
        raise HTTPException(
            400,
            f"{what}: {', '.join(extra)} not supported by this engine "
            f"(understood: {', '.join(sorted(understood)) or 'nothing'})",
        )


def _meaningful(el: ET.Element) -> bool:
    """An element that asks for something: not empty and not a plain `false`."""
    if len(el) or el.attrib:
        return True
    value = (el.text or "").strip().lower()
    return value not in ("", "false")
