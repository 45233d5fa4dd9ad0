"""One module per topic of the report. A task kind's section is named after the kind and has one
entry function of one of two shapes (see suite.py); the other modules read across datasets."""
