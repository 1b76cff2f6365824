"""bot/investigation."""
