"""The one event schema every exposurewatch service shares.

Spiders, workers, indexers and stores all speak these models; the bus carries them
inside an :class:`Envelope` so a reader can refuse what it does not understand
instead of half-reading it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = "1.0"
"""``major.minor``: readers accept any minor of their own major and refuse newer majors."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class AssetKind(StrEnum):
    SPACE = "space"
    ENDPOINT = "endpoint"


class AssetStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class FindingKind(StrEnum):
    CREDENTIAL = "credential"
    MODEL_PROXY = "model_proxy"
    ENDPOINT_REFERENCE = "endpoint_reference"
    OPEN_ENDPOINT = "open_endpoint"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FindingStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


def _digest(*parts: str) -> str:
    """Stable id from parts; NUL-joined so ('a', 'bc') and ('ab', 'c') differ."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def asset_id(kind: AssetKind, key: str) -> str:
    """Readable, deterministic asset id: ``space:owner/name`` or ``endpoint:host:port``."""
    return f"{kind.value}:{key}"


def finding_id(asset: str, kind: FindingKind, fingerprint: str) -> str:
    """Deterministic finding id, so a re-sighting updates the finding instead of duplicating it."""
    return _digest(asset, kind.value, fingerprint)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    schema_version: str = SCHEMA_VERSION

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Asset(_Event):
    """Something exposed: a Hub Space or a network endpoint. The id is its natural key."""

    type: Literal["asset"] = "asset"
    id: str
    kind: AssetKind
    url: str
    owner: str | None = None
    sdk: str | None = None
    sha: str | None = Field(default=None, description="Last commit seen; the crawler's recrawl state.")
    runtime_stage: str | None = None
    hardware: str | None = None
    status: AssetStatus = AssetStatus.ACTIVE
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)

    @classmethod
    def space(cls, space_id: str, hub_url: str = "https://huggingface.co", **fields: Any) -> Asset:
        owner = space_id.split("/", 1)[0] if "/" in space_id else None
        return cls(
            id=asset_id(AssetKind.SPACE, space_id),
            kind=AssetKind.SPACE,
            url=f"{hub_url.rstrip('/')}/spaces/{space_id}",
            owner=owner,
            **fields,
        )


class Finding(_Event):
    """One exposure on one asset. Never carries a raw secret: only a keyed fingerprint and a redacted form."""

    type: Literal["finding"] = "finding"
    id: str = ""
    kind: FindingKind
    provider: str
    severity: Severity
    confidence: float = Field(ge=0.0, le=1.0)
    asset_id: str
    path: str | None = None
    line: int | None = Field(default=None, ge=1)
    column: int | None = Field(default=None, ge=1)
    fingerprint: str
    redacted: str | None = None
    detector: str
    detector_version: str
    models: list[str] = Field(default_factory=list)
    restricted: bool = False
    endpoint: str | None = None
    credential_source: str | None = None
    interface: str | None = None
    status: FindingStatus = FindingStatus.OPEN
    discovered_at: datetime = Field(default_factory=utcnow)

    def model_post_init(self, context: Any, /) -> None:
        if not self.id:
            object.__setattr__(self, "id", finding_id(self.asset_id, self.kind, self.fingerprint))

    def resolved(self, at: datetime | None = None) -> Finding:
        """The same finding, marked gone (Space deleted or secret removed)."""
        return self.model_copy(
            update={"status": FindingStatus.RESOLVED, "discovered_at": at or utcnow()}
        )


class CrawlRequest(_Event):
    """Work for a fetcher: one Space whose sha changed (or a forced refetch)."""

    type: Literal["crawl_request"] = "crawl_request"
    id: str = ""
    space_id: str
    sha: str | None = None
    reason: Literal["new", "changed", "full", "deleted"] = "new"
    hub_url: str = "https://huggingface.co"
    requested_at: datetime = Field(default_factory=utcnow)

    def model_post_init(self, context: Any, /) -> None:
        if not self.id:
            object.__setattr__(self, "id", _digest(self.space_id, self.sha or "", self.reason))

    @property
    def asset_id(self) -> str:
        return asset_id(AssetKind.SPACE, self.space_id)


Event = Annotated[Asset | Finding | CrawlRequest, Field(discriminator="type")]
EVENT_TYPES: dict[str, type[Asset | Finding | CrawlRequest]] = {
    "asset": Asset,
    "finding": Finding,
    "crawl_request": CrawlRequest,
}


class SchemaError(ValueError):
    """A message this reader must not consume: malformed, of an unknown type, or from a newer major."""


class Envelope(BaseModel):
    """What travels on the bus: type and schema version outside, the event inside."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    schema_version: str
    key: str
    produced_at: datetime
    payload: dict[str, Any]


def event_key(event: Asset | Finding | CrawlRequest) -> str:
    """Bus partition key: everything about one asset lands on one partition, in order."""
    if isinstance(event, Asset):
        return event.id
    return event.asset_id


def encode(event: Asset | Finding | CrawlRequest) -> bytes:
    envelope = Envelope(
        type=event.type,
        schema_version=event.schema_version,
        key=event_key(event),
        produced_at=utcnow(),
        payload=event.to_json_dict(),
    )
    return orjson.dumps(envelope.model_dump(mode="json"))


def _major(version: str) -> int:
    try:
        return int(version.split(".", 1)[0])
    except ValueError as exc:
        raise SchemaError(f"schema_version {version!r} is not 'major.minor'") from exc


def decode(raw: bytes) -> Asset | Finding | CrawlRequest:
    """Read one bus message whole, or raise :class:`SchemaError` saying why not."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SchemaError(f"message is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"message is a JSON {type(data).__name__}, not an envelope object")
    try:
        envelope = Envelope.model_validate(data)
    except ValidationError as exc:
        raise SchemaError(f"invalid envelope: {_first_error(exc)}") from exc
    model = EVENT_TYPES.get(envelope.type)
    if model is None:
        raise SchemaError(f"unknown event type {envelope.type!r}; known: {sorted(EVENT_TYPES)}")
    if _major(envelope.schema_version) > _major(SCHEMA_VERSION):
        raise SchemaError(
            f"schema_version {envelope.schema_version} is newer than this reader's {SCHEMA_VERSION}"
        )
    payload = dict(envelope.payload)
    payload.pop("schema_version", None)
    try:
        return model.model_validate({**payload, "schema_version": envelope.schema_version})
    except ValidationError as exc:
        raise SchemaError(f"invalid {envelope.type} payload: {_first_error(exc)}") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "<root>"
    return f"{where}: {err['msg']} ({exc.error_count()} error(s))"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of envelope and events, as committed in ``docs/schema/events.schema.json``."""
    from pydantic.json_schema import models_json_schema

    _, defs = models_json_schema(
        [(m, "validation") for m in (Envelope, Asset, Finding, CrawlRequest)],
        title="exposurewatch events",
    )
    defs["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    defs["x-schema-version"] = SCHEMA_VERSION
    return defs
