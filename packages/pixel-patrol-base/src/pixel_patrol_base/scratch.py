"""Objects kept per thread between images, for processors' scratch buffers.

Allocating fresh buffers for every small image makes the process fault in new memory pages
from the system each time, which costs more than the arithmetic of a 256x256 image. A
processor therefore keeps its scratch in one object per thread (threads of a Dask worker run
images side by side, so they must not share it) and reuses it for every image the thread
processes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["per_thread"]

T = TypeVar("T")

_LOCAL = threading.local()


def per_thread(owner: str, factory: Callable[[], T]) -> T:
    """This thread's object for ``owner`` (a kernel's or processor's name), made by
    ``factory`` on the thread's first call and returned again on later ones."""
    kept: dict[tuple[str, Callable[[], Any]], Any] | None = getattr(_LOCAL, "kept", None)
    if kept is None:
        kept = _LOCAL.kept = {}
    key = (owner, factory)
    obj = kept.get(key)
    if obj is None:
        obj = kept[key] = factory()
    return obj
