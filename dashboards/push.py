"""Upload the generated dashboards to a running Grafana through its HTTP API (grafana-client).

For Grafanas that are not provisioned from files: the same JSON lands in the same folder, overwriting the
previous version, so pushing is idempotent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError

from dashboards import GENERATED

FOLDER_UID = "exposurewatch"
FOLDER_TITLE = "exposurewatch"


def ensure_folder(api: GrafanaApi) -> None:
    try:
        api.folder.get_folder(FOLDER_UID)  # type: ignore[no-untyped-call]
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)  # type: ignore[no-untyped-call]


def push(grafana_url: str, token: str, source: Path = GENERATED, message: str = "exposurewatch") -> list[str]:
    """Create the folder if needed and upload every ``*.json`` in ``source``; returns the dashboard uids."""
    api = GrafanaApi.from_url(grafana_url, credential=token)
    ensure_folder(api)
    uids = []
    for path in sorted(source.glob("*.json")):
        board: dict[str, Any] = json.loads(path.read_text())
        api.dashboard.update_dashboard(
            {"dashboard": board, "folderUid": FOLDER_UID, "overwrite": True, "message": message}
        )
        uids.append(str(board["uid"]))
    return uids
