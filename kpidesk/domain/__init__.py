"""Pure domain logic: no Qt, no database."""
