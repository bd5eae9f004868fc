"""Remembered answers: a slider that returns to a setting answers at once.

A :class:`RunMemory` maps a key (a frozen config, or a tuple of a panel's values) to the
answer of its run. :meth:`RunMemory.answers` looks up many keys at once and hands all the
missing ones to one function, so a figure's new runs train together in one batched call.
The least recently used answers go first once ``limit`` is reached. Every memory
registers itself, so :func:`forget_all` empties them all (benchmarks that must measure
computing, not remembering).
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Callable, Hashable, Sequence

from ._validate import check_int

__all__ = ["RunMemory", "forget_all"]

_MEMORIES: "weakref.WeakSet[RunMemory]" = weakref.WeakSet()


class RunMemory:
    """Answers by key, at most ``limit`` of them (the least recently used go first).

    Parameters
    ----------
    name : str, what it remembers (shown by :meth:`info`)
    limit : int >= 1
    """

    def __init__(self, name: str, limit: int):
        self.name = str(name)
        self.limit = check_int("limit", limit, minimum=1)
        self._answers: OrderedDict = OrderedDict()
        _MEMORIES.add(self)

    def answers(self, keys: Sequence[Hashable], run_missing: Callable[[list], Sequence]) -> list:
        """The answers of ``keys``, in order; the keys not remembered (each once) go to
        ``run_missing(missing_keys)``, which returns their answers in the same order."""
        keys = list(keys)
        missing = [key for key in dict.fromkeys(keys) if key not in self._answers]
        if missing:
            found = list(run_missing(missing))
            if len(found) != len(missing):
                raise RuntimeError(f"{self.name}: run_missing returned {len(found)} answers for {len(missing)} keys")
            self._answers.update(zip(missing, found, strict=True))
        for key in keys:
            self._answers.move_to_end(key)
        # keep the answers asked for now even when they alone exceed the limit
        while len(self._answers) > max(self.limit, len(set(keys))):
            self._answers.popitem(last=False)
        return [self._answers[key] for key in keys]

    def clear(self) -> None:
        """Forget every answer."""
        self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)

    def info(self) -> dict:
        """{"name", "size", "limit"}."""
        return {"name": self.name, "size": len(self._answers), "limit": self.limit}

    def __repr__(self) -> str:
        return f"RunMemory({self.name!r}: {len(self)} of {self.limit} answers)"


def forget_all() -> None:
    """Empty every :class:`RunMemory` of the kit."""
    for memory in list(_MEMORIES):
        memory.clear()
