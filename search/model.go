package search

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

//go:embed model.json
var embeddedModel []byte

// Model ranks candidate entries and says how sure it is of the top one.
// Two linear models read pairFeatures: the ranking score (fitted on pairs:
// the right entry's text above a wrong entry's) orders the candidates, and
// a logistic regression (fitted on every candidate text) says how likely a
// text asks the same thing. The confidence combines that probability with
// the ranking margin over the best other candidate, calibrated on a
// labelled set so that it reads as the probability that the answer is
// right. `xiaoshen fit` writes it; see docs/quality.md.
type Model struct {
	Version  int       `json:"version"`
	Features []string  `json:"features"`
	Weights  []float64 `json:"weights"` // ranking weights, one per feature
	// MatchWeights and MatchBias are the pointwise logistic regression.
	MatchWeights []float64 `json:"match_weights"`
	MatchBias    float64   `json:"match_bias"`
	// Calibration maps the top text's match probability p, its ranking
	// margin and its subject evidence to a probability:
	// σ(c·[logit(p), margin·p, the calibrationFeatures of the text] + bias),
	// bias last. The margin counts in proportion to p, so that a poor match
	// far ahead of worse ones is still a poor match; the subject evidence
	// (words the KB does not know, important words left unmatched) lets a
	// domain's calibration learn what its uncovered questions look like.
	Calibration []float64 `json:"calibration"`
	// Threshold is the answer threshold chosen from the evaluation curve.
	Threshold float64 `json:"threshold"`
	// Profile names the calibration in use.
	Profile string `json:"profile"`
	// Profiles are calibrations fitted on different question sets: how
	// sure a lexical match is depends on how people phrase questions in a
	// domain. The first is the default.
	Profiles  []CalibrationProfile `json:"profiles"`
	TrainedOn string               `json:"trained_on"`
}

// CalibrationProfile is a calibration and threshold fitted on one set.
type CalibrationProfile struct {
	Name        string    `json:"name"`
	Calibration []float64 `json:"calibration"`
	Threshold   float64   `json:"threshold"`
	FittedOn    string    `json:"fitted_on"`
}

// WithProfile returns a copy of m using the named calibration profile.
func (m *Model) WithProfile(name string) (*Model, error) {
	for _, p := range m.Profiles {
		if p.Name == name {
			c := *m
			c.Calibration, c.Threshold, c.Profile = p.Calibration, p.Threshold, p.Name
			return &c, nil
		}
	}
	names := make([]string, len(m.Profiles))
	for i, p := range m.Profiles {
		names[i] = p.Name
	}
	return nil, fmt.Errorf("search: no calibration profile %q (have %s)", name, strings.Join(names, ", "))
}

// DefaultModel is the model committed in search/model.json.
var DefaultModel = mustParseModel(embeddedModel)

func mustParseModel(raw []byte) *Model {
	m, err := ParseModel(raw)
	if err != nil {
		panic(err)
	}
	return m
}

// ParseModel reads a model file and checks it matches this build's features.
func ParseModel(raw []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("search: model: %w", err)
	}
	if strings.Join(m.Features, ",") != strings.Join(featureNames, ",") || len(m.Weights) != len(featureNames) || len(m.MatchWeights) != len(featureNames) {
		return nil, fmt.Errorf("search: model features %v do not match this build's %v", m.Features, featureNames)
	}
	if len(m.Profiles) > 0 {
		return m.WithProfile(m.Profiles[0].Name)
	}
	return &m, nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Score is the ranking score of one candidate text.
func (m *Model) Score(f []float64) float64 {
	var z float64
	for i, w := range m.Weights {
		z += w * f[i]
	}
	return z
}

// Match is the pointwise probability that a candidate text asks the same
// thing as the question.
func (m *Model) Match(f []float64) float64 {
	z := m.MatchBias
	for i, w := range m.MatchWeights {
		z += w * f[i]
	}
	return sigmoid(z)
}

// Logit is the inverse of the logistic function, clamped away from 0 and 1.
func Logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-6), 1-1e-6)
	return math.Log(p / (1 - p))
}

// calibrationFeatures are the pair features the calibration reads besides
// the match probability and the margin.
var calibrationFeatures = []int{featureUnknownQuery, featureUnmatchedQueryMax, featureUnmatchedKnownMax, featureMatterNamed, featureTitleNamed, featureNameInterrupted}

// CalibrationInputs are the calibration's inputs for a text with pair
// features f, match probability match and ranking margin margin.
func CalibrationInputs(f []float64, match, margin float64) []float64 {
	in := []float64{Logit(match), margin * match}
	for _, i := range calibrationFeatures {
		in = append(in, f[i])
	}
	return in
}

// Confidence is the calibrated probability that a candidate whose best text
// has pair features f, match probability match and ranking margin over the
// best other candidate margin is the right answer.
func (m *Model) Confidence(f []float64, match, margin float64) float64 {
	in := CalibrationInputs(f, match, margin)
	c := m.Calibration
	if len(c) != len(in)+1 {
		return match
	}
	z := c[len(in)]
	for i, x := range in {
		z += c[i] * x
	}
	return sigmoid(z)
}

// FitLogistic fits weights and bias by Newton's method (IRLS) with an L2
// penalty on the weights; samples are feature rows with 0/1 labels.
func FitLogistic(x [][]float64, y []float64, l2 float64, iterations int) ([]float64, float64) {
	return FitWeightedLogistic(x, y, nil, l2, iterations)
}

// FitWeightedLogistic is FitLogistic with a weight per sample (nil: all 1).
func FitWeightedLogistic(x [][]float64, y, weights []float64, l2 float64, iterations int) ([]float64, float64) {
	n := len(x[0]) + 1 // weights then bias
	beta := make([]float64, n)
	row := func(i int) []float64 { return append(append([]float64{}, x[i]...), 1) }
	for it := 0; it < iterations; it++ {
		grad := make([]float64, n)
		hess := make([][]float64, n)
		for i := range hess {
			hess[i] = make([]float64, n)
		}
		for i := range x {
			r := row(i)
			z := 0.0
			for j := range r {
				z += beta[j] * r[j]
			}
			p := sigmoid(z)
			sw := 1.0
			if weights != nil {
				sw = weights[i]
			}
			w := sw * p * (1 - p)
			for j := range r {
				grad[j] += sw * (p - y[i]) * r[j]
				for k := range r {
					hess[j][k] += w * r[j] * r[k]
				}
			}
		}
		for j := 0; j < n-1; j++ { // no penalty on the bias
			grad[j] += l2 * beta[j]
			hess[j][j] += l2
		}
		step := solve(hess, grad)
		maxStep := 0.0
		for j := range beta {
			beta[j] -= step[j]
			maxStep = math.Max(maxStep, math.Abs(step[j]))
		}
		if maxStep < 1e-8 {
			break
		}
	}
	return beta[:n-1], beta[n-1]
}

// solve solves A·x = b by Gaussian elimination with partial pivoting.
func solve(a [][]float64, b []float64) []float64 {
	n := len(b)
	m := make([][]float64, n)
	for i := range a {
		m[i] = append(append([]float64{}, a[i]...), b[i])
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		if math.Abs(m[c][c]) < 1e-12 {
			continue
		}
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		if math.Abs(m[r][r]) < 1e-12 {
			continue
		}
		s := m[r][n]
		for k := r + 1; k < n; k++ {
			s -= m[r][k] * x[k]
		}
		x[r] = s / m[r][r]
	}
	return x
}
