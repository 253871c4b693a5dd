"""Planted-moment clip features on real annotations (SYNTHETIC benchmark data).

The released features of the TSGV benchmarks cannot be downloaded offline, so accuracy is measured
on real annotations and real GloVe vectors with synthetic features in which every annotated moment
is planted:

* each word has a visual *concept*: a fixed random projection of its GloVe vector to ``dim``,
  squashed by ``tanh``, centred on the vocabulary's mean concept (GloVe vectors share a common
  direction that would make every sentence look alike) and normalised, so similar words look
  alike and unrelated words are near-orthogonal (words without a vector get a concept derived
  from a hash of the word);
* a sentence's signal is the IDF-weighted sum of its words' concepts, normalised (frequent words
  such as "the", "person" weigh little);
* every moment of a video adds its signal to the clips it covers, with soft edges of about a clip
  (a product of two sigmoids of the clip centre's distance to the boundaries); overlapping moments
  add up; a per-video background vector and Gaussian noise (norm ``noise`` relative to a signal
  of norm 1) complete the features.

Numbers measured on such data compare models on identical inputs. They are **not** results on
TACoS, Charades-STA or ActivityNet Captions and must be labelled as synthetic.
"""
import collections
import hashlib
import math
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np
from mmengine.utils import ProgressBar

from mmemtm.text import WordVocabulary, tokenize
from mmemtm.utils import (dump_json_atomic, locked_folder, path_in_folder, read_json,
                          save_npy_atomic)
from .feature_store import existing_clip_count, read_shapes_file

PLANTED_META_FILE = 'planted_meta.json'


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts`` that does not depend on Python's hash randomisation."""
    digest = hashlib.sha256('\x1f'.join(str(p) for p in parts).encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'little')


class ConceptSpace:
    """Visual concepts of words and sentences.

    Args:
        vocab: GloVe vocabulary.
        dim: Feature dimension.
        idf: Weight of each word (missing words weigh ``default_idf``).
        default_idf: Weight of words absent from ``idf``.
        seed: Seed of the projection (part of the recipe: keep it fixed to compare runs).
    """

    def __init__(self, vocab: WordVocabulary, dim: int, idf: Dict[str, float],
                 default_idf: float, seed: int = 0) -> None:
        self.vocab = vocab
        self.dim = dim
        self.idf = idf
        self.default_idf = default_idf
        rng = np.random.default_rng(stable_seed('projection', seed, vocab.dim, dim))
        self.projection = rng.standard_normal((vocab.dim, dim)) / math.sqrt(vocab.dim)
        self.centre = np.tanh(vocab.vectors[2:].astype(np.float64) @ self.projection).mean(0)
        self._cache: Dict[str, np.ndarray] = {}

    def word(self, word: str) -> np.ndarray:
        """Unit concept vector ``[dim]`` of a word."""
        if word not in self._cache:
            if word in self.vocab:
                glove = self.vocab.vectors[self.vocab.stoi[word]].astype(np.float64)
                vec = np.tanh(glove @ self.projection) - self.centre
            else:
                vec = np.random.default_rng(stable_seed('oov', word)).standard_normal(self.dim)
            self._cache[word] = vec / max(np.linalg.norm(vec), 1e-12)
        return self._cache[word]

    def sentence(self, sentence: str) -> np.ndarray:
        """Unit signal vector ``[dim]`` of a sentence: IDF-weighted sum of its word concepts."""
        words = set(tokenize(sentence))
        vec = sum(self.idf.get(w, self.default_idf) * self.word(w) for w in words)
        return vec / max(np.linalg.norm(vec), 1e-12)


def inverse_document_frequency(sentences: Iterable[str]) -> Dict[str, float]:
    """``log((1 + S) / (1 + df(w)))`` of every word over ``S`` sentences."""
    doc_freq = collections.Counter()
    total = 0
    for sentence in sentences:
        doc_freq.update(set(tokenize(sentence)))
        total += 1
    return {w: math.log((1 + total) / (1 + n)) for w, n in doc_freq.items()}


def moment_profile(start: float, end: float, duration: float, num_clips: int,
                   softness: float = 0.5) -> np.ndarray:
    """Soft indicator ``[num_clips]`` of ``[start, end]`` seconds on the clip grid.

    ``sigmoid((t - start) / tau) * sigmoid((end - t) / tau)`` at clip centres ``t``, with
    ``tau = softness`` clips.
    """
    clip = duration / num_clips
    centres = (np.arange(num_clips) + 0.5) * clip
    tau = softness * clip

    def sigmoid(x: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * x))

    return sigmoid((centres - start) / tau) * sigmoid((end - centres) / tau)


def planted_num_clips(duration: float, clip_seconds: float, min_clips: int,
                      max_clips: int) -> int:
    """``round(duration / clip_seconds)`` clamped to ``[min_clips, max_clips]``."""
    return int(min(max(round(duration / clip_seconds), min_clips), max_clips))


class PlantedFeatureGenerator:
    """Write planted features for the videos of a list of queries.

    Args:
        vocab: GloVe vocabulary of the concept space.
        dim: Feature dimension (1024 like I3D).
        clip_seconds: Seconds per clip before clamping.
        min_clips: Fewest clips of a video.
        max_clips: Most clips of a video.
        noise: Norm of the per-clip Gaussian noise relative to a planted signal of norm 1: the
            difficulty knob.
        background: Norm of the per-video background vector.
        seed: Seed; the same seed and inputs give the same features.
        dtype: Stored dtype (``float32`` or ``float16``).
    """

    def __init__(self, vocab: WordVocabulary, dim: int = 1024, clip_seconds: float = 2.0,
                 min_clips: int = 8, max_clips: int = 1024, noise: float = 1.0,
                 background: float = 1.0, seed: int = 0, dtype: str = 'float32') -> None:
        if noise < 0 or background < 0:
            raise ValueError('noise and background must be non-negative')
        self.vocab = vocab
        self.dim = dim
        self.clip_seconds = clip_seconds
        self.min_clips = min_clips
        self.max_clips = max_clips
        self.noise = noise
        self.background = background
        self.seed = seed
        self.dtype = np.dtype(dtype)

    def recipe(self) -> dict:
        """Parameters that define the generated data (written next to it)."""
        return dict(
            synthetic=True,
            note='PLANTED SYNTHETIC FEATURES: real annotations, synthetic clip features. '
            'Numbers measured on them are not benchmark results.',
            dim=self.dim, clip_seconds=self.clip_seconds, min_clips=self.min_clips,
            max_clips=self.max_clips, noise=self.noise, background=self.background,
            seed=self.seed, dtype=self.dtype.name, glove_words=len(self.vocab))

    def video_features(self, video_id: str, duration: float, queries: Sequence[dict],
                       concepts: ConceptSpace) -> np.ndarray:
        """Planted features ``[n_clips, dim]`` of one video from all its queries."""
        n = planted_num_clips(duration, self.clip_seconds, self.min_clips, self.max_clips)
        rng = np.random.default_rng(stable_seed('video', self.seed, video_id))
        background = rng.standard_normal(self.dim)
        feats = np.tile(background / np.linalg.norm(background) * self.background, (n, 1))
        for query in queries:
            start, end = query['timestamp']
            profile = moment_profile(start, end, duration, n)
            feats += profile[:, None] * concepts.sentence(query['sentence'])[None]
        feats += rng.standard_normal((n, self.dim)) * (self.noise / math.sqrt(self.dim))
        return feats.astype(self.dtype)

    def _previous_shapes(self, out_dir: str) -> Dict[str, int]:
        """Clip counts already in ``out_dir``; refuses a folder made with another recipe."""
        meta_file = osp.join(out_dir, PLANTED_META_FILE)
        shapes_file = osp.join(out_dir, 'feature_shapes.json')
        if not osp.isfile(meta_file):
            return {}
        previous = read_json(meta_file)  # JsonFileError names the file
        if previous != self.recipe():
            raise ValueError(f'{out_dir} holds planted features of another recipe '
                             f'({meta_file}); use a new folder')
        if not osp.isfile(shapes_file):
            return {}
        return read_shapes_file(shapes_file)  # strict: a repeated key or bad count is an error

    def generate(self, queries: List[dict], out_dir: str, skip_existing: bool = False,
                 idf_sentences: Optional[Iterable[str]] = None) -> Dict[str, int]:
        """Write ``<out_dir>/<video_id>.npy``, ``feature_shapes.json`` and the recipe.

        Args:
            queries: Validated queries (:func:`read_queries`) of every split to plant.
            out_dir: Output folder.
            skip_existing: Keep videos whose ``.npy`` already exists.
            idf_sentences: Sentences for the IDF weights (default: those of ``queries``).

        Returns:
            dict: ``{video_id: n_clips}`` of every video.
        """
        by_video: Dict[str, List[dict]] = collections.defaultdict(list)
        for query in queries:
            by_video[query['video_id']].append(query)
        idf = inverse_document_frequency(
            idf_sentences if idf_sentences is not None else (q['sentence'] for q in queries))
        concepts = ConceptSpace(self.vocab, self.dim, idf, max(idf.values(), default=1.0),
                                self.seed)
        os.makedirs(out_dir, exist_ok=True)
        with locked_folder(out_dir, 'feature generation'):
            return self._generate(by_video, concepts, out_dir, skip_existing)

    def _generate(self, by_video: Dict[str, List[dict]], concepts: 'ConceptSpace', out_dir: str,
                  skip_existing: bool) -> Dict[str, int]:
        shapes = self._previous_shapes(out_dir)
        paths = {video_id: path_in_folder(out_dir, video_id, '.npy', 'video id')
                 for video_id in by_video}  # every name checked before anything is written
        # The recipe goes first: a run stopped half-way leaves a folder still tagged with it.
        dump_json_atomic(self.recipe(), osp.join(out_dir, PLANTED_META_FILE), indent=1)
        progress = ProgressBar(len(by_video))
        for video_id, video_queries in by_video.items():
            path = paths[video_id]
            if skip_existing and osp.isfile(path):
                shapes[video_id] = existing_clip_count(path)
            else:
                feats = self.video_features(video_id, video_queries[0]['duration'],
                                            video_queries, concepts)
                save_npy_atomic(feats, path)
                shapes[video_id] = int(feats.shape[0])
            progress.update()
        dump_json_atomic(shapes, osp.join(out_dir, 'feature_shapes.json'), indent=0)
        return shapes
