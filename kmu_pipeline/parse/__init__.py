"""Parsers: landed bytes -> chunks of the tidy observation frame (schemas.OBSERVATION_COLUMNS)."""
