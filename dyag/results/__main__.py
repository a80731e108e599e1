"""``python -m dyag.results > docs/results-schema.md``."""

from dyag.results.schema import schema_markdown

print(schema_markdown(), end="")
