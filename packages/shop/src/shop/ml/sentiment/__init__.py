"""Review sentiment: TF-IDF + logistic regression by star label, aspects, language."""
