"""Package data: the fictional sample application catalog (``applications.jsonl``)."""
