"""Lead scoring: rule-based and predictive scores, lifecycle hand-off."""
