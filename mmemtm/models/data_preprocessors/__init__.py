from .grounding_data_preprocessor import GroundingDataPreprocessor, length_mask, pad_stack

__all__ = ['GroundingDataPreprocessor', 'length_mask', 'pad_stack']
