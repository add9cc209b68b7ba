"""Research on the rule: the vectorised replay behind ``bot sweep``, walk-forward selection and scaling out."""
