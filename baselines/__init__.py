"""The classical baselines: scikit-learn pipelines with the preprocessing a practitioner would use.

Grouped by family, one file each: `linear` (logistic regression, linear SVM), `kernel` (RBF SVM),
`neighbors` (k-nearest neighbours), `bayes` (Gaussian naive Bayes), `trees` (decision tree,
random forest, histogram gradient boosting). Every factory returns an unfitted estimator whose
`get_params` reaches every step, so the harness can seed, clone and tune it like any other.
"""
