"""bot/investigation/analysis."""
