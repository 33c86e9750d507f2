"""The rules API: every rule's documentation, as ``pyforge explain`` prints it."""
