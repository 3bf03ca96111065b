"""Adaptive timeouts: every API call has an operation kind, and every kind its own limits.

A quick read and a PDF export should not share one timeout: a read that takes 30 s is a hung
server, an export that takes 30 s is a normal day (publishing a choropleth map timed out at the
community client's fixed 15 s, chekos/Datawrapper PR #419). So each client method declares what
kind of operation it is, and the client looks the :class:`~datawrapper.Timeout` up by kind:

==========  =================================================  ===================================
kind        methods                                            default limits (seconds)
==========  =================================================  ===================================
``read``    every GET that returns JSON or CSV                 connect 5, read 30, write 30, pool 10
``write``   create, update, move, copy, fork, delete, folders  connect 5, read 30, write 30, pool 10
``upload``  ``add_data``, ``add_json`` (chart data, to 2 MiB)  connect 5, read 60, write 120, pool 10
``publish`` ``publish_chart``, ``unpublish_chart``,            connect 5, read 120, write 30, pool 10
            ``refresh_data`` (the server renders or fetches)
``export``  ``export_chart``, ``export_png/pdf/svg``           connect 5, read 120, write 30, pool 10
==========  =================================================  ===================================

Precedence, from strongest to weakest:

1. ``timeout=`` passed to one method call (a :class:`~datawrapper.Timeout` or seconds) is
   used as is for that call.
2. ``Datawrapper(timeouts={"export": Timeout(...)})`` (or an :class:`OperationTimeouts`) sets
   the limits of the kinds it names, exactly.
3. ``Datawrapper(timeout=...)`` is the base: ``read`` and ``write`` use it as given; the slow
   kinds take its ``connect`` and ``pool`` and keep at least their own longer ``read`` (and,
   for ``upload``, ``write``), so a generous base never makes an export shorter than a read.
4. The defaults above.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias

from .transport._config import Timeout

__all__ = ["DEFAULT_TIMEOUTS", "OperationKind", "OperationTimeouts", "TimeoutLike"]

#: What a per-call or per-kind timeout may be given as: a Timeout, or seconds for all four.
TimeoutLike: TypeAlias = Timeout | float | int


class OperationKind(str, Enum):
    """What kind of work an API call is; it selects the call's default :class:`Timeout`."""

    READ = "read"
    WRITE = "write"
    UPLOAD = "upload"
    PUBLISH = "publish"
    EXPORT = "export"

    @classmethod
    def parse(cls, value: OperationKind | str, *, where: str = "operation kind") -> OperationKind:
        """``value`` as an :class:`OperationKind`, or a ValueError listing the valid kinds."""
        if isinstance(value, OperationKind):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        valid = ", ".join(repr(k.value) for k in cls)
        raise ValueError(f"unknown {where} {value!r}: use one of {valid}")


_KIND_NAMES = tuple(k.value for k in OperationKind)


def _as_timeout(value: object, kind: str | None) -> Timeout:
    """``value`` as a Timeout, or a ValueError naming ``kind`` and saying what would do."""
    if isinstance(value, Timeout):
        return value
    label = "timeout" if kind is None else f"timeouts[{kind!r}]"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"{label} must be a datawrapper.Timeout or a number of seconds, "
            f"got {type(value).__name__} {value!r}"
        )
    try:
        return Timeout(value)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None


@dataclass(frozen=True, init=False, slots=True)
class OperationTimeouts:
    """One :class:`Timeout` per :class:`OperationKind`; frozen and validated.

    ``OperationTimeouts()`` holds the defaults (see the module docstring);
    ``OperationTimeouts(export=Timeout(10, read=300))`` changes single kinds, and a number
    means that many seconds for all four limits of that kind. :meth:`from_base` derives the
    set from a client-wide base timeout. A wrong value raises :class:`ValueError` naming the
    kind.
    """

    read: Timeout
    write: Timeout
    upload: Timeout
    publish: Timeout
    export: Timeout

    def __init__(
        self,
        *,
        read: TimeoutLike | None = None,
        write: TimeoutLike | None = None,
        upload: TimeoutLike | None = None,
        publish: TimeoutLike | None = None,
        export: TimeoutLike | None = None,
    ) -> None:
        defaults = _derived(Timeout())
        given = {
            "read": read,
            "write": write,
            "upload": upload,
            "publish": publish,
            "export": export,
        }
        for name, value in given.items():
            object.__setattr__(
                self, name, defaults[name] if value is None else _as_timeout(value, name)
            )

    @classmethod
    def from_base(
        cls,
        base: TimeoutLike | None = None,
        overrides: OperationTimeouts | Mapping[OperationKind | str, TimeoutLike] | None = None,
    ) -> OperationTimeouts:
        """The timeouts of a client built with ``timeout=base, timeouts=overrides``.

        ``base`` sets ``read`` and ``write`` and the connect/pool limits of every kind; the
        slow kinds keep at least their default long limits. ``overrides`` (an
        :class:`OperationTimeouts`, or a mapping from kind names to timeouts) then replaces
        the kinds it names. An unknown kind raises :class:`ValueError` listing the valid ones.
        """
        if isinstance(overrides, OperationTimeouts):
            return overrides
        derived = _derived(Timeout() if base is None else _as_timeout(base, None))
        if overrides is not None:
            if not isinstance(overrides, Mapping):
                raise ValueError(
                    "timeouts must be an OperationTimeouts or a mapping such as "
                    "{'export': Timeout(5, read=300)}, got "
                    f"{type(overrides).__name__}"
                )
            for key, value in overrides.items():
                kind = OperationKind.parse(key, where="operation kind in timeouts")
                derived[kind.value] = _as_timeout(value, kind.value)
        result = cls.__new__(cls)
        for name in _KIND_NAMES:
            object.__setattr__(result, name, derived[name])
        return result

    def for_kind(self, kind: OperationKind | str) -> Timeout:
        """The :class:`Timeout` of ``kind``."""
        value: Timeout = getattr(self, OperationKind.parse(kind).value)
        return value

    def replace(self, **kinds: TimeoutLike) -> OperationTimeouts:
        """A copy with the named kinds changed, e.g. ``replace(export=Timeout(10, read=600))``."""
        current: dict[OperationKind | str, TimeoutLike] = {
            name: getattr(self, name) for name in _KIND_NAMES
        }
        for key, value in kinds.items():
            kind = OperationKind.parse(key, where="operation kind")
            current[kind.value] = value
        return OperationTimeouts.from_base(None, current)

    def as_dict(self) -> dict[str, Timeout]:
        """The timeouts by kind name."""
        return {name: getattr(self, name) for name in _KIND_NAMES}

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in _KIND_NAMES)
        return f"OperationTimeouts({inner})"


# The long limits of the slow kinds (seconds). Exports and publishes render on the server and
# answer only when done; a data upload of up to 2 MiB may crawl over a slow uplink.
_SLOW_READ = 120.0
_UPLOAD_READ = 60.0
_UPLOAD_WRITE = 120.0


def _derived(base: Timeout) -> dict[str, Timeout]:
    """Every kind's timeout derived from ``base`` (rule 3 of the module docstring)."""
    return {
        "read": base,
        "write": base,
        "upload": Timeout(
            base, read=max(base.read, _UPLOAD_READ), write=max(base.write, _UPLOAD_WRITE)
        ),
        "publish": Timeout(base, read=max(base.read, _SLOW_READ)),
        "export": Timeout(base, read=max(base.read, _SLOW_READ)),
    }


#: The timeouts of a client built without ``timeout=`` or ``timeouts=``.
DEFAULT_TIMEOUTS = OperationTimeouts()
