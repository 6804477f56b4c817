"""Compiled kernels, compiled lazily: numba is imported at the first call, not at ``import tsconv``.

A module marks its loop kernels with a :class:`Kernels` registry and calls
:meth:`Kernels.compile` at the top of each public entry point; the marked functions of the
module are then replaced by their numba dispatchers (``cache=True``: compiled once per
environment and loaded from disk afterwards; ``nogil=True``: they run on threads at once).
The import of numba costs about as much as the rest of tsconv's imports, and most programs
never call a compiled kernel. ``tsconv._likelihood`` and ``tsconv._peaks`` use it.
"""
from __future__ import annotations

import threading
from typing import Any, Callable


class Kernels:
    """The kernels of one module (its ``globals()``), compiled at the first :meth:`compile`."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace
        self._names: list[str] = []
        self._ready = False
        self._lock = threading.Lock()

    def mark(self, f: Callable[..., Any]) -> Callable[..., Any]:
        """Mark ``f`` for compilation (in the order of definition); returns ``f`` unchanged."""
        self._names.append(f.__name__)
        return f

    def compile(self) -> None:
        """Replace every marked function of the module by its numba dispatcher (once, thread-safe)."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            import numba

            for name in self._names:
                self._namespace[name] = numba.njit(cache=True, nogil=True)(self._namespace[name])
            self._ready = True
