"""kpidesk.cli."""
