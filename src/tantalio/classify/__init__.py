"""Classifier plug-ins: scores that help rank new media (issue 16).

A classifier reads what the workspace already holds of a media (its facts and its stored
256 px thumbnail; never the evidence again) and returns labelled scores. Each score names its
source (classifier name and version) and may carry a bounded priority bonus that feeds the
ranking of new media. Labs install their own classifiers as Python packages exposing an
entry point in the group `tantalio.classifiers` (docs/howto-add-a-classifier.md). tantalio
ships one benign built-in (`media-kind`: camera photo / screenshot / document or graphic) and
no sexual-content or age classifier, and never trains one.
"""

from tantalio.classify.base import Classifier, MediaInput, Score

__all__ = ["Classifier", "MediaInput", "Score"]
