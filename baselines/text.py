"""Text classifiers on hand-made features: TF-IDF over word 1-2 grams or character 2-5 grams, then a
linear model (logistic regression, a linear SVM) or multinomial naive Bayes.

These are the strong classical baselines of text classification (Joachims, 1998, for SVMs on
TF-IDF; Wang & Manning, 2012, "Baselines and bigrams", for naive Bayes and SVMs on n-grams). They
read X as a 1-D array of strings, the layout of every loader in harness/data/text.py.

- `features="word"`: lower-cased word unigrams and bigrams (scikit-learn's token pattern).
- `features="char"`: character 2-5 grams inside word boundaries (`char_wb`), robust to spelling and
  inflection, the usual choice for short or noisy texts.
Both use sublinear term frequency (1 + log tf) and drop terms seen in fewer than `min_df` documents.
"""
from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

FEATURES = ("word", "char")


def tfidf(features: str = "word", min_df: int = 2, max_features: int | None = 200_000) -> TfidfVectorizer:
    if features == "word":
        return TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=min_df, sublinear_tf=True,
                               max_features=max_features)
    if features == "char":
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=min_df, sublinear_tf=True,
                               max_features=max_features)
    raise ValueError(f"unknown features {features!r}; choose one of {', '.join(FEATURES)}")


class NaiveBayes(MultinomialNB):
    """scikit-learn's MultinomialNB with its stored numbers counted, as `count_parameters` reads them."""

    @property
    def n_parameters_(self) -> int:
        return int(self.feature_log_prob_.size + self.class_log_prior_.size)


def logistic_regression(features: str = "word", C: float = 10.0, min_df: int = 2, max_iter: int = 1000,
                        random_state: int = 0):
    return Pipeline([("tfidf", tfidf(features, min_df)),
                     ("clf", LogisticRegression(C=C, max_iter=max_iter, random_state=random_state))])


def linear_svm(features: str = "word", C: float = 0.5, min_df: int = 2, max_iter: int = 5000, random_state: int = 0):
    return Pipeline([("tfidf", tfidf(features, min_df)),
                     ("clf", LinearSVC(C=C, max_iter=max_iter, dual=True, random_state=random_state))])


def naive_bayes(features: str = "word", alpha: float = 0.1, min_df: int = 2):
    return Pipeline([("tfidf", tfidf(features, min_df)), ("clf", NaiveBayes(alpha=alpha))])
