"""Cash holds: hold the basket for cash, and the hold desk that finds a hold, takes payment or
releases it."""
