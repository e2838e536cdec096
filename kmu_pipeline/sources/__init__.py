"""Source clients: turn catalogue entries into requests and landed raw bytes."""
