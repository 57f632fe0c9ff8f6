"""kpidesk: an offline desktop KPI tracker for product managers."""

__version__ = "0.1.0"
