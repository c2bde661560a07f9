"""The source map: what the source survey says, statement by statement, and what the book finds.

The single place where the book records the source text (Weng 2022, "Some Math behind Neural Tangent
Kernel"; the text file is not part of the repository). :data:`ENTRIES` holds one :class:`Entry` per
statement of the source that carries math -- an equation, a definition, a claim, a step of a
derivation -- with its line range in the source file (1-based, inclusive), the statement **verbatim**
(compared with the file after collapsing whitespace, ``tests/test_source_map.py``), and one verdict:

``holds``
    The statement is right as written; ``claims`` lists the claims that check it (empty where no claim
    checks it yet, which the note says).
``wrong``
    The statement is wrong as written. ``severity`` says how (:data:`SEVERITIES`), ``headline`` says
    in one short line what is true (the heading of its erratum), ``truth`` says it in full (the paragraph
    beneath), ``claims`` lists the failing as-written claim and the passing
    corrected claims where the error is executable, and ``no_check`` says in one line why no as-written
    check applies where none does.
``prose``
    Nothing to check (a definition of notation, a sentence that introduces an equation); ``note`` says
    why.

Severities of a wrong statement:

``math``
    false as written: a wrong formula, value, limit or theorem, a step that does not follow.
``condition``
    true only under a hypothesis the source does not state (smoothness, a limit, positive
    definiteness), or asserted without the proof it needs.
``notation``
    the intended statement is right but the symbols as written say something else or nothing: an
    index, a transpose, a shape, an undefined product, a symbol used for two things.
``typo``
    a slip of a word or symbol that changes no mathematics (a misspelt name, a repeated line).

Every line of the source that contains ``$`` is covered by the line range of some entry. The errata
page and the source-map page of the book are rendered from this map (:mod:`ntkbook.claims.ledger`);
``python -m ntkbook source-map [--json]`` prints it. Quotes are the source's LaTeX, rendered as
MyST math on the pages; notes and truths are MyST text with ``$...$`` math.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Literal

__all__ = [
    "ENTRIES",
    "SECTIONS",
    "SEVERITIES",
    "SOURCE_NAME",
    "VERDICTS",
    "Entry",
    "as_json",
    "normalise",
    "section_of",
    "source_lines",
    "summary",
]

VERDICTS = ("holds", "wrong", "prose")
SEVERITIES = ("math", "condition", "notation", "typo")
# The source file, in the shared folder beside the repository (../shared/source/).
SOURCE_NAME = "000_e07fa2555108a1ea.txt"

Verdict = Literal["holds", "wrong", "prose"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One statement of the source and the book's verdict on it.

    Attributes:
      lines: ``(first, last)``, 1-based and inclusive, in the source file.
      quote: the statement, verbatim (whitespace may differ).
      verdict: ``"holds"``, ``"wrong"`` or ``"prose"``.
      severity: for ``wrong`` only, one of :data:`SEVERITIES`.
      claims: ids of the claims that check it (as-written claims first).
      note: what the reader should know (MyST, ``$...$`` math).
      truth: for ``wrong`` only, what is true (MyST), in full: the paragraph under the erratum's heading.
      no_check: for ``wrong`` only, why no as-written check applies, where none does.
      headline: for ``wrong`` only, what is true in one short line (MyST, ``$...$`` math, about 70 visible
        characters): the heading of the erratum. It states the truth, never the source's wrong claim.
    """

    lines: tuple[int, int]
    quote: str
    verdict: Verdict
    severity: str | None = None
    claims: tuple[str, ...] = ()
    note: str = ""
    truth: str = ""
    no_check: str = ""
    headline: str = ""

    def as_dict(self) -> dict:
        """The entry as the JSON object of ``python -m ntkbook source-map --json``."""
        note = self.note
        if self.verdict == "wrong":
            note = " ".join(
                p
                for p in (
                    f"True: {self.truth}",
                    self.note,
                    f"No as-written check: {self.no_check}" * bool(self.no_check),
                )
                if p
            )
        return dict(
            lines=list(self.lines),
            quote=self.quote,
            verdict=self.verdict,
            severity=self.severity,
            claims=list(self.claims),
            note=note,
        )


def _holds(lines, quote, claims=(), note=""):
    return Entry(_span(lines), _clean(quote), "holds", None, tuple(claims), _clean(note))


def _wrong(lines, quote, severity, headline, truth, claims=(), note="", no_check=""):
    # headline: what is true in one short line; truth: the same in full.
    return Entry(
        _span(lines),
        _clean(quote),
        "wrong",
        severity,
        tuple(claims),
        _clean(note),
        _clean(truth),
        _clean(no_check),
        _clean(headline),
    )


def _prose(lines, quote, note):
    return Entry(_span(lines), _clean(quote), "prose", None, (), _clean(note))


def _span(lines) -> tuple[int, int]:
    return (lines, lines) if isinstance(lines, int) else (int(lines[0]), int(lines[1]))


def _clean(text: str) -> str:
    return normalise(text)


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space (quotes are compared this way)."""
    return re.sub(r"\s+", " ", text).strip()


# The source's sections: (first line, title). An entry belongs to the last section starting at or before it.
SECTIONS: tuple[tuple[int, str], ...] = (
    (36, "Basics: vector-to-vector derivative"),
    (50, "Basics: differential equations"),
    (63, "Central limit theorem"),
    (71, "Taylor expansion"),
    (83, "Kernel & kernel methods"),
    (95, "Gaussian processes"),
    (103, "Notation"),
    (119, "Neural tangent kernel"),
    (153, "Infinite width networks"),
    (159, "Connection with Gaussian processes"),
    (203, "Deterministic neural tangent kernel"),
    (270, "Linearized models"),
    (311, "Lazy training"),
)


def section_of(entry: Entry) -> str:
    """The title of the source section an entry is in."""
    title = SECTIONS[0][1]
    for first, name in SECTIONS:
        if first <= entry.lines[0]:
            title = name
    return title


# ---------------------------------------------------------------------------------------------------------------
# The entries, in the order of the source.
# ---------------------------------------------------------------------------------------------------------------

ENTRIES: tuple[Entry, ...] = (
    # --- Basics: vector-to-vector derivative --------------------------------------------------------------------
    _holds(
        42,
        r"""Given an input vector $\mathbf{x} \in \mathbb{R}^n$ (as a column vector) and a function
        $f : \mathbb{R}^n \rightarrow \mathbb{R}^m$ , the derivative of $f$ with respect to $\mathbf{x}$ is a
        $m \times n$ matrix, also known as Jacobian matrix:""",
        ["01-jacobians/jacobian_shape"],
        "A definition; it presumes $f$ differentiable at $\\mathbf{x}$.",
    ),
    _holds(
        44,
        r"""$$J = \frac{\partial f}{\partial \mathbf{x}} = \begin{bmatrix} \frac{\partial f_1}{\partial x_1} & \cdots &
        \frac{\partial f_1}{\partial x_n} \\ \vdots & & \\ \frac{\partial f_m}{\partial x_1} & \cdots &
        \frac{\partial f_m}{\partial x_n} \end{bmatrix} \in \mathbb{R}^{m \times n}$$""",
        ["01-jacobians/autodiff_matches_sympy", "01-jacobians/finite_differences", "01-jacobians/jacobian_shape"],
    ),
    _prose(
        46,
        r"""Throughout the post, I use integer subscript(s) to refer to a single entry out of a vector or matrix
        value; i.e. $x_i$ indicates the $i$ -th value in the vector $\mathbf{x}$ and $f_i(\cdot)$ is the $i$ -th
        entry in the output of the function.""",
        "A convention of notation. The source departs from it: $x_1, \\dots, x_N$ (line 65) are random "
        "variables, and $\\theta_0$ (line 333) is a time.",
    ),
    _holds(
        48,
        r"""The gradient of a vector with respect to a vector is defined as $\nabla_{\mathbf{x}} f = J^T \in
        \mathbb{R}^{n \times m}$ and this formation is also valid when $m = 1$ (i.e., scalar output).""",
        ["01-jacobians/gradient_is_transpose"],
        "A convention (the gradient is the transposed Jacobian), used consistently in lines 131 and 236.",
    ),
    # --- Basics: differential equations -------------------------------------------------------------------------
    _wrong(
        54,
        r"""*ODE (Ordinary differential equation)* contains only an unknown function of one random variable.""",
        "notation",
        r"An ODE's unknown depends on one independent variable, not a random one",
        r"""An ODE relates an unknown function of one *independent* variable, not a random one, to its
        derivatives; a vector-valued unknown such as $g$ in $\frac{dg}{dt} = -\eta K_{\infty} g$ (line 302) is
        one unknown function.""",
        no_check="a wrong word: what the variable is called changes no computation.",
    ),
    _wrong(
        54,
        r"""A general form of ODE looks like $(x, y, \frac{dy}{dx}, \dots, \frac{d^n y}{dx^n}) = 0$ .""",
        "typo",
        r"An ODE of order $n$ is $F(x, y, \frac{dy}{dx}, \dots, \frac{d^n y}{dx^n}) = 0$ for some $F$",
        r"""The general form of an ODE of order $n$ is $F(x, y, \frac{dy}{dx}, \dots, \frac{d^n y}{dx^n}) = 0$
        for a given function $F$.""",
        note="As written a tuple is set equal to $0$: the function $F$ is missing.",
        no_check="a missing symbol in a definition: there is nothing to compute.",
    ),
    _prose(
        61,
        r"""\text{Given } a \text{ is a constant scalar: } & \frac{dy}{dx} = ay""",
        "States the example equation; its solutions are checked under the last step (line 61).",
    ),
    _wrong(
        61,
        r"""\text{Move same variables to the same side: } & \frac{dy}{y} = adx""",
        "condition",
        r"Dividing by $y$ loses the solution $y \equiv 0$",
        r"""Dividing by $y$ needs $y \neq 0$: the solution $y \equiv 0$ is lost in this step.""",
        ["02-odes/separation_steps", "02-odes/integrating_factor"],
    ),
    _wrong(
        61,
        r"""\text{Put integral on both sides: } & \int \frac{dy}{y} = \int adx \\ & \ln(y) = ax + C'""",
        "math",
        r"$\int \frac{dy}{y} = \ln\lvert y\rvert + C'$: taking $\ln(y)$ loses the solutions $y < 0$",
        r"""$\int \frac{dy}{y} = \ln\lvert y\rvert + C'$: with $\ln(y)$ the solutions with $y < 0$ are lost.""",
        ["02-odes/separation_steps", "02-odes/general_solution"],
    ),
    _wrong(
        61,
        r"""\text{Finally } & y = e^{ax+C'} = Ce^{ax}""",
        "math",
        r"All solutions are $y = Ce^{ax}$ with $C \in \mathbb{R}$; the steps give only $C > 0$",
        r"""Every solution of $\frac{dy}{dx} = ay$ is $y = Ce^{ax}$ with $C$ any real number; the steps reach only
        $C = e^{C'} > 0$.""",
        ["02-odes/separation_steps", "02-odes/general_solution", "02-odes/integrating_factor"],
        note=r"""The final formula is right but does not follow from the steps. That there are no other solutions
        follows from $\frac{d}{dx}(y e^{-ax}) = 0$ (an integrating factor).""",
    ),
    # --- Central limit theorem ------------------------------------------------------------------------------------
    _wrong(
        65,
        r"""Given a collection of i.i.d. random variables, $x_1, \dots, x_N$ with mean $\mu$ and variance
        $\sigma^2$ , the *Central Limit Theorem* (CTL) states that the expectation would be Gaussian distributed
        when $N$ becomes really large.""",
        "math",
        r"The sample mean, not the expectation, is nearly Gaussian for large $N$",
        r"""The expectation $\mu$ is a number: it is the sample mean $\bar{x}$, a random variable, that is nearly
        Gaussian for large $N$ (for finite $\sigma^2$).""",
        ["03-clt/expectation_as_written", "03-clt/mean_variance_mc", "03-clt/ks_rate"],
        note="'CTL' is a misspelling of CLT, here and on line 69.",
    ),
    _wrong(
        67,
        r"""\mathcal{N}(\mu, \frac{\sigma^2}{n})""",
        "typo",
        r"The sample mean's variance is $\sigma^2/N$, with $N$ the sample size",
        r"""The variance of $\bar{x}$ is $\sigma^2/N$: the sample size is $N$.""",
        ["03-clt/mean_variance_as_written", "03-clt/mean_variance_symbolic"],
        note="$n$ is not defined in this section (it was the input dimension on line 42).",
    ),
    _wrong(
        67,
        r"""$$\bar{x} = \frac{1}{N} \sum_{i=1}^N x_i \sim \mathcal{N}(\mu, \frac{\sigma^2}{n}) \quad \text{when } N
        \rightarrow \infty$$""",
        "math",
        r"The CLT's limit is that of $\sqrt{N}(\bar{x} - \mu)/\sigma$; $\bar{x}$ itself tends to $\mu$",
        r"""$\sqrt{N}(\bar{x} - \mu)/\sigma \rightarrow \mathcal{N}(0, 1)$ in distribution as
        $N \rightarrow \infty$; $\bar{x} \approx \mathcal{N}(\mu, \sigma^2/N)$ only approximately, for large finite
        $N$.""",
        ["03-clt/expectation_as_written", "03-clt/ks_rate", "03-clt/mean_variance_mc", "03-clt/variance_slope"],
        note=r"""As written the limit does not exist: the right-hand side changes with $N$, and $\bar{x}$ itself
        converges to the constant $\mu$.""",
    ),
    _wrong(
        69,
        r"""CTL can also apply to **multidimensional vectors**, and then instead of a single scale $\sigma^2$ we
        need to compute the **covariance matrix** of random variable $\Sigma$ .""",
        "typo",
        r"""For vectors, $\sqrt{N}(\bar{\mathbf{x}} - \mu) \rightarrow
        \mathcal{N}(0, \Sigma)$, $\Sigma$ the covariance matrix""",
        r"""The multivariate CLT: for i.i.d. vectors with finite covariance matrix $\Sigma$,
        $\sqrt{N}(\bar{\mathbf{x}} - \mu) \rightarrow \mathcal{N}(0, \Sigma)$ in distribution.""",
        ["03-clt/multivariate_covariance"],
        note=r"""'CTL' for CLT and 'scale' for scalar; $\Sigma$ names the covariance matrix, not the random
        variable. In substance the sentence holds: the sample mean has covariance $\Sigma/N$.""",
        no_check="misspelt words: nothing to compute.",
    ),
    # --- Taylor expansion -----------------------------------------------------------------------------------------
    _wrong(
        73,
        r"""The *Taylor expansion* is to express a function as an infinite sum of components, each represented in
        terms of this function's derivatives. The Taylor expansion of a function $f(x)$ at $x = a$ can be written
        as:""",
        "condition",
        r"Only an analytic function equals its Taylor series, where it converges",
        r"""Only an analytic function equals its Taylor series, and only where the series converges: the smooth
        $f(x) = e^{-1/x^2}$ ($f(0) = 0$) has every derivative $0$ at $a = 0$, so its series is $0 \neq f(x)$.""",
        ["04-taylor/series_as_written", "04-taylor/integral_remainder", "04-taylor/series_one_variable"],
        note=r"""The equation of line 75 states it. An analytic $f$ may also have a series that diverges
        ($1/(1 + x^2)$ at $0$ for $\lvert x\rvert \geq 1$). Taylor's theorem with a remainder needs only $n + 1$
        derivatives and is what the rest of the source uses (lines 81, 285, 319, 325).""",
    ),
    _wrong(
        75,
        r"""$$f(x) = f(a) + \sum_{k=1}^{\infty} \frac{1}{k!} (x - a)^k \nabla_x^k f(x)|_{x=a}$$""",
        "notation",
        r"In $\mathbb{R}^n$ the $k$-th Taylor term is $\frac{1}{k!} D^k f(a)[x - a, \dots, x - a]$",
        r"""For $x \in \mathbb{R}^n$ the $k$-th term is the $k$-th derivative applied to $k$ copies of $x - a$,
        $\frac{1}{k!} D^k f(a)[x - a, \dots, x - a]$; for $k = 2$ it is $\frac{1}{2}(x - a)^\top H(a)(x - a)$.""",
        ["04-taylor/series_as_written_multivariate", "04-taylor/multivariate_terms", "04-taylor/series_one_variable"],
        note="For scalar $x$ it is the one-variable series, under the condition of line 73.",
    ),
    _prose(
        77,
        r"""where $\nabla^k$ denotes the $k$ -th derivative.""",
        "Defines notation; for vector $x$ the $k$-th derivative is a $k$-index array (line 75).",
    ),
    _wrong(
        81,
        r"""$$f(x) \approx f(a) + (x - a) \nabla_x f(x)|_{x=a}$$""",
        "notation",
        r"To first order $f(x) \approx f(a) + \nabla_x f(a)^\top (x - a)$",
        r"""$f(x) \approx f(a) + \nabla_x f(a)^\top (x - a) = f(a) + J(a)(x - a)$, with an error
        $O(\lVert x - a\rVert^2)$ for twice-differentiable $f$.""",
        ["04-taylor/linear_term_as_written", "04-taylor/linear_model", "04-taylor/remainder_rates_function"],
        note=r"""With the source's $\nabla_x f = J^\top$ (line 48), $(x - a)\nabla_x f$ is a product of two
        columns.""",
    ),
    # --- Kernel & kernel methods ----------------------------------------------------------------------------------
    _prose(
        85,
        r"""A *kernel* is essentially a similarity function between two data points, $K : \mathcal{X} \times
        \mathcal{X} \rightarrow \mathbb{R}$ .""",
        r"""A definition in words. The NTK (line 143) is matrix-valued, $K : \mathbb{R}^{n_0} \times
        \mathbb{R}^{n_0} \rightarrow \mathbb{R}^{n_L \times n_L}$, which this definition does not cover.""",
    ),
    _wrong(
        89,
        r"""The kernel should be symmetric, $K(x, x') = K(x', x)$ .""",
        "condition",
        r"A kernel must also be positive semi-definite",
        r"""A kernel of kernel methods and Gaussian processes must be symmetric *and* positive semi-definite:
        $\sum_{i,j} c_i c_j K(x^{(i)}, x^{(j)}) \geq 0$ for all points and coefficients.""",
        ["05-kernels/symmetric_not_psd", "05-kernels/symmetry", "05-kernels/psd"],
        no_check=r"""the source states a necessary condition only; 05-kernels/symmetric_not_psd shows a symmetric
        matrix that is not positive semi-definite (a passing check).""",
    ),
    _holds(
        91,
        r"""Depending on the problem structure, some kernels can be decomposed into two feature maps, one
        corresponding to one data point, and the kernel value is an inner product of these two features:
        $K(x, x') = \langle \varphi(x), \varphi(x') \rangle$ .""",
        ["05-kernels/polynomial_features", "08-ntk/feature_map_psd"],
        r"""Every positive semi-definite kernel has such a map, possibly into an infinite-dimensional space; the
        'two feature maps' are one map $\varphi$ applied to each point.""",
    ),
    _wrong(
        93,
        r"""Assuming we have known all the labels of training samples $\{x^{(i)}, y^{(i)}\}$ , the label for a new
        input $x$ is predicted by a weighted sum $\sum_i K(x^{(i)}, x) y^{(i)}$ .""",
        "math",
        r"A kernel predictor is $\sum_i \alpha_i K(x^{(i)}, x)$ with $\alpha = (K + \lambda I)^{-1} y$",
        r"""A kernel predictor weights the kernel with coefficients solved from the data,
        $\hat{y}(x) = \sum_i \alpha_i K(x^{(i)}, x)$ with $\alpha = (K + \lambda I)^{-1} y$, or normalises the
        weights (Nadaraya–Watson).""",
        [
            "05-kernels/weighted_sum_as_written",
            "05-kernels/kernel_ridge",
            "05-kernels/nadaraya_watson",
            "05-kernels/predictor_comparison",
        ],
    ),
    # --- Gaussian processes ---------------------------------------------------------------------------------------
    _wrong(
        99,
        r"""Given a collection of data points $\{x^{(1)}, \dots, x^{(N)}\}$ , GP assumes that they follow a jointly
        multivariate Gaussian distribution, defined by a mean $\mu(x)$ and a covariance matrix $\Sigma(x)$ .""",
        "notation",
        r"A GP makes the function values jointly Gaussian, not the data points",
        r"""A GP makes the function values $f(x^{(1)}), \dots, f(x^{(N)})$ jointly Gaussian, with means
        $\mu(x^{(i)})$ and covariances $K(x^{(i)}, x^{(j)})$; the data points themselves are not random.""",
        ["06-gaussian-processes/prior_covariance"],
        no_check="which object is random is a matter of words; the covariance of the values is checked.",
    ),
    _holds(
        99,
        r"""Each entry at location $(i, j)$ in the covariance matrix $\Sigma(x)$ is defined by a kernel
        $\Sigma_{i,j} = K(x^{(i)}, x^{(j)})$ , also known as a *covariance function*.""",
        ["06-gaussian-processes/prior_covariance", "06-gaussian-processes/covariance_stderr_formula"],
        "For a positive semi-definite kernel (line 89).",
    ),
    _holds(
        99,
        r"""The core idea is – if two data points are deemed similar by the kernel, the function outputs should be
        close, too.""",
        ["06-gaussian-processes/similar_inputs_close_outputs"],
        r"""In mean square: $\mathbb{E}[(f(x) - f(x'))^2] = K(x, x) + K(x', x') - 2K(x, x')$.""",
    ),
    _holds(
        99,
        r"""Making predictions with GP for unknown data points is equivalent to drawing samples from this
        distribution, via a conditional distribution of unknown data points given observed ones.""",
        [
            "06-gaussian-processes/posterior_symbolic",
            "06-gaussian-processes/posterior_samples",
            "06-gaussian-processes/prediction_is_mean",
        ],
        r"""The prediction is the conditional distribution; its mean is the point prediction, and one draw from
        it has twice the mean squared error of the mean.""",
    ),
    # --- Notation -------------------------------------------------------------------------------------------------
    _prose(
        105,
        r"""Let us consider a fully-connected neural networks with parameter $\theta$ , $f(\cdot; \theta) :
        \mathbb{R}^{n_0} \rightarrow \mathbb{R}^{n_L}$ . Layers are indexed from 0 (input) to $L$ (output), each
        containing $n_0, \dots, n_L$ neurons, including the input of size $n_0$ and the output of size $n_L$ .""",
        "Definitions of the network's notation.",
    ),
    _holds(
        105,
        r"""There are $P = \sum_{l=0}^{L-1} (n_l + 1) n_{l+1}$ parameters in total and thus we have
        $\theta \in \mathbb{R}^P$ .""",
        ["07-notation/num_params"],
    ),
    _prose(
        107,
        r"""The training dataset contains $N$ data points, $\mathcal{D} = \{\mathbf{x}^{(i)}, y^{(i)}\}_{i=1}^N$ .
        All the inputs are denoted as $\mathcal{X} = \{\mathbf{x}^{(i)}\}_{i=1}^N$ and all the labels are denoted
        as $\mathcal{Y} = \{y^{(i)}\}_{i=1}^N$ .""",
        r"""Defines the data. The pairs are written as a set of two: read $\{(\mathbf{x}^{(i)},
        y^{(i)})\}_{i=1}^N$, with $y^{(i)} \in \mathbb{R}^{n_L}$ for the loss of line 127.""",
    ),
    _wrong(
        109,
        r"""For $l = 0, \dots, L$ , each layer $l$ defines an affine transformation $A^{(l)}$ with a weight matrix
        $\mathbf{w}^{(l)} \in \mathbb{R}^{n_l \times n_{l+1}}$ and a bias $b^{(l)} \in \mathbb{R}^{n_{l+1}}$ .""",
        "notation",
        r"Widths $n_0, \dots, n_L$ give $L$ affine maps, $l = 0, \dots, L-1$",
        r"""A network with widths $n_0, \dots, n_L$ has $L$ affine maps, $l = 0, \dots, L-1$, and its output is
        the last pre-activation $f = \tilde{A}^{(L)}$.""",
        ["07-notation/layer_count", "07-notation/layer_count_corrected"],
        note=r"""$\mathbf{w}^{(L)}$ would need a width $n_{L+1}$, and the count $P$ of line 105 sums over $L$
        layers. $A^{(l)}$ names the post-activation in line 113, not the affine map.""",
    ),
    _holds(
        111,
        r"""bias term $\mathbf{b}^{(l)} \in \mathbb{R}^{n_{l+1}}$ , as well as a pointwise nonlinearity function
        $\sigma(\cdot)$ which is Lipschitz continuous.""",
        ["07-notation/lipschitz", "07-notation/lipschitz_derivative_bound"],
        r"""An assumption (the fragment repeats the bias of line 109). The activations of the book satisfy it;
        it is weaker than what lines 210 and 238 use: a derivative $\dot{\sigma}$, and for constancy in
        training a bounded second derivative.""",
    ),
    _holds(
        113,
        r"""$$\begin{aligned} A^{(0)} &= \mathbf{x} \\ \tilde{A}^{(l+1)}(\mathbf{x}) &= \frac{1}{\sqrt{n_l}}
        \mathbf{w}^{(l)\top} A^{(l)} + \beta \mathbf{b}^{(l)} \in \mathbb{R}^{n_{l+1}} && \text{; pre-activations}
        \\ A^{(l+1)}(\mathbf{x}) &= \sigma(\tilde{A}^{(l+1)}(\mathbf{x})) \in \mathbb{R}^{n_{l+1}} && \text{;
        post-activations} \end{aligned}$$""",
        ["07-notation/forward_entrywise"],
        r"""The output is left implicit: lines 171 and 232 take $f = \tilde{A}^{(L)}$, without $\sigma$.""",
    ),
    _holds(
        115,
        r"""Note that the *NTK parameterization* applies a rescale weight $1/\sqrt{n_l}$ on the transformation to
        avoid divergence with infinite-width networks.""",
        [
            "07-notation/first_layer_variance",
            "07-notation/hidden_layer_variance",
            "07-notation/standard_equivalence",
            "07-notation/standard_parameterization_forward_law",
            "07-notation/standard_parameterization_ntk",
        ],
        r"""Against $\mathcal{N}(0, 1)$ weights without the factor. The standard parameterization of the
        literature draws the weights with variance $1/n_l$ instead: the same forward law, but an NTK that grows
        like the width; the factor matters for the gradients, not for the forward pass.""",
    ),
    _prose(
        115,
        r"""The constant scalar $\beta \geq 0$ controls how much effort the bias terms have.""",
        "Defines $\\beta$ ('effort' reads 'effect').",
    ),
    _holds(
        117,
        r"""All the network parameters are initialized as an i.i.d Gaussian $\mathcal{N}(0, 1)$ in the following
        analysis.""",
        ["07-notation/init_standard_normal"],
        "An assumption of the analysis.",
    ),
    # --- Neural tangent kernel ------------------------------------------------------------------------------------
    _wrong(
        125,
        r"""The empirical loss function $\mathcal{L} : \mathbb{R}^P \rightarrow \mathbb{R}_+$ to minimize during
        training is defined as follows, using a per-sample cost function $\ell : \mathbb{R}^{n_0} \times
        \mathbb{R}^{n_L} \rightarrow \mathbb{R}_+$ :""",
        "notation",
        r"The per-sample cost takes an output and a label: $\ell : \mathbb{R}^{n_L} \times \mathcal{Y} \rightarrow \mathbb{R}_+$",
        r"""The per-sample cost takes the network's output and a label, $\ell : \mathbb{R}^{n_L} \times
        \mathcal{Y} \rightarrow \mathbb{R}_+$, as line 127 uses it: $\ell(f(\mathbf{x}^{(i)}; \theta),
        y^{(i)})$.""",
        ["08-ntk/cost_signature", "08-ntk/loss_gradient"],
    ),
    _prose(
        127,
        r"""$$\mathcal{L}(\theta) = \frac{1}{N} \sum_{i=1}^N \ell(f(\mathbf{x}^{(i)}; \theta), y^{(i)})$$""",
        "The definition of the empirical loss.",
    ),
    _holds(
        131,
        r"""$$\nabla_{\theta} \mathcal{L}(\theta) = \frac{1}{N} \sum_{i=1}^N \underbrace{\nabla_{\theta}
        f(\mathbf{x}^{(i)}; \theta)}_{\text{size } P \times n_L} \underbrace{\nabla_f \ell(f,
        y^{(i)})}_{\text{size } n_L \times 1}$$""",
        ["08-ntk/loss_gradient", "01-jacobians/gradient_chain_rule"],
    ),
    _holds(
        133,
        r"""When tracking how the network parameter $\theta$ evolves in time, each gradient descent update
        introduces a small incremental change of an infinitesimal step size. Because of the update step is small
        enough, it can be approximately viewed as a derivative on the time dimension:""",
        ["08-ntk/gd_step"],
        r"""One step of size $\eta$ follows the gradient flow up to $O(\eta^2)$. Line 135 absorbs $\eta$ into the
        time; lines 277 and 290 write it.""",
    ),
    _holds(
        135,
        r"""$$\frac{d\theta}{dt} = -\nabla_{\theta} \mathcal{L}(\theta) = -\frac{1}{N} \sum_{i=1}^N \nabla_{\theta}
        f(\mathbf{x}^{(i)}; \theta) \nabla_f \ell(f, y^{(i)})$$""",
        ["08-ntk/loss_gradient", "08-ntk/output_ode"],
        "The definition of gradient flow, and the chain rule of line 131.",
    ),
    _holds(
        141,
        r"""$$\frac{df(\mathbf{x}; \theta)}{dt} = \frac{df(\mathbf{x}; \theta)}{d\theta} \frac{d\theta}{dt} =
        -\frac{1}{N} \sum_{i=1}^N \underbrace{\nabla_{\theta} f(\mathbf{x}; \theta)^{\top} \nabla_{\theta}
        f(\mathbf{x}^{(i)}; \theta)}_{\text{Neural tangent kernel}} \nabla_f \ell(f, y^{(i)})$$""",
        ["08-ntk/output_ode"],
    ),
    _holds(
        143,
        r"""Here we find the **Neural Tangent Kernel (NTK)**, as defined in the blue part in the above formula,
        $K : \mathbb{R}^{n_0} \times \mathbb{R}^{n_0} \rightarrow \mathbb{R}^{n_L \times n_L}$ :""",
        ["08-ntk/strategies_agree"],
        "'The blue part' is the underbraced term of line 141 (the colours of the original are lost).",
    ),
    _holds(
        145,
        r"""$$K(\mathbf{x}, \mathbf{x}'; \theta) = \nabla_{\theta} f(\mathbf{x}; \theta)^{\top} \nabla_{\theta}
        f(\mathbf{x}'; \theta)$$""",
        ["08-ntk/strategies_agree", "08-ntk/feature_map_psd"],
    ),
    _holds(
        (147, 149),
        r"""where each entry in the output matrix at location $(m, n)$ , $1 \leq m, n \leq n_L$ is:
        $$K_{m,n}(\mathbf{x}, \mathbf{x}'; \theta) = \sum_{p=1}^P \frac{\partial f_m(\mathbf{x}; \theta)}{\partial
        \theta_p} \frac{\partial f_n(\mathbf{x}'; \theta)}{\partial \theta_p}$$""",
        ["08-ntk/entrywise_formula"],
    ),
    _holds(
        151,
        r"""The "feature map" form of one input $\mathbf{x}$ is $\varphi(\mathbf{x}) = \nabla_{\theta}
        f(\mathbf{x}; \theta)$ .""",
        ["08-ntk/feature_map_psd"],
        r"""For $n_L > 1$ the feature is a $P \times n_L$ matrix and $K = \varphi(\mathbf{x})^\top
        \varphi(\mathbf{x}')$.""",
    ),
    # --- Infinite width networks ----------------------------------------------------------------------------------
    _wrong(
        157,
        r"""We will look into detailed proof using NTK of how it guarantees that infinite width networks can
        converge to a global minimum when trained to minimize an empirical loss.""",
        "condition",
        r"Zero loss for every labelling needs a positive definite limiting NTK",
        r"""Gradient flow on the squared loss drives the training error to zero when the limiting NTK is positive
        definite on the training inputs (Jacot et al. show it for inputs on the sphere, a non-polynomial
        $\sigma$, depth $L \geq 2$ and a bias $\beta > 0$); the source neither states this condition nor proves
        convergence.""",
        [
            "10-deterministic-ntk/global_minimum_as_written",
            "10-deterministic-ntk/convergence_needs_pd",
            "10-deterministic-ntk/kinf_positive_definite",
            "02-odes/eigen_directions",
            "11-linearized-models/flow_closed_form",
        ],
        note=r"""Read as the source reads it later: $f \rightarrow \mathcal{Y}$ in its closed form (line 309) and
        "the loss has been minimized to zero" (line 317). With the kernel frozen at $K_{\infty}$ the residual tends
        to its projection on the null space of $K_{\infty}$: zero for every labelling if and only if
        $\lambda_{\min}(K_{\infty}) > 0$. On 40 points of the circle erf without a bias (rank at most 20) and the
        identity (rank 3) leave $1/\sqrt{2}$ of the residual of $y = \sin\varphi + \cos 2\varphi$; ReLU with
        $\beta > 0$ at depth 3 is positive definite and the residual goes to $0$. A null direction of $K_{\infty}$
        is one no network of the architecture can move its outputs along, so the flow still reaches the least loss
        the architecture allows.""",
    ),
    # --- Connection with Gaussian processes -----------------------------------------------------------------------
    _wrong(
        161,
        r"""The output functions of a $L$ -layer network, $f_i(\mathbf{x}; \theta)$ for $i = 1, \dots, n_L$ , are
        i.i.d. centered Gaussian process of covariance $\Sigma^{(L)}$ , defined recursively as:""",
        "condition",
        r"The outputs are i.i.d. GPs only in the infinite-width limit",
        r"""In the limit $n_1, \dots, n_{L-1} \rightarrow \infty$ the outputs $f_i$ are i.i.d. centred Gaussian
        processes with covariance $\Sigma^{(L)}$; at finite width they are neither Gaussian nor independent.""",
        [
            "09-nngp/gp_statement_as_written",
            "09-nngp/output_covariance",
            "09-nngp/kurtosis_identity",
            "09-nngp/gaussianity_rate",
        ],
        note=r"""At finite width each output is a Gaussian scale mixture, with excess kurtosis
        $3\,\mathrm{Var}(\hat{\Sigma})/\mathbb{E}[\hat{\Sigma}]^2 > 0$. For $L = 1$ the statement holds at every
        width.""",
    ),
    _holds(
        163,
        r"""$$\begin{aligned} \Sigma^{(1)}(\mathbf{x}, \mathbf{x}') &= \frac{1}{n_0} \mathbf{x}^{\top} \mathbf{x}' +
        \beta^2""",
        ["09-nngp/sigma1"],
    ),
    _wrong(
        163,
        r"""\lambda^{(l+1)}(\mathbf{x}, \mathbf{x}') &= \begin{bmatrix} \Sigma^{(l)}(\mathbf{x}, \mathbf{x}) &
        \Sigma^{(l)}(\mathbf{x}, \mathbf{x}') \\ \Sigma^{(l)}(\mathbf{x}', \mathbf{x}) & \Sigma^{(l)}(\mathbf{x}',
        \mathbf{x}') \end{bmatrix} \\ \Sigma^{(l+1)}(\mathbf{x}, \mathbf{x}') &= \mathbb{E}_{f \sim \mathcal{N}(0,
        \lambda^{(l)})} [\sigma(f(\mathbf{x})) \sigma(f(\mathbf{x}'))] + \beta^2 \end{aligned}$$""",
        "notation",
        r"$\Sigma^{(l+1)}$ takes the expectation under the $2 \times 2$ covariance of $\Sigma^{(l)}$",
        r"""$\Sigma^{(l+1)}(\mathbf{x}, \mathbf{x}') = \mathbb{E}_{(u, v) \sim \mathcal{N}(0, \Lambda^{(l)})}
        [\sigma(u)\sigma(v)] + \beta^2$, with $\Lambda^{(l)}$ the $2 \times 2$ matrix of $\Sigma^{(l)}$ at
        $\mathbf{x}, \mathbf{x}'$ (the source's $\lambda^{(l+1)}$).""",
        ["09-nngp/lambda_index_source", "09-nngp/output_covariance"],
        note=r"""As written $\lambda^{(l)}$ is made of $\Sigma^{(l-1)}$ and skips a layer; $f \sim
        \mathcal{N}(0, \lambda)$ stands for the pair $(f(\mathbf{x}), f(\mathbf{x}'))$. Line 199 writes
        $\Lambda^{(l)}$.""",
    ),
    _prose(
        167,
        r"""(1) Let's start with $L = 1$ , when there is no nonlinearity function and the input is only processed by
        a simple affine transformation:""",
        "Starts the induction.",
    ),
    _holds(
        171,
        r"""$$f(\mathbf{x}; \theta) = \tilde{A}^{(1)}(\mathbf{x}) = \frac{1}{\sqrt{n_0}} \mathbf{w}^{(0)\top}
        \mathbf{x} + \beta \mathbf{b}^{(0)}$$""",
        ["07-notation/forward_entrywise"],
    ),
    _holds(
        173,
        r"""$$\text{where } \tilde{A}_m^{(1)}(\mathbf{x}) = \frac{1}{\sqrt{n_0}} \sum_{i=1}^{n_0} w_{im}^{(0)} x_i +
        \beta b_m^{(0)} \quad \text{for } 1 \leq m \leq n_1$$""",
        ["07-notation/forward_entrywise"],
    ),
    _holds(
        175,
        r"""Since the weights and biases are initialized i.i.d., all the output dimensions of this network
        $\tilde{A}_1^{(1)}(\mathbf{x}), \dots, \tilde{A}_{n_1}^{(1)}(\mathbf{x})$ are also i.i.d. Given different
        inputs, the $m$ -th network outputs $\tilde{A}_m^{(1)}(\cdot)$ have a joint multivariate Gaussian
        distribution, equivalent to a Gaussian process with covariance function (We know that mean
        $\mu_w = \mu_b = 0$ and variance $\sigma_w^2 = \sigma_b^2 = 1$ )""",
        ["09-nngp/sigma1", "07-notation/first_layer_variance"],
        r"""At every width: $\tilde{A}^{(1)}$ is linear in the Gaussian parameters, and unit $m$ uses only column
        $m$ of $\mathbf{w}^{(0)}$ and $b_m^{(0)}$.""",
    ),
    _holds(
        177,
        r"""$$\begin{aligned} \Sigma^{(1)}(\mathbf{x}, \mathbf{x}') &= \mathbb{E}[\tilde{A}_m^{(1)}(\mathbf{x})
        \tilde{A}_m^{(1)}(\mathbf{x}')] \\ &= \mathbb{E}\left[\left(\frac{1}{\sqrt{n_0}} \sum_{i=1}^{n_0}
        w_{i,m}^{(0)} x_i + \beta b_m^{(0)}\right) \left(\frac{1}{\sqrt{n_0}} \sum_{i=1}^{n_0} w_{i,m}^{(0)} x'_i +
        \beta b_m^{(0)}\right)\right]""",
        ["09-nngp/sigma1"],
        "The outputs have mean $0$, so their covariance is the expected product.",
    ),
    _wrong(
        177,
        r"""&= \frac{1}{n_0} \sigma_w^2 \sum_{i=1}^{n_0} \sum_{j=1}^{n_0} x_i x'_j""",
        "math",
        r"Only the terms $i = j$ carry $\sigma_w^2$; the cross terms carry $\mu_w^2 = 0$",
        r"""The weight term is $\frac{\sigma_w^2}{n_0} \sum_{i} x_i x'_i + \frac{\mu_w^2}{n_0} \sum_{i}\sum_{j}
        x_i x'_j$: only $i = j$ carries $\sigma_w^2$, the cross terms carry $\mu_w^2 = 0$.""",
        ["09-nngp/sigma1_source_line", "09-nngp/sigma1"],
    ),
    _wrong(
        177,
        r"""+ \frac{\beta \mu_b}{\sqrt{n_0}} \sum_{i=1}^{n_0} w_{im} (x_i + x'_i) + \sigma_b^2 \beta^2""",
        "math",
        r"The expectation leaves $\mu_w \mu_b$, not a random $w_{im}$, in the cross term",
        r"""The cross term is $\frac{\beta \mu_w \mu_b}{\sqrt{n_0}} \sum_i (x_i + x'_i)$ (no random $w_{im}$
        survives the expectation) and the bias term $(\sigma_b^2 + \mu_b^2)\beta^2$.""",
        ["09-nngp/sigma1_source_line", "09-nngp/sigma1"],
        note="Both vanish or agree at $\\mu_w = \\mu_b = 0$, the source's initialization.",
    ),
    _holds(
        177,
        r"""&= \frac{1}{n_0} \mathbf{x}^\top \mathbf{x}' + \beta^2 \end{aligned}$$""",
        ["09-nngp/sigma1"],
        "The result is right; it does not follow from the line above it.",
    ),
    _wrong(
        179,
        r"""(2) Using induction, we first assume the proposition is true for $L = l$ , a $l$ -layer network, and
        thus $\tilde{A}_m^{(l)}(\cdot)$ is a Gaussian process with covariance $\Sigma^{(l)}$ and
        $\{\tilde{A}_i^{(l)}\}_{i=1}^{n_l}$ are i.i.d.""",
        "condition",
        r"The induction hypothesis holds only as $n_1, \dots, n_{l-1} \rightarrow \infty$",
        r"""The induction hypothesis holds only in the limit $n_1, \dots, n_{l-1} \rightarrow \infty$ (the limit
        missing on line 161); the step then lets $n_l \rightarrow \infty$ after it, one limit after the
        other.""",
        ["09-nngp/output_covariance"],
        no_check="a hypothesis of the proof; as written it fails at finite width as line 161 does.",
    ),
    _prose(
        181,
        r"""Then we need to prove the proposition is also true for $L = l + 1$ . We compute the outputs by:""",
        "The induction step.",
    ),
    _holds(
        183,
        r"""$$\begin{aligned} f(\mathbf{x}; \theta) &= \tilde{A}^{(l+1)}(\mathbf{x}) = \frac{1}{\sqrt{n_l}}
        \mathbf{w}^{(l)\top} \sigma(\tilde{A}^{(l)}(\mathbf{x})) + \beta \mathbf{b}^{(l)} \\ \text{where }
        \tilde{A}_m^{(l+1)}(\mathbf{x}) &= \frac{1}{\sqrt{n_l}} \sum_{i=1}^{n_l} w_{im}^{(l)}
        \sigma(\tilde{A}_i^{(l)}(\mathbf{x})) + \beta b_m^{(l)} \quad \text{for } 1 \leq m \leq n_{l+1}
        \end{aligned}$$""",
        ["07-notation/forward_entrywise"],
    ),
    _holds(
        187,
        r"""$$\begin{aligned} \mathbb{E}[w_{im}^{(l)} \sigma(\tilde{A}_i^{(l)}(\mathbf{x}))] &=
        \mathbb{E}[w_{im}^{(l)}] \mathbb{E}[\sigma(\tilde{A}_i^{(l)}(\mathbf{x}))] = \mu_w
        \mathbb{E}[\sigma(\tilde{A}_i^{(l)}(\mathbf{x}))] = 0""",
        [],
        r"""$\mathbf{w}^{(l)}$ is independent of the layers below it. No claim checks this step yet.""",
    ),
    _wrong(
        187,
        r"""\mathbb{E}[(w_{im}^{(l)} \sigma(\tilde{A}_i^{(l)}(\mathbf{x})))^2] &= \mathbb{E}[w_{im}^{(l)2}]
        \mathbb{E}[\sigma(\tilde{A}_i^{(l)}(\mathbf{x}))^2] = \sigma_w^2 \Sigma^{(l)}(\mathbf{x}, \mathbf{x}) =
        \Sigma^{(l)}(\mathbf{x}, \mathbf{x}) \end{aligned}$$""",
        "math",
        r"""The second moment is $\sigma_w^2\,\mathbb{E}[\sigma(u)^2]$, which
        is $\Sigma^{(l)}(\mathbf{x}, \mathbf{x})$ only if $\sigma(u) = u$""",
        r"""$\mathbb{E}[(w_{im}^{(l)} \sigma(\tilde{A}_i^{(l)}(\mathbf{x})))^2] = \sigma_w^2\,
        \mathbb{E}_{u \sim \mathcal{N}(0, \Sigma^{(l)}(\mathbf{x}, \mathbf{x}))}[\sigma(u)^2]$: this is
        $\Sigma^{(l)}(\mathbf{x}, \mathbf{x})$ only for $\sigma(u) = u$ (for ReLU, half of it).""",
        ["09-nngp/second_moment_source", "09-nngp/second_moment"],
    ),
    _wrong(
        189,
        r"""Since $\{\tilde{A}_i^{(l)}(\mathbf{x})\}_{i=1}^{n_l}$ are i.i.d., according to central limit theorem,
        when the hidden layer gets infinitely wide $n_l \rightarrow \infty$ , $\tilde{A}_m^{(l+1)}(\mathbf{x})$ is
        Gaussian distributed with variance $\beta^2 + \text{Var}(\tilde{A}_i^{(l)}(\mathbf{x}))$ .""",
        "math",
        r"Its variance is $\beta^2 + \mathbb{E}[\sigma(\tilde{A}_i^{(l)})^2]$, a second moment, at every width",
        r"""$\tilde{A}_m^{(l+1)}(\mathbf{x})$ has variance $\beta^2 + \mathbb{E}[\sigma(\tilde{A}_i^{(l)}
        (\mathbf{x}))^2] = \Sigma^{(l+1)}(\mathbf{x}, \mathbf{x})$ at every width $n_l$, and is Gaussian in the
        limit $n_l \rightarrow \infty$.""",
        ["09-nngp/next_variance_source", "09-nngp/next_variance"],
    ),
    _wrong(
        189,
        r"""Note that $\tilde{A}_1^{(l+1)}(\mathbf{x}), \dots, \tilde{A}_{n_{l+1}}^{(l+1)}(\mathbf{x})$ are still
        i.i.d.""",
        "condition",
        r"At finite width the units are uncorrelated but not independent",
        r"""At finite $n_l$ the units $\tilde{A}_1^{(l+1)}, \dots, \tilde{A}_{n_{l+1}}^{(l+1)}$ are identically
        distributed and uncorrelated but not independent (they share the random layer
        $\sigma(\tilde{A}^{(l)})$); they are independent only in the limit $n_l \rightarrow \infty$.""",
        [
            "09-nngp/units_independent_source",
            "09-nngp/units_uncorrelated_not_independent",
            "09-nngp/kurtosis_identity",
        ],
        note=r"""Given the layer below they are i.i.d. $\mathcal{N}(0, \hat{\Sigma})$ with a shared random
        $\hat{\Sigma}$, so $\mathrm{Cov}\big((\tilde{A}_1^{(l+1)})^2, (\tilde{A}_2^{(l+1)})^2\big) =
        \mathrm{Var}(\hat{\Sigma})$, $5s^2/(4n_l)$ for ReLU at $l = 1$ (independence would make it $0$). The same
        holds for the premise that $\{\tilde{A}_i^{(l)}\}$ are i.i.d.: only as $n_{l-1} \rightarrow \infty$.""",
    ),
    _wrong(
        191,
        r"""$\tilde{A}_m^{(l+1)}(\cdot)$ is equivalent to a Gaussian process with covariance function:""",
        "condition",
        r"A GP needs a Gaussian joint law on every finite set of inputs",
        r"""In the limit $n_l \rightarrow \infty$, $\tilde{A}_m^{(l+1)}(\cdot)$ is a Gaussian process: the joint
        law of $(\tilde{A}_m^{(l+1)}(\mathbf{x}_1), \dots, \tilde{A}_m^{(l+1)}(\mathbf{x}_k))$ is Gaussian for every
        finite set of inputs, by the multivariate central limit theorem applied to the vector of the $k$ values.""",
        ["09-nngp/output_covariance", "09-nngp/gaussianity_rate"],
        note=r"""Line 189 gives a Gaussian limit at one input at a time, which does not make a Gaussian process:
        the step from one input to the joint law is asserted without the argument it needs.""",
        no_check=r"""a missing argument, not a false formula: the conclusion holds in the limit, and its covariance
        is checked by 09-nngp/output_covariance.""",
    ),
    _wrong(
        195,
        r"""$$\begin{aligned}\Sigma^{(l+1)}(\mathbf{x}, \mathbf{x}') &=
        \mathbb{E}[\tilde{A}_m^{(l+1)}(\mathbf{x})\tilde{A}_m^{(l+1)}(\mathbf{x}')] \\ &=
        \frac{1}{n_l}\sigma(\tilde{A}_i^{(l)}(\mathbf{x}))^\top \sigma(\tilde{A}_i^{(l)}(\mathbf{x}')) + \beta^2
        \quad ; \text{similar to how we get } \Sigma^{(1)}\end{aligned}$$""",
        "math",
        r"The layer average is the covariance given the layers below: random",
        r"""$\frac{1}{n_l}\sigma(\tilde{A}^{(l)}(\mathbf{x}))^\top \sigma(\tilde{A}^{(l)}(\mathbf{x}')) + \beta^2$
        is the covariance of $\tilde{A}_m^{(l+1)}$ *given* the layers below: a random quantity whose mean is
        $\mathbb{E}[\tilde{A}_m^{(l+1)}(\mathbf{x})\tilde{A}_m^{(l+1)}(\mathbf{x}')]$.""",
        [
            "09-nngp/conditional_covariance_source",
            "09-nngp/conditional_covariance_given_lower",
            "09-nngp/conditional_covariance_mean",
        ],
        note=r"""The index $i$ on the vector $\sigma(\tilde{A}_i^{(l)})^\top$ has no sum: it is the whole
        vector.""",
    ),
    _wrong(
        197,
        r"""When $n_l \rightarrow \infty$ , according to central limit theorem,""",
        "math",
        r"The law of large numbers, not the CLT, makes the average converge",
        r"""The average $\frac{1}{n_l}\sum_i \sigma(\tilde{A}_i^{(l)}(\mathbf{x}))\sigma(\tilde{A}_i^{(l)}
        (\mathbf{x}'))$ converges to its mean by the law of large numbers; the central limit theorem gives its
        $n_l^{-1/2}$ fluctuations.""",
        ["09-nngp/conditional_covariance_mean", "09-nngp/empirical_covariance_rate"],
        no_check=r"""the name of the theorem used: nothing to compute; the rate is checked by
        09-nngp/empirical_covariance_rate.""",
    ),
    _wrong(
        199,
        r"""$$\Sigma^{(l+1)}(\mathbf{x}, \mathbf{x}') \rightarrow \mathbb{E}_{f \sim \mathcal{N}(0,
        \Lambda^{(l)})}[\sigma(f(\mathbf{x}))^\top \sigma(f(\mathbf{x}'))] + \beta^2$$""",
        "notation",
        r"The random average converges to $\Sigma^{(l+1)}$, which is itself fixed",
        r"""$\frac{1}{n_l}\sigma(\tilde{A}^{(l)}(\mathbf{x}))^\top\sigma(\tilde{A}^{(l)}(\mathbf{x}')) + \beta^2
        \rightarrow \mathbb{E}_{(u,v) \sim \mathcal{N}(0, \Lambda^{(l)})}[\sigma(u)\sigma(v)] + \beta^2 =
        \Sigma^{(l+1)}(\mathbf{x}, \mathbf{x}')$ in probability, with $\Lambda^{(l)}$ made of
        $\Sigma^{(l)}$.""",
        ["09-nngp/conditional_covariance_mean", "09-nngp/empirical_covariance_rate"],
        note=r"""As written the deterministic $\Sigma^{(l+1)}$ is what converges, and $\Lambda^{(l)}$ is not
        defined (line 163 writes $\lambda$, with another index).""",
        no_check="symbols: the random side of the limit is checked by 09-nngp/empirical_covariance_rate.",
    ),
    # --- Deterministic neural tangent kernel ----------------------------------------------------------------------
    _wrong(
        207,
        r"""When $n_1, \dots, n_L \rightarrow \infty$ (network with infinite width), the NTK converges to be:""",
        "notation",
        r"The NTK limit is over the hidden widths $n_1, \dots, n_{L-1}$, not the output's $n_L$",
        r"""The limit is over the hidden widths, $n_1, \dots, n_{L-1} \rightarrow \infty$ (in probability; Jacot
        et al. take them one after the other): $n_L$ is the output dimension, and the NTK an $n_L \times n_L$
        matrix.""",
        ["10-deterministic-ntk/ntk_convergence_rate"],
        no_check="an index: with $n_L \\rightarrow \\infty$ the matrix changes size; nothing to compute.",
    ),
    _holds(
        209,
        r"""(1) deterministic at initialization, meaning that the kernel is irrelevant to the initialization values
        and only determined by the model architecture; and""",
        ["10-deterministic-ntk/ntk_convergence_rate", "10-deterministic-ntk/recursion_matches_networks"],
        r"""In the limit of the hidden widths (line 207), for Lipschitz $\sigma$; 'architecture' includes
        $\sigma$, $\beta$ and the depth.""",
    ),
    _wrong(
        210,
        r"""(2) stays constant during training.""",
        "condition",
        r"The NTK stays constant for smooth $\sigma$, NTK scaling, bounded training time",
        r"""Jacot et al. prove it for $\sigma$ twice differentiable with a bounded second derivative, in the NTK
        parameterization, over a training time $T$ for which $\int_0^T \lVert d_t\rVert\,dt$ stays bounded; the
        source states none of these conditions and proves only part (1).""",
        ["10-deterministic-ntk/ntk_constant_in_training", "12-lazy-training/mean_field_not_lazy"],
        no_check=r"""no as-written claim: 10-deterministic-ntk/ntk_constant_in_training checks it where it holds,
        and 12-lazy-training/mean_field_not_lazy shows it failing without the NTK parameterization.""",
    ),
    _holds(
        214,
        r"""(1) First of all, we always have $K^{(0)} = 0$ . When $L = 1$ , we can get the representation of NTK
        directly. It is deterministic and does not depend on the network initialization. There is no hidden
        layer, so there is nothing to take on infinite width.""",
        ["10-deterministic-ntk/k0_zero", "10-deterministic-ntk/k1_equals_sigma1"],
        "$K^{(0)} = 0$ is a convention: the input has no parameters.",
    ),
    _holds(
        216,
        r"""$$\begin{aligned}f(\mathbf{x}; \theta) &= \tilde{A}^{(1)}(\mathbf{x}) =
        \frac{1}{\sqrt{n_0}}\mathbf{w}^{(0)\top} \mathbf{x} + \beta \mathbf{b}^{(0)}""",
        ["07-notation/forward_entrywise"],
    ),
    _wrong(
        216,
        r"""K^{(1)}(\mathbf{x}, \mathbf{x}'; \theta) &= \left( \frac{\partial f(\mathbf{x}'; \theta)}{\partial
        \mathbf{w}^{(0)}} \right)^\top \frac{\partial f(\mathbf{x}; \theta)}{\partial \mathbf{w}^{(0)}} + \left(
        \frac{\partial f(\mathbf{x}'; \theta)}{\partial \mathbf{b}^{(0)}} \right)^\top \frac{\partial
        f(\mathbf{x}; \theta)}{\partial \mathbf{b}^{(0)}} \\ &= \frac{1}{n_0} \mathbf{x}^\top \mathbf{x}' +
        \beta^2 = \Sigma^{(1)}(\mathbf{x}, \mathbf{x}')\end{aligned}$$""",
        "notation",
        r"""$K^{(1)}(\mathbf{x}, \mathbf{x}') = \Sigma^{(1)}(\mathbf{x},
        \mathbf{x}')\, I_{n_1}$, a matrix, at every width""",
        r"""$K^{(1)}(\mathbf{x}, \mathbf{x}'; \theta) = \nabla_{\theta} f(\mathbf{x}; \theta)^\top \nabla_{\theta}
        f(\mathbf{x}'; \theta) = \Sigma^{(1)}(\mathbf{x}, \mathbf{x}')\, I_{n_1}$, at every width.""",
        ["10-deterministic-ntk/k1_equals_sigma1", "10-deterministic-ntk/k1_matrix"],
        note=r"""As written the factors are in the order of $K(\mathbf{x}', \mathbf{x})$, the derivative of
        $f \in \mathbb{R}^{n_1}$ by the matrix $\mathbf{w}^{(0)}$ is a three-index array whose transposed
        product is not defined, and the result is a number where the NTK is an $n_1 \times n_1$ matrix.""",
        no_check=r"""for one layer both orders give the same symmetric matrix, and the missing $I_{n_1}$ is a
        shape: no computation tells them apart.""",
    ),
    _holds(
        218,
        r"""(2) Now when $L = l$ , we assume that a $l$ -layer network with $\tilde{P}$ parameters in total,
        $\tilde{\theta} = (\mathbf{w}^{(0)}, \dots, \mathbf{w}^{(l-1)}, \mathbf{b}^{(0)}, \dots,
        \mathbf{b}^{(l-1)}) \in \mathbb{R}^{\tilde{P}}$ , has a NTK converging to a deterministic limit when
        $n_1, \dots, n_{l-1} \rightarrow \infty$ .""",
        ["10-deterministic-ntk/ntk_convergence_rate", "10-deterministic-ntk/order_of_limits"],
        r"""The induction hypothesis, with the right widths (compare line 207). The induction lets the widths grow one
        after the other; at depth 3 growing them together reaches the same limit
        (10-deterministic-ntk/order_of_limits).""",
    ),
    _holds(
        220,
        r"""$$K^{(l)}(\mathbf{x}, \mathbf{x}'; \tilde{\theta}) = \nabla_{\tilde{\theta}}
        \tilde{A}^{(l)}(\mathbf{x})^\top \nabla_{\tilde{\theta}} \tilde{A}^{(l)}(\mathbf{x}') \rightarrow
        K_\infty^{(l)}(\mathbf{x}, \mathbf{x}')$$""",
        ["10-deterministic-ntk/ntk_convergence_rate"],
        r"""The limit is $K_\infty^{(l)}(\mathbf{x}, \mathbf{x}')\, I_{n_l}$: diagonal over the units (line 266
        keeps the off-diagonal entries, which vanish).""",
    ),
    _holds(
        222,
        r"""Note that $K_\infty^{(l)}$ has no dependency on $\theta$ .""",
        ["10-deterministic-ntk/recursion_matches_networks", "10-deterministic-ntk/ntk_convergence_rate"],
    ),
    _prose(
        228,
        r"""Next let's check the case $L = l + 1$ . Compared to a $l$ -layer network, a $(l + 1)$ -layer network
        has additional weight matrix $\mathbf{w}^{(l)}$ and bias $\mathbf{b}^{(l)}$ and thus the total parameters
        contain $\theta = (\tilde{\theta}, \mathbf{w}^{(l)}, \mathbf{b}^{(l)})$ .""",
        "Names the parameters of the induction step.",
    ),
    _prose(230, r"""The output function of this $(l + 1)$ -layer network is:""", "Introduces line 232."),
    _holds(
        232,
        r"""$$f(\mathbf{x}; \theta) = \tilde{A}^{(l+1)}(\mathbf{x}; \theta) = \frac{1}{\sqrt{n_l}}
        \mathbf{w}^{(l)\top} \sigma(\tilde{A}^{(l)}(\mathbf{x})) + \beta \mathbf{b}^{(l)}$$""",
        ["07-notation/forward_entrywise"],
    ),
    _prose(
        234,
        r"""And we know its derivative with respect to different sets of parameters; let denote $\tilde{A}^{(l)} =
        \tilde{A}^{(l)}(\mathbf{x})$ for brevity in the following equation:""",
        "An abbreviation.",
    ),
    _wrong(
        236,
        r"""$$\begin{aligned} \nabla_{\mathbf{w}^{(l)}} f(\mathbf{x}; \theta) &= \frac{1}{\sqrt{n_l}}
        \sigma(\tilde{A}^{(l)})^\top \in \mathbb{R}^{1 \times n_l} \\ \nabla_{\mathbf{b}^{(l)}} f(\mathbf{x};
        \theta) &= \beta""",
        "notation",
        r"The weight gradient is a three-index array; the bias one is $\beta I_{n_{l+1}}$",
        r"""Entrywise $\frac{\partial f_m}{\partial w_{im}^{(l)}} = \frac{1}{\sqrt{n_l}}\sigma(\tilde{A}_i^{(l)})$
        and $\nabla_{\mathbf{b}^{(l)}} f = \beta I_{n_{l+1}}$; $\nabla_{\mathbf{w}^{(l)}} f$ is an
        $n_l \times n_{l+1} \times n_{l+1}$ array, not a row.""",
        ["10-deterministic-ntk/finite_width_identity"],
        note=r"""With the source's convention $\nabla = J^\top$ (line 48) a gradient by a vector is a column, not
        the row $\mathbb{R}^{1 \times n_l}$.""",
        no_check=r"""shapes; the derivatives themselves are checked, with the whole NTK, by
        10-deterministic-ntk/finite_width_identity.""",
    ),
    _holds(
        236,
        r"""\nabla_{\tilde{\theta}} f(\mathbf{x}; \theta) &= \frac{1}{\sqrt{n_l}} \nabla_{\tilde{\theta}}
        \sigma(\tilde{A}^{(l)}) \mathbf{w}^{(l)}""",
        ["10-deterministic-ntk/finite_width_identity"],
        r"""A $\tilde{P} \times n_l$ matrix times $\mathbf{w}^{(l)} \in \mathbb{R}^{n_l \times n_{l+1}}$; the
        matrix that follows on line 236 spells it out.""",
    ),
    _wrong(
        238,
        r"""where $\dot{\sigma}$ is the derivative of $\sigma$""",
        "condition",
        r"$\dot{\sigma}$ exists only where $\sigma$ is differentiable (ReLU: not at $0$)",
        r"""$\dot{\sigma}$ exists only where $\sigma$ is differentiable: line 111 assumes only Lipschitz
        continuity, which gives a derivative almost everywhere (ReLU has none at $0$).""",
        no_check=r"""no computation shows the gap: a pre-activation of positive variance is $0$ with
        probability $0$, $\dot{\Sigma} = \mathbb{E}[\dot{\sigma}(u)\dot{\sigma}(v)]$ does not see one point, and where
        the variance is $0$ ($\mathbf{x} = 0$, $\beta = 0$) $\dot{\sigma}$ multiplies $K^{(l)}(\mathbf{x}, \cdot) =
        0$.""",
    ),
    _prose(
        238,
        r"""each entry at location $(p, m)$ , $1 \leq p \leq \tilde{P}$ , $1 \leq m \leq n_{l+1}$ in the matrix
        $\nabla_{\tilde{\theta}} f(\mathbf{x}; \theta)$ can be written as""",
        "Introduces line 240.",
    ),
    _wrong(
        240,
        r"""$$\frac{\partial f_m(\mathbf{x}; \theta)}{\partial \tilde{\theta}_p} = \sum_{i=1}^{n_l} w_{im}^{(l)}
        \dot{\sigma}(\tilde{A}_i^{(l)}) \nabla_{\tilde{\theta}_p} \tilde{A}_i^{(l)}$$""",
        "math",
        r"The back-propagated derivative keeps the factor $1/\sqrt{n_l}$",
        r"""$\frac{\partial f_m(\mathbf{x}; \theta)}{\partial \tilde{\theta}_p} = \frac{1}{\sqrt{n_l}}
        \sum_{i=1}^{n_l} w_{im}^{(l)} \dot{\sigma}(\tilde{A}_i^{(l)}) \frac{\partial \tilde{A}_i^{(l)}}{\partial
        \tilde{\theta}_p}$: the factor $1/\sqrt{n_l}$ of line 236 is dropped.""",
        ["10-deterministic-ntk/source_chain_rule", "10-deterministic-ntk/finite_width_identity"],
        note=r"""As written the entry is exactly $\sqrt{n_l}$ times the derivative (autodiff), and the NTK built from
        it has its back-propagated block $n_l$ times too large.""",
    ),
    _prose(
        242,
        r"""The NTK for this $(l + 1)$ -layer network can be defined accordingly:""",
        "Introduces lines 246-254.",
    ),
    _wrong(
        (246, 248),
        r"""$$\begin{aligned} & K^{(l+1)}(\mathbf{x}, \mathbf{x}'; \theta) \\ &= \nabla_{\theta} f(\mathbf{x};
        \theta)^{\top} \nabla_{\theta} f(\mathbf{x}; \theta) \\""",
        "notation",
        r"The NTK pairs the gradient at $\mathbf{x}$ with the gradient at $\mathbf{x}'$",
        r"""$K^{(l+1)}(\mathbf{x}, \mathbf{x}'; \theta) = \nabla_{\theta} f(\mathbf{x}; \theta)^{\top}
        \nabla_{\theta} f(\mathbf{x}'; \theta)$: the second factor is taken at $\mathbf{x}'$.""",
        ["10-deterministic-ntk/source_same_input", "08-ntk/strategies_agree"],
        note=r"""The derivation keeps $\mathbf{x}$ twice down to line 258, so it computes
        $K(\mathbf{x}, \mathbf{x})$.""",
    ),
    _holds(
        249,
        r"""&= \nabla_{\mathbf{w}^{(l)}} f(\mathbf{x}; \theta)^{\top} \nabla_{\mathbf{w}^{(l)}} f(\mathbf{x}; \theta)
        + \nabla_{\mathbf{b}^{(l)}} f(\mathbf{x}; \theta)^{\top} \nabla_{\mathbf{b}^{(l)}} f(\mathbf{x}; \theta) +
        \nabla_{\tilde{\theta}} f(\mathbf{x}; \theta)^{\top} \nabla_{\tilde{\theta}} f(\mathbf{x}; \theta) \\""",
        ["10-deterministic-ntk/finite_width_identity"],
        r"""Right as written: the NTK is a sum over the parameter blocks, for the $K(\mathbf{x}, \mathbf{x})$ of line
        248 as for $K(\mathbf{x}, \mathbf{x}')$ (with $\mathbf{x}'$ in the second factors).""",
    ),
    _wrong(
        250,
        r"""&= \frac{1}{n_l} \left[ \sigma(\tilde{A}^{(l)}) \sigma(\tilde{A}^{(l)})^{\top} + \beta^2 \right. \\""",
        "math",
        r"The last layer adds an inner product times $I_{n_{l+1}}$, with $\beta^2$ outside $\frac{1}{n_l}$",
        r"""The last layer's blocks give $\big(\frac{1}{n_l}\sigma(\tilde{A}^{(l)}(\mathbf{x}))^\top
        \sigma(\tilde{A}^{(l)}(\mathbf{x}')) + \beta^2\big) I_{n_{l+1}}$: an inner product times the identity,
        with $\beta^2$ outside the $\frac{1}{n_l}$.""",
        ["10-deterministic-ntk/source_entrywise", "10-deterministic-ntk/finite_width_identity"],
        note=r"""As written $\sigma\sigma^\top$ is an $n_l \times n_l$ outer product (the NTK is
        $n_{l+1} \times n_{l+1}$) and $\beta^2$ is divided by $n_l$.""",
    ),
    _holds(
        251,
        r"""&\quad + \mathbf{w}^{(l)\top} \begin{bmatrix} \dot{\sigma}(\tilde{A}_1^{(l)}) \dot{\sigma}(\tilde{A}_1^{(l)})
        \sum_{p=1}^{\tilde{P}} \frac{\partial \tilde{A}_1^{(l)}}{\partial \tilde{\theta}_p} \frac{\partial
        \tilde{A}_1^{(l)}}{\partial \tilde{\theta}_p} & \dots & \dot{\sigma}(\tilde{A}_1^{(l)})
        \dot{\sigma}(\tilde{A}_{n_l}^{(l)}) \sum_{p=1}^{\tilde{P}} \frac{\partial \tilde{A}_1^{(l)}}{\partial
        \tilde{\theta}_p} \frac{\partial \tilde{A}_{n_l}^{(l)}}{\partial \tilde{\theta}_p} \\ \vdots & & \\
        \dot{\sigma}(\tilde{A}_{n_l}^{(l)}) \dot{\sigma}(\tilde{A}_1^{(l)}) \sum_{p=1}^{\tilde{P}} \frac{\partial
        \tilde{A}_{n_l}^{(l)}}{\partial \tilde{\theta}_p} \frac{\partial \tilde{A}_1^{(l)}}{\partial
        \tilde{\theta}_p} & \dots & \dot{\sigma}(\tilde{A}_{n_l}^{(l)}) \dot{\sigma}(\tilde{A}_{n_l}^{(l)})
        \sum_{p=1}^{\tilde{P}} \frac{\partial \tilde{A}_{n_l}^{(l)}}{\partial \tilde{\theta}_p} \frac{\partial
        \tilde{A}_{n_l}^{(l)}}{\partial \tilde{\theta}_p} \end{bmatrix} \mathbf{w}^{(l)} \Big] \\""",
        ["10-deterministic-ntk/finite_width_identity"],
        r"""The back-propagated block $\frac{1}{n_l}\mathbf{w}^{(l)\top}[\dots]\mathbf{w}^{(l)}$ is right as written,
        for the $K(\mathbf{x}, \mathbf{x})$ of line 248 (for $K(\mathbf{x}, \mathbf{x}')$ the second factors are at
        $\mathbf{x}'$).""",
    ),
    _wrong(
        (252, 254),
        r"""&= \frac{1}{n_l} \left[ \sigma(\tilde{A}^{(l)}) \sigma(\tilde{A}^{(l)})^{\top} + \beta^2 \right. \\
        &\quad + \mathbf{w}^{(l)\top} \begin{bmatrix} \dot{\sigma}(\tilde{A}_1^{(l)}) \dot{\sigma}(\tilde{A}_1^{(l)})
        K_{11}^{(l)} & \dots & \dot{\sigma}(\tilde{A}_1^{(l)}) \dot{\sigma}(\tilde{A}_{n_l}^{(l)}) K_{1n_l}^{(l)} \\
        \vdots & & \\ \dot{\sigma}(\tilde{A}_{n_l}^{(l)}) \dot{\sigma}(\tilde{A}_1^{(l)}) K_{n_l1}^{(l)} & \dots &
        \dot{\sigma}(\tilde{A}_{n_l}^{(l)}) \dot{\sigma}(\tilde{A}_{n_l}^{(l)}) K_{n_ln_l}^{(l)} \end{bmatrix}
        \mathbf{w}^{(l)} \Big] \end{aligned}$$""",
        "math",
        r"With line 250 corrected, the recursion for $K^{(l+1)}$ is exact at any width",
        r"""$K^{(l+1)}(\mathbf{x}, \mathbf{x}') = \big(\frac{1}{n_l}\sigma(\tilde{A}^{(l)}(\mathbf{x}))^\top
        \sigma(\tilde{A}^{(l)}(\mathbf{x}')) + \beta^2\big) I_{n_{l+1}} + \frac{1}{n_l}\mathbf{w}^{(l)\top}
        \big[\dot{\sigma}(\tilde{A}_i^{(l)}(\mathbf{x}))\dot{\sigma}(\tilde{A}_j^{(l)}(\mathbf{x}'))
        K_{ij}^{(l)}(\mathbf{x}, \mathbf{x}')\big]_{ij} \mathbf{w}^{(l)}$, exactly, at every width.""",
        ["10-deterministic-ntk/source_entrywise", "10-deterministic-ntk/finite_width_identity"],
        note=r"""The substitution $\sum_p \frac{\partial \tilde{A}_i^{(l)}}{\partial \tilde{\theta}_p}
        \frac{\partial \tilde{A}_j^{(l)}}{\partial \tilde{\theta}_p} = K_{ij}^{(l)}$ is right; the outer product
        and the $\beta^2$ inside the $\frac{1}{n_l}$ are line 250's error again, not a new one.""",
    ),
    _prose(
        256,
        r"""where each individual entry at location $(m, n)$ , $1 \leq m, n \leq n_{l+1}$ of the matrix
        $K^{(l+1)}$ can be written as:""",
        "Introduces line 258.",
    ),
    _wrong(
        258,
        r"""$$K_{mn}^{(l+1)} = \frac{1}{n_l} \left[ \sigma(\tilde{A}_m^{(l)}) \sigma(\tilde{A}_n^{(l)}) + \beta^2 +
        \sum_{i=1}^{n_l} \sum_{j=1}^{n_l} w_{im}^{(l)} w_{jn}^{(l)} \dot{\sigma}(\tilde{A}_i^{(l)})
        \dot{\sigma}(\tilde{A}_j^{(l)}) K_{ij}^{(l)} \right]$$""",
        "math",
        r"In entries the feature term is $\delta_{mn}$ times a sum over the hidden units",
        r"""$K_{mn}^{(l+1)} = \delta_{mn}\big[\frac{1}{n_l}\sum_{i=1}^{n_l}\sigma(\tilde{A}_i^{(l)}(\mathbf{x}))
        \sigma(\tilde{A}_i^{(l)}(\mathbf{x}')) + \beta^2\big] + \frac{1}{n_l}\sum_{i,j} w_{im}^{(l)} w_{jn}^{(l)}
        \dot{\sigma}(\tilde{A}_i^{(l)}(\mathbf{x}))\dot{\sigma}(\tilde{A}_j^{(l)}(\mathbf{x}'))
        K_{ij}^{(l)}(\mathbf{x}, \mathbf{x}')$.""",
        ["10-deterministic-ntk/source_entrywise", "10-deterministic-ntk/finite_width_identity"],
        note=r"""As written the feature term uses the units $m, n$ of the next layer as indices of the hidden
        layer, off the diagonal too, and $\beta^2$ is divided by $n_l$.""",
    ),
    _prose(
        260,
        r"""When $n_l \rightarrow \infty$ , the section in blue and green has the limit (See the proof in the
        [previous section](#)):""",
        "Introduces line 262 (the colours of the original are lost).",
    ),
    _wrong(
        262,
        r"""$$\frac{1}{n_l} \sigma(\tilde{A}^{(l)}) \sigma(\tilde{A}^{(l)}) + \beta^2 \rightarrow \Sigma^{(l+1)}$$""",
        "notation",
        r"The features' inner product over $n_l$, plus $\beta^2$, tends to $\Sigma^{(l+1)}(\mathbf{x}, \mathbf{x}')$",
        r"""$\frac{1}{n_l}\sigma(\tilde{A}^{(l)}(\mathbf{x}))^\top\sigma(\tilde{A}^{(l)}(\mathbf{x}')) + \beta^2
        \rightarrow \Sigma^{(l+1)}(\mathbf{x}, \mathbf{x}')$, on the diagonal $m = n$ of the NTK (off it the term
        is $0$).""",
        ["10-deterministic-ntk/lln_limits"],
        note=r"""As written the product of two vectors is not defined; here $\beta^2$ stands outside the
        $\frac{1}{n_l}$, unlike lines 250 and 258.""",
        no_check="symbols: the limit itself is checked by 10-deterministic-ntk/lln_limits.",
    ),
    _wrong(
        266,
        r"""$$\sum_{i=1}^{n_l} \sum_{j=1}^{n_l} w_{im}^{(l)} w_{jn}^{(l)} \dot{\sigma}(\tilde{A}_i^{(l)})
        \dot{\sigma}(\tilde{A}_j^{(l)}) K_{ij}^{(l)} \rightarrow \sum_{i=1}^{n_l} \sum_{j=1}^{n_l} w_{im}^{(l)}
        w_{jn}^{(l)} \dot{\sigma}(\tilde{A}_i^{(l)}) \dot{\sigma}(\tilde{A}_j^{(l)}) K_{\infty, ij}^{(l)}$$""",
        "math",
        r"With its $\frac{1}{n_l}$ the term tends to $\delta_{mn}\,\dot{\Sigma}^{(l+1)} K_\infty^{(l)}$",
        r"""$\frac{1}{n_l}\sum_{i,j} w_{im}^{(l)} w_{jn}^{(l)} \dot{\sigma}(\tilde{A}_i^{(l)})
        \dot{\sigma}(\tilde{A}_j^{(l)}) K_{ij}^{(l)} \rightarrow \delta_{mn}\,\dot{\Sigma}^{(l+1)}(\mathbf{x},
        \mathbf{x}')\, K_\infty^{(l)}(\mathbf{x}, \mathbf{x}')$, so that $K_\infty^{(l+1)} = \Sigma^{(l+1)} +
        \dot{\Sigma}^{(l+1)} K_\infty^{(l)}$.""",
        [
            "10-deterministic-ntk/source_red_limit",
            "10-deterministic-ntk/lln_limits",
            "10-deterministic-ntk/order_of_limits",
        ],
        note=r"""As written the $\frac{1}{n_l}$ is dropped and both sides keep the random $w$'s and grow with
        $n_l$: no limit. The recursion for $K_\infty^{(l+1)}$, with $\dot{\Sigma}^{(l+1)} =
        \mathbb{E}[\dot{\sigma}(u)\dot{\sigma}(v)]$, is never stated. Replacing $K^{(l)}_{ij}$ by its limit
        $\delta_{ij} K_\infty^{(l)}$ while $n_l \rightarrow \infty$ takes $n_{l-1} \rightarrow \infty$ first; at depth 3
        with the widths grown together the terms $i \neq j$ are nonzero at finite width but vanish like
        $n^{-1/2}$, and the limit is the same (10-deterministic-ntk/order_of_limits).""",
    ),
    _holds(
        268,
        r"""Later, [Arora et al. \(2019\)](#) provided a proof with a weaker limit, that does not require all the
        hidden layers to be infinitely wide, but only requires the minimum width to be sufficiently large.""",
        ["10-deterministic-ntk/order_of_limits", "10-deterministic-ntk/ntk_convergence_rate"],
        r"""A non-asymptotic bound, for ReLU networks: with high probability the empirical NTK is within $\epsilon$
        of the limit once the smallest hidden width exceeds a polynomial in the depth and $1/\epsilon$, all widths
        large together.""",
    ),
    # --- Linearized models ----------------------------------------------------------------------------------------
    _holds(
        (276, 277),
        r"""$$\begin{aligned} \frac{df(\theta)}{dt} &= -\eta \nabla_{\theta} f(\theta)^{\top} \nabla_{\theta}
        f(\theta) \nabla_f \mathcal{L} \\""",
        ["08-ntk/output_ode"],
        r"""With a learning rate $\eta$ (line 135 has $\eta = 1$); $\nabla_f \mathcal{L}$ carries the loss's
        $\frac{1}{N}$.""",
    ),
    _wrong(
        278,
        r"""&= -\eta \nabla_{\theta} f(\theta)^{\top} \nabla_{\theta} f(\theta) \nabla_f \mathcal{L} \\""",
        "typo",
        r"This line repeats line 277 and derives nothing",
        r"""The line repeats line 277: nothing is derived in it.""",
        no_check="a repeated line.",
    ),
    _holds(279, r"""&= -\eta K(\theta) \nabla_f \mathcal{L} \\""", ["08-ntk/output_ode"]),
    _holds(
        (280, 281),
        r"""&= -\eta K_{\infty} \nabla_f \mathcal{L} \quad ; \text{ for infinite width network} \end{aligned}$$""",
        ["10-deterministic-ntk/ntk_constant_in_training", "11-linearized-models/width_gap_infinite"],
        "In the limit, under the conditions of line 210.",
    ),
    _prose(
        283,
        r"""To track the evolution of $\theta$ in time, let's consider it as a function of time step $t$ . With
        Taylor expansion, the network learning dynamics can be simplified as:""",
        "Introduces line 285.",
    ),
    _wrong(
        285,
        r"""$$f(\theta(t)) \approx f^{\text{lin}}(\theta(t)) = f(\theta(0)) + \underbrace{\nabla_{\theta}
        f(\theta(0))}_{\text{formally } \nabla_{\theta} f(\mathbf{x}; \theta)|_{\theta=\theta(0)}} (\theta(t) -
        \theta(0))$$""",
        "notation",
        r"The linearized model needs the transpose, $\nabla_{\theta} f(\theta(0))^\top (\theta(t) - \theta(0))$",
        r"""$f^{\text{lin}}(\theta(t)) = f(\theta(0)) + \nabla_{\theta} f(\theta(0))^\top (\theta(t) - \theta(0))
        = f(\theta(0)) + J(\theta(0))(\theta(t) - \theta(0))$: with $\nabla_\theta f = J^\top$ the product needs
        the transpose.""",
        ["11-linearized-models/linearized_as_written", "11-linearized-models/linearize"],
    ),
    _prose(
        287,
        r"""Such formation is commonly referred to as the *linearized* model, given $\theta(0)$ , $f(\theta(0))$ ,
        and $\nabla_{\theta} f(\theta(0))$ are all constants. Assuming that the incremental time step $t$ is
        extremely small and the parameter is updated by gradient descent:""",
        "Names the linearized model and introduces lines 289-294.",
    ),
    _wrong(
        (289, 290),
        r"""$$\begin{aligned} \theta(t) - \theta(0) &= -\eta \nabla_{\theta} \mathcal{L}(\theta)""",
        "math",
        r"After $t$ steps $\theta(t) - \theta(0) = -\eta\sum_{s<t}\nabla_{\theta}\mathcal{L}(\theta(s))$",
        r"""One step of gradient descent gives $\theta(1) - \theta(0) = -\eta \nabla_{\theta}\mathcal{L}(\theta(0))$;
        after $t$ steps $\theta(t) - \theta(0) = -\eta\sum_{s<t}\nabla_{\theta}\mathcal{L}(\theta(s))$ (for
        gradient flow $-\eta\int_0^t \nabla_\theta\mathcal{L}(\theta(s))\,ds$).""",
        [
            "11-linearized-models/single_step_as_written",
            "11-linearized-models/discrete_closed_form",
            "11-linearized-models/parameter_closed_form",
        ],
    ),
    _wrong(
        290,
        r"""= -\eta \nabla_{\theta} f(\theta)^{\top} \nabla_f \mathcal{L} \\""",
        "notation",
        r"$\nabla_{\theta}\mathcal{L} = \nabla_{\theta} f(\theta)\,\nabla_f\mathcal{L}$, with no transpose",
        r"""$\nabla_{\theta}\mathcal{L} = \nabla_{\theta} f(\theta)\,\nabla_f\mathcal{L}$, without a transpose
        ($\nabla_\theta f$ is $P \times N n_L$), as line 131 writes.""",
        ["11-linearized-models/gradient_transpose_as_written", "08-ntk/loss_gradient"],
    ),
    _wrong(
        291,
        r"""f^{\text{lin}}(\theta(t)) - f(\theta(0)) &= -\eta \nabla_{\theta} f(\theta(0))^{\top} \nabla_{\theta}
        f(\mathcal{X}; \theta(0)) \nabla_f \mathcal{L} \\""",
        "math",
        r"Over $t$ steps, $f_t - \mathcal{Y} = (I - \eta K/N)^t (f_0 - \mathcal{Y})$ for the squared loss",
        r"""This is one step of the linearized model, with $\nabla_f\mathcal{L}$ at $\theta(0)$; after $t$ steps
        the increments add up to $f_t - \mathcal{Y} = (I - \eta K/N)^t (f_0 - \mathcal{Y})$ for the squared
        loss.""",
        ["11-linearized-models/single_step_as_written", "11-linearized-models/discrete_closed_form"],
        no_check="line 290's one-step reading carried over; it is checked there.",
    ),
    _wrong(
        292,
        r"""\frac{df(\theta(t))}{dt} &= -\eta K(\theta(0)) \nabla_f \mathcal{L} \\""",
        "notation",
        r"Only the linearized model moves with the frozen kernel $K(\theta(0))$",
        r"""Under gradient flow the linearized model obeys $\frac{df^{\text{lin}}(\theta(t))}{dt} = -\eta
        K(\theta(0)) \nabla_f\mathcal{L}$ exactly; the network $f$ itself moves with $K(\theta(t))$, which equals
        $K(\theta(0))$ only in the infinite-width limit.""",
        [
            "11-linearized-models/flow_closed_form",
            "11-linearized-models/width_gap_linearized",
            "10-deterministic-ntk/ntk_constant_in_training",
        ],
        note="The step turns the difference of line 291 into a derivative without a time step to divide by.",
        no_check=r"""$f$ written for $f^{\text{lin}}$: the gap between them is measured by
        11-linearized-models/width_gap_linearized.""",
    ),
    _holds(
        (293, 294),
        r"""\frac{df(\theta(t))}{dt} &= -\eta K_{\infty} \nabla_f \mathcal{L} \quad ; \text{ for infinite width
        network} \end{aligned}$$""",
        ["11-linearized-models/width_gap_infinite", "10-deterministic-ntk/ntk_constant_in_training"],
        "In the limit, under the conditions of line 210.",
    ),
    _holds(
        296,
        r"""Eventually we get the same learning dynamics, which implies that a neural network with infinite width
        can be considerably simplified as governed by the above linearized model""",
        ["11-linearized-models/width_gap_linearized", "11-linearized-models/width_gap_infinite"],
        "The gap to the linearized model falls like $1/\\text{width}$ for a smooth activation.",
    ),
    _wrong(
        298,
        r"""In a simple case when the empirical loss is an MSE loss, $\nabla_{\theta} \mathcal{L}(\theta) =
        f(\mathcal{X}; \theta) - \mathcal{Y}$ , the dynamics of the network becomes a simple linear ODE and it can
        be solved in a closed form:""",
        "math",
        r"For the MSE loss $\nabla_f\mathcal{L} = \frac{1}{N}(f(\mathcal{X}; \theta) - \mathcal{Y})$",
        r"""For $\mathcal{L} = \frac{1}{N}\sum_i \frac{1}{2}\lVert f(\mathbf{x}^{(i)}; \theta) - y^{(i)}\rVert^2$:
        $\nabla_f\mathcal{L} = \frac{1}{N}(f(\mathcal{X}; \theta) - \mathcal{Y})$ and $\nabla_\theta\mathcal{L} =
        \frac{1}{N}\nabla_\theta f(\mathcal{X}; \theta)(f(\mathcal{X}; \theta) - \mathcal{Y})$.""",
        [
            "11-linearized-models/mse_gradient_as_written",
            "11-linearized-models/mse_gradient",
            "11-linearized-models/flow_closed_form",
        ],
        note=r"""Two errors: $\nabla_\theta$ written for $\nabla_f$, and the $\frac{1}{N}$ of the loss of line
        127 dropped. The missing $\frac{1}{N}$ carries into every rate of lines 301-309, which are right
        for the loss without it.""",
    ),
    _holds(
        (300, 301),
        r"""$$\begin{aligned} \frac{df(\theta)}{dt} &= -\eta K_{\infty} (f(\theta) - \mathcal{Y}) \\""",
        ["11-linearized-models/flow_closed_form"],
        r"""Given line 298's gradient; with the loss's $\frac{1}{N}$ the rate is $\eta/N$ (one error, counted at
        line 298).""",
    ),
    _holds(
        302,
        r"""\frac{dg(\theta)}{dt} &= -\eta K_{\infty} g(\theta) \quad ; \text{ let } g(\theta) = f(\theta) -
        \mathcal{Y} \\""",
        ["02-odes/linear_flow"],
    ),
    _wrong(
        303,
        r"""\int \frac{dg(\theta)}{g(\theta)} &= -\eta \int K_{\infty} dt \\""",
        "notation",
        r"The vector ODE is solved by $g(t) = e^{-\eta K_{\infty} t} g(0)$, a matrix exponential",
        r"""One cannot divide by the vector $g$: $\frac{dg}{dt} = -\eta K_{\infty} g$ is solved by
        $g(t) = e^{-\eta K_{\infty} t} g(0)$ (a matrix exponential), or mode by mode in the eigenbasis of
        $K_{\infty}$.""",
        ["11-linearized-models/separation_as_written", "11-linearized-models/eigen_modes", "02-odes/linear_flow"],
        no_check=r"""the step is not defined, and its result is right (11-linearized-models/separation_as_written):
        nothing fails.""",
    ),
    _holds(
        (304, 305),
        r"""g(\theta) &= C e^{-\eta K_{\infty} t} \end{aligned}$$""",
        ["11-linearized-models/separation_as_written", "11-linearized-models/flow_closed_form"],
        r"""A matrix exponential, with $C = g(0)$ read as a row (the exponential multiplies on the right; for a
        column it goes on the left, the same since $K_{\infty}$ is symmetric).""",
    ),
    _holds(
        307,
        r"""When $t = 0$ , we have $C = f(\theta(0)) - \mathcal{Y}$ and therefore,""",
        ["11-linearized-models/flow_closed_form"],
    ),
    _holds(
        309,
        r"""$$f(\theta) = (f(\theta(0)) - \mathcal{Y}) e^{-\eta K_{\infty} t} + \mathcal{Y}""",
        ["11-linearized-models/source_closed_form_as_written", "11-linearized-models/flow_closed_form"],
        r"""For the source's own flow (line 301, the gradient of line 298 without $\frac{1}{N}$), with $f$ and
        $\mathcal{Y}$ read as rows as on line 304.""",
    ),
    _wrong(
        309,
        r"""= f(\theta(0)) e^{-K_{\infty} t} + (I - e^{-\eta K_{\infty} t}) \mathcal{Y}$$""",
        "math",
        r"""$f(\theta(t)) = e^{-\eta K_{\infty} t} f(\theta(0)) +
        (I - e^{-\eta K_{\infty} t})\mathcal{Y}$, $\eta$ in both""",
        r"""$f(\theta(t)) = e^{-\eta K_{\infty} t} f(\theta(0)) + (I - e^{-\eta K_{\infty} t})\mathcal{Y}$: the
        same $\eta$ in both exponentials.""",
        ["11-linearized-models/source_second_form_as_written", "11-linearized-models/flow_closed_form"],
        note="The source's two forms on this line disagree: the first has $\\eta$, the second drops it.",
    ),
    # --- Lazy training --------------------------------------------------------------------------------------------
    _wrong(
        315,
        r"""People observe that when a neural network is heavily over-parameterized, the model is able to learn
        with the training loss quickly converging to zero but the network parameters hardly change. *Lazy
        training* refers to the phenomenon. In other words, when the loss $\mathcal{L}$ has a decent amount of
        reduction, the change in the differential of the network $f$ (aka the Jacobian matrix) is still very
        small.""",
        "condition",
        r"Wide networks are lazy under the NTK scaling, not the mean-field one",
        r"""Over-parameterization alone does not make training lazy: the parameters and the Jacobian hardly change,
        relative to their size, in the NTK parameterization or with a large output scale (Chizat et al.), not in
        the mean-field parameterization.""",
        [
            "12-lazy-training/mean_field_not_lazy",
            "12-lazy-training/relative_parameter_change",
            "12-lazy-training/jacobian_and_ntk_change",
            "12-lazy-training/alpha_scaling",
        ],
        no_check=r"""no as-written claim: 12-lazy-training/mean_field_not_lazy shows the counterexample as a
        passing check.""",
    ),
    _wrong(
        317,
        r"""Let $\theta(0)$ be the initial network parameters and $\theta(T)$ be the final network parameters when
        the loss has been minimized to zero.""",
        "condition",
        r"The loss tends to zero only as $T \rightarrow \infty$, if the NTK is positive definite",
        r"""Under gradient flow the squared loss decays exponentially and reaches zero only as
        $T \rightarrow \infty$, and only if the NTK is positive definite on the training inputs: $\theta(T)$ is a
        limit.""",
        ["11-linearized-models/flow_closed_form"],
        no_check="a hypothesis on the end of training; the exponential decay is checked by the claim listed.",
    ),
    _prose(
        317,
        r"""The delta change in parameter space can be approximated with first-order Taylor expansion:""",
        "Introduces lines 319-321.",
    ),
    _wrong(
        319,
        r"""$$\hat{y} = f(\theta(T)) \approx f(\theta(0)) + \nabla_{\theta} f(\theta(0))(\theta(T) -
        \theta(0))$$""",
        "notation",
        r"$\hat{y} \approx f(\theta(0)) + \nabla_{\theta} f(\theta(0))^\top \Delta\theta$, with the transpose",
        r"""$\hat{y} = f(\theta(T)) \approx f(\theta(0)) + \nabla_{\theta} f(\theta(0))^\top(\theta(T) -
        \theta(0))$, with the transpose of line 285.""",
        ["11-linearized-models/linearize"],
        no_check="line 285's missing transpose again; checked there (11-linearized-models/linearized_as_written).",
    ),
    _wrong(
        321,
        r"""$$\text{Thus } \Delta\theta = \theta(T) - \theta(0) \approx \frac{\|\hat{y} -
        f(\theta(0))\|}{\|\nabla_{\theta} f(\theta(0))\|}$$""",
        "math",
        r"$\Delta\theta$ is a vector; its least norm is $\sqrt{r^\top K^{-1} r}$, $r$ the residual",
        r"""$\Delta\theta$ is a vector; the smallest one solving the linearized equations has
        $\lVert\Delta\theta\rVert = \sqrt{r^\top K^{-1} r}$, $r = \hat{y} - f(\theta(0))$, between
        $\lVert r\rVert/\sigma_{\max}(J)$ and $\lVert r\rVert/\sigma_{\min}(J)$; the source's ratio is exact only
        for one sample and one output.""",
        [
            "12-lazy-training/delta_theta_as_written",
            "12-lazy-training/delta_theta_single_sample",
            "12-lazy-training/delta_theta_order",
        ],
    ),
    _prose(
        323,
        r"""Still following the first-order Taylor expansion, we can track the change in the differential of
        $f$ :""",
        "Introduces lines 325-327.",
    ),
    _wrong(
        325,
        r"""$$\begin{aligned} \nabla_{\theta} f(\theta(T)) &\approx \nabla_{\theta} f(\theta(0)) +
        \nabla_{\theta}^2 f(\theta(0)) \Delta\theta""",
        "condition",
        r"The Jacobian's first-order expansion needs a smooth activation, not ReLU",
        r"""Expanding the Jacobian to first order needs $f$ smooth along the path (a smooth $\sigma$): then the
        relative error of $\nabla^2_\theta f(\theta(0))\Delta\theta$ falls like $n^{-1/2}$ (about 90% at width 64,
        20% at 4096 for tanh). For ReLU the units whose pre-activation changes sign make the Jacobian jump, which
        the Hessian cannot see, and the estimate's share of the change falls with the width.""",
        [
            "12-lazy-training/jacobian_expansion_as_written",
            "12-lazy-training/jacobian_estimate_accuracy",
        ],
    ),
    _wrong(
        325,
        r"""&= \nabla_{\theta} f(\theta(0)) + \nabla_{\theta}^2 f(\theta(0)) \frac{\|\hat{y} - f(\mathbf{x};
        \theta(0))\|}{\|\nabla_{\theta} f(\theta(0))\|} \end{aligned}$$""",
        "math",
        r"The Hessian must act on the vector $\Delta\theta$, not on its length",
        r"""$\nabla_{\theta}^2 f(\theta(0))$ must act on the vector $\Delta\theta$: replacing $\Delta\theta$ by
        the estimate of its length (line 321) leaves a three-index array where a matrix stood.""",
        ["12-lazy-training/jacobian_change_as_written"],
    ),
    _wrong(
        327,
        r"""$$\text{Thus } \Delta(\nabla_{\theta} f) = \nabla_{\theta} f(\theta(T)) - \nabla_{\theta} f(\theta(0)) =
        \|\hat{y} - f(\mathbf{x}; \theta(0))\| \frac{\nabla_{\theta}^2 f(\theta(0))}{\|\nabla_{\theta}
        f(\theta(0))\|}$$""",
        "math",
        r"""$\Delta(\nabla_{\theta} f) \approx \nabla_{\theta}^2
        f(\theta(0))[\Delta\theta]$: an estimate, not an equality""",
        r"""$\Delta(\nabla_{\theta} f) \approx \nabla_{\theta}^2 f(\theta(0))[\Delta\theta]$, and in norms
        $\lVert\Delta(\nabla_{\theta} f)\rVert \lesssim \lVert\nabla_{\theta}^2 f(\theta(0))\rVert\,
        \lVert\Delta\theta\rVert$: an estimate, not an equality.""",
        [
            "12-lazy-training/jacobian_change_shape_as_written",
            "12-lazy-training/jacobian_change_as_written",
            "12-lazy-training/jacobian_and_ntk_change",
        ],
        note="The $\\approx$ of line 325 has become $=$; as written a three-index array equals a matrix.",
    ),
    _wrong(
        329,
        r"""Let $\kappa(\theta)$ be the relative change of the differential of $f$ to the change in the parameter
        space:""",
        "notation",
        r"$\kappa$ is the Jacobian's relative change, not divided by the change of $\theta$",
        r"""$\kappa$ is meant as the relative change of the Jacobian, $\lVert\Delta(\nabla_{\theta} f)\rVert /
        \lVert\nabla_{\theta} f(\theta(0))\rVert$; the formula of line 331 does not divide by the change of the
        parameters.""",
        no_check="words against a formula: nothing to compute.",
    ),
    _wrong(
        331,
        r"""$$\kappa(\theta) = \frac{\Delta(\nabla_{\theta} f)}{\|\nabla_{\theta} f(\theta(0))\|} = \|\hat{y} -
        f(\theta(0))\| \frac{\nabla_{\theta}^2 f(\theta(0))}{\|\nabla_{\theta} f(\theta(0))\|^2}$$""",
        "notation",
        r"$\kappa$ estimates the Jacobian's relative change up to $J$'s condition number",
        r"""As an estimate, $\frac{\lVert\Delta(\nabla_{\theta} f)\rVert}{\lVert\nabla_{\theta} f(\theta(0))\rVert}
        \approx \kappa = \lVert\hat{y} - f(\theta(0))\rVert \frac{\lVert\nabla_{\theta}^2
        f(\theta(0))\rVert}{\lVert\nabla_{\theta} f(\theta(0))\rVert^2}$ to first order; it bounds the relative
        change only up to the condition number $\sigma_{\max}(J)/\sigma_{\min}(J)$ of the Jacobian (exactly for one
        sample and one output).""",
        [
            "12-lazy-training/jacobian_change_as_written",
            "12-lazy-training/kappa_estimate",
            "12-lazy-training/kappa_not_a_bound",
            "12-lazy-training/kappa_vanishes",
        ],
        note=r"""As written $\kappa$ is a three-index array divided by norms, and is called $\kappa(\theta)$
        though it depends on $\theta(0)$ only.""",
    ),
    _holds(
        333,
        r"""Chizat et al. (2019) showed the proof for a two-layer neural network that
        $\mathbb{E}[\kappa(\theta_0)] \rightarrow 0$ (getting into the lazy regime) when the number of hidden
        neurons $\rightarrow \infty$ .""",
        ["12-lazy-training/kappa_vanishes", "12-lazy-training/mean_field_not_lazy"],
        r"""In the NTK parameterization of line 115 (with the mean-field scaling it does not vanish); $\theta_0$
        is the $\theta(0)$ of the lines above.""",
    ),
)


# ---------------------------------------------------------------------------------------------------------------
# Reading the source and summarising the map
# ---------------------------------------------------------------------------------------------------------------


def source_lines(path: str | pathlib.Path) -> list[str]:
    """The lines of the source file (index 0 is line 1)."""
    return pathlib.Path(path).read_text(encoding="utf-8").splitlines()


def as_json() -> list[dict]:
    """The map as a JSON-ready list (see :meth:`Entry.as_dict`)."""
    return [e.as_dict() for e in ENTRIES]


def summary(entries: tuple[Entry, ...] = ENTRIES) -> dict[str, int]:
    """Counts: per verdict, and per severity of the wrong entries (``"wrong/math"`` etc.)."""
    out: dict[str, int] = {v: 0 for v in VERDICTS}
    out.update({f"wrong/{s}": 0 for s in SEVERITIES})
    for e in entries:
        out[e.verdict] += 1
        if e.verdict == "wrong":
            out[f"wrong/{e.severity}"] += 1
    return out
