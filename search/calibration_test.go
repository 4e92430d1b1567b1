package search_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xiaoshen/search"
)

func TestCalibrationFile(t *testing.T) {
	m := search.DefaultModel
	c := &search.DeploymentCalibration{
		Profile:   search.CalibrationProfile{Name: "deployment", Calibration: []float64{1, 0.5, -1, -1, 0, 0.2, 0.1, -0.5, -0.3}, Threshold: 0.7},
		Model:     m.Fingerprint(),
		Questions: 120, Entries: 50000, FittedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
	}
	path := filepath.Join(t.TempDir(), search.CalibrationFileName)
	if _, err := search.ReadCalibration(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if err := search.WriteCalibration(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := search.ReadCalibration(path)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := m.WithCalibration(got)
	if err != nil {
		t.Fatal(err)
	}
	if cm.Profile != "deployment" || cm.Threshold != 0.7 || cm.Calibration[1] != 0.5 || m.Profile == "deployment" {
		t.Errorf("calibrated model: profile %q, threshold %v, calibration %v; built-in profile %q", cm.Profile, cm.Threshold, cm.Calibration, m.Profile)
	}
	// Another model's weights: another fingerprint, and the calibration
	// is refused.
	other := *m
	other.Weights = append([]float64{m.Weights[0] + 1}, m.Weights[1:]...)
	if other.Fingerprint() == m.Fingerprint() {
		t.Fatal("fingerprint does not see the ranking weights")
	}
	if _, err := other.WithCalibration(got); !errors.Is(err, search.ErrCalibrationStale) {
		t.Errorf("stale calibration: %v", err)
	}
	// An older model's calibration may have had fewer inputs: it reads,
	// and is stale rather than damaged.
	older := filepath.Join(t.TempDir(), "calibration.json")
	if err := os.WriteFile(older, []byte(`{"profile":{"name":"d","calibration":[1,1,1,1,1,1,1],"threshold":0.5},"model":"0000000000000000"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := search.ReadCalibration(older); err != nil {
		t.Errorf("an older model's calibration: %v", err)
	} else if _, err := m.WithCalibration(c); !errors.Is(err, search.ErrCalibrationStale) {
		t.Errorf("an older model's calibration: %v, want it stale", err)
	}
	// This model's calibration with a number missing is damaged.
	short := *got
	short.Profile.Calibration = got.Profile.Calibration[1:]
	if _, err := m.WithCalibration(&short); err == nil || errors.Is(err, search.ErrCalibrationStale) ||
		!strings.Contains(err.Error(), fmt.Sprintf("[profile.calibration]: want %d numbers, got %d", len(m.Calibration), len(m.Calibration)-1)) {
		t.Errorf("this model's calibration a number short: %v", err)
	}

	for _, tc := range []struct{ name, content, want string }{
		{"not JSON", `{"profile":`, "unexpected EOF"},
		{"unknown field", `{"profile":{"name":"d","calibration":[1,1,1,1,1,1,1],"threshold":0.5},"model":"x","treshold":1}`, `unknown field "treshold"`},
		{"no name", `{"profile":{"calibration":[1,1,1,1,1,1,1],"threshold":0.5},"model":"x"}`, "[profile.name]: empty"},
		{"threshold 0", `{"profile":{"name":"d","calibration":[1,1,1,1,1,1,1],"threshold":0},"model":"x"}`, "[profile.threshold]: want a number in (0, 1], got 0"},
		{"threshold above 1", `{"profile":{"name":"d","calibration":[1,1,1,1,1,1,1],"threshold":70},"model":"x"}`, "[profile.threshold]: want a number in (0, 1], got 70"},
		{"absurd weight", `{"profile":{"name":"d","calibration":[1,1e300,1,1,1,1,1],"threshold":0.5},"model":"x"}`, "[profile.calibration]: number 2 is 1e+300, want one between -1000 and 1000"},
		{"no model", `{"profile":{"name":"d","calibration":[1,1,1,1,1,1,1],"threshold":0.5}}`, "[model]: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "calibration.json")
			content := strings.ReplaceAll(tc.content, "MODEL", m.Fingerprint())
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := search.ReadCalibration(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %v, want one naming %s and containing %q", err, p, tc.want)
			}
		})
	}
}

// Whatever an edited calibration file holds, it is refused or it gives a
// confidence that is a probability.
func FuzzReadCalibration(f *testing.F) {
	f.Add([]byte(`{"profile":{"name":"deployment","calibration":[1,0.5,-1,-1,0,0.2,0.1,-0.3],"threshold":0.7},"model":"x"}`))
	f.Add([]byte(`{"profile":{"name":"d","calibration":[1000,-1000,1000,-1000,1000,-1000,1000],"threshold":1},"model":"x"}`))
	f.Add([]byte(`{"profile":{"name":"d","calibration":[1,2],"threshold":0.7},"model":"x"}`))
	f.Add([]byte(`not json`))
	path := filepath.Join(f.TempDir(), "calibration.json")
	features := make([]float64, len(search.FeatureNames()))
	for i := range features {
		features[i] = 1
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := search.ReadCalibration(path)
		if err != nil {
			return
		}
		// Another model's calibration may have any length; with this
		// model's fingerprint exactly the right length is taken.
		c.Model = search.DefaultModel.Fingerprint()
		m, err := search.DefaultModel.WithCalibration(c)
		if rightLength := len(c.Profile.Calibration) == len(search.DefaultModel.Calibration); (err == nil) != rightLength {
			t.Fatalf("a file ReadCalibration accepts, %d numbers: %v", len(c.Profile.Calibration), err)
		}
		if err != nil {
			return
		}
		for _, match := range []float64{0, 0.5, 1} {
			for _, margin := range []float64{0, 5} {
				if p := m.Confidence(features, match, margin); !(p >= 0 && p <= 1) {
					t.Fatalf("confidence %v from %s", p, raw)
				}
			}
		}
	})
}
