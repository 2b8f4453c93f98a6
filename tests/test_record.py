"""`hacompile.record.Record` behaves as `typing.NamedTuple` does, for everything the package
relies on: the same class written both ways must construct, compare, copy and refuse alike."""

from __future__ import annotations

import copy
import pickle
from typing import NamedTuple

import pytest

from hacompile.record import Record


class Point(Record):
    """A record with defaults, a property and a method."""

    x: int
    y: int
    label: str = ""
    tags: tuple[str, ...] = ()

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)

    def moved(self, dx: int) -> Point:
        return self._replace(x=self.x + dx)


class NTPoint(NamedTuple):
    x: int
    y: int
    label: str = ""
    tags: tuple[str, ...] = ()


class Labelled(Point):
    """A plain subclass of a record: no new fields, as with NamedTuple."""

    __slots__ = ()

    def shout(self) -> str:
        return self.label.upper()


CALLS: list[tuple[tuple[object, ...], dict[str, object]]] = [
    ((1, 2), {}),
    ((1, 2, "a"), {}),
    ((1, 2, "a", ("t",)), {}),
    ((1,), {"y": 2}),
    ((), {"x": 1, "y": 2, "tags": ("u",)}),
    ((), {"y": 2, "x": 1, "label": "b"}),
]


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_construction_matches_namedtuple(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    mine, theirs = Point(*args, **kwargs), NTPoint(*args, **kwargs)  # type: ignore[arg-type]
    assert tuple(mine) == tuple(theirs)
    assert (mine.x, mine.y, mine.label, mine.tags) == tuple(theirs)
    assert repr(mine) == repr(theirs).replace("NTPoint", "Point")
    assert mine._asdict() == theirs._asdict()


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), ((1,), {}), ((1, 2, "a", (), 5), {}), ((1, 2), {"colour": "red"})],
)
def test_bad_calls_are_refused_as_namedtuple_refuses_them(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    with pytest.raises(TypeError):
        NTPoint(*args, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Point(*args, **kwargs)  # type: ignore[arg-type]


def test_class_interface() -> None:
    assert Point._fields == NTPoint._fields == ("x", "y", "label", "tags")
    assert Point._field_defaults == NTPoint._field_defaults == {"label": "", "tags": ()}
    assert Point.__match_args__ == ("x", "y", "label", "tags")
    assert Point._make([1, 2, "c", ()]) == Point(1, 2, "c")
    with pytest.raises(TypeError):
        Point._make([1, 2])
    assert issubclass(Point, tuple)


def test_immutable_without_instance_dict() -> None:
    point = Point(1, 2)
    with pytest.raises(AttributeError):
        point.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        point.colour = "red"  # type: ignore[attr-defined]
    assert not hasattr(point, "__dict__")


def test_value_semantics() -> None:
    a, b = Point(1, 2, "a"), Point(1, 2, "a")
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != Point(1, 3, "a")
    points = [Point(2, 0), Point(1, 5), Point(1, 2)]
    assert sorted(points) == [Point(1, 2), Point(1, 5), Point(2, 0)]
    assert {a: 1}[b] == 1


def test_replace_properties_and_methods() -> None:
    point = Point(1, -2)
    assert point._replace(label="z") == Point(1, -2, "z")
    assert point.moved(4) == Point(5, -2)
    assert point.norm1 == 3
    with pytest.raises(ValueError):
        point._replace(colour="red")  # type: ignore[call-arg]


def test_pickle_and_copy() -> None:
    point = Point(1, 2, "a", ("t",))
    assert pickle.loads(pickle.dumps(point)) == point
    assert type(pickle.loads(pickle.dumps(point))) is Point
    assert copy.copy(point) == point and copy.deepcopy(point) == point


def test_plain_subclass() -> None:
    labelled = Labelled(1, 2, "hi")
    assert labelled.shout() == "HI" and labelled.norm1 == 3
    assert Labelled._fields == Point._fields
    assert isinstance(labelled, Point)


def test_default_after_required_is_refused() -> None:
    with pytest.raises(TypeError):

        class Bad(Record):
            a: int = 0
            b: int  # type: ignore[misc]
