"""Agents: claim flow runs from the registry, load each flow from its storage, run it."""
