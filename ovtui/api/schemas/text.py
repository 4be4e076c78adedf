"""Free text that ends up inside libvirt XML (descriptions, snapshot names, affinity groups).

XML 1.0 cannot carry most control characters: refused at the API with a 422 naming the field,
instead of reaching libvirt and failing there as a 502 (schemathesis found it).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

XML_SAFE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]*$"

Description = Annotated[
    str, Field(max_length=1000, pattern=XML_SAFE, description="text; no control characters")
]
XmlName = Annotated[
    str, Field(min_length=1, max_length=200, pattern=XML_SAFE, description="no control characters")
]
GroupName = Annotated[
    str, Field(max_length=64, pattern=XML_SAFE, description="empty: none; no control characters")
]
