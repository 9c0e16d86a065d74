"""Evaluation protocols of SimCLR: linear evaluation, weighted kNN, semi-supervised fine-tuning.

Each protocol runs on a frozen (or copied) encoder and reports top-1 / top-5; ``control`` runs it
next to a random-init encoder of the same architecture. Importing this package imports Keras:
choose the backend first.

Example:
    >>> from simclr_keras3.evaluation import linear_eval
    >>> linear_eval(model.encoder, x_train, y_train, x_test, y_test)["top1"]
"""

# Imported eagerly: lazy loading would let the submodules `linear_eval` and `finetune` shadow the
# functions of the same name once anything imports those submodules.
from simclr_keras3.evaluation.accuracy import top_k_accuracy
from simclr_keras3.evaluation.control import (
    Comparison,
    finetune_with_control,
    knn_with_control,
    linear_with_control,
    random_init_like,
)
from simclr_keras3.evaluation.features import embed_model_outputs, extract_features
from simclr_keras3.evaluation.finetune import FineTuneClassifier, finetune
from simclr_keras3.evaluation.knn import KNNMonitor, knn_classify, knn_eval, knn_scores
from simclr_keras3.evaluation.label_subset import stratified_label_subset, subset_from_id_file
from simclr_keras3.evaluation.linear_eval import (
    linear_eval,
    linear_eval_raw_pixels,
    linear_probe_features,
)
from simclr_keras3.evaluation.report import pca_2d, write_report

__all__ = [
    "Comparison",
    "FineTuneClassifier",
    "KNNMonitor",
    "embed_model_outputs",
    "extract_features",
    "finetune",
    "finetune_with_control",
    "knn_classify",
    "knn_eval",
    "knn_scores",
    "knn_with_control",
    "linear_eval",
    "linear_eval_raw_pixels",
    "linear_probe_features",
    "linear_with_control",
    "pca_2d",
    "random_init_like",
    "stratified_label_subset",
    "subset_from_id_file",
    "top_k_accuracy",
    "write_report",
]
