"""Results of pure functions kept by the content of their inputs (a small LRU).

Some steps of the layers cost hundreds of milliseconds and are asked again and again
with the same inputs: filling every grid with H3 cells at a resolution
(:func:`layers.grids.zone_cells`). :class:`Memo` keeps their last results keyed by a
digest of the inputs' *content* (BLAKE2b over the bytes of every column), never by
object identity: two frames with the same rows give the same answer, so a result found
here is exactly the one the function would compute — whoever asks (a chief's scope cuts
its own tables, whose content differs, so its entries are its own). Callers get a copy
when the result is mutable. A step cheaper than the digest of its inputs is not kept:
merging a window's visits (:func:`geodata.cubes.visits_at`) costs 40 ms, the digest of
those visits cost 75.

Pure still: nothing here opens a file; the memory held is bounded by ``size`` entries.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
import polars as pl
import shapely

T = TypeVar("T")


def digest_frame(frame: pd.DataFrame | pl.DataFrame) -> str:
    """A digest of a frame's content: column names, dtypes and every value.

    Geometry columns are taken as WKB; other object columns through their text.
    """
    h = hashlib.blake2b(digest_size=20)
    if isinstance(frame, pl.DataFrame):
        # polars' row hashes (64 bits a row, two seeds) of every value, in row order.
        h.update(repr(frame.schema).encode())
        h.update(str(frame.height).encode())
        if frame.width:
            for seed in (0, 1):
                h.update(frame.hash_rows(seed=seed).to_numpy().tobytes())
        return h.hexdigest()
    h.update(repr(list(zip(frame.columns, map(str, frame.dtypes), strict=True))).encode())
    h.update(str(len(frame)).encode())
    for name in frame.columns:
        values = frame[name]
        if str(values.dtype) == "geometry":
            wkb = shapely.to_wkb(np.asarray(values.values), hex=False)
            h.update(b"".join(b"" if w is None else w for w in wkb))
        elif _plain(values.dtype):
            h.update(np.ascontiguousarray(values.to_numpy()).tobytes())
        else:  # text, categories, extension types: their values as text (None != "None")
            h.update("\x1f".join(map(repr, values.tolist())).encode())
    return h.hexdigest()


def _plain(dtype: Any) -> bool:
    """Whether a pandas dtype's values are plain numpy numbers, booleans or times (their
    buffer is their content; an object or string column's buffer holds pointers)."""
    return isinstance(dtype, np.dtype) and dtype.kind in "biufcmM"


class Memo(Generic[T]):
    """The last ``size`` results of a function, by a key the caller builds from content.

    Thread-safe; two threads asking for the same missing key may both compute it (the
    answer is the same), neither waits on the other's lock while computing.
    """

    def __init__(self, size: int, copy: Callable[[T], T] | None = None) -> None:
        self.size = size
        self._copy = copy
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result under ``key``, computed by ``compute`` and kept when absent."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
        if found is None:
            self.misses += 1
            found = compute()
            with self._lock:
                self._items[key] = found
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return self._copy(found) if self._copy is not None else found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def copy_frame(frame: Any) -> Any:
    """A copy of a pandas frame (polars frames are immutable: returned as they are)."""
    return frame.copy() if isinstance(frame, pd.DataFrame) else frame


__all__ = ["Memo", "copy_frame", "digest_frame"]
