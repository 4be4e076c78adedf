"""XML out (the SDK reads only XML) and `<fault>` errors with the status the SDK expects."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from starlette.responses import Response

BASE = "/ovirt-engine/api"
MEDIA = "application/xml"


class Xml(Response):
    media_type = MEDIA


def sub(parent: ET.Element, tag: str, text: object = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = str(text).lower() if isinstance(text, bool) else str(text)
    return el


def link(parent: ET.Element, tag: str, collection: str, ident: str) -> ET.Element:
    """A reference to another object: `<host href="/ovirt-engine/api/hosts/ID" id="ID"/>`."""
    return ET.SubElement(parent, tag, {"href": f"{BASE}/{collection}/{ident}", "id": ident})


def entity(tag: str, collection: str, ident: str) -> ET.Element:
    return ET.Element(tag, {"href": f"{BASE}/{collection}/{ident}", "id": ident})


def rel_links(el: ET.Element, path: str, *rels: str) -> None:
    for rel in rels:
        ET.SubElement(el, "link", {"href": f"{BASE}/{path}/{rel}", "rel": rel})


def respond(el: ET.Element, status: int = 200, declaration: bool = True) -> Xml:
    # <tag></tag>, not <tag />: the SDK reads the short form of a text element as None
    data = ET.tostring(
        el, encoding="utf-8", xml_declaration=declaration, short_empty_elements=False
    )
    return Xml(data, status)


def fault(status: int, reason: str, detail: str) -> Xml:
    root = ET.Element("fault")
    sub(root, "reason", reason)
    sub(root, "detail", detail)
    # No declaration: the audit of a refusal (ovtui.api.refusal_audit) keeps the first 200
    # bytes of a body that is not JSON, and they should be the reason and the detail.
    return respond(root, status, declaration=False)


REASONS = {
    400: "Operation Failed",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Operation Failed",
    422: "Incomplete parameters",
}


def reason_of(status: int) -> str:
    return REASONS.get(status, "Operation Failed")


def action_complete(**extra: str) -> Xml:
    root = ET.Element("action")
    sub(root, "status", "complete")
    for tag, text in extra.items():
        sub(root, tag, text)
    return respond(root)
