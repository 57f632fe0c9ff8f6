"""kpidesk.gui."""
