from .assessment import AssessmentWeights
from .figures import Dirty, Rollup, TicketFact
from .scorecard import Assessment, Evidence, ItemScore, ScoreItem

__all__ = [
    "Assessment",
    "AssessmentWeights",
    "Dirty",
    "Evidence",
    "ItemScore",
    "Rollup",
    "ScoreItem",
    "TicketFact",
]
