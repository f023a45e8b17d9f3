"""The rules by which `rgbench leaderboard` ranks, in words: printed under every board
(`rgbench.leaderboard._render`) and by ``rgbench list leaderboard`` (`rgbench.reference`) from this one
text, which imports nothing so that the reference stays light."""

__all__ = ["RULES"]

#: How the board ranks, rule by rule.
RULES = {
    "rankings": "Rows are compared only within a ranking: reports that state the same claim (its `id:`, or its "
    "text where none is given) under the same criteria (observable, test, pass region, stage, layers, rows; judged "
    "against nulls or not; a claim with an id may set its margin per architecture family) and that all train their networks or none does (rgbench.leaderboard._rankings) — version-1 "
    "and version-2 criteria, or untrained theory configurations and trained networks, never share a ranking.",
    "claims only": "Only claims count (`purpose: claim`); a row's diagnostics that did not pass are listed beside "
    "it, never as support. — in a claim's column: the row does not state that claim (not tested, never a FAIL).",
    "score": "Rows are ranked by their score: the mean, over the claims every row of the ranking states, of each "
    "claim's specific margin — how far its seeds' mean lies inside the pass region in seed standard deviations, "
    "squashed to (−3, 3), and no more than the same margin by which each of its nulls fails "
    "(rgbench.leaderboard._margins). Rows that share no claim are not ranked.",
    "intervals": "Score intervals and rank intervals: 95 % bootstrap over seeds within each case (stratified, as "
    "rliable does; the mean rather than its interquartile mean, a row having 5–15 claims), every margin recomputed "
    "in every resample; rows are listed by rank interval, and rows whose rank intervals overlap are not "
    "distinguishable. P(row beats column): the share of resamples in which the row's score is higher (rliable's "
    "probability of improvement).",
    "agreement": "Agreement (the share of a row's claims that PASS) is descriptive, not what the board ranks by. "
    "Figures average the row's cases (only those named by `--figures-from` where given: their columns are "
    "marked †).",
}
