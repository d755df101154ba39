from .figures import Dirty, Rollup, TicketFact

__all__ = ["Dirty", "Rollup", "TicketFact"]
