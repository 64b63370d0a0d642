"""gr-semcom: neural joint source-channel coding blocks for GNU Radio."""
