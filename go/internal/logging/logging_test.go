package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestWritesPinoCompatibleLines(t *testing.T) {
	var out bytes.Buffer
	log := NewTo(&out, "loyalty", "info")
	log.Debug("hidden")
	log.Warn("points earned", "orderId", "o-1", "err", errors.New("boom"))
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q: %v", out.String(), err)
	}
	if line["level"] != float64(40) || line["msg"] != "points earned" || line["service"] != "loyalty" || line["orderId"] != "o-1" {
		t.Fatalf("unexpected line %v", line)
	}
	ms, ok := line["time"].(float64)
	if !ok || time.Since(time.UnixMilli(int64(ms))) > time.Minute {
		t.Fatalf("time is not milliseconds since the epoch: %v", line["time"])
	}
	if e, _ := line["err"].(map[string]any); e["message"] != "boom" {
		t.Fatalf("err is not {type, message}: %v", line["err"])
	}
}

func TestSilentWritesNothing(t *testing.T) {
	var out bytes.Buffer
	Fatal(NewTo(&out, "loyalty", "silent"), "nothing")
	if out.Len() != 0 {
		t.Fatalf("wrote %q", out.String())
	}
}
