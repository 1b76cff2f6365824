"""Settings of ``rcabot load`` (``load:`` in rcabot.yaml), beside the loader that uses them."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from tools.settings import Section, http_url


class LoadSettings(Section):
    """Targets of ``rcabot load BUNDLE --to-backends``, the one command that writes.

    Logs go to Elasticsearch (``logs.url`` unless ``elasticsearch_url`` is set) with the
    ``logs`` credentials, metrics are backfilled into a Prometheus data directory with
    ``promtool``, spans are sent over OTLP/HTTP to a Jaeger collector or Tempo distributor.
    """

    elasticsearch_url: str | None = Field(default=None, description="default: logs.url")
    index: str = Field(default="logs-rcabot", description="index written; match logs.index")
    prometheus_data_dir: Path | None = Field(
        default=None, description="Prometheus --storage.tsdb.path to backfill into"
    )
    promtool: str = "promtool"
    otlp_url: str | None = Field(
        default=None, description="OTLP/HTTP receiver, e.g. http://jaeger-collector:4318"
    )

    _check_url = field_validator("elasticsearch_url", "otlp_url")(http_url)
