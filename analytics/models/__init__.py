from .figures import Dirty, Rollup, TicketFact
from .scorecard import Assessment, Evidence, ItemScore, ScoreItem

__all__ = ["Assessment", "Dirty", "Evidence", "ItemScore", "Rollup", "ScoreItem", "TicketFact"]
