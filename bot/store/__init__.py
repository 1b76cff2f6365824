"""The bot's state behind one small interface (:class:`bot.store.base.Store`): event dedup,
thread conversations and reports, alert posts, feedback. SQLite by default; Redis for several
replicas (``slack.state_url``)."""
