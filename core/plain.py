"""Small record classes made without ``dataclasses.dataclass``, for the classes defined
on the way to the app's first paint and to a board command's output.

dataclass writes each class's methods as source and compiles them when the class is
defined: ~0.3 ms a class, ~1 ms a frozen one with many fields, measured, which for the
few dozen classes the first frame imports (its messages, options, key table, columns)
is a noticeable part of its own start-up, and more than a `task list` of a small board
spends reading it (the board commands import no dataclasses at all). ``record`` gives
the same behaviour from one shared ``__init__`` built around the class's annotations, at
~0.02 ms a class and a microsecond or two more per instance made.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False   # typing's own flag, without importing typing
if TYPE_CHECKING:
    from typing import Any, Callable


def _default_of(value: Any) -> tuple[Any, Callable[[], Any] | None]:
    """A class attribute as (default, factory): ``dataclasses.field(...)`` gives its
    default or its factory. dataclasses is not imported for this: a value can only be a
    Field if it was already, and the board commands' records never use one."""
    dc = sys.modules.get("dataclasses")
    if dc is None or not isinstance(value, dc.Field):
        return value, None
    if value.default_factory is not dc.MISSING:
        return None, value.default_factory
    return value.default, None


def _frozen(name: str) -> Exception:
    from dataclasses import FrozenInstanceError   # as dataclass raises it
    return FrozenInstanceError(f"cannot assign to field {name!r}")


def record(cls: type | None = None, /, *, eq: bool = True, frozen: bool = False,
           repr: bool = True) -> Any:
    """Like ``@dataclass`` (``eq``, ``frozen`` and ``repr`` as there): fields are the
    class's annotations in order, after those of a record base; a default is a class
    attribute or ``dataclasses.field(default=... | default_factory=...)``; ``__init__``
    takes them by position or name and then calls ``__post_init__`` if there is one."""
    if cls is None:
        return lambda c: record(c, eq=eq, frozen=frozen, repr=repr)
    names = list(getattr(cls, "__record_fields__", ()))
    defaults = dict(getattr(cls, "__record_defaults__", {}))
    factories = dict(getattr(cls, "__record_factories__", {}))
    for name in cls.__dict__.get("__annotations__", {}):
        if name not in names:
            names.append(name)
        if name not in cls.__dict__:
            continue
        raw = cls.__dict__[name]
        value, factory = _default_of(raw)
        if factory is not None:
            factories[name] = factory
            delattr(cls, name)   # as dataclass does: no Field left on the class
        else:
            defaults[name] = value
            if value is not raw:
                setattr(cls, name, value)
    defaulted = [name in defaults or name in factories for name in names]
    if defaulted != sorted(defaulted):
        raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
    fields = tuple(names)
    known = frozenset(fields)
    count = len(fields)
    post_init = getattr(cls, "__post_init__", None)
    assign: Callable[..., None] = object.__setattr__ if frozen else setattr

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > count:
            raise TypeError(f"{cls.__name__}() takes {count} arguments, {len(args)} were given")
        values = dict(zip(fields, args))
        for name, value in kwargs.items():
            if name in values or name not in known:
                raise TypeError(f"{cls.__name__}() got an unexpected or repeated argument {name!r}")
            values[name] = value
        for name in fields[len(args):] if len(values) < count else ():
            if name in values:
                continue
            if name in factories:
                values[name] = factories[name]()
            elif name in defaults:
                values[name] = defaults[name]
            else:
                raise TypeError(f"{cls.__name__}() missing argument {name!r}")
        for name, value in values.items():
            assign(self, name, value)
        if post_init is not None:
            self.__post_init__()

    cls.__init__ = __init__
    cls.__record_fields__ = fields
    cls.__record_defaults__ = defaults
    cls.__record_factories__ = factories
    cls.__match_args__ = fields

    def values_of(self: Any) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in fields)

    if repr:
        def __repr__(self: Any) -> str:
            inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in fields)
            return f"{type(self).__qualname__}({inner})"
        cls.__repr__ = __repr__
    if eq:
        def __eq__(self: Any, other: Any) -> Any:
            if other.__class__ is not self.__class__:
                return NotImplemented
            return values_of(self) == values_of(other)
        cls.__eq__ = __eq__
        # As dataclass: equal records hash alike when frozen; otherwise unhashable.
        cls.__hash__ = (lambda self: hash(values_of(self))) if frozen else None
    if frozen:
        def __setattr__(self: Any, name: str, value: Any) -> None:
            raise _frozen(name)

        def __delattr__(self: Any, name: str) -> None:
            raise _frozen(name)
        cls.__setattr__ = __setattr__
        cls.__delattr__ = __delattr__
    return cls
