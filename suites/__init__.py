"""bench's Hydra config tree; a package only so that an installed bench can find its YAML files."""
from pathlib import Path

CONFIG_DIR = Path(__file__).parent
