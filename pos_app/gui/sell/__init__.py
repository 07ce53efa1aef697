"""The sell screen: events and ticket tiles, the basket, Charge and each outcome, the checkout
hold, an unknown sale's Retry / Abandon, the receipt."""
