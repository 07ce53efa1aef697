"""The window's shared ground: the task runner, the ports (what the window needs of the register),
shared widgets and table models, the message banner, formatting, form style and stock styles.
Imports no other window package."""
