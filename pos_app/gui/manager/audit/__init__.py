"""The audit log viewer: filters, paged table, entry detail, and export to CSV or PDF."""
