"""The manager's dashboard: live counts per ticket type, alerts, the sales chart and the security
panel."""
