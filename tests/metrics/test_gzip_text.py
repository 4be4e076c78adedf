"""collectors.gzip_text: one valid gzip member, reusing the compressed runs of unchanged parts."""

from __future__ import annotations

import gzip
import random
import zlib

from collectors import gzip_text
from collectors.gzip_text import GzipText


def _text(rng: random.Random, lines: int) -> str:
    return "".join(f'ovtui_x{{uuid="{rng.random()}"}} {rng.random()}\n' for _ in range(lines))


def test_the_output_is_one_gzip_member_of_all_parts_in_order() -> None:
    rng = random.Random(1)
    parts = [(None, "# HELP a\n"), ("a", _text(rng, 3000)), (None, ""), ("b", _text(rng, 5))]
    out = GzipText().compress(parts)
    assert gzip.decompress(out) == "".join(t for _k, t in parts).encode()
    # a single member, read to its end by a plain zlib stream reader too (gzip wrapper: wbits 31)
    d = zlib.decompressobj(31)
    assert d.decompress(out) == "".join(t for _k, t in parts).encode() and d.eof
    assert d.unused_data == b""


def test_an_unchanged_part_is_not_compressed_again_and_a_changed_one_is(monkeypatch) -> None:
    rng = random.Random(2)
    a, b = _text(rng, 100), _text(rng, 100)
    writer = GzipText()
    first = writer.compress([("a", a), ("b", b)])
    calls: list[int] = []
    real = gzip_text._deflate
    monkeypatch.setattr(gzip_text, "_deflate", lambda data: calls.append(len(data)) or real(data))
    b2 = _text(rng, 100)
    second = writer.compress([("a", a), ("b", b2)])  # `a` is the same object: reused
    assert calls == [len(b2.encode())]
    assert gzip.decompress(first) == (a + b).encode()
    assert gzip.decompress(second) == (a + b2).encode()
    # equal text but a new object: compressed again (identity is the promise, not equality)
    a_copy = a[:-1] + a[-1:]
    assert a_copy == a and a_copy is not a
    calls.clear()
    third = writer.compress([("a", a_copy), ("b", b2)])
    assert calls == [len(a.encode())]
    assert gzip.decompress(third) == (a + b2).encode()
