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


def test_crc32_combine_is_zlibs() -> None:
    rng = random.Random(4)
    for n in (0, 1, 3, 64, 5000, 70_000, 1 << 20):
        a, b = rng.randbytes(rng.randint(0, 300)), rng.randbytes(n)
        combined = gzip_text.crc32_combine(zlib.crc32(a), zlib.crc32(b), gzip_text.crc_shift(n))
        assert combined == zlib.crc32(a + b), n


def test_unchanged_parts_are_neither_deflated_nor_checksummed_again(monkeypatch) -> None:
    """Each zlib call lets go of the GIL (a wait for it on a busy engine): the headers between
    families (unkeyed, equal text in a new string each scrape) and unchanged families are reused
    whole, their CRC-32 included."""
    rng = random.Random(5)
    big_a, big_b = _text(rng, 2000), _text(rng, 2000)
    writer = GzipText()

    def parts(b: str) -> list[tuple[str | None, str]]:
        # new header strings each time, as text_format.render_parts makes them
        return [(None, "".join(["# HELP a x\n", "# TYPE a gauge\n"])), ("a", big_a),
                (None, "".join(["# HELP b y\n", "# TYPE b gauge\n"])), ("b", b)]  # fmt: skip

    writer.compress(parts(big_b))
    deflated: list[int] = []
    summed: list[int] = []
    real_deflate, real_crc = gzip_text._deflate, zlib.crc32
    monkeypatch.setattr(gzip_text, "_deflate", lambda d: deflated.append(len(d)) or real_deflate(d))
    monkeypatch.setattr(
        gzip_text.zlib, "crc32", lambda d, *a: summed.append(len(d)) or real_crc(d, *a)
    )
    same = writer.compress(parts(big_b))
    assert deflated == [] and summed == []
    b2 = _text(rng, 2000)
    changed = writer.compress(parts(b2))
    assert deflated == [len(b2.encode())] and summed == [len(b2.encode())]
    assert gzip.decompress(same) == "".join(t for _k, t in parts(big_b)).encode()
    assert gzip.decompress(changed) == "".join(t for _k, t in parts(b2)).encode()
    # an unkeyed part whose text changed is compressed again (equality, not identity)
    deflated.clear()
    other = [(None, "# HELP a z\n"), *parts(b2)[1:]]
    assert gzip.decompress(writer.compress(other)) == "".join(t for _k, t in other).encode()
    assert deflated == [len(b"# HELP a z\n")]
