"""User-facing errors: one line, exit code 2, no traceback (caught in the CLI)."""


class DyagError(Exception):
    """An error the user can fix (bad input, unknown model, missing file).

    The CLI prints ``dyag: error: <message>`` and exits with code 2. Bugs are
    any other exception and keep their traceback.
    """

    exit_code = 2
