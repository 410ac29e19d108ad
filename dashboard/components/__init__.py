"""Reusable pieces of the dashboard's pages (Dash components built from plain data)."""
