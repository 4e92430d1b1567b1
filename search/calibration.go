package search

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CalibrationFileName is the deployment calibration's file in a data
// directory.
const CalibrationFileName = "calibration.json"

// DeploymentCalibration is a calibration fitted on one deployment's own KB
// and labelled questions (`xiaoshen calibrate`). The built-in calibration
// was fitted on the embedded corpus; in a KB of another size and
// vocabulary the same confidence means a different chance of being right,
// and this brings it back to reading as that chance. It replaces the
// calibration only: the ranking, and so which entry is given, stays.
type DeploymentCalibration struct {
	Profile CalibrationProfile `json:"profile"`
	// Model is the Fingerprint of the model it was fitted with: the
	// calibration reads that model's match probabilities and margins, and
	// means nothing with another's.
	Model     string    `json:"model"`
	Questions int       `json:"questions"`
	Entries   int       `json:"entries"`
	FittedAt  time.Time `json:"fitted_at"`
}

// ErrCalibrationStale is returned by WithCalibration when the calibration
// was fitted with another model (the binary was upgraded since).
var ErrCalibrationStale = errors.New("search: the calibration was fitted with another model")

// Fingerprint identifies the model's features and ranking and match
// weights, which a calibration depends on.
func (m *Model) Fingerprint() string {
	h := sha256.New()
	h.Write([]byte(strings.Join(m.Features, ",")))
	for _, ws := range [][]float64{m.Weights, m.MatchWeights, {m.MatchBias}} {
		for _, w := range ws {
			binary.Write(h, binary.LittleEndian, math.Float64bits(w))
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// WithCalibration returns a copy of m using the deployment's calibration
// and threshold.
func (m *Model) WithCalibration(c *DeploymentCalibration) (*Model, error) {
	if c.Model != m.Fingerprint() {
		return nil, fmt.Errorf("%w (fitted with %s, this build has %s)", ErrCalibrationStale, c.Model, m.Fingerprint())
	}
	// The length is checked against the model it was fitted with: an
	// older model's calibration may have had fewer inputs, and is stale,
	// not damaged (the service starts on the built-in calibration).
	if len(c.Profile.Calibration) != calibrationLen {
		return nil, fmt.Errorf("[profile.calibration]: want %d numbers, got %d", calibrationLen, len(c.Profile.Calibration))
	}
	out := *m
	out.Calibration, out.Threshold, out.Profile = c.Profile.Calibration, c.Profile.Threshold, c.Profile.Name
	return &out, nil
}

// calibrationLen is the length of a calibration: a weight per input, then
// the bias.
var calibrationLen = len(CalibrationInputs(make([]float64, len(featureNames)), 0.5, 0)) + 1

// maxCalibrationWeight bounds the calibration's weights in a file.
const maxCalibrationWeight = 1000

// ReadCalibration reads and checks a deployment calibration file. A
// missing file is reported as an error satisfying errors.Is(err,
// os.ErrNotExist).
func ReadCalibration(path string) (*DeploymentCalibration, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c DeploymentCalibration
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("calibration %s: %w", path, err)
	}
	switch {
	case c.Profile.Name == "":
		return nil, fmt.Errorf("calibration %s [profile.name]: empty", path)
	case !(c.Profile.Threshold > 0 && c.Profile.Threshold <= 1):
		return nil, fmt.Errorf("calibration %s [profile.threshold]: want a number in (0, 1], got %v", path, c.Profile.Threshold)
	case c.Model == "":
		return nil, fmt.Errorf("calibration %s [model]: empty", path)
	}
	// Fitted weights are a few units at most; far larger ones can only come
	// from a hand edit, and could overflow to a confidence that is not a
	// number.
	for i, w := range c.Profile.Calibration {
		if !(math.Abs(w) <= maxCalibrationWeight) {
			return nil, fmt.Errorf("calibration %s [profile.calibration]: number %d is %v, want one between -%v and %v", path, i+1, w, maxCalibrationWeight, maxCalibrationWeight)
		}
	}
	return &c, nil
}

// WriteCalibration writes c to path whole or not at all: a server reading
// the file at start never sees half of it.
func WriteCalibration(path string, c *DeploymentCalibration) error {
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".calibration-*.json")
	if err != nil {
		return fmt.Errorf("write calibration: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write calibration: %w", err)
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write calibration: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write calibration: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write calibration: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write calibration: %w", err)
	}
	return nil
}

// TopSample is a question's top candidate with what the calibration reads
// of it, for fitting a calibration.
type TopSample struct {
	EntryID  int64
	Features []float64 // of its best text
	Match    float64
	Margin   float64 // its ranking score over the next candidate's, capped
	// Exact is set when the question is one of the entry's own wordings:
	// it is answered whatever the calibration says.
	Exact bool
}

// Top returns the first candidate the matcher gives question among the
// entries keep accepts (Ask passes over expired ones), or nil when there
// is none. Its margin is over the best other candidate, kept or not, as
// the confidence Ask reads was computed.
func (idx *Index) Top(ctx context.Context, question string, keep func(entryID int64) bool) (*TopSample, error) {
	cands, _, err := idx.rank(ctx, question, 0)
	if err != nil {
		return nil, err
	}
	for _, c := range cands {
		if keep(c.EntryID) {
			return &TopSample{EntryID: c.EntryID, Features: c.features, Match: c.match, Margin: c.margin, Exact: c.features[featureExact] == 1}, nil
		}
	}
	return nil, nil
}

// SampleConfidence is the calibrated confidence of the sample's answer under m,
// as the matcher states it.
func (m *Model) SampleConfidence(s *TopSample) float64 {
	if s.Exact {
		return 1
	}
	return m.Confidence(s.Features, s.Match, s.Margin)
}
