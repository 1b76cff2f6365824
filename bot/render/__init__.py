"""Report renderers: terminal (rich) now; Slack Block Kit with the Slack listeners."""
