"""bot/importers."""
