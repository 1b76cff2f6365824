"""The ``llm`` settings section: which served model writes answers, and how it is reached.

``bot.config`` assembles it into ``Settings``; the clients (:mod:`bot.llm.tgi`,
:mod:`bot.llm.openai_compat`) read it. No ``url`` → no model: every answer is deterministic.
"""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import Field, SecretStr, field_validator

from tools.settings import MAX_TIMEOUT_S, Section, http_url

LlmApi = Literal["tgi", "openai"]


class LlmSettings(Section):
    url: str | None = Field(
        default=None,
        description="model server base URL, without /v1 (TGI, vLLM, SGLang, llama.cpp server)",
    )
    api: LlmApi = Field(
        default="tgi",
        description="tgi: TGI's native /generate with a JSON grammar; "
        "openai: any OpenAI-compatible /v1/chat/completions",
    )
    model: str = Field(default="tgi", description="model name sent to the server")
    api_key: SecretStr | None = None
    timeout_s: float = Field(
        default=60.0, gt=0, le=MAX_TIMEOUT_S, description="deadline of one whole model call"
    )
    connect_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=MAX_TIMEOUT_S,
        description="to open a connection (capped by timeout_s)",
    )
    max_new_tokens: int = Field(default=700, gt=0, le=32_768)
    temperature: float = Field(
        default=0.0, ge=0.0, le=2.0, description="0: greedy decoding (reproducible answers)"
    )
    agent_max_tool_calls: int = Field(
        default=4, ge=0, le=16, description="most tool calls the question agent may make"
    )
    prompt_budget_tokens: int = Field(
        default=8_000, gt=0, le=1_000_000, description="most prompt tokens per model call"
    )

    _check_url = field_validator("url")(http_url)

    @property
    def http_timeout(self) -> httpx.Timeout:
        """The clients' HTTP timeout: ``timeout_s``, connecting within ``connect_timeout_s``
        (never longer than ``timeout_s``)."""
        return httpx.Timeout(self.timeout_s, connect=min(self.connect_timeout_s, self.timeout_s))
