"""Pushing a bundle into real backends (`rcabot load`); the only code in rcabot that writes."""
