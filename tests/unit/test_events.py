"""The shared event schema: deterministic ids, whole-or-nothing decoding, committed JSON Schema."""

from __future__ import annotations

import orjson
import pytest

from services.cli import SCHEMA_FILE, schema_text
from services.events import (
    SCHEMA_VERSION,
    Asset,
    CrawlRequest,
    Finding,
    FindingKind,
    FindingStatus,
    SchemaError,
    decode,
    encode,
    finding_id,
)


def make_finding(**overrides: object) -> Finding:
    fields: dict[str, object] = {
        "kind": "credential", "provider": "openai", "severity": "high", "confidence": 0.9,
        "asset_id": "space:alice/demo", "path": "app.py", "line": 4, "fingerprint": "f" * 32,
        "redacted": "sk-proj-…abcd", "detector": "openai-project", "detector_version": "1",
    }
    fields.update(overrides)
    return Finding.model_validate(fields)


def test_finding_id_is_deterministic_and_depends_on_asset_kind_and_fingerprint() -> None:
    a, b = make_finding(), make_finding(line=99, discovered_at="2020-01-01T00:00:00Z")
    assert a.id == b.id == finding_id("space:alice/demo", FindingKind.CREDENTIAL, "f" * 32)
    assert make_finding(asset_id="space:bob/demo").id != a.id
    assert make_finding(fingerprint="e" * 32).id != a.id
    assert make_finding(kind="model_proxy").id != a.id


def test_id_parts_cannot_collide_by_shifting_characters() -> None:
    assert finding_id("space:a", FindingKind.CREDENTIAL, "bc") != finding_id("space:ab", FindingKind.CREDENTIAL, "c")


@pytest.mark.parametrize(
    "event",
    [
        make_finding(models=["sora-1"], restricted=True),
        Asset.space("alice/demo", sha="abc", sdk="gradio", runtime_stage="RUNNING", hardware="cpu-basic"),
        CrawlRequest(space_id="alice/demo", sha="abc", reason="changed"),
    ],
)
def test_round_trip_through_the_bus_envelope(event: Asset | Finding | CrawlRequest) -> None:
    raw = encode(event)
    envelope = orjson.loads(raw)
    assert envelope["type"] == event.type and envelope["schema_version"] == SCHEMA_VERSION
    assert decode(raw) == event


def test_asset_space_derives_owner_url_and_id() -> None:
    asset = Asset.space("alice/demo", hub_url="http://127.0.0.1:7860/")
    assert (asset.id, asset.owner, asset.url) == ("space:alice/demo", "alice", "http://127.0.0.1:7860/spaces/alice/demo")


def test_resolved_keeps_identity_and_marks_status() -> None:
    finding = make_finding()
    gone = finding.resolved()
    assert gone.id == finding.id and gone.status is FindingStatus.RESOLVED


def _envelope(**overrides: object) -> bytes:
    data = orjson.loads(encode(make_finding()))
    data.update(overrides)
    return orjson.dumps(data)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not an envelope"),
        (orjson.dumps({"type": "finding"}), "invalid envelope"),
        (_envelope(type="telemetry"), "unknown event type"),
        (_envelope(schema_version="2.0"), "newer than this reader"),
        (_envelope(schema_version="one"), "not 'major.minor'"),
        (_envelope(payload={"kind": "credential"}), "invalid finding payload"),
        (_envelope(payload={**orjson.loads(encode(make_finding()))["payload"], "severity": "apocalyptic"}),
         "invalid finding payload"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(SchemaError, match=reason):
        decode(raw)


def test_newer_minor_version_is_accepted() -> None:
    assert decode(_envelope(schema_version="1.7")).schema_version == "1.7"


def test_unknown_fields_are_refused_rather_than_dropped() -> None:
    payload = {**orjson.loads(encode(make_finding()))["payload"], "secret": "x"}
    with pytest.raises(SchemaError, match="secret"):
        decode(_envelope(payload=payload))


def test_committed_json_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), "run `exposurewatch schema export` and commit the result"
