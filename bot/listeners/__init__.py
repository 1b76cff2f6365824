"""Bolt listeners, one module per kind, each with ``register(app)``: thin over ``bot.slack``.

A listener parses what Slack sent, checks the channel, acks, and hands the work on; it never
investigates itself. Order matters where two kinds share an event type: Bolt runs the first
listener that matches, so ``alerts`` (alert bots' messages) registers before ``messages``.
"""
