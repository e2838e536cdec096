"""Adversarial harness of issue 18: hostile upstream answers, readers during refreshes, kills at
random times, concurrent refreshes and bad CLI input, each measured against the real pipeline
and counted (`python -m bench.adversarial --quick|--full`). Not a test: it measures."""
