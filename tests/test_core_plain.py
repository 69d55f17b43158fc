"""core.plain.record: the dataclass behaviour the app's start-up classes rely on."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, field

import pytest

from core.plain import record


@record
class Row:
    name: str
    size: int = 0
    tags: list[str] = field(default_factory=list)


@record(frozen=True)
class Key:
    id: str
    shown: bool = True


@record(eq=False)
class Event:
    what: str
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen.append("post_init")


@record
class Child(Row):
    extra: str = ""


def test_fields_by_position_or_name_with_defaults_and_fresh_factories():
    a, b = Row("a"), Row(name="b", size=2)
    assert (a.name, a.size, a.tags, b.size) == ("a", 0, [], 2)
    assert a.tags is not Row("c").tags
    assert Row("a", 1, ["x"]) == Row(name="a", size=1, tags=["x"]) != Row("a")
    assert repr(Row("a")) == "Row(name='a', size=0, tags=[])"
    assert "tags" not in Row.__dict__   # no shared default left on the class


def test_bad_calls_are_refused_as_dataclass_would():
    with pytest.raises(TypeError, match="missing argument 'name'"):
        Row()
    with pytest.raises(TypeError, match="unexpected or repeated argument 'name'"):
        Row("a", name="b")
    with pytest.raises(TypeError, match="unexpected or repeated argument 'colour'"):
        Row("a", colour="red")
    with pytest.raises(TypeError, match="takes 3 arguments"):
        Row("a", 1, [], 4)
    with pytest.raises(TypeError, match="without a default follows"):
        @record
        class Bad:
            a: int = 0
            b: int


def test_frozen_records_hash_by_value_and_refuse_changes():
    assert Key("a") == Key("a") and hash(Key("a")) == hash(Key("a"))
    assert len({Key("a"), Key("a"), Key("b")}) == 2
    with pytest.raises(FrozenInstanceError):
        Key("a").id = "b"
    with pytest.raises(TypeError):
        hash(Row("a"))   # like a dataclass with eq: unhashable unless frozen


def test_identity_records_call_post_init_and_inherit_fields():
    e = Event("x")
    assert e.seen == ["post_init"] and e != Event("x") and e == e
    c = Child("n", 3, extra="e")
    assert (c.name, c.size, c.tags, c.extra) == ("n", 3, [], "e")
