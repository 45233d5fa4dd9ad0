"""Fuzz: hostile and malformed config values on the command line.

Each override list is checked the way `bench run` checks it before any job starts (`preflight`):
it must be refused with a ConfigError (or HardwareError) of one line that names what is wrong, which
the command line prints as `error: ...` with exit code 2 (a sweep without -m: `bench run` itself).
Ids start with the kind (`config:`), counted by tests/count_bad_inputs.py.
"""
from __future__ import annotations

import pytest

from harness.app import preflight
from harness.core.config import ConfigError
from harness.core.hardware import HardwareError

BASE = ["profile=smoke", "dataset=digits", "model=knn", "hardware.threads=1"]

# (overrides, words the one-line error must hold)
REFUSED = [
    # wrong types
    ("seed=inf", "seed must be int"), ("seed=nan", "seed must be int"), ("seed=true", "seed must be int"),
    ("seed=[]", "seed must be int"), ("seed={}", "seed must be int"), ("seed=''", "seed must be int"),
    ("time_limit=true", "time_limit must be"), ("time_limit=[]", "time_limit must be"),
    ("tune=1", "tune must be bool"), ("tune=null", "tune must be bool"), ("resume=null", "resume must be bool"),
    ("resume=[]", "resume must be bool"), ("n_configs=1e9", "n_configs must be int"),
    ("n_configs=abc", "n_configs must be int"), ("profile.max_train=1.5", "profile.max_train must be int"),
    ("profile.max_train=[]", "profile.max_train must be int"), ("profile.max_epochs=1.0", "profile.max_epochs must be int"),
    ("profile.max_epochs=null", "profile.max_epochs must be int"), ("profile.patience=abc", "profile.patience must be int"),
    ("profile.seeds=abc", "profile.seeds must be"), ("profile.seeds=[1.5]", "profile.seeds must be"),
    ("profile.seeds=[true]", "profile.seeds must be"), ("hardware.threads=abc", "hardware.threads must be int"),
    ("hardware.workers=abc", "hardware.workers must be"), ("hardware.workers=1.5", "hardware.workers must be"),
    ("hardware.workers=true", "hardware.workers must be"), ("isolation=null", "isolation must be one of"),
    ("isolation=[]", "isolation must be one of"), ("isolation=1", "isolation must be one of"),
    ("allow_any_target=yes", "allow_any_target must be bool"), ("allow_any_target=1", "allow_any_target must be bool"),
    ("interpret=on interpret.ig_steps=abc", "interpret.ig_steps must be int"),
    ("interpret=on interpret.sizes=some", "interpret.sizes must be one of"),
    ("scaling=on scaling.sizes=[abc]", "scaling.sizes"), ("scaling=on scaling.points=abc", "scaling.points"),
    ("suite.datasets=abc", "datasets"), ("suite.models=null", "models"), ("suite.name=null", "name"),
    ("model.estimator=[]", "model.estimator"), ("model.estimator=null", "needs its estimator"),
    ("dataset.load=null", "needs its load"), ("model.family=quantum", "family must be one of"),
    ("model.name=''", "needs a name"), ("paths.results=null", "paths.results must name a folder"),
    ("paths.results=''", "paths.results must name a folder"),
    # negative, zero and empty sizes
    ("time_limit=-inf", "at least 0"), ("n_configs=0", "at least 1"), ("n_configs=-1", "at least 1"),
    ("profile.max_train=1", "at least 2"), ("profile.max_test=-1", "at least 1"), ("profile.max_epochs=-3", "at least 1"),
    ("profile.seeds=[]", "at least one seed"), ("profile.seeds=null", "at least one seed"),
    ("hardware.threads=-1", "at least 1"), ("hardware.workers=0", "at least 1"), ("hardware.workers=-2", "at least 1"),
    ("interpret=on interpret.sample=1", "at least 2"), ("interpret=on interpret.noise_sigma=-1", "at least 0"),
    ("interpret=on interpret.linear_C=0", "at least 1e-09"), ("scaling=on scaling.points=0", "scaling.points"),
    ("scaling=on scaling.points=-1", "scaling.points"), ("scaling=on scaling.sizes=[]", "scaling.sizes"),
    ("scaling=on scaling.sizes=[-5]", "scaling.sizes"), ("scaling=on scaling.sizes=[1]", "scaling.sizes"),
    ("scaling=on scaling.min_per_class=-1", "scaling.min_per_class"), ("scaling=on scaling.min_per_class=0", "scaling.min_per_class"),
    # huge and non-finite numbers
    ("seed=99999999999999999999", "at most 4294967295"), ("seed=4294967296", "at most 4294967295"),
    ("profile.seeds=[99999999999999999999]", "at most 4294967295"), ("time_limit=nan", "finite"),
    ("time_limit=inf", "finite"), ("hardware.threads=100000", "at most 1024"),
    # unknown keys and names
    ("suite.bogus=1", "a suite's keys"), ("+suite.bogus=1", "unknown key 'bogus'"),
    ("model.estimator.nope=1", "top-level keys"), ("model.task=nope", "top-level keys"),
    ("dataset.load.nope=1", "top-level keys"), ("hardware.device=tpu", "unknown device"),
    ("hardware.device=cuda:7", "unknown device"), ("hardware.device=''", "unknown device"),
    ("hardware.device=null", "unknown device"), ("hardware.device=[]", "unknown device"),
    ("model.estimator._target_=''", "allow-list"), ("model.estimator._target_=harness..x", "allow-list"),
    ("model.estimator._target_=subprocess.run", "allow-list"), ("dataset.load._target_=os.remove", "allow-list"),
    ("model.estimator._target_=builtins.exec", "allow-list"), ("model=mlp model.estimator.module=os.system", "allow-list"),
    ("suite.models=[knn,nope] ~model", "unknown model 'nope'"), ("suite.datasets=[digits,nope] ~dataset", "nope"),
    ("suite.models=[] ~model", "runs no models"),
    # interpolations
    ("seed=${oops}", "oops"), ("profile.max_train=${oc.env:BENCH_FUZZ_NOT_SET}", "BENCH_FUZZ_NOT_SET"),
    ("profile.max_train=${oc.env:PATH}", "profile.max_train must be int"), ("seed=${profile}", "seed must be int"),
    # markup, shell metacharacters and unicode where a name or a number belongs
    ("'<script>alert(1)</script>'", "cannot parse"), ("suite=<script>", "cannot parse"), ("model=$(rm -rf /)", "cannot parse"),
    ("model=`id`", "cannot parse"), ("dataset=;ls", "cannot parse"), ("model=knn;rm", "cannot parse"),
    ("model=кнн", "cannot parse"), ("model=🤖", "cannot parse"), ("seed=١", "cannot parse"),
    ("paths.results=$(touch x)", "cannot parse"), ("suite.name=<b>x</b>", "cannot parse"),
    ("model=knn|cat", "unknown model"), ("model='knn && reboot'", "knn && reboot"),
    ("dataset='<img src=x onerror=alert(1)>'", "unknown dataset"), ("suite='../../etc'", "unknown suite"),
    ("suite.name='../../outside'", "plain folder name"), ("suite.name='a/b'", "plain folder name"),
    ("suite.name='..'", "plain folder name"), ("suite.name='<i>x</i>'", "plain folder name"),
    ("suite.name='名前 with spaces'", "plain folder name"), ("seed='0; rm -rf /'", "seed must be int"),
    ("time_limit='$(sleep 100)'", "time_limit must be"), ("hardware.threads='`nproc`'", "hardware.threads must be int"),
    ("profile.max_train='１０'", "profile.max_train must be int"),
    # sweeps: every value checked, and a sweep without -m said plainly
    ("seed=range(0,3)", "add -m"), ("seed=0,1", "add -m"),
]


# Each case composes the config (0.2-0.5 s on 2 busy cores): every fourth runs by default, the rest with -m slow.
CASES = [pytest.param(*case, id=f"config:{case[0]}", marks=[pytest.mark.slow] if i % 4 else [])
         for i, case in enumerate(REFUSED)]


@pytest.mark.parametrize("overrides,words", CASES)
def test_a_bad_config_value_is_refused_in_one_line_naming_it(overrides, words, tmp_path):
    given = overrides.split(" ") if "'" not in overrides else [overrides]  # a quoted value may hold spaces
    keys = {o.split("=")[0].lstrip("+~") for o in given}
    argv = [*[b for b in BASE if b.split("=")[0] not in keys], *given]
    if not any(o.startswith("paths.results") for o in given):
        argv.append(f"paths.results={tmp_path}")
    with pytest.raises((ConfigError, HardwareError)) as e:
        if "add -m" in words:  # only `bench run` knows whether -m was given
            from harness import app

            code = app.run(argv)
            raise ConfigError("exit 2") if code == 2 else AssertionError(code)
        preflight(argv)
    if "add -m" not in words:
        message = str(e.value).strip()
        assert message and "\n" not in message and words in message, message
    assert not any(tmp_path.rglob("*.parquet"))
