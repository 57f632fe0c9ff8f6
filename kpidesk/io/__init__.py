"""kpidesk.io."""
