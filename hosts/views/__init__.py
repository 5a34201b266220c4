"""Inventory pages, one module per noun: inventory (machines, guests), backups, runbooks."""
