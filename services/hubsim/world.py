"""The seeded synthetic Hub: which Spaces exist, their revisions, and how they change over time.

Only what listing and sorting need is drawn eagerly (id, archetype, plant, dates, likes) from one
RNG stream, a few bytes per Space, so 100k Spaces start in about a second. Everything else - card
fields, keys, files - is rebuilt on demand from (seed, index) and kept in bounded caches.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import threading
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from services.hubsim import catalog, vocab
from services.hubsim.profile import SORA_SPACE_ID, Plant, SpaceProfile, build_profile, sora_profile
from services.hubsim.render import Snapshot, render_space


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


HISTORY_START = _epoch("2022-03-02T23:29:04+00:00")  # the Hub's earliest createdAt
CLOCK_START = _epoch("2026-06-01T00:00:00+00:00")
SORA_CREATED = _epoch("2024-11-26T13:29:51+00:00")
TICK_SECONDS = 900  # simulated time per tick
SORT_KEYS = ("lastModified", "createdAt", "likes", "trendingScore")
PLANT_RATES = ((Plant.CREDENTIAL, 0.032), (Plant.PROXY, 0.016), (Plant.ENDPOINT, 0.010), (Plant.DECOY, 0.08))
SDK_WEIGHTS = {
    "clean": (60, 15, 15, 10),
    "proxy": (55, 15, 22, 8),
    "endpoint": (70, 15, 15, 0),
    "credential": (55, 20, 20, 5),
}
ROLES: dict[Plant, catalog.Role] = {Plant.PROXY: "proxy", Plant.ENDPOINT: "endpoint"}
REDACTION_TITLES = ("Remove API key", "Delete .env", "Use Space secrets instead of hardcoded key", "Remove token")


def iso(timestamp: int) -> str:
    """The Hub's timestamp format (UTC, milliseconds, Z)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True, slots=True)
class Revision:
    number: int
    sha: str
    timestamp: int
    title: str
    redacted: bool


Cursor = tuple[int, int]


class World:
    """All Spaces of one seed. Mutations and reads take `lock`, so a server thread and tests can share it."""

    def __init__(self, spaces: int, seed: int) -> None:
        self.seed = seed
        self.clock = CLOCK_START
        self.tick_count = 0
        self.version = 0
        self.lock = threading.RLock()
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._archetype = bytearray()
        self._plant = bytearray()
        self._created = array("q")
        self._modified = array("q")
        self._likes = array("q")
        self._trending = array("q")
        self._deleted: set[int] = set()
        self._history: dict[int, list[Revision]] = {}
        self._log: list[dict[str, Any]] = []
        self._orders: dict[str | None, list[Cursor]] = {}
        self._ground_truth: dict[str, Any] | None = None
        self._archetype_codes = {arch.key: code for code, arch in enumerate(catalog.ARCHETYPES)}
        self._tags_by_code = [(arch.sdk, *arch.tags) for arch in catalog.ARCHETYPES]
        self.profile = lru_cache(maxsize=16384)(self._build_profile)
        self._snapshot = lru_cache(maxsize=2048)(self._render)
        rng = random.Random(f"hubsim/{seed}/world")
        owner_count = max(8, spaces // 3)
        self._owners = self._draw_owners(rng, owner_count)
        sora_index = rng.randrange(spaces) if spaces else -1
        for index in range(spaces):
            if index == sora_index:
                self._append(SORA_SPACE_ID, "sora-relay", Plant.SORA, SORA_CREATED, SORA_CREATED + 79, 312, 0)
            else:
                self._draw_space(rng, created_at=None)

    # --- generation ------------------------------------------------------------------------

    @staticmethod
    def _draw_owners(rng: random.Random, count: int) -> list[str]:
        owners: list[str] = []
        seen: set[str] = set()
        while len(owners) < count:
            first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
            style = rng.random()
            if style < 0.05:
                name = rng.choice(vocab.ORG_NAMES)
            elif style < 0.3:
                name = f"{first}{last}"
            elif style < 0.45:
                name = f"{first}-{last}"
            elif style < 0.55:
                name = f"{first}_{last}"
            elif style < 0.75:
                name = f"{first}{rng.randint(1, 9999)}"
            elif style < 0.9:
                name = f"{rng.choice(vocab.HANDLE_WORDS)}-{first}"
            else:
                name = f"{first.capitalize()}{last.capitalize()}"
            while name.lower() in seen:
                name = f"{name}{rng.randint(0, 99)}"
            seen.add(name.lower())
            owners.append(name)
        return owners

    def _draw_space(self, rng: random.Random, created_at: int | None) -> int:
        roll = rng.random()
        plant = Plant.NONE
        for candidate, rate in PLANT_RATES:
            if roll < rate:
                plant = candidate
                break
            roll -= rate
        role = ROLES.get(plant, "clean")
        weights = SDK_WEIGHTS["credential" if plant == Plant.CREDENTIAL else role]
        sdk = rng.choices(catalog.SDKS, weights=weights)[0]
        archetype = rng.choice(catalog.archetypes_for(sdk, role))
        owner = self._owners[int(len(self._owners) * rng.random() ** 2.5)]
        name = rng.choice(archetype.stems) + rng.choice(vocab.NAME_SUFFIXES)
        if rng.random() < 0.1:
            name = name.replace("-", "_").title() if rng.random() < 0.5 else name.title()
        space_id = f"{owner}/{name}"
        while space_id in self._index:
            space_id = f"{owner}/{name}-{rng.randint(2, 999)}"
        if created_at is None:
            created = HISTORY_START + int((CLOCK_START - HISTORY_START) * rng.random() ** 0.6)
            modified = created + int((CLOCK_START - created) * rng.random() ** 3)
        else:
            created = modified = created_at
        likes = min(int(rng.paretovariate(1.3)) - 1, 25_000)
        recency = min(1.0, max(0.0, 1 - (CLOCK_START - modified) / (90 * 86400)))
        trending = int(likes * recency * rng.random() * 0.5)
        return self._append(space_id, archetype.key, plant, created, modified, likes, trending)

    def _append(
        self, space_id: str, archetype: str, plant: Plant, created: int, modified: int, likes: int, trending: int
    ) -> int:
        index = len(self._ids)
        self._ids.append(space_id)
        self._index[space_id] = index
        self._archetype.append(self._archetype_codes[archetype])
        self._plant.append(plant)
        self._created.append(created)
        self._modified.append(modified)
        self._likes.append(likes)
        self._trending.append(trending)
        return index

    def _build_profile(self, index: int) -> SpaceProfile:
        plant = Plant(self._plant[index])
        if plant == Plant.SORA:
            return sora_profile(self.seed, index, self._created[index])
        archetype = catalog.ARCHETYPES[self._archetype[index]].key
        return build_profile(self.seed, index, self._ids[index], archetype, plant, self._created[index])

    def _render(self, index: int, number: int, redacted: bool) -> Snapshot:
        return render_space(self.profile(index), number, redacted)

    # --- lookups ---------------------------------------------------------------------------

    def lookup(self, space_id: str) -> int | None:
        index = self._index.get(space_id)
        return None if index is None or index in self._deleted else index

    def space_id(self, index: int) -> str:
        return self._ids[index]

    def alive(self) -> Iterator[int]:
        deleted = self._deleted
        return (index for index in range(len(self._ids)) if index not in deleted)

    def alive_ids(self) -> list[str]:
        return [self._ids[index] for index in self.alive()]

    def created_at(self, index: int) -> int:
        return self._created[index]

    def likes(self, index: int) -> int:
        return self._likes[index]

    def trending(self, index: int) -> int:
        return self._trending[index]

    def tags(self, index: int) -> tuple[str, ...]:
        return (*self._tags_by_code[self._archetype[index]], "region:us")

    def _sha(self, index: int, number: int) -> str:
        return hashlib.sha1(f"hubsim/{self.seed}/{index}/{number}".encode()).hexdigest()

    def revisions(self, index: int) -> list[Revision]:
        history = self._history.get(index)
        if history is not None:
            return history
        return [Revision(0, self._sha(index, 0), self._modified[index], "initial commit", False)]

    def head(self, index: int) -> Revision:
        return self.revisions(index)[-1]

    def find_revision(self, index: int, rev: str) -> Revision | None:
        """`main` or a full commit id of any revision of this Space (history stays readable)."""
        if rev in ("main", "refs/heads/main"):
            return self.head(index)
        return next((revision for revision in self.revisions(index) if revision.sha == rev), None)

    def snapshot(self, index: int, revision: Revision) -> Snapshot:
        return self._snapshot(index, revision.number, revision.redacted)

    # --- listing ---------------------------------------------------------------------------

    def _order(self, sort: str | None) -> list[Cursor]:
        """Alive Spaces as (-sort value, index), ascending: descending by value, ties by index."""
        order = self._orders.get(sort)
        if order is None:
            values = {"lastModified": self._modified, "createdAt": self._created, "likes": self._likes,
                      "trendingScore": self._trending}.get(sort or "")
            if values is None:
                order = [(0, index) for index in self.alive()]
            else:
                order = sorted((-values[index], index) for index in self.alive())
            self._orders[sort] = order
        return order

    def list_page(
        self,
        *,
        sort: str | None,
        search: str | None,
        author: str | None,
        tags: list[str],
        after: Cursor | None,
        limit: int,
    ) -> tuple[list[int], Cursor | None]:
        """One page of a keyset-paginated listing; the cursor is stable across world changes."""
        order = self._order(sort)
        start = bisect.bisect_right(order, after) if after is not None else 0
        needle = search.lower() if search else None
        owner = author.lower() if author else None
        page: list[int] = []
        last: Cursor | None = None
        for entry in order[start:] if (needle or owner or tags) else order[start:start + limit + 1]:
            index = entry[1]
            space_id = self._ids[index]
            if needle is not None and needle not in space_id.lower():
                continue
            if owner is not None and space_id.partition("/")[0].lower() != owner:
                continue
            if tags and not set(tags) <= set(self.tags(index)):
                continue
            if len(page) == limit:
                return page, last
            page.append(index)
            last = entry
        return page, None

    # --- change over time ------------------------------------------------------------------

    def _sample_alive(self, rng: random.Random, count: int, taken: set[int]) -> list[int]:
        picked: list[int] = []
        attempts = 0
        while len(picked) < count and attempts < count * 20 + 100:
            attempts += 1
            index = rng.randrange(len(self._ids))
            if index in taken or index in self._deleted or self._plant[index] == Plant.SORA:
                continue
            taken.add(index)
            picked.append(index)
        return picked

    def _commit(self, index: int, timestamp: int, title: str, redacted: bool) -> Revision:
        history = self._history.setdefault(index, list(self.revisions(index)))
        revision = Revision(len(history), self._sha(index, len(history)), timestamp, title, redacted)
        history.append(revision)
        self._modified[index] = timestamp
        return revision

    def tick(
        self,
        creates: int | None = None,
        updates: int | None = None,
        deletes: int | None = None,
        secret_removals: int | None = None,
    ) -> dict[str, Any]:
        """Advance the clock one step: new Spaces, new commits, deletions, secrets taken out of HEAD."""
        with self.lock:
            self.tick_count += 1
            self.clock += TICK_SECONDS
            rng = random.Random(f"hubsim/{self.seed}/tick/{self.tick_count}")
            alive = len(self._ids) - len(self._deleted)
            creates = max(1, round(alive * 0.002)) if creates is None else creates
            updates = max(1, round(alive * 0.005)) if updates is None else updates
            deletes = max(1, round(alive * 0.0005)) if deletes is None else deletes
            secret_removals = max(1, round(alive * 0.001)) if secret_removals is None else secret_removals
            taken: set[int] = set()
            report: dict[str, Any] = {"tick": self.tick_count, "clock": iso(self.clock), "created": [],
                                      "updated": [], "deleted": [], "secrets_removed": []}

            def stamp() -> int:
                return self.clock - rng.randrange(TICK_SECONDS)

            for index in self._sample_alive(rng, deletes, taken):
                self._deleted.add(index)
                report["deleted"].append(self._event("deleted", index, self.head(index).sha))
            for index in self._sample_alive(rng, updates, taken):
                previous = self.head(index)
                title = rng.choice(("Update app.py", "Update requirements.txt", "Improve UI", "Fix bug"))
                revision = self._commit(index, stamp(), title, previous.redacted)
                report["updated"].append(self._event("updated", index, revision.sha, previous.sha))
            for index in self._leaky_spaces(rng, secret_removals, taken):
                previous = self.head(index)
                removed = [item for item in self.snapshot(index, previous).items if item.kind == "credential"]
                revision = self._commit(index, stamp(), rng.choice(REDACTION_TITLES), True)
                event = self._event("secret_removed", index, revision.sha, previous.sha)
                event["removed"] = [item.as_json(self._ids[index], previous.sha) for item in removed]
                report["secrets_removed"].append(event)
            for _ in range(creates):
                index = self._draw_space(rng, created_at=stamp())
                report["created"].append(self._event("created", index, self.head(index).sha))
            for action in ("deleted", "updated", "secrets_removed", "created"):
                self._log.extend(report[action])
            self.version += 1
            self._orders.clear()
            self._ground_truth = None
            return report

    def _leaky_spaces(self, rng: random.Random, count: int, taken: set[int]) -> list[int]:
        """Alive Spaces whose HEAD still holds a committed credential."""
        picked: list[int] = []
        candidates = [index for index in self.alive()
                      if self._plant[index] in (Plant.CREDENTIAL, Plant.PROXY) and index not in taken]
        rng.shuffle(candidates)
        for index in candidates:
            if len(picked) == count:
                break
            if not self.head(index).redacted and self.profile(index).credential is not None:
                taken.add(index)
                picked.append(index)
        return picked

    def _event(self, action: str, index: int, sha: str, previous_sha: str | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {"tick": self.tick_count, "clock": iso(self.clock), "action": action,
                                 "space": self._ids[index], "sha": sha}
        if previous_sha is not None:
            event["previous_sha"] = previous_sha
        return event

    # --- ground truth ----------------------------------------------------------------------

    def ground_truth(self) -> dict[str, Any]:
        """Every planted item in the current HEADs, secrets only left in history, and the change log."""
        with self.lock:
            if self._ground_truth is not None:
                return self._ground_truth
            items: list[dict[str, Any]] = []
            historical: list[dict[str, Any]] = []
            for index in self.alive():
                if self._plant[index] == Plant.NONE:
                    continue
                head = self.head(index)
                space_id = self._ids[index]
                items.extend(item.as_json(space_id, head.sha) for item in self.snapshot(index, head).items)
                if head.redacted:
                    historical.extend(self._historical_items(index))
            self._ground_truth = {
                "seed": self.seed,
                "tick": self.tick_count,
                "clock": iso(self.clock),
                "spaces": len(self._ids) - len(self._deleted),
                "counts": dict(Counter(item["kind"] for item in items)),
                "items": items,
                "historical": historical,
                "log": list(self._log),
            }
            return self._ground_truth

    def _historical_items(self, index: int) -> list[dict[str, Any]]:
        """Credentials removed from HEAD that the last unredacted revision still serves."""
        history = self.revisions(index)
        first_redacted = next(revision for revision in history if revision.redacted)
        last_clean = history[first_redacted.number - 1]
        space_id = self._ids[index]
        found = []
        for item in self.snapshot(index, last_clean).items:
            if item.kind == "credential":
                entry = item.as_json(space_id, last_clean.sha)
                entry["removed_in"] = first_redacted.sha
                found.append(entry)
        return found
