"""Automation: rules that react to Events (trigger, conditions, actions)."""
