"""Golden text for the rich (width 100, no colour) and markdown renderings."""

from __future__ import annotations

import io

from rich.console import Console

from evalkit.report import ReportDocument, render

GATE_RICH = r"""gate
Gate NO-GO: a required row failed (2 required rows: 0 PASS, 1 FAIL, 1 INCONCLUSIVE; policy: command
line, default tolerance 0.01).
  Each row: PASS when the upper 95% bound of the drop is within its tolerance (GO needs all required
rows: an intersection-union test, so a true drop beyond tolerance is passed with probability at most
0.05); FAIL when the drop beyond the tolerance is established after Holm adjustment across the
tier's rows (a model whose every drop is within tolerance is failed with probability at most 0.05);
INCONCLUSIVE otherwise.
  FAIL: tiny-model / sst2 / zero-shot / acc: 0.750 → 0.600; the drop lies in [0.113, 0.196] (95%
one-sided bounds, tango-score): a drop beyond the tolerance 0.01 is established (adjusted p =
1.4e-07).
  INCONCLUSIVE: tiny-model / rte / zero-shot / acc: 0.600 → 0.610; the drop lies in [-0.0436,
0.0166] (95% one-sided bounds, tango-score): the interval straddles the tolerance 0.01; about 307
documents at this spread would decide it, or a tolerance of 0.0166 would pass it.
               A = base, B = drop (model tiny-model, setting zero-shot)
Task  Metric      A      B        Δ [95% CI]       p   p adj    MDE    n  Result
──────────────────────────────────────────────────────────────────────────────────────
sst2  acc     0.750  0.600            -0.150  <0.001  <0.001  0.077  200  FAIL
                            [-0.200, -0.099]
rte   acc     0.600  0.610            +0.010   1.000   1.000  0.028  100  INCONCLUSIVE
                            [-0.018, +0.038]
Δ = B − A (B minus the reference A) on matched documents: McNemar exact test with
Newcombe interval for 0/1 metrics; paired t-test and its interval for other
per-document metrics; paired bootstrap over documents for corpus-level metrics (BLEU,
F1, perplexity...). p adj: Holm across 2 compared rows; significant at α = 0.05. MDE:
smallest difference detectable with 80% power at that n (n/e: not estimable, no
discordant documents or no variance).
                                         Flipped documents
Task            Metric  Flip           Doc  Prompt          Target      Prediction A   Prediction B
────────────────────────────────────────────────────────────────────────────────────────────────────
sst2 /          acc     right → wrong  120  Question 120    answer 120  pred 120 by    <script>docum
zero-shot                                   of sst2?                    tiny-model     ent.title='pw
                                                                                       ned'</script>
"""

GATE_MARKDOWN = r"""<!-- evalkit-gate: default -->

## gate

**❌ Gate NO-GO: a required row failed (2 required rows: 0 PASS, 1 FAIL, 1 INCONCLUSIVE; policy: command line, default tolerance 0.01).**

- Each row: PASS when the upper 95% bound of the drop is within its tolerance (GO needs all required rows: an intersection-union test, so a true drop beyond tolerance is passed with probability at most 0.05); FAIL when the drop beyond the tolerance is established after Holm adjustment across the tier&#x27;s rows (a model whose every drop is within tolerance is failed with probability at most 0.05); INCONCLUSIVE otherwise.
- FAIL: tiny-model / sst2 / zero-shot / acc: 0.750 → 0.600; the drop lies in \[0.113, 0.196\] (95% one-sided bounds, tango-score): a drop beyond the tolerance 0.01 is established (adjusted p = 1.4e-07).
- INCONCLUSIVE: tiny-model / rte / zero-shot / acc: 0.600 → 0.610; the drop lies in \[-0.0436, 0.0166\] (95% one-sided bounds, tango-score): the interval straddles the tolerance 0.01; about 307 documents at this spread would decide it, or a tolerance of 0.0166 would pass it.

### A = base, B = drop (model tiny-model, setting zero-shot)

| Task | Metric | A | B | Δ \[95% CI\] | p | p adj | MDE | n | Result |
| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :--- |
| sst2 | acc | 0.750 | 0.600 | -0.150 \[-0.200, -0.099\] | &lt;0.001 | &lt;0.001 | 0.077 | 200 | **FAIL** |
| rte | acc | 0.600 | 0.610 | +0.010 \[-0.018, +0.038\] | 1.000 | 1.000 | 0.028 | 100 | **INCONCLUSIVE** |

_Δ = B − A (B minus the reference A) on matched documents: McNemar exact test with Newcombe interval for 0/1 metrics; paired t-test and its interval for other per-document metrics; paired bootstrap over documents for corpus-level metrics (BLEU, F1, perplexity...). p adj: Holm across 2 compared rows; significant at α = 0.05. MDE: smallest difference detectable with 80% power at that n (n/e: not estimable, no discordant documents or no variance)._

### Flipped documents

| Task | Metric | Flip | Doc | Prompt | Target | Prediction A | Prediction B |
| :--- | :--- | :--- | ---: | :--- | :--- | :--- | :--- |
| sst2 / zero-shot | acc | right → wrong | 120 | Question 120 of sst2? | answer 120 | pred 120 by tiny-model | &lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt; |
"""

THREE_RUNS_RICH = r"""three runs
    Results (value ± half-width of the 95% CI; n documents)
Run    Model       Setting    sst2 acc (n=200)  rte acc (n=100)
───────────────────────────────────────────────────────────────
base   tiny-model  zero-shot     0.750 ± 0.060    0.600 ± 0.097
noise  tiny-model  zero-shot     0.730 ± 0.062    0.600 ± 0.097
drop   tiny-model  zero-shot     0.600 ± 0.068    0.610 ± 0.096
                   Reference = base (model tiny-model, setting zero-shot)
Task  Metric   base  noise         Δ vs base  p adj   drop         Δ vs base           p adj
────────────────────────────────────────────────────────────────────────────────────────────
sst2  acc     0.750  0.730            -0.020  0.375  0.600            -0.150  <0.001 (worse)
                            [-0.044, +0.003]                [-0.200, -0.099]
rte   acc     0.600  0.600            +0.000  1.000  0.610            +0.010           1.000
                            [-0.021, +0.021]                [-0.018, +0.038]
Δ = B − A (B minus the reference A) on matched documents: McNemar exact test with Newcombe
interval for 0/1 metrics; paired t-test and its interval for other per-document metrics;
paired bootstrap over documents for corpus-level metrics (BLEU, F1, perplexity...). p adj:
Holm across 4 compared rows; significant at α = 0.05. MDE: smallest difference detectable
with 80% power at that n (n/e: not estimable, no discordant documents or no variance).
Note: tiny-model / rte / zero-shot: base and noise have identical per-document scores on 100
documents (acc)
"""

THREE_RUNS_MARKDOWN = r"""## three runs

### Results (value ± half-width of the 95% CI; n documents)

| Run | Model | Setting | sst2 acc (n=200) | rte acc (n=100) |
| :--- | :--- | :--- | ---: | ---: |
| base | tiny-model | zero-shot | 0.750 ± 0.060 | 0.600 ± 0.097 |
| noise | tiny-model | zero-shot | 0.730 ± 0.062 | 0.600 ± 0.097 |
| drop | tiny-model | zero-shot | 0.600 ± 0.068 | 0.610 ± 0.096 |

### Reference = base (model tiny-model, setting zero-shot)

| Task | Metric | base | noise | Δ vs base | p adj | drop | Δ vs base | p adj |
| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| sst2 | acc | 0.750 | 0.730 | -0.020 \[-0.044, +0.003\] | 0.375 | 0.600 | -0.150 \[-0.200, -0.099\] | &lt;0.001 (worse) |
| rte | acc | 0.600 | 0.600 | +0.000 \[-0.021, +0.021\] | 1.000 | 0.610 | +0.010 \[-0.018, +0.038\] | 1.000 |

_Δ = B − A (B minus the reference A) on matched documents: McNemar exact test with Newcombe interval for 0/1 metrics; paired t-test and its interval for other per-document metrics; paired bootstrap over documents for corpus-level metrics (BLEU, F1, perplexity...). p adj: Holm across 4 compared rows; significant at α = 0.05. MDE: smallest difference detectable with 80% power at that n (n/e: not estimable, no discordant documents or no variance)._

- Note: tiny-model / rte / zero-shot: base and noise have identical per-document scores on 100 documents (acc)
"""


def rich_text(doc: ReportDocument) -> str:
    """The rich rendering as plain text, trailing spaces removed (rich pads lines to the width)."""
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(render(doc, "rich"))
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines()) + "\n"


def test_gate_rich_golden(gate_doc: ReportDocument) -> None:
    assert rich_text(gate_doc) == GATE_RICH


def test_gate_markdown_golden(gate_doc: ReportDocument) -> None:
    assert render(gate_doc, "markdown") == GATE_MARKDOWN


def test_three_runs_rich_golden(three_runs_doc: ReportDocument) -> None:
    assert rich_text(three_runs_doc) == THREE_RUNS_RICH


def test_three_runs_markdown_golden(three_runs_doc: ReportDocument) -> None:
    assert render(three_runs_doc, "markdown") == THREE_RUNS_MARKDOWN
