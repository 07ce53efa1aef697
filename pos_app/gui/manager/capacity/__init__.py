"""Capacity changes for one ticket type or many, with a preview of what they do to the counts."""
