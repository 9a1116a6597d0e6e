"""Examples of what other teams plug into storetwin (a third-party core)."""
