"""Spreadsheet import (readers, layout detection, value parsing). API described below once complete."""
