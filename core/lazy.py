"""Packages whose names load on first use (PEP 562): importing one part of a package
must not import the whole of it on the way."""

from __future__ import annotations

import sys

TYPE_CHECKING = False   # typing's own flag, without importing typing
if TYPE_CHECKING:
    from typing import Any, Callable


def lazy_exports(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each name of ``homes``
    (name -> the submodule defining it) when it is first asked for, and keeps it. Other
    names raise AttributeError, so ``from package import submodule`` still imports it."""
    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = f"{package}.{home}"
        __import__(module)   # as importlib.import_module does, without importing importlib
        value = getattr(sys.modules[module], name)
        setattr(sys.modules[package], name, value)
        return value
    return __getattr__
