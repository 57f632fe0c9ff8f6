"""kpidesk.services."""
