"""Funnel analytics: KPI queries, the dashboard and exports."""
