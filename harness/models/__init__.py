"""Deep architectures, one file per family. Each module is built as `Module(input_shape, n_classes,
**module_params)` and never trains itself: `harness.deep.training.TorchClassifier` trains them all."""
