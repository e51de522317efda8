"""Settings for every service, from ``EXPOSUREWATCH_*`` variables and an optional TOML file.

Defaults run the whole product in one process (in-process bus, SQLite store), so nothing
needs configuring on one machine. Precedence: explicit arguments, environment, TOML file, defaults.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_ENV = "EXPOSUREWATCH_CONFIG"
DEFAULT_CONFIG_FILE = Path("exposurewatch.toml")
DEFAULT_FINGERPRINT_KEY = "exposurewatch-fingerprint-v1"


def config_file() -> Path | None:
    """The TOML file in force: ``$EXPOSUREWATCH_CONFIG`` (must exist), else ``./exposurewatch.toml`` if present."""
    named = os.environ.get(CONFIG_FILE_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"{CONFIG_FILE_ENV}={named} does not name a file")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


class Settings(BaseSettings):
    """Effective configuration. Field names are the TOML keys; env names are ``EXPOSUREWATCH_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="EXPOSUREWATCH_", extra="forbid", populate_by_name=True)

    bus_url: str = Field("memory://", description="memory:// (in-process) or kafka://host:port[,host:port]")
    store_url: str = Field(
        "sqlite:///./exposurewatch.db",
        description="sqlite:///PATH, elasticsearch+http(s)://[user:pass@]host:port or opensearch+http(s)://…",
    )
    topic_prefix: str = Field("exposurewatch", description="Kafka topics are <prefix>.assets, .findings, …")
    kafka_partitions: int = Field(6, ge=1, description="Partitions for topics the bus creates")
    index_prefix: str = Field("exposurewatch", description="Search-index names and aliases start with this")
    hub_url: str = Field("https://huggingface.co", description="Hugging Face Hub (or simulator) base URL")
    hf_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("hf_token", "EXPOSUREWATCH_HF_TOKEN", "HF_TOKEN"),
        description="Hub token for higher rate limits (also read from HF_TOKEN)",
    )
    fingerprint_key: SecretStr = Field(
        SecretStr(DEFAULT_FINGERPRINT_KEY),
        description="Key of the HMAC that fingerprints secrets; keep it equal across deployments to correlate",
    )
    stack_dir: Path = Field(
        Path("~/.cache/exposurewatch/stack").expanduser(),
        description="Where `stack up` caches downloads and keeps server data",
    )
    metrics_port: int | None = Field(None, ge=0, le=65535, description="Serve /metrics on this port if set")
    metrics_addr: str = Field("127.0.0.1", description="Address /metrics listens on; 0.0.0.0 in containers")
    log_level: str = Field("INFO", description="Python logging level")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def masked(self) -> dict[str, Any]:
        """Every setting as shown to people: secrets and URL passwords replaced by ``****``."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown[name] = "****" if value.get_secret_value() else ""
            elif isinstance(value, str) and "://" in value:
                shown[name] = mask_url(value)
            elif isinstance(value, Path):
                shown[name] = str(value)
            else:
                shown[name] = value
        return shown


def mask_url(url: str) -> str:
    """``scheme://user:****@host`` — for logs and `config show`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:****@{parts.hostname}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
