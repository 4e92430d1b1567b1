package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xiaoshen/search"
)

// fit --topic-folds holds out one topic (the Tianchi category) per fold,
// and says so; the model it writes still loads.
func TestFitTopicFolds(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "small.csv")
	rows := "category,query1,query2,label\n" +
		"哮喘,过敏性哮喘怎么治疗,过敏性哮喘要怎么治,1\n" +
		"哮喘,过敏性哮喘怎么治疗,过敏性哮喘如何治疗,1\n" +
		"哮喘,过敏性哮喘怎么治疗,过敏性哮喘是什么原因引起的,0\n" +
		"哮喘,过敏性哮喘有什么症状,过敏性哮喘的症状有哪些,1\n" +
		"哮喘,过敏性哮喘有什么症状,过敏性哮喘会传染吗,0\n" +
		"肺炎,小儿肺炎会传染吗,小儿肺炎会不会传染,1\n" +
		"肺炎,小儿肺炎会传染吗,小儿肺炎能传给别人吗,1\n" +
		"肺炎,小儿肺炎会传染吗,小儿肺炎怎么治疗,0\n" +
		"肺炎,小儿肺炎吃什么药,小儿肺炎用什么药,1\n" +
		"肺炎,小儿肺炎吃什么药,小儿肺炎有什么症状,0\n"
	if err := os.WriteFile(csv, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "model.json")
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"fit", "--tianchi", csv, "--topic-folds", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "按主题交叉验证：2 折") || !strings.Contains(stdout.String(), "交叉验证（2 折）tianchi") {
		t.Errorf("output does not report two topic folds:\n%s", stdout.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := search.ParseModel(raw); err != nil {
		t.Errorf("written model: %v", err)
	}

	// Without a set that has topics there is nothing to hold out.
	stderr.Reset()
	code := run(t.Context(), []string{"fit", "--corpus-questions", "../../corpus/testdata", "--topic-folds", "--out", out}, io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "--topic-folds") {
		t.Errorf("corpus only: exit %d, stderr %q", code, stderr.String())
	}
}

// A sign for every input the calibration reads: fitSigned fits only the
// inputs it has signs for, and a calibration one short is refused as
// damaged by the next start (and ignored by Model.Confidence, which then
// states the bare match probability).
func TestCalibrationSigns(t *testing.T) {
	if got, want := len(calibrationSigns)+1, len(search.DefaultModel.Calibration); got != want {
		t.Errorf("calibrationSigns gives calibrations of %d numbers, the model's has %d", got, want)
	}
	if got, want := len(calibrationSigns), len(search.CalibrationInputs(make([]float64, len(search.FeatureNames())), 0.5, 0)); got != want {
		t.Errorf("%d calibration signs for %d inputs", got, want)
	}
}
