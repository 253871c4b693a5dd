from .two_pass_loop import TwoPassEpochBasedTrainLoop

__all__ = ['TwoPassEpochBasedTrainLoop']
