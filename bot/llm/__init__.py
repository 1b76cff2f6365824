"""The model side of rcabot: clients for a served LLM, the grounded writer and the agent.

``bot.llm.model`` is the one interface (``ChatModel``) every caller uses; ``bot.llm.tgi`` (TGI's
native ``/generate`` with a JSON grammar) and ``bot.llm.openai_compat`` (any OpenAI-compatible
``/v1/chat/completions``: TGI's Messages API, vLLM, SGLang, llama.cpp) implement it.
"""
