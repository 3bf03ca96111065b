"""Chart objects: ``dw.BarChart(title="...", data=df).create()``, and the default client.

A chart object holds what a chart is made of -- title, type, data, metadata (plain dicts),
theme, language and folder -- and turns it into API calls through a
:class:`~datawrapper.Datawrapper` client:

- the client passed as ``client=`` (to the constructor or to a method), which the chart then
  keeps using;
- else ONE process-wide default client, built lazily from the environment
  (``DATAWRAPPER_ACCESS_TOKEN``, ``DATAWRAPPER_BASE_URL``) the first time a chart needs it,
  under a lock, and shared by every chart. A loop of 100 ``chart.create()`` calls therefore
  runs over the default client's pooled keep-alive connections, not 100 new ones.
  :func:`set_default_client` installs your own configured client instead (retries, timeouts,
  transport, hooks ...); :func:`get_default_client` returns it.

``create()`` is two API calls: create the chart, then upload its data. The data is converted
and checked before the first call; if the upload then fails after its retries,
:class:`~datawrapper.PartialFailureError` is raised with ``.chart_id`` set (and the chart
object keeps that id), so the chart that exists on the server is never orphaned silently.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Mapping
from typing import Any, ClassVar, cast

from typing_extensions import Self

from ._client import Datawrapper, _int_id, check_chart_id
from ._data import describe_data
from ._exceptions import InvalidRequestError, MissingTokenError, PartialFailureError
from ._operations import TimeoutLike

__all__ = [
    "CHART_CLASSES",
    "AreaChart",
    "ArrowPlot",
    "BarChart",
    "BulletBarChart",
    "Chart",
    "ChoroplethMap",
    "ColumnChart",
    "DonutChart",
    "DotPlot",
    "ElectionDonutChart",
    "GroupedColumnChart",
    "LineChart",
    "LocatorMap",
    "MultipleColumnChart",
    "MultipleDonutsChart",
    "MultipleLinesChart",
    "MultiplePiesChart",
    "PieChart",
    "RangePlot",
    "ScatterPlot",
    "SplitBarChart",
    "StackedBarChart",
    "StackedColumnChart",
    "SymbolMap",
    "Table",
    "chart_class_for",
    "deep_merge",
    "get_chart",
    "get_default_client",
    "set_default_client",
]

logger = logging.getLogger("datawrapper.charts")

# --------------------------------------------------------------------------- the default client

_default_lock = threading.Lock()
_default_client: Datawrapper | None = None
_default_owned = False  # True when this module built it (and so may close it)


def get_default_client() -> Datawrapper:
    """The process-wide client chart objects use when given none.

    Built on first use from the environment (``DATAWRAPPER_ACCESS_TOKEN``, and
    ``DATAWRAPPER_BASE_URL`` if set) under a lock, so concurrent first calls build exactly one
    client; every later call returns that same client and its connection pool. Raises
    :class:`~datawrapper.MissingTokenError` (and remembers nothing) when no token is set.
    """
    global _default_client, _default_owned
    client = _default_client
    if client is not None:
        return client
    with _default_lock:
        if _default_client is None:
            candidate = Datawrapper()
            if not candidate.has_token:
                candidate.close()
                raise MissingTokenError(
                    "chart objects need a Datawrapper client: set DATAWRAPPER_ACCESS_TOKEN, "
                    "pass client=Datawrapper(...) to the chart or the method, or install one "
                    "with datawrapper.set_default_client(Datawrapper(...))"
                )
            _default_client = candidate
            _default_owned = True
            logger.debug("built the default Datawrapper client from the environment")
        return _default_client


def set_default_client(client: Datawrapper | None) -> None:
    """Make ``client`` the client every chart object uses when given none.

    ``None`` forgets the current default, so the next chart builds one from the environment
    again. A default client this module built itself is closed when replaced; a client you
    installed stays yours to close.
    """
    global _default_client, _default_owned
    if client is not None and not isinstance(client, Datawrapper):
        raise TypeError(
            f"set_default_client needs a datawrapper.Datawrapper (or None), got "
            f"{type(client).__name__}"
        )
    with _default_lock:
        previous, owned = _default_client, _default_owned
        _default_client, _default_owned = client, False
    if previous is not None and owned and previous is not client:
        previous.close()


# --------------------------------------------------------------------------- helpers


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``patch`` merged into ``base``; nested dicts merge, anything else replaces.

    This is what the API's ``PATCH /v3/charts/{id}`` does with ``metadata``. Neither argument
    is changed.
    """
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_metadata(metadata: object) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise InvalidRequestError(
            "metadata must be a dict with string keys, such as "
            "{'describe': {'intro': 'Hello'}, 'visualize': {'thick': True}}, "
            f"got {type(metadata).__name__}"
        )
    return copy.deepcopy(dict(metadata))


def _optional_str(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidRequestError(f"{name} must be a string, got {type(value).__name__}")


class _MetadataField:
    """A chart attribute stored in ``chart.metadata[section][key]`` (one source of truth)."""

    def __init__(self, section: str, key: str) -> None:
        self.section = section
        self.key = key

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, chart: Chart | None, owner: type | None = None) -> Any:
        if chart is None:
            return self
        section = chart.metadata.get(self.section)
        return section.get(self.key) if isinstance(section, Mapping) else None

    def __set__(self, chart: Chart, value: str | None) -> None:
        _optional_str(value, self.name)
        section = chart.metadata.get(self.section)
        if not isinstance(section, dict):
            section = chart.metadata[self.section] = {}
        if value is None:
            section.pop(self.key, None)
        else:
            section[self.key] = value


# --------------------------------------------------------------------------- chart objects

#: Chart classes by Datawrapper type id (filled in as the subclasses are defined).
CHART_CLASSES: dict[str, type[Chart]] = {}


class Chart:
    """A Datawrapper chart, table or map, as a plain Python object.

    All arguments are keyword-only. ``title``; ``data`` (a pandas DataFrame, CSV text, a list
    of row dicts or a dict of columns); ``metadata`` (a plain dict, deep-merged over the
    class's defaults and the shortcut arguments); ``theme``, ``language`` (e.g. ``"en-US"``),
    ``folder_id``, ``organization_id`` (team), ``forkable``. The shortcuts ``intro``,
    ``byline``, ``source_name``, ``source_url``, ``aria_description`` and ``notes`` are
    attributes stored inside ``metadata`` (``describe`` and ``annotate``). ``client`` binds a
    :class:`~datawrapper.Datawrapper` client; without one the default client is used.

    The base class needs ``chart_type=`` (any Datawrapper type id); the subclasses
    (:class:`BarChart`, :class:`LineChart` ...) fix it. After :meth:`create` or :meth:`get`,
    ``chart_id`` is set and ``properties`` holds the chart's JSON as the API last sent it.
    """

    #: The Datawrapper type id of the class ("" for the generic :class:`Chart`).
    chart_type: ClassVar[str] = ""
    #: Metadata every chart of the class starts with (deep-merged under ``metadata=``).
    default_metadata: ClassVar[Mapping[str, Any]] = {}

    intro = _MetadataField("describe", "intro")
    byline = _MetadataField("describe", "byline")
    source_name = _MetadataField("describe", "source-name")
    source_url = _MetadataField("describe", "source-url")
    aria_description = _MetadataField("describe", "aria-description")
    notes = _MetadataField("annotate", "notes")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.chart_type:
            CHART_CLASSES.setdefault(cls.chart_type, cls)

    def __init__(
        self,
        *,
        title: str = "",
        data: Any = None,
        metadata: Mapping[str, Any] | None = None,
        theme: str | None = None,
        language: str | None = None,
        folder_id: int | str | None = None,
        organization_id: str | None = None,
        forkable: bool | None = None,
        intro: str | None = None,
        byline: str | None = None,
        source_name: str | None = None,
        source_url: str | None = None,
        aria_description: str | None = None,
        notes: str | None = None,
        chart_type: str | None = None,
        chart_id: str | None = None,
        client: Datawrapper | None = None,
    ) -> None:
        own_type = type(self).chart_type
        if own_type:
            if chart_type is not None and chart_type != own_type:
                raise InvalidRequestError(
                    f"{type(self).__name__} is always a {own_type!r} chart, not {chart_type!r}; "
                    f"use {_class_hint(chart_type)} or dw.Chart(chart_type={chart_type!r}, ...)"
                )
            chart_type = own_type
        elif not chart_type or not isinstance(chart_type, str):
            raise InvalidRequestError(
                "dw.Chart needs chart_type=, a Datawrapper type id such as 'd3-bars' "
                "(or use a class such as dw.BarChart)"
            )
        if not isinstance(title, str):
            raise InvalidRequestError(f"title must be a string, got {type(title).__name__}")
        if forkable is not None and not isinstance(forkable, bool):
            raise InvalidRequestError(f"forkable must be True or False, got {forkable!r}")
        if client is not None and not isinstance(client, Datawrapper):
            raise TypeError(
                f"client must be a datawrapper.Datawrapper, got {type(client).__name__}"
            )
        self._type: str = chart_type
        self.title: str = title
        self.data: Any = data
        self.metadata: dict[str, Any] = deep_merge(
            type(self).default_metadata, _check_metadata(metadata)
        )
        self.theme: str | None = _optional_str(theme, "theme")
        self.language: str | None = _optional_str(language, "language")
        self.folder_id: int | None = None if folder_id is None else _int_id(folder_id, "folder_id")
        self.organization_id: str | None = _optional_str(organization_id, "organization_id")
        self.forkable: bool | None = forkable
        self.chart_id: str | None = None if chart_id is None else check_chart_id(chart_id)
        self.client: Datawrapper | None = client
        self.properties: dict[str, Any] = {}
        self.public_url: str | None = None
        for name, value in (
            ("intro", intro),
            ("byline", byline),
            ("source_name", source_name),
            ("source_url", source_url),
            ("aria_description", aria_description),
            ("notes", notes),
        ):
            if value is not None:
                setattr(self, name, value)

    # ------------------------------------------------------------------ plain data

    @property
    def type(self) -> str:
        """The Datawrapper type id, such as ``"d3-bars"``."""
        return self._type

    def merge_metadata(self, patch: Mapping[str, Any]) -> None:
        """Deep-merge ``patch`` into :attr:`metadata` (as the API merges a PATCH)."""
        self.metadata = deep_merge(self.metadata, _check_metadata(patch))

    def serialize_model(self) -> dict[str, Any]:
        """The JSON body that creates this chart: title, type, metadata and what is set."""
        body: dict[str, Any] = {"title": self.title, "type": self._type}
        for key, value in (
            ("theme", self.theme),
            ("language", self.language),
            ("folderId", self.folder_id),
            ("organizationId", self.organization_id),
            ("forkable", self.forkable),
        ):
            if value is not None:
                body[key] = value
        body["metadata"] = copy.deepcopy(self.metadata)
        return body

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} type={self._type!r} chart_id={self.chart_id!r} "
            f"title={self.title!r} data={describe_data(self.data)}>"
        )

    # ------------------------------------------------------------------ which client

    def _client(self, client: Datawrapper | None, access_token: str | None = None) -> Datawrapper:
        """The client of one call: given, else built from ``access_token``, else bound, else default."""
        if client is not None:
            if not isinstance(client, Datawrapper):
                raise TypeError(
                    f"client must be a datawrapper.Datawrapper, got {type(client).__name__}"
                )
            self.client = client
            return client
        if access_token is not None:
            # The community client's create(access_token): one client for this chart object.
            self.client = Datawrapper(access_token)
            return self.client
        if self.client is not None:
            return self.client
        return get_default_client()

    def _require_id(self, action: str) -> str:
        if self.chart_id is None:
            raise InvalidRequestError(
                f"cannot {action} a chart that does not exist yet: call create() first, or "
                f"load one with {type(self).__name__}.get(chart_id)"
            )
        return self.chart_id

    def _remember(self, properties: Mapping[str, Any]) -> None:
        self.properties = dict(properties)
        if properties.get("publicUrl"):
            self.public_url = str(properties["publicUrl"])

    # ------------------------------------------------------------------ API calls

    def create(
        self,
        access_token: str | None = None,
        *,
        client: Datawrapper | None = None,
        folder_id: int | str | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> str:
        """Create the chart and upload its data; return the new ``chart_id``.

        Two calls: ``POST /v3/charts`` (never retried once it may have been processed, so one
        ``create()`` makes at most one chart), then ``PUT .../data`` when there is data. If
        the upload fails after its retries, :class:`~datawrapper.PartialFailureError` is
        raised with ``.chart_id``, and this object keeps that id so ``update()`` or
        ``delete()`` can follow. ``deadline`` (seconds) bounds both calls together, as for
        :meth:`Datawrapper.create_chart`; every method here takes ``timeout=`` and
        ``deadline=`` for one call and passes them on.
        """
        if self.chart_id is not None:
            raise InvalidRequestError(
                f"this object already stands for chart {self.chart_id}: call update() to "
                "change it, or duplicate() for a copy"
            )
        dw = self._client(client, access_token)
        if folder_id is not None:
            self.folder_id = _int_id(folder_id, "folder_id")
        try:
            chart = dw.create_chart(
                title=self.title,
                chart_type=self._type,
                theme=self.theme,
                data=self.data,
                folder_id=self.folder_id,
                organization_id=self.organization_id,
                forkable=self.forkable,
                language=self.language,
                metadata=self.metadata or None,
                timeout=timeout,
                deadline=deadline,
            )
        except PartialFailureError as exc:
            self.chart_id = exc.chart_id
            raise
        self._remember(chart)
        self.chart_id = check_chart_id(chart.get("id"))
        return self.chart_id

    def update(
        self,
        access_token: str | None = None,
        *,
        client: Datawrapper | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> str:
        """Send title, type, theme, language, folder and metadata (deep-merged), then the data.

        ``PATCH /v3/charts/{id}``, then ``PUT .../data`` when the object holds data. Returns
        the ``chart_id``.
        """
        chart_id = self._require_id("update")
        dw = self._client(client, access_token)
        chart = dw.update_chart(
            chart_id,
            title=self.title,
            chart_type=self._type,
            theme=self.theme,
            data=self.data,
            folder_id=self.folder_id,
            organization_id=self.organization_id,
            forkable=self.forkable,
            language=self.language,
            metadata=self.metadata or None,
            timeout=timeout,
            deadline=deadline,
        )
        self._remember(chart)
        return chart_id

    def publish(
        self,
        *,
        client: Datawrapper | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """Publish the chart; the API's answer ``{"data", "version", "url"}``.

        Sets :attr:`public_url` and :attr:`properties` from the answer.
        """
        chart_id = self._require_id("publish")
        result: dict[str, Any] = self._client(client).publish_chart(
            chart_id, timeout=timeout, deadline=deadline
        )
        if isinstance(result, dict):
            if isinstance(result.get("data"), Mapping):
                self._remember(result["data"])
            if result.get("url"):
                self.public_url = str(result["url"])
        return result

    def unpublish(
        self,
        *,
        client: Datawrapper | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Take the published chart offline; True."""
        chart_id = self._require_id("unpublish")
        self._client(client).unpublish_chart(chart_id, timeout=timeout, deadline=deadline)
        self.public_url = None
        return True

    def export(
        self,
        fmt: str = "png",
        *,
        client: Datawrapper | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> bytes:
        """The chart exported as ``fmt`` (png, pdf, svg), as bytes.

        ``params`` are the export options of :meth:`Datawrapper.export_chart` (``width``,
        ``height``, ``plain``, ``zoom``, ``scale``, ``unit``, ``mode``, ``border_width``,
        ``border_color``, ``transparent``, ``logo``, ``logo_id``, ``dark``, ``full_vector``,
        ``ligatures``, ``download``).
        """
        chart_id = self._require_id("export")
        content: bytes = self._client(client).export_chart(
            chart_id, fmt, timeout=timeout, deadline=deadline, **params
        )
        return content

    def export_png(self, *, client: Datawrapper | None = None, **params: Any) -> bytes:
        """The chart as PNG bytes."""
        return self.export("png", client=client, **params)

    def export_pdf(self, *, client: Datawrapper | None = None, **params: Any) -> bytes:
        """The chart as PDF bytes."""
        return self.export("pdf", client=client, **params)

    def export_svg(self, *, client: Datawrapper | None = None, **params: Any) -> bytes:
        """The chart as SVG bytes."""
        return self.export("svg", client=client, **params)

    def delete(
        self,
        *,
        client: Datawrapper | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> bool:
        """Delete the chart on the server; True. The object forgets its ``chart_id``."""
        chart_id = self._require_id("delete")
        self._client(client).delete_chart(chart_id, timeout=timeout, deadline=deadline)
        self.chart_id = None
        self.public_url = None
        return True

    def duplicate(
        self,
        *,
        client: Datawrapper | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> Self:
        """A copy of the chart on the server (``POST .../copy``), as a new object."""
        chart_id = self._require_id("copy")
        dw = self._client(client)
        return self._sibling(dw.copy_chart(chart_id, timeout=timeout, deadline=deadline), dw)

    def fork(
        self,
        *,
        client: Datawrapper | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> Self:
        """A fork of the chart on the server (``POST .../fork``), as a new object."""
        chart_id = self._require_id("fork")
        dw = self._client(client)
        return self._sibling(dw.fork_chart(chart_id, timeout=timeout, deadline=deadline), dw)

    def _sibling(self, properties: Mapping[str, Any], client: Datawrapper) -> Self:
        other = type(self)._from_properties(properties, data=copy.deepcopy(self.data))
        if self.client is not None:
            other.client = client
        return cast(Self, other)

    def get_display_urls(
        self,
        *,
        client: Datawrapper | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> list[dict[str, Any]]:
        """The URLs the chart can be shown at."""
        chart_id = self._require_id("list the display URLs of")
        return self._client(client).get_chart_display_urls(
            chart_id, timeout=timeout, deadline=deadline
        )

    def get_iframe_code(
        self,
        responsive: bool = False,
        *,
        client: Datawrapper | None = None,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> str:
        """The embed code of the published chart."""
        chart_id = self._require_id("embed")
        return self._client(client).get_iframe_code(
            chart_id, responsive, timeout=timeout, deadline=deadline
        )

    # ------------------------------------------------------------------ loading

    @classmethod
    def _from_properties(cls, properties: Mapping[str, Any], *, data: Any = None) -> Chart:
        """An object for the chart JSON ``properties`` (its type picks the class from Chart)."""
        chart_type = str(properties.get("type") or "")
        target: type[Chart] = cls
        if not cls.chart_type:
            target = chart_class_for(chart_type)
        folder = properties.get("folderId")
        forkable = properties.get("forkable")
        chart = target(
            title=str(properties.get("title") or ""),
            data=data,
            metadata=properties.get("metadata") or {},
            theme=properties.get("theme"),
            language=properties.get("language"),
            folder_id=folder if isinstance(folder, int) and not isinstance(folder, bool) else None,
            organization_id=properties.get("organizationId"),
            forkable=forkable if isinstance(forkable, bool) else None,
            chart_type=None if target.chart_type else chart_type,
            chart_id=properties.get("id"),
        )
        chart._remember(properties)
        return chart

    @classmethod
    def get(
        cls,
        chart_id: str,
        *,
        client: Datawrapper | None = None,
        access_token: str | None = None,
        as_dataframe: bool = False,
        timeout: TimeoutLike | None = None,
        deadline: float | None = None,
    ) -> Self:
        """Load an existing chart: its properties and its data (two GETs).

        On :class:`Chart` the object's class follows the chart's type (a ``d3-lines`` chart
        comes back as a :class:`LineChart`); on a subclass a chart of another type raises
        :class:`~datawrapper.InvalidRequestError`. The data is the CSV text as stored (so an
        ``update()`` sends it back byte for byte), or a DataFrame with ``as_dataframe=True``.
        ``deadline`` (seconds) bounds both GETs together.
        """
        cid = check_chart_id(chart_id)
        if client is not None:
            dw = client
        elif access_token is not None:
            dw = Datawrapper(access_token)
        else:
            dw = get_default_client()
        budget = dw._budget(deadline)
        properties = dw.get_chart(
            cid, timeout=timeout, deadline=budget.left("loading the chart's properties")
        )
        actual = str(properties.get("type") or "")
        if cls.chart_type and actual != cls.chart_type:
            raise InvalidRequestError(
                f"chart {cid} is a {actual!r} chart, not {cls.chart_type!r}: load it with "
                f"{_class_hint(actual)} or dw.Chart.get({cid!r})"
            )
        left = budget.left("loading the chart's data")
        data = dw.get_data(cid, as_dataframe=as_dataframe, timeout=timeout, deadline=left)
        chart = cls._from_properties(properties, data=data)
        if client is not None or access_token is not None:
            chart.client = dw
        return cast(Self, chart)


def chart_class_for(chart_type: str) -> type[Chart]:
    """The chart class of a Datawrapper type id (:class:`Chart` for types without one)."""
    return CHART_CLASSES.get(chart_type, Chart)


def _class_hint(chart_type: str) -> str:
    cls = CHART_CLASSES.get(chart_type)
    return f"dw.{cls.__name__}" if cls is not None else "dw.Chart"


def get_chart(
    chart_id: str,
    *,
    client: Datawrapper | None = None,
    access_token: str | None = None,
    as_dataframe: bool = False,
    timeout: TimeoutLike | None = None,
    deadline: float | None = None,
) -> Chart:
    """Load chart ``chart_id`` as an object of the class matching its type (see :meth:`Chart.get`)."""
    return Chart.get(
        chart_id,
        client=client,
        access_token=access_token,
        as_dataframe=as_dataframe,
        timeout=timeout,
        deadline=deadline,
    )


# --------------------------------------------------------------------------- the chart types
# Type ids from developer.datawrapper.de/docs/chart-types (plus multiple-columns).


class BarChart(Chart):
    """Horizontal bars (``d3-bars``)."""

    chart_type = "d3-bars"


class SplitBarChart(Chart):
    """Split bars (``d3-bars-split``)."""

    chart_type = "d3-bars-split"


class StackedBarChart(Chart):
    """Stacked bars (``d3-bars-stacked``)."""

    chart_type = "d3-bars-stacked"


class BulletBarChart(Chart):
    """Bullet bars (``d3-bars-bullet``)."""

    chart_type = "d3-bars-bullet"


class DotPlot(Chart):
    """Dot plot (``d3-dot-plot``)."""

    chart_type = "d3-dot-plot"


class RangePlot(Chart):
    """Range plot (``d3-range-plot``)."""

    chart_type = "d3-range-plot"


class ArrowPlot(Chart):
    """Arrow plot (``d3-arrow-plot``)."""

    chart_type = "d3-arrow-plot"


class ColumnChart(Chart):
    """Vertical columns (``column-chart``)."""

    chart_type = "column-chart"


class GroupedColumnChart(Chart):
    """Grouped columns (``grouped-column-chart``)."""

    chart_type = "grouped-column-chart"


class StackedColumnChart(Chart):
    """Stacked columns (``stacked-column-chart``)."""

    chart_type = "stacked-column-chart"


class MultipleColumnChart(Chart):
    """Small multiples of columns (``multiple-columns``)."""

    chart_type = "multiple-columns"


class LineChart(Chart):
    """Lines (``d3-lines``)."""

    chart_type = "d3-lines"


class MultipleLinesChart(Chart):
    """Small multiples of lines (``multiple-lines``)."""

    chart_type = "multiple-lines"


class AreaChart(Chart):
    """Areas (``d3-area``)."""

    chart_type = "d3-area"


class ScatterPlot(Chart):
    """Scatter plot (``d3-scatter-plot``)."""

    chart_type = "d3-scatter-plot"


class PieChart(Chart):
    """Pie (``d3-pies``)."""

    chart_type = "d3-pies"


class DonutChart(Chart):
    """Donut (``d3-donuts``)."""

    chart_type = "d3-donuts"


class MultiplePiesChart(Chart):
    """Small multiples of pies (``d3-multiple-pies``)."""

    chart_type = "d3-multiple-pies"


class MultipleDonutsChart(Chart):
    """Small multiples of donuts (``d3-multiple-donuts``)."""

    chart_type = "d3-multiple-donuts"


class ElectionDonutChart(Chart):
    """Election donut (``election-donut-chart``)."""

    chart_type = "election-donut-chart"


class Table(Chart):
    """Table (``tables``)."""

    chart_type = "tables"


class ChoroplethMap(Chart):
    """Choropleth map (``d3-maps-choropleth``); set its basemap in ``metadata["visualize"]``."""

    chart_type = "d3-maps-choropleth"


class SymbolMap(Chart):
    """Symbol map (``d3-maps-symbols``); set its basemap in ``metadata["visualize"]``."""

    chart_type = "d3-maps-symbols"


class LocatorMap(Chart):
    """Locator map (``locator-map``); add markers with ``Datawrapper.add_json``."""

    chart_type = "locator-map"
