"""The window around the features: the main window, sign-in, the idle lock and lock screen, and the
journal's status and view."""
