"""tools/bundle."""
