"""dyag's pytest plugin (filled by the harness)."""
