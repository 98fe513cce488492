"""`CloseOnExit`: the one `with obj:` implementation for objects that have `close()`."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class CloseOnExit:
    """Mixin: `with obj:` returns obj and calls `obj.close()` on exit, even on error."""

    def close(self) -> None:
        raise TypeError(f"{type(self).__name__} must define close()")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["CloseOnExit"]
