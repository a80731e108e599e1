"""The gate calibration (``make calibrate``): false alarms under benign changes, detections
under degradations, each against its target."""

from __future__ import annotations

from dataclasses import dataclass

FALSE_ALARMS_TARGET = "≤ 5 %"
DETECTION_TARGET = "≥ 90 %"


@dataclass
class CalibrationRow:
    change: str
    result: str
    target: str
    met: bool


def build(ctx, t) -> list[CalibrationRow]:
    """Rows of the first source's ``calibration.summary`` (``benign``, ``degradations``, ``met``)."""
    cal = next((doc.calibration for _, doc in ctx.sources if doc.calibration is not None), None)
    if cal is None:
        return []
    summary = cal.summary
    met = summary.get("met") or {}
    benign = summary.get("benign") or {}
    rows = []
    if benign.get("runs"):
        rows.append(CalibrationRow(t["cal_benign"], f"{benign.get('false_alarms')}/{benign['runs']}",
                                   FALSE_ALARMS_TARGET, bool(met.get("false_alarms"))))
    for how, d in (summary.get("degradations") or {}).items():
        rows.append(CalibrationRow(how, f"{d.get('detected')}/{d.get('runs')}", DETECTION_TARGET, bool(met.get(how))))
    return rows
