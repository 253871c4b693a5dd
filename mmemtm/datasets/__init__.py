from .annotation_readers import (ActivityNetCaptionsReader, AnnotationError, CharadesSTAReader,
                                 CSVReader, JsonListReader, TACoS2DTANReader, default_reader,
                                 read_queries)
from .charades_actions import (ActionAnnotationError, ActionInstance, CharadesActionDataset,
                               parse_actions)
from .feature_store import (ClipFeatureStore, FeatureError, HDF5FeatureStore, NpyFeatureStore,
                            get_feature_store)
from .grounding_dataset import GroundingDataset
from .synthetic_motion import (MOTION_CLASSES, SyntheticMotionConfig, SyntheticMotionError,
                               generate_synthetic_motion, read_true_labels)
from .curve_file import (TeacherCurveEntry, TeacherCurveError, TeacherCurveFile,
                                  open_teacher_curves, save_teacher_curves)
from .transforms import *  # noqa: F401,F403

__all__ = [
    'ActivityNetCaptionsReader', 'AnnotationError', 'CharadesSTAReader', 'CSVReader',
    'JsonListReader', 'TACoS2DTANReader', 'default_reader', 'read_queries', 'ClipFeatureStore', 'FeatureError', 'HDF5FeatureStore',
    'NpyFeatureStore', 'get_feature_store', 'GroundingDataset', 'TeacherCurveEntry',
    'TeacherCurveError', 'TeacherCurveFile', 'open_teacher_curves', 'save_teacher_curves',
    'ActionAnnotationError', 'ActionInstance', 'CharadesActionDataset', 'parse_actions',
    'MOTION_CLASSES', 'SyntheticMotionConfig',
    'SyntheticMotionError', 'generate_synthetic_motion', 'read_true_labels'
]
