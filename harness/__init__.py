"""bench's engine: CLI, config, runner, data, deep architectures, training, metrics, results, report."""
__version__ = "0.1.0"
