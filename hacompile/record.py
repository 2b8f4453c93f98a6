"""`Record`: the immutable value type that passes between the stages, a `typing.NamedTuple`
to the type checker and a cheaper tuple subclass at run time.

Write a record exactly as a NamedTuple (``class Eip(Record):`` with annotated fields, defaults
last, methods and properties as usual); mypy checks it as one, because under TYPE_CHECKING
`Record` *is* `typing.NamedTuple`. At run time the class is a tuple subclass with the same
interface: positional or keyword construction, defaults, one read-only property per field,
``_fields``, ``_field_defaults``, ``_replace``, ``_make``, ``_asdict``, the NamedTuple repr,
equality, ordering and hashing of tuples, no instance ``__dict__``, pickling and copying.

Why not NamedTuple itself: `typing.NamedTuple` turns every string annotation (this package
uses ``from __future__ import annotations``) into a `ForwardRef`, compiling it, and
`collections.namedtuple` compiles a `__new__` from source for each class: ~50-150 us a class,
~4 ms of the ~40 records every `validate` imports (docs/performance.md). Making the class here
takes ~10-20 us. Reading a field and constructing a record with every field by position cost
what a namedtuple's do; a call by keyword or with defaults binds its arguments in Python, a
few times slower (about a microsecond), which no stage does often enough to notice.

Not supported (and refused by mypy for a NamedTuple too): overriding ``__new__`` or
``__init__`` in the record itself, and multiple inheritance. A plain subclass of a record
class is an ordinary subclass (no new fields), as with NamedTuple.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    from collections.abc import Callable, Iterable
    from operator import itemgetter
    from typing import Any

    class _RecordMeta(type):
        """Builds each direct subclass of `Record` from its annotations: the fields, in order."""

        def __new__(
            mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]
        ) -> _RecordMeta:
            # Record itself (based on tuple) and a plain subclass of a record class are made
            # as they are; a class based directly on Record is a new record.
            if bases == (tuple,) or bases != (Record,):
                return super().__new__(mcls, name, bases, namespace)
            fields = tuple(namespace.get("__annotations__", ()))
            defaults = {f: namespace.pop(f) for f in fields if f in namespace}
            if list(defaults) != list(fields[len(fields) - len(defaults) :]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            namespace.update(
                {f: property(itemgetter(i), doc=f"Field {i}: {f}") for i, f in enumerate(fields)}
            )
            namespace.update(
                __slots__=(),
                __new__=_constructor(name, fields, tuple(defaults.values())),
                __match_args__=fields,
                _fields=fields,
                _field_defaults=defaults,
            )
            return super().__new__(mcls, name, bases, namespace)

    def _constructor(
        name: str, fields: tuple[str, ...], defaults: tuple[Any, ...]
    ) -> Callable[..., Any]:
        """``__new__`` taking the fields by position or keyword, missing ones from defaults."""
        count = len(fields)
        required = count - len(defaults)
        new_tuple = tuple.__new__

        def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
            if kwargs or len(args) != count:  # the all-positional call needs no binding
                if len(args) > count:
                    raise TypeError(f"{name}() takes {count} arguments, {len(args)} given")
                values = list(args)
                for index in range(len(args), count):
                    if fields[index] in kwargs:
                        values.append(kwargs.pop(fields[index]))
                    elif index >= required:
                        values.append(defaults[index - required])
                    else:
                        raise TypeError(f"{name}() missing argument {fields[index]!r}")
                if kwargs:
                    raise TypeError(f"{name}() got unexpected arguments {sorted(kwargs)}")
                return new_tuple(cls, values)
            return new_tuple(cls, args)

        __new__.__qualname__ = f"{name}.__new__"
        return __new__

    class Record(tuple, metaclass=_RecordMeta):
        __slots__ = ()
        _fields: tuple[str, ...] = ()

        @classmethod
        def _make(cls, iterable: Iterable[Any]) -> Any:
            made = tuple.__new__(cls, iterable)
            if len(made) != len(cls._fields):
                raise TypeError(f"{cls.__name__}: {len(cls._fields)} values, {len(made)} given")
            return made

        def _replace(self, /, **changes: Any) -> Any:
            values = [
                changes.pop(name, value) for name, value in zip(self._fields, self, strict=True)
            ]
            if changes:
                raise ValueError(f"Got unexpected field names: {list(changes)!r}")
            return tuple.__new__(type(self), values)

        def _asdict(self) -> dict[str, Any]:
            return dict(zip(self._fields, self, strict=True))

        def __repr__(self) -> str:
            fields = ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self, strict=True))
            return f"{type(self).__name__}({fields})"

        def __getnewargs__(self) -> tuple[Any, ...]:
            return tuple(self)


__all__ = ["Record"]
