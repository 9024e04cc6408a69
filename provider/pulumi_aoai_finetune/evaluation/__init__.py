"""Evaluating a deployed model on held-out cases: the case file (:mod:`.cases`), the graders
(:mod:`.graders`), the run (:mod:`.runner`), the gate (:mod:`.gate`) and ``aoai-ft eval``
(:mod:`.command`). The resource is :mod:`pulumi_aoai_finetune.model_evaluation`.

Nothing here imports Pulumi: the command line uses the same code without it.
"""
