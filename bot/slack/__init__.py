"""Slack-side pieces the listeners use: settings, argument and alert-message parsing, Block Kit
rendering, the job queue and the responder that streams an investigation into a thread."""
