"""The results files the report was built from, and which systems a later file replaced."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from dyag.report import fmt


@dataclass
class SourceRow:
    label: str
    started: str
    finished: str
    profile: str
    systems: list[str]
    n_cases: int
    incomplete: bool


@dataclass
class SourcesView:
    rows: list[SourceRow]
    replaced: list[Markup]
    incomplete: list[str]  # labels of the interrupted runs (the banner)


def build(ctx, t) -> SourcesView:
    rows = [
        SourceRow(
            label=label,
            started=fmt.fmt_timestamp(doc.run.started or doc.run.created),
            finished=fmt.fmt_timestamp(doc.run.finished),
            profile=fmt.fmt_plain(doc.run.profile, ctx.lang),
            systems=[s for s in ctx.systems if ctx.provenance[s] == label],
            n_cases=len(doc.cases),
            incomplete=doc.run.incomplete,
        )
        for label, doc in ctx.sources
    ]
    replaced = [Markup(t["replaced"]).format(system=Markup("<code>{}</code>").format(s), old=old, new=new)
                for s, old, new in ctx.replaced]
    return SourcesView(rows, replaced, ctx.incomplete_sources)
