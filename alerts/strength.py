"""Match strength in words a guard understands, from the margin of the score over the watchlist's threshold.

A raw cosine score ("0.855") means nothing at the door; how far it lies past the threshold the
watchlist was set for does. The two bands (0.30 and 0.15 above the threshold) are a choice
made for the console, not a calibration: they sit below BANKWATCH_AGREEMENT_STRONG_MARGIN
(0.4 by default, a margin that raises an alert from one frame alone). The number itself is
shown on hover and on the review page.
"""

from django.utils.translation import gettext_lazy as _

VERY_STRONG_MARGIN = 0.30
STRONG_MARGIN = 0.15

WORDS = {"very_strong": _("very strong match"), "strong": _("strong match"), "possible": _("possible match")}


def strength(score: float | None, threshold: float | None) -> str:
    """very_strong, strong or possible; empty for a covered-face event (no score)."""
    if score is None or threshold is None:
        return ""
    margin = score - threshold
    if margin >= VERY_STRONG_MARGIN:
        return "very_strong"
    if margin >= STRONG_MARGIN:
        return "strong"
    return "possible"


def strength_words(score: float | None, threshold: float | None) -> str:
    code = strength(score, threshold)
    return str(WORDS[code]) if code else ""
