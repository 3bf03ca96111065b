"""The clients compared by the benchmark, each able to run the two workloads.

Every client ("flavour") creates charts against the same fake Datawrapper API:

- ``create``: ``POST /v3/charts`` then ``PUT /v3/charts/{id}/data`` with ~2 KB of CSV
  (2 requests per chart);
- ``mixed``: create, upload, ``POST .../publish``, ``GET .../export/png`` (4 requests).

Flavours:

- ``baseline``: what the community client does, a module-level ``requests.post/put/get`` per
  call, so a new TCP + TLS connection per request;
- ``raw-requests`` / ``raw-httpx`` / ``raw-urllib3``: the HTTP libraries used directly, with
  their own connection pool (a ``requests.Session``, an ``httpx.Client``, a
  ``urllib3.PoolManager``): the floor the package must not fall below;
- ``ours-requests`` / ``ours-httpx`` / ``ours-urllib3``: ``datawrapper.Datawrapper`` on each
  backend (retries, hooks, validation and all).

Concurrency: raw flavours and the baseline use a ``ThreadPoolExecutor``; ours uses the
package's bulk runner, ``client.map`` (``datawrapper._bulk.bulk_map``).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import requests
import urllib3

from datawrapper import Datawrapper, PoolConfig

TOKEN = "bench-token"

CALLS = {"create": 2, "mixed": 4}

EXPORT_PARAMS = {"unit": "px", "mode": "rgb", "width": 600, "plain": "false", "zoom": 2}
OUR_EXPORT_PARAMS: dict[str, Any] = {
    "unit": "px",
    "mode": "rgb",
    "width": 600,
    "plain": False,
    "zoom": 2,
}


def make_csv(target_bytes: int = 2048) -> str:
    """Deterministic chart data of about ``target_bytes`` bytes."""
    lines = ["country,2019,2020,2021,2022,2023"]
    i = 0
    while sum(len(line) + 1 for line in lines) < target_bytes:
        values = ",".join(f"{(i * 37 + j * 11) % 1000 / 10:.1f}" for j in range(5))
        lines.append(f"Country {i:03d},{values}")
        i += 1
    return "\n".join(lines) + "\n"


CSV = make_csv()


class Flavour:
    """One way of talking to the API. Subclasses implement the four calls."""

    name = "?"

    def __init__(self, base_url: str, ca_path: str | None, workers: int) -> None:
        self.base = base_url.rstrip("/") + "/v3"
        self.ca_path = ca_path
        self.workers = workers
        self.auth = {"Authorization": f"Bearer {TOKEN}", "accept": "*/*"}

    # the four API calls -------------------------------------------------------------
    def create_chart(self, title: str) -> str:
        raise NotImplementedError

    def upload(self, chart_id: str, csv: str) -> None:
        raise NotImplementedError

    def publish(self, chart_id: str) -> None:
        raise NotImplementedError

    def export(self, chart_id: str) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass

    # workloads ----------------------------------------------------------------------
    def create_item(self, i: int) -> str:
        chart_id = self.create_chart(f"Chart {i}")
        self.upload(chart_id, CSV)
        return chart_id

    def mixed_item(self, i: int) -> str:
        chart_id = self.create_item(i)
        self.publish(chart_id)
        png = self.export(chart_id)
        if not png.startswith(b"\x89PNG"):
            raise RuntimeError("the export is not a PNG")
        return chart_id

    def run(self, workload: str, items: Sequence[int], workers: int) -> None:
        """Run ``workload`` over ``items`` with ``workers`` threads (1: serially)."""
        fn: Callable[[int], str] = self.create_item if workload == "create" else self.mixed_item
        if workers == 1:
            for i in items:
                fn(i)
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(fn, items))


def _check(status: int, what: str, body: bytes = b"") -> None:
    if not 200 <= status < 300:
        raise RuntimeError(f"{what} failed with {status}: {body[:200]!r}")


class Baseline(Flavour):
    """The community client: module-level requests calls, one new connection per request."""

    name = "baseline"

    def create_chart(self, title: str) -> str:
        headers = {**self.auth, "content-type": "application/json"}
        r = requests.post(
            f"{self.base}/charts",
            headers=headers,
            data=json.dumps({"title": title, "type": "d3-bars"}),
            timeout=30,
            verify=self.ca_path or True,
        )
        _check(r.status_code, "create", r.content)
        return str(r.json()["id"])

    def upload(self, chart_id: str, csv: str) -> None:
        headers = {**self.auth, "content-type": "text/csv"}
        r = requests.put(
            f"{self.base}/charts/{chart_id}/data",
            headers=headers,
            data=csv.encode("utf-8"),
            timeout=15,
            verify=self.ca_path or True,
        )
        _check(r.status_code, "upload", r.content)

    def publish(self, chart_id: str) -> None:
        r = requests.post(
            f"{self.base}/charts/{chart_id}/publish",
            headers=self.auth,
            timeout=30,
            verify=self.ca_path or True,
        )
        _check(r.status_code, "publish", r.content)
        r.json()

    def export(self, chart_id: str) -> bytes:
        r = requests.get(
            f"{self.base}/charts/{chart_id}/export/png",
            headers=self.auth,
            params=EXPORT_PARAMS,
            timeout=15,
            verify=self.ca_path or True,
        )
        _check(r.status_code, "export", r.content)
        return r.content


class RawRequests(Flavour):
    """requests.Session: pooled, nothing else."""

    name = "raw-requests"

    def __init__(self, base_url: str, ca_path: str | None, workers: int) -> None:
        super().__init__(base_url, ca_path, workers)
        self.s = requests.Session()
        # verify per call: a session-level verify loses to REQUESTS_CA_BUNDLE (requests quirk)
        self.verify: str | bool = ca_path or True
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(workers, 10))
        self.s.mount("https://", adapter)
        self.s.mount("http://", adapter)

    def create_chart(self, title: str) -> str:
        r = self.s.post(
            f"{self.base}/charts",
            headers={**self.auth, "content-type": "application/json"},
            data=json.dumps({"title": title, "type": "d3-bars"}),
            timeout=30,
            verify=self.verify,
        )
        _check(r.status_code, "create", r.content)
        return str(r.json()["id"])

    def upload(self, chart_id: str, csv: str) -> None:
        r = self.s.put(
            f"{self.base}/charts/{chart_id}/data",
            headers={**self.auth, "content-type": "text/csv"},
            data=csv.encode("utf-8"),
            timeout=15,
            verify=self.verify,
        )
        _check(r.status_code, "upload", r.content)

    def publish(self, chart_id: str) -> None:
        r = self.s.post(
            f"{self.base}/charts/{chart_id}/publish",
            headers=self.auth,
            timeout=30,
            verify=self.verify,
        )
        _check(r.status_code, "publish", r.content)
        r.json()

    def export(self, chart_id: str) -> bytes:
        r = self.s.get(
            f"{self.base}/charts/{chart_id}/export/png",
            headers=self.auth,
            params=EXPORT_PARAMS,
            timeout=15,
            verify=self.verify,
        )
        _check(r.status_code, "export", r.content)
        return r.content

    def close(self) -> None:
        self.s.close()


class RawHttpx(Flavour):
    """httpx.Client: pooled, nothing else."""

    name = "raw-httpx"

    def __init__(self, base_url: str, ca_path: str | None, workers: int) -> None:
        super().__init__(base_url, ca_path, workers)
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_path) if ca_path else True
        )
        self.c = httpx.Client(verify=verify, timeout=30)

    def create_chart(self, title: str) -> str:
        r = self.c.post(
            f"{self.base}/charts",
            headers={**self.auth, "content-type": "application/json"},
            content=json.dumps({"title": title, "type": "d3-bars"}),
        )
        _check(r.status_code, "create", r.content)
        return str(r.json()["id"])

    def upload(self, chart_id: str, csv: str) -> None:
        r = self.c.put(
            f"{self.base}/charts/{chart_id}/data",
            headers={**self.auth, "content-type": "text/csv"},
            content=csv.encode("utf-8"),
        )
        _check(r.status_code, "upload", r.content)

    def publish(self, chart_id: str) -> None:
        r = self.c.post(f"{self.base}/charts/{chart_id}/publish", headers=self.auth)
        _check(r.status_code, "publish", r.content)
        r.json()

    def export(self, chart_id: str) -> bytes:
        r = self.c.get(
            f"{self.base}/charts/{chart_id}/export/png",
            headers=self.auth,
            params=EXPORT_PARAMS,
        )
        _check(r.status_code, "export", r.content)
        return r.content

    def close(self) -> None:
        self.c.close()


class RawUrllib3(Flavour):
    """urllib3.PoolManager: pooled, nothing else (the floor)."""

    name = "raw-urllib3"

    def __init__(self, base_url: str, ca_path: str | None, workers: int) -> None:
        super().__init__(base_url, ca_path, workers)
        tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED", "ca_certs": ca_path} if ca_path else {}
        self.pm = urllib3.PoolManager(maxsize=max(workers, 1), retries=False, **tls)
        self.timeout = urllib3.Timeout(connect=5, read=30)

    def create_chart(self, title: str) -> str:
        r = self.pm.request(
            "POST",
            f"{self.base}/charts",
            headers={**self.auth, "content-type": "application/json"},
            body=json.dumps({"title": title, "type": "d3-bars"}).encode(),
            timeout=self.timeout,
        )
        _check(r.status, "create", r.data)
        return str(json.loads(r.data)["id"])

    def upload(self, chart_id: str, csv: str) -> None:
        r = self.pm.request(
            "PUT",
            f"{self.base}/charts/{chart_id}/data",
            headers={**self.auth, "content-type": "text/csv"},
            body=csv.encode("utf-8"),
            timeout=self.timeout,
        )
        _check(r.status, "upload", r.data)

    def publish(self, chart_id: str) -> None:
        r = self.pm.request(
            "POST",
            f"{self.base}/charts/{chart_id}/publish",
            headers=self.auth,
            timeout=self.timeout,
        )
        _check(r.status, "publish", r.data)
        json.loads(r.data)

    def export(self, chart_id: str) -> bytes:
        r = self.pm.request(
            "GET",
            f"{self.base}/charts/{chart_id}/export/png",
            headers=self.auth,
            fields=EXPORT_PARAMS,
            timeout=self.timeout,
        )
        _check(r.status, "export", r.data)
        return bytes(r.data)

    def close(self) -> None:
        self.pm.clear()


class Ours(Flavour):
    """datawrapper.Datawrapper on one backend; concurrency through the bulk runner."""

    backend = "requests"

    def __init__(self, base_url: str, ca_path: str | None, workers: int) -> None:
        super().__init__(base_url, ca_path, workers)
        pool = PoolConfig(
            max_connections=max(workers, 10), max_keepalive_connections=max(workers, 10)
        )
        self.client = Datawrapper(
            TOKEN,
            base_url=base_url,
            transport=self.backend,
            verify=ca_path or True,
            pool=pool,
        )

    def create_chart(self, title: str) -> str:
        return str(self.client.create_chart(title, "d3-bars")["id"])

    def upload(self, chart_id: str, csv: str) -> None:
        self.client.add_data(chart_id, csv)

    def create_item(self, i: int) -> str:
        # the package's own one-call form: POST /charts, then PUT /data
        return str(self.client.create_chart(f"Chart {i}", "d3-bars", data=CSV)["id"])

    def publish(self, chart_id: str) -> None:
        self.client.publish_chart(chart_id)

    def export(self, chart_id: str) -> bytes:
        return self.client.export_chart(chart_id, "png", **OUR_EXPORT_PARAMS)

    def run(self, workload: str, items: Sequence[int], workers: int) -> None:
        if workers == 1:
            super().run(workload, items, workers)
            return
        fn: Callable[[int], str] = self.create_item if workload == "create" else self.mixed_item
        result = self.client.map(fn, items, max_workers=workers)
        result.raise_for_errors()

    def close(self) -> None:
        self.client.close()


class OursRequests(Ours):
    name = "ours-requests"
    backend = "requests"


class OursHttpx(Ours):
    name = "ours-httpx"
    backend = "httpx"


class OursUrllib3(Ours):
    name = "ours-urllib3"
    backend = "urllib3"


FLAVOURS: dict[str, type[Flavour]] = {
    cls.name: cls
    for cls in (
        Baseline,
        RawRequests,
        RawHttpx,
        RawUrllib3,
        OursRequests,
        OursHttpx,
        OursUrllib3,
    )
}

#: Which raw library each of ours wraps (for the "vs raw" column).
RAW_OF = {"ours-requests": "raw-requests", "ours-httpx": "raw-httpx", "ours-urllib3": "raw-urllib3"}
