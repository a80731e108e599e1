"""dyag's own warning category (tests turn it into errors)."""


class DyagWarning(UserWarning):
    """Something dyag recovered from but the user should know (e.g. a rebuilt cache entry)."""
