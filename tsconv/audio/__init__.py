"""Audio-snippet matching: which catalog track a clip comes from, where, and how sure.

``tsconv.audio`` (not exported at the top level of ``tsconv``):

- :func:`load`: decode any file libsndfile reads, mix to mono, resample;
- :class:`Matcher`: build a catalog (``add``, ``add_file``, ``add_directory``), persist it
  (``save`` / ``Matcher.load``, a versioned, checksummed, pickle-free format), and search
  it with a whitened matched filter (``match``, ``match_file``, ``find_all``);
- :class:`Match`: one answer (track, offset in seconds and samples, score, false-alarm
  probability, speed);
- :class:`Candidates`: the coarse candidates of a clip (stage 1 of a search:
  ``Matcher.candidates``, scored exactly by ``Matcher.score``; combinable across shards);
- :class:`RateMismatchWarning`: a clip that matches far better at another sample rate than
  the one declared (``check_rate``);
- :class:`CatalogError`: a corrupt, truncated, foreign or unsupported catalog file;
- :mod:`degrade`: seeded noise, EQ, gain, resampling, speed change and clipping.

See ``docs/audio.md``.
"""

from tsconv.audio import degrade
from tsconv.audio.catalog import CatalogError
from tsconv.audio.io import load
from tsconv.audio.matcher import Candidates, Match, Matcher, RateMismatchWarning

__all__ = ["load", "Matcher", "Match", "Candidates", "CatalogError", "RateMismatchWarning", "degrade"]
