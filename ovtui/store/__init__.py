"""The state layer: operator state in one atomically written TinyDB file, plus append-only logs.

The engine is the only writer (Store.open takes a lock on the directory to make sure of it).
"""

from ovtui.store.atomic_storage import AtomicJSONStorage
from ovtui.store.database import Store
from ovtui.store.errors import StoreError
from ovtui.store.jsonl_log import JsonlLog

__all__ = ["AtomicJSONStorage", "JsonlLog", "Store", "StoreError"]
