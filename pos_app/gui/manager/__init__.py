"""The manager page and its tabs: the dashboard, capacity changes, the audit log, shifts and
refunds."""
