from .assessment import AssessmentWeights
from .figures import Dirty, Rollup, TicketFact

__all__ = ["AssessmentWeights", "Dirty", "Rollup", "TicketFact"]
