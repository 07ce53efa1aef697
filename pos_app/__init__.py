"""Box-office point of sale: terminals selling at the door against one central inventory.

Package map (dependencies point inwards):
``domain`` <- ``api`` <- ``server``, ``client``, ``journal``, ``receipts`` <- ``gui`` <- ``cli``.
"""

__version__ = "0.1.0"
