from __future__ import annotations

import pytest

from bot.llm.factory import model_from_settings
from bot.llm.openai_compat import OpenAICompatModel
from bot.llm.settings import LlmSettings
from bot.llm.tgi import TgiModel


def test_no_url_means_no_model() -> None:
    assert model_from_settings(LlmSettings()) is None


@pytest.mark.parametrize(("api", "kind"), [("tgi", TgiModel), ("openai", OpenAICompatModel)])
async def test_the_api_setting_picks_the_client(api: str, kind: type) -> None:
    model = model_from_settings(
        LlmSettings.model_validate({"url": "http://127.0.0.1:1", "api": api, "model": "m"})
    )
    assert model is not None and isinstance(model, kind)
    assert model.name == f"{api}:m"
    await model.aclose()
