package cli

import (
	"fmt"
	"strings"

	commonv1 "github.com/ftgo-mesh/ftgo-mesh/gen/go/ftgo/common/v1"
)

// minorDigits is how many digits of the minor unit ISO 4217 gives the currencies that do not use two
// (2 is everyone else's): 1500 USD cents is "USD 15.00", 1500 JPY is "JPY 1500".
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
	"UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// formatMoney shows an amount as a reader writes it, "USD 6.50": the currency code, then the minor units
// as a decimal, integers only (never through a float). A missing amount is "-".
func formatMoney(m *commonv1.Money) string {
	if m == nil {
		return "-"
	}
	code := m.GetCurrencyCode()
	digits, ok := minorDigits[code]
	if !ok {
		digits = 2
	}
	units := m.GetMinorUnits()
	sign := ""
	if units < 0 {
		sign = "-"
	}
	abs := fmt.Sprintf("%d", units)
	abs = strings.TrimPrefix(abs, "-")
	if digits > 0 {
		if len(abs) <= digits {
			abs = strings.Repeat("0", digits-len(abs)+1) + abs
		}
		abs = abs[:len(abs)-digits] + "." + abs[len(abs)-digits:]
	}
	return strings.TrimSpace(code + " " + sign + abs)
}
