"""HTTP front of the simulator: the Hub API routes the official client uses, plus `/_sim/` controls.

Built on aiohttp's low-level server with one hand-written router: Hub paths carry percent-encoded
slashes (revisions, tree paths) that must be split before decoding, and skipping the application
layer keeps a single core above a few thousand requests per second.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import mimetypes
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import orjson
from aiohttp import web
from multidict import CIMultiDict

from services.hubsim import payloads
from services.hubsim.world import SORT_KEYS, Cursor, Revision, World

MAX_PAGE_SIZE = 1000
COMMITS_PAGE_SIZE = 50
DISABLED_MESSAGE = "Access to this resource is disabled."
INVALID_TOKEN_MESSAGE = "Invalid credentials in Authorization header"
TEXT_SUFFIXES = (".py", ".txt", ".md", ".js", ".json", ".yaml", ".yml", ".toml", ".html", ".css", ".ipynb",
                 ".env", ".gitattributes", "Dockerfile")


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """Fixed-window quotas per client (token, else IP), like the Hub's; None disables a bucket."""

    api: int | None = None
    resolvers: int | None = None
    window_seconds: int = 300


class RateLimiter:
    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}

    def check(self, bucket: str, client: str) -> tuple[bool, dict[str, str]]:
        """Count one request; return whether it is allowed and the RateLimit headers to send."""
        quota = self.config.api if bucket == "api" else self.config.resolvers
        if quota is None:
            return True, {}
        window = self.config.window_seconds
        now = time.time()
        window_start = int(now // window) * window
        start, used = self._windows.get((bucket, client), (window_start, 0))
        if start != window_start:
            used = 0
        used += 1
        self._windows[(bucket, client)] = (window_start, used)
        reset = max(1, math.ceil(window_start + window - now))
        headers = {
            "RateLimit": f'"{bucket}";r={max(0, quota - used)};t={reset}',
            "RateLimit-Policy": f'"fixed window";"{bucket}";q={quota};w={window}',
        }
        if used > quota:
            headers["Retry-After"] = str(reset)
            return False, headers
        return True, headers


class RequestStats:
    """Counters of Hub API requests (not of `/_sim/` calls), so tests can hold a crawler to a budget."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.by_route: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.rate_limited = 0
        self.authenticated = 0
        self.tokens: set[str] = set()

    def as_json(self) -> dict[str, Any]:
        return {
            "total": sum(self.by_route.values()),
            "by_route": dict(self.by_route),
            "by_status": {str(status): count for status, count in self.by_status.items()},
            "rate_limited": self.rate_limited,
            "authenticated_requests": self.authenticated,
            "distinct_tokens": len(self.tokens),
        }


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, headers=headers, content_type="application/json")


def _error(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    extra = {"X-Error-Message": message, **(headers or {})}
    if code is not None:
        extra["X-Error-Code"] = code
    return _json({"error": message}, status, extra)


def _repo_not_found() -> web.Response:
    return _error(404, "Repository not found", "RepoNotFound")


def _revision_not_found(rev: str) -> web.Response:
    return _error(404, f"Invalid rev id: {rev}", "RevisionNotFound")


def _encode_cursor(cursor: Cursor) -> str:
    return base64.urlsafe_b64encode(f"{cursor[0]}:{cursor[1]}".encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> Cursor:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    key, _, index = raw.partition(":")
    return int(key), int(index)


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "").lower() in ("true", "1")


def _next_link(request: web.BaseRequest, **replace: str) -> str:
    """An absolute URL of this request with some query parameters replaced, as a `Link` header."""
    pairs = [(key, value) for key, value in request.query.items() if key not in replace]
    pairs.extend(replace.items())
    return f'<{request.url.with_query(pairs)}>; rel="next"'


class _BadRequest(Exception):
    pass


class _Refused(Exception):
    """An error answer decided deep in a handler (unknown Space or revision, disabled Space)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _page_size(query: Mapping[str, str], default: int) -> int:
    try:
        limit = int(query.get("limit", default))
    except ValueError as error:
        raise _BadRequest("limit must be an integer") from error
    return max(1, min(limit, MAX_PAGE_SIZE))


class HubSimulator:
    """A simulated Hub over a seeded world.

    Use `serve_in_thread()` (or `with HubSimulator(...) as sim:`) in tests and `run()` from the CLI.
    """

    def __init__(
        self,
        spaces: int = 10_000,
        seed: int = 1,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: RateLimitConfig | None = None,
        page_size: int = 1000,
        tick_seconds: float | None = None,
    ) -> None:
        self.world = World(spaces, seed)
        self.stats = RequestStats()
        self.rate_limiter = RateLimiter(rate_limit or RateLimitConfig())
        self.host = host
        self.port = port
        self.page_size = min(page_size, MAX_PAGE_SIZE)
        self.tick_seconds = tick_seconds
        self._runner: web.ServerRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> str:
        """Start serving on the running event loop; returns the base URL (with the bound port)."""
        server = web.Server(self._handle, access_log=None)
        self._runner = web.ServerRunner(server)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if self.tick_seconds:
            self._ticker = asyncio.create_task(self._tick_forever(self.tick_seconds))
        return self.base_url

    async def stop_serving(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _tick_forever(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.world.tick()

    def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until interrupted (the CLI's entry point)."""

        async def main() -> None:
            url = await self.start()
            if on_ready is not None:
                on_ready(url)
            try:
                await asyncio.Event().wait()
            finally:
                await self.stop_serving()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())

    def serve_in_thread(self) -> str:
        """Serve from a daemon thread with its own event loop; returns the base URL."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as error:  # reported to the caller below
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_serving())
            loop.close()

        self._thread = threading.Thread(target=serve, name="hubsim", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self.base_url

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = self._thread = None

    def __enter__(self) -> HubSimulator:
        self.serve_in_thread()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def tick(self, **changes: int) -> dict[str, Any]:
        """Advance the world one step (safe while the server thread runs)."""
        return self.world.tick(**changes)

    # --- request handling ------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.raw_path.partition("?")[0]
        segments = [unquote(segment) for segment in path.split("/")[1:]]
        if segments and segments[0] == "_sim":
            return await self._sim(request, segments[1:])
        route, response = self._hub(request, segments)
        self.stats.by_route[route] += 1
        self.stats.by_status[response.status] += 1
        return response

    def _hub(self, request: web.BaseRequest, segments: list[str]) -> tuple[str, web.StreamResponse]:
        route, handler, args = self._route(request.method, segments)
        if handler is None:
            return route, _error(404, "Not Found")
        token = None
        authorization = request.headers.get("Authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.startswith(("hf_", "api_org_")):
                return route, _error(401, INVALID_TOKEN_MESSAGE)
            self.stats.authenticated += 1
            self.stats.tokens.add(token)
        bucket = "resolvers" if route == "spaces.resolve" else "api"
        allowed, limit_headers = self.rate_limiter.check(bucket, token or request.remote or "unknown")
        if not allowed:
            self.stats.rate_limited += 1
            return route, _error(429, "You have exceeded our rate limit. Please wait before retrying.",
                                 headers=limit_headers)
        try:
            with self.world.lock:
                response = handler(request, token, *args)
        except _BadRequest as error:
            response = _error(400, str(error))
        except _Refused as refusal:
            response = refusal.response
        response.headers.update(limit_headers)
        return route, response

    def _route(
        self, method: str, segments: list[str]
    ) -> tuple[str, Callable[..., web.StreamResponse] | None, tuple[Any, ...]]:
        if segments[:1] == ["spaces"] and len(segments) >= 6 and segments[3] == "resolve":
            if method in ("GET", "HEAD"):
                return "spaces.resolve", self._resolve, (f"{segments[1]}/{segments[2]}", segments[4],
                                                         "/".join(segments[5:]))
            return "spaces.resolve", None, ()
        if segments[:1] != ["api"] or method != "GET":
            return "unknown", None, ()
        rest = segments[1:]
        if rest == ["whoami-v2"]:
            return "whoami", self._whoami, ()
        if rest == ["spaces"]:
            return "spaces.list", self._list_spaces, ()
        if len(rest) < 3 or rest[0] != "spaces":
            return "unknown", None, ()
        space_id, tail = f"{rest[1]}/{rest[2]}", rest[3:]
        if not tail:
            return "spaces.info", self._space_info, (space_id, "main")
        if tail[0] == "revision" and len(tail) == 2:
            return "spaces.info", self._space_info, (space_id, tail[1])
        if tail == ["runtime"]:
            return "spaces.runtime", self._runtime, (space_id,)
        if tail[0] == "tree" and len(tail) >= 2:
            return "spaces.tree", self._tree, (space_id, tail[1], "/".join(tail[2:]))
        if tail[0] == "commits" and len(tail) == 2:
            return "spaces.commits", self._commits, (space_id, tail[1])
        return "unknown", None, ()

    def _list_spaces(self, request: web.BaseRequest, token: str | None) -> web.StreamResponse:
        query = request.query
        expand = query.getall("expand[]", []) + query.getall("expand", [])
        full = _flag(query, "full")
        if expand and full:
            raise _BadRequest("expand and full cannot be used together")
        unknown = sorted(set(expand) - payloads.EXPANDABLE)
        if unknown:
            raise _BadRequest(f'"expand" must be one of {sorted(payloads.EXPANDABLE)}, got {unknown}')
        sort = query.get("sort")
        if sort is not None and sort not in SORT_KEYS:
            raise _BadRequest(f'"sort" must be one of {list(SORT_KEYS)}')
        try:
            after = _decode_cursor(query["cursor"]) if "cursor" in query else None
        except (ValueError, UnicodeDecodeError) as error:
            raise _BadRequest("invalid cursor") from error
        page, next_cursor = self.world.list_page(
            sort=sort,
            search=query.get("search"),
            author=query.get("author"),
            tags=query.getall("filter", []),
            after=after,
            limit=_page_size(query, self.page_size),
        )
        items = [payloads.listing_item(self.world, index, expand, full) for index in page]
        headers = {"Link": _next_link(request, cursor=_encode_cursor(next_cursor))} if next_cursor else None
        return _json(items, headers=headers)

    def _located(self, space_id: str, rev: str, reading_files: bool = False) -> tuple[int, Revision]:
        """The Space and revision a request names, or the Hub's 404 (or 403 for a disabled Space's files)."""
        index = self.world.lookup(space_id)
        if index is None:
            raise _Refused(_repo_not_found())
        revision = self.world.find_revision(index, rev)
        if revision is None:
            raise _Refused(_revision_not_found(rev))
        if reading_files and self.world.profile(index).disabled:
            raise _Refused(_error(403, DISABLED_MESSAGE))
        return index, revision

    def _space_info(self, request: web.BaseRequest, token: str | None, space_id: str, rev: str) -> web.StreamResponse:
        index, revision = self._located(space_id, rev)
        expand = request.query.getall("expand[]", []) + request.query.getall("expand", [])
        unknown = sorted(set(expand) - payloads.EXPANDABLE)
        if unknown:
            raise _BadRequest(f'"expand" must be one of {sorted(payloads.EXPANDABLE)}, got {unknown}')
        return _json(payloads.space_info(self.world, index, revision, expand, _flag(request.query, "blobs")))

    def _runtime(self, request: web.BaseRequest, token: str | None, space_id: str) -> web.StreamResponse:
        index = self.world.lookup(space_id)
        if index is None:
            return _repo_not_found()
        return _json(payloads.runtime(self.world, index, self.world.head(index)))

    def _tree(
        self, request: web.BaseRequest, token: str | None, space_id: str, rev: str, path: str
    ) -> web.StreamResponse:
        index, revision = self._located(space_id, rev, reading_files=True)
        entries = payloads.tree(self.world.snapshot(index, revision), path, _flag(request.query, "recursive"))
        if entries is None:
            return _error(404, f"{path} does not exist on \"{rev}\"", "EntryNotFound")
        try:
            start = int(request.query.get("cursor", "0"))
        except ValueError as error:
            raise _BadRequest("invalid cursor") from error
        end = start + _page_size(request.query, self.page_size)
        headers = {"Link": _next_link(request, cursor=str(end))} if end < len(entries) else None
        return _json(entries[start:end], headers=headers)

    def _commits(self, request: web.BaseRequest, token: str | None, space_id: str, rev: str) -> web.StreamResponse:
        index, revision = self._located(space_id, rev)
        history = payloads.commits(self.world, index, revision)
        try:
            page = int(request.query.get("p", "0"))
        except ValueError as error:
            raise _BadRequest("invalid page") from error
        start = page * COMMITS_PAGE_SIZE
        headers = ({"Link": _next_link(request, p=str(page + 1))}
                   if start + COMMITS_PAGE_SIZE < len(history) else None)
        return _json(history[start:start + COMMITS_PAGE_SIZE], headers=headers)

    def _whoami(self, request: web.BaseRequest, token: str | None) -> web.StreamResponse:
        if token is None:
            return _error(401, INVALID_TOKEN_MESSAGE)
        return _json(payloads.whoami(token))

    def _resolve(
        self, request: web.BaseRequest, token: str | None, space_id: str, rev: str, path: str
    ) -> web.StreamResponse:
        """Raw file bytes; LFS files redirect to the simulated CDN, as the Hub does."""
        index, revision = self._located(space_id, rev, reading_files=True)
        repo_file = self.world.snapshot(index, revision).files.get(path)
        if repo_file is None:
            return _error(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": revision.sha})
        if repo_file.lfs_sha256 is not None:
            location = f"{request.url.origin()}/_sim/lfs/{space_id}/{revision.sha}/{quote(path)}"
            headers = {
                "Location": location,
                "X-Repo-Commit": revision.sha,
                "ETag": f'"{repo_file.oid}"',
                "X-Linked-Etag": f'"{repo_file.lfs_sha256}"',
                "X-Linked-Size": str(len(repo_file.data)),
            }
            return web.Response(status=302, headers=headers)
        return _file_response(request, repo_file.data, path, revision.sha, repo_file.oid)

    # --- simulator controls ----------------------------------------------------------------

    async def _sim(self, request: web.BaseRequest, segments: list[str]) -> web.StreamResponse:
        method = request.method
        if segments == ["ground-truth"] and method == "GET":
            return web.Response(body=await asyncio.to_thread(self._ground_truth_bytes),
                                content_type="application/json")
        if segments == ["tick"] and method == "POST":
            changes = orjson.loads(await request.read() or b"{}")
            try:
                return _json(await asyncio.to_thread(self.world.tick, **changes))
            except TypeError as error:
                return _error(400, str(error))
        if segments == ["stats"] and method == "GET":
            return _json(self.stats.as_json())
        if segments == ["stats", "reset"] and method == "POST":
            self.stats.reset()
            return _json({"reset": True})
        if segments[:1] == ["lfs"] and len(segments) >= 5 and method in ("GET", "HEAD"):
            return self._lfs_blob(request, f"{segments[1]}/{segments[2]}", segments[3], "/".join(segments[4:]))
        return _error(404, "Not Found")

    def _ground_truth_bytes(self) -> bytes:
        return orjson.dumps(self.world.ground_truth())

    def _lfs_blob(self, request: web.BaseRequest, space_id: str, sha: str, path: str) -> web.StreamResponse:
        """The CDN side of an LFS redirect: the content, addressed by its sha256 ETag."""
        with self.world.lock:
            index = self.world.lookup(space_id)
            revision = self.world.find_revision(index, sha) if index is not None else None
            if index is None or revision is None:
                return _repo_not_found()
            repo_file = self.world.snapshot(index, revision).files.get(path)
        if repo_file is None or repo_file.lfs_sha256 is None:
            return _error(404, "Entry not found", "EntryNotFound")
        return _file_response(request, repo_file.data, path, sha, repo_file.lfs_sha256)


def _file_response(request: web.BaseRequest, data: bytes, path: str, sha: str, etag: str) -> web.Response:
    """File bytes with the Hub's headers; honours single `bytes=a-b` ranges (resumed downloads)."""
    name = path.rsplit("/", 1)[-1]
    if name.endswith(TEXT_SUFFIXES) or name.startswith("."):
        content_type = "text/plain; charset=utf-8"
    else:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = CIMultiDict({
        "Content-Type": content_type,
        "X-Repo-Commit": sha,
        "ETag": f'"{etag}"',
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}; filename=\"{name}\";",
    })
    byte_range = _parse_range(request.headers.get("Range", ""), len(data))
    if byte_range is not None:
        start, end = byte_range
        if start >= len(data) or start > end:
            headers["Content-Range"] = f"bytes */{len(data)}"
            return web.Response(status=416, headers=headers)
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return web.Response(body=data[start:end + 1], status=206, headers=headers)
    return web.Response(body=data, headers=headers)


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=a-b` or `bytes=a-` range; None if absent or malformed."""
    if not header.startswith("bytes="):
        return None
    first, _, last = header[6:].partition("-")
    try:
        start = int(first or 0)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    return start, end
