"""Registries of mmemtm.

Components of the MMAction2 kinds (datasets, transforms, models, metrics, hooks...) are registered
directly in ``mmaction.registry`` so that configs with ``default_scope='mmaction'`` find them.
mmemtm adds registries only for kinds mmaction has no registry for.
"""
from mmengine.registry import Registry

ANNOTATION_READERS = Registry('grounding annotation reader', locations=['mmemtm.datasets'])
