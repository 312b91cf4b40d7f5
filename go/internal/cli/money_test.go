package cli

import (
	"testing"

	commonv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/common/v1"
)

func TestFormatMoney(t *testing.T) {
	cases := []struct {
		code  string
		minor int64
		want  string
	}{
		{"USD", 650, "USD 6.50"},
		{"USD", 1500, "USD 15.00"},
		{"USD", 5, "USD 0.05"},
		{"USD", 0, "USD 0.00"},
		{"USD", -250, "USD -2.50"},
		{"JPY", 1500, "JPY 1500"},
		{"KWD", 1234, "KWD 1.234"},
		{"", 200, "2.00"},
	}
	for _, c := range cases {
		got := formatMoney(&commonv1.Money{CurrencyCode: c.code, MinorUnits: c.minor})
		if got != c.want {
			t.Errorf("formatMoney(%s %d) = %q, want %q", c.code, c.minor, got, c.want)
		}
	}
	if got := formatMoney(nil); got != "-" {
		t.Errorf("formatMoney(nil) = %q, want -", got)
	}
}
