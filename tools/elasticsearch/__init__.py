"""The production logs backend: Elasticsearch, read-only.

- :mod:`tools.elasticsearch.client`: ``make_client`` and :class:`ReadOnlyElasticsearch`, the
  official async client with an allow-list of read endpoints enforced in code; vendor errors
  mapped to :class:`tools.errors.BackendError`.
- :mod:`tools.elasticsearch.query`: the query DSL built from a :class:`tools.backends.LogQuery`.
- :mod:`tools.elasticsearch.logs`: :class:`ElasticsearchLogs`, the ``LogsBackend``.

Writing to Elasticsearch (``rcabot load``) lives in :mod:`bot.loader.elasticsearch`, never here.
"""
