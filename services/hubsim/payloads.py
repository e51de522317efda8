"""The JSON shapes of the Hub API, built from the world as the official client reads them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, ClassVar

from services.hubsim.render import Snapshot
from services.hubsim.world import Revision, World, iso

EXPANDABLE: frozenset[str] = frozenset({
    "author", "cardData", "createdAt", "datasets", "disabled", "lastModified", "likes", "models", "private",
    "region", "resourceGroup", "runtime", "sdk", "sha", "siblings", "subdomain", "tags", "trendingScore",
    "usedStorage",
})
LISTING_FIELDS = ("likes", "trendingScore", "private", "sdk", "tags", "createdAt")
FULL_LISTING_FIELDS = ("author", "cardData", "disabled", "lastModified", "likes", "trendingScore", "private",
                       "sha", "siblings", "subdomain", "sdk", "tags", "createdAt", "models", "datasets")
INFO_FIELDS = ("author", "sha", "lastModified", "createdAt", "private", "gated", "disabled", "host", "subdomain",
               "likes", "trendingScore", "sdk", "tags", "cardData", "siblings", "runtime", "models", "datasets")
RUNNING_STAGES = frozenset({"RUNNING", "RUNNING_BUILDING", "APP_STARTING"})
ERROR_MESSAGES = {
    "RUNTIME_ERROR": "Exit code: 1. Reason: ModuleNotFoundError: No module named 'spaces'",
    "BUILD_ERROR": "Build failed with exit code: 1",
    "CONFIG_ERROR": "Missing configuration in README. Base README.md template: title, emoji, sdk",
}


def object_id(world: World, index: int) -> str:
    """A Mongo-style `_id`: creation time in the first 4 bytes, like the Hub's."""
    suffix = hashlib.sha1(f"{world.seed}/{index}".encode()).hexdigest()[:16]
    return f"{world.created_at(index):08x}{suffix}"


def subdomain(space_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", space_id.lower()).strip("-")[:63]


def runtime(world: World, index: int, revision: Revision) -> dict[str, Any]:
    profile = world.profile(index)
    stage = profile.stage
    running = stage in RUNNING_STAGES
    data: dict[str, Any] = {
        "stage": stage,
        "hardware": {
            "current": profile.hardware if running or stage == "RUNTIME_ERROR" else None,
            "requested": profile.hardware,
        },
        "storage": None,
        "gcTimeout": 172800 if profile.hardware == "cpu-basic" else None,
        "replicas": {"current": 1 if running else 0, "requested": 1},
        "devMode": False,
        "domains": [{"domain": f"{subdomain(profile.space_id)}.hf.space", "stage": "READY"}],
        "sha": revision.sha,
    }
    if stage in ERROR_MESSAGES:
        data["errorMessage"] = ERROR_MESSAGES[stage]
    return data


def siblings(snapshot: Snapshot, blobs: bool) -> list[dict[str, Any]]:
    if not blobs:
        return [{"rfilename": path} for path in snapshot.files]
    entries = []
    for path, repo_file in snapshot.files.items():
        entry: dict[str, Any] = {"rfilename": path, "size": len(repo_file.data), "blobId": repo_file.oid}
        if repo_file.lfs_sha256 is not None:
            entry["lfs"] = {"size": len(repo_file.data), "sha256": repo_file.lfs_sha256,
                            "pointerSize": repo_file.lfs_pointer_size}
        entries.append(entry)
    return entries


class SpaceFields:
    """Computes a Space's fields on request, rendering its files only if a field needs them."""

    def __init__(self, world: World, index: int, revision: Revision, blobs: bool = False) -> None:
        self.world = world
        self.index = index
        self.revision = revision
        self.blobs = blobs
        self.space_id = world.space_id(index)
        self._snapshot: Snapshot | None = None

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            self._snapshot = self.world.snapshot(self.index, self.revision)
        return self._snapshot

    def _author(self) -> Any:
        return self.space_id.partition("/")[0]

    def _card_data(self) -> Any:
        return self.snapshot.card_data

    def _created_at(self) -> Any:
        return iso(self.world.created_at(self.index))

    def _disabled(self) -> Any:
        return self.world.profile(self.index).disabled

    def _host(self) -> Any:
        return f"https://{subdomain(self.space_id)}.hf.space"

    def _last_modified(self) -> Any:
        return iso(self.revision.timestamp)

    def _likes(self) -> Any:
        return self.world.likes(self.index)

    def _models(self) -> Any:
        return list(self.world.profile(self.index).models)

    def _runtime(self) -> Any:
        return runtime(self.world, self.index, self.revision)

    def _sdk(self) -> Any:
        return self.world.profile(self.index).sdk

    def _sha(self) -> Any:
        return self.revision.sha

    def _siblings(self) -> Any:
        return siblings(self.snapshot, self.blobs)

    def _subdomain(self) -> Any:
        return subdomain(self.space_id)

    def _tags(self) -> Any:
        return list(self.world.tags(self.index))

    def _trending_score(self) -> Any:
        return self.world.trending(self.index)

    def _used_storage(self) -> Any:
        return self.snapshot.used_storage

    def _empty_list(self) -> Any:
        return []

    def _false(self) -> Any:
        return False

    def _region(self) -> Any:
        return "us"

    def _absent(self) -> Any:
        return None

    GETTERS: ClassVar[dict[str, Callable[[SpaceFields], Any]]] = {
        "author": _author, "cardData": _card_data, "createdAt": _created_at, "datasets": _empty_list,
        "disabled": _disabled, "gated": _false, "host": _host, "lastModified": _last_modified, "likes": _likes,
        "models": _models, "private": _false, "region": _region, "resourceGroup": _absent, "runtime": _runtime,
        "sdk": _sdk, "sha": _sha, "siblings": _siblings, "subdomain": _subdomain, "tags": _tags,
        "trendingScore": _trending_score, "usedStorage": _used_storage,
    }

    def document(self, names: tuple[str, ...] | list[str]) -> dict[str, Any]:
        """`_id` and `id` plus the named fields; fields without a value are left out, as the Hub does."""
        data: dict[str, Any] = {"_id": object_id(self.world, self.index), "id": self.space_id}
        for name in names:
            value = self.GETTERS[name](self)
            if value is not None:
                data[name] = value
        return data


def listing_item(world: World, index: int, expand: list[str], full: bool) -> dict[str, Any]:
    """A listing entry: the default fields, the `full` set, or only `_id`, `id` and what was expanded."""
    fields = SpaceFields(world, index, world.head(index))
    names = expand if expand else (FULL_LISTING_FIELDS if full else LISTING_FIELDS)
    return fields.document(names)


def space_info(world: World, index: int, revision: Revision, expand: list[str], blobs: bool) -> dict[str, Any]:
    fields = SpaceFields(world, index, revision, blobs)
    return fields.document(expand if expand else INFO_FIELDS)


def tree(snapshot: Snapshot, path: str, recursive: bool) -> list[dict[str, Any]] | None:
    """Entries under `path` (all depths if recursive); None when `path` is no directory."""
    prefix = path.strip("/")
    if prefix and prefix not in snapshot.directories:
        return None
    start = prefix + "/" if prefix else ""

    def listed(entry_path: str) -> bool:
        if not entry_path.startswith(start) or entry_path == prefix:
            return False
        return recursive or "/" not in entry_path[len(start):]

    entries: list[dict[str, Any]] = []
    for directory in snapshot.directories:
        if listed(directory):
            children = "".join(f"{p}:{f.oid}" for p, f in snapshot.files.items() if p.startswith(directory + "/"))
            entries.append({"type": "directory", "oid": hashlib.sha1(children.encode()).hexdigest(), "size": 0,
                            "path": directory})
    for file_path, repo_file in snapshot.files.items():
        if listed(file_path):
            entry: dict[str, Any] = {"type": "file", "oid": repo_file.oid, "size": len(repo_file.data),
                                     "path": file_path}
            if repo_file.lfs_sha256 is not None:
                entry["lfs"] = {"oid": repo_file.lfs_sha256, "size": len(repo_file.data),
                                "pointerSize": repo_file.lfs_pointer_size}
            entries.append(entry)
    entries.sort(key=lambda entry: entry["path"])
    return entries


def commits(world: World, index: int, revision: Revision) -> list[dict[str, Any]]:
    """The history reachable from `revision`, newest first."""
    author = world.space_id(index).partition("/")[0]
    history = world.revisions(index)[: revision.number + 1]
    return [
        {
            "id": commit.sha,
            "title": commit.title,
            "message": "",
            "authors": [{"user": author, "avatar": None}],
            "date": iso(commit.timestamp),
        }
        for commit in reversed(history)
    ]


def whoami(token: str) -> dict[str, Any]:
    """A minimal `whoami-v2` answer; the name is derived from the token so tests can tell tokens apart."""
    name = "sim-" + hashlib.sha1(token.encode()).hexdigest()[:8]
    return {
        "type": "user",
        "id": hashlib.sha1(name.encode()).hexdigest()[:24],
        "name": name,
        "fullname": "Hub Simulator User",
        "isPro": False,
        "orgs": [],
        "auth": {"type": "access_token", "accessToken": {"displayName": "hubsim", "role": "read"}},
    }
