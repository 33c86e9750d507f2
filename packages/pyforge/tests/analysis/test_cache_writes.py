"""The per-file cache's write path: atomic files, background writes done by the block's end."""

from __future__ import annotations

import threading
from pathlib import Path

from pyforge.analysis.cache import Cache, make_key


def test_writes_behind_are_all_on_disk_when_the_block_exits(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    keys = [make_key(str(i)) for i in range(300)]
    with cache.writing_behind():
        for i, key in enumerate(keys):
            cache.put(key, {"i": i, "text": "x" * i})
    assert not any(t.name == "pyforge-cache" for t in threading.enumerate())
    assert [cache.get(k) for k in keys] == [{"i": i, "text": "x" * i} for i in range(300)]
    assert not list((tmp_path / "c").rglob("*.tmp"))  # every temporary file was renamed
    assert (tmp_path / "c" / "CACHEDIR.TAG").is_file()


def test_a_write_replaces_an_entry_and_bad_values_are_skipped(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    key = make_key("k")
    cache.put(key, [1])
    cache.put(key, [2])
    cache.put(make_key("bad"), {"x": object()})  # not JSON: never raises, not stored
    assert cache.get(key) == [2]
    assert cache.get(make_key("bad")) is None
    assert Cache(None).get(key) is None


def test_a_truncated_entry_reads_as_a_miss_and_is_rewritten(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    key = make_key("k")
    cache.put(key, {"a": [1, 2, 3]})
    entry = next((tmp_path / "c").rglob(f"{key}.json"))
    entry.write_bytes(entry.read_bytes()[:7])  # a writer that died half-way
    assert cache.get(key) is None
    cache.put(key, {"a": [1, 2, 3]})
    assert cache.get(key) == {"a": [1, 2, 3]}
    assert not list((tmp_path / "c").rglob("*.tmp"))


def test_an_extra_value_shares_the_entry_and_is_read_apart(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    key, plain = make_key("k"), make_key("plain")
    with cache.writing_behind():
        cache.put(key, {"report": "a\nb"}, {"facts": [[1, 2, 3, 4]]})
        cache.put(plain, [1])
    assert len(list((tmp_path / "c").rglob("*.json"))) == 2  # one file per entry
    assert cache.get(key) == {"report": "a\nb"}  # a newline inside a string is escaped
    assert cache.get_extra(key) == {"facts": [[1, 2, 3, 4]]}
    assert cache.get(plain) == [1]
    assert cache.get_extra(plain) is None
    assert cache.get_extra(make_key("missing")) is None
    entry = next((tmp_path / "c").rglob(f"{key}.json"))
    entry.write_bytes(entry.read_bytes()[:-3])  # the extra value cut short: a miss for it only
    assert cache.get(key) == {"report": "a\nb"}
    assert cache.get_extra(key) is None
