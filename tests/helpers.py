"""Small training data shared by the tests that train tiny-random."""

from __future__ import annotations


def hosting_rows(n: int, *, grow: str = "") -> list[dict]:
    """``n`` chat examples "Qui héberge APPi ?" -> "APPi est hébergée par le Datacenter i.";
    ``grow`` is repeated i times before the final period, so answers get longer with i."""
    return [
        {"messages": [{"role": "user", "content": f"Qui héberge APP{i} ?"},
                      {"role": "assistant", "content": f"APP{i} est hébergée par le Datacenter {i}" + grow * i + "."}]}
        for i in range(n)
    ]
